/* quant/quants.c — reference (scalar) dequantization; the SIMD kernels must agree with it. */
#include "blocks.h"

void fh1_dequantize_row(int type, const void *src, float *dst, int64_t n) {
    switch (type) {
    case GGML_TYPE_F32:
        memcpy(dst, src, (size_t)n * sizeof(float));
        break;
    case GGML_TYPE_F16: {
        const uint16_t *s = (const uint16_t *)src;
        for (int64_t i = 0; i < n; i++) dst[i] = fh1_half_to_float(s[i]);
        break;
    }
    case GGML_TYPE_BF16: {
        const uint16_t *s = (const uint16_t *)src;
        for (int64_t i = 0; i < n; i++) dst[i] = fh1_bf16_to_float(s[i]);
        break;
    }
    case GGML_TYPE_Q8_0: {
        const block_q8_0 *b = (const block_q8_0 *)src;
        for (int64_t i = 0; i < n / QK8_0; i++) {
            const float d = fh1_half_to_float(b[i].d);
            for (int j = 0; j < QK8_0; j++) dst[i * QK8_0 + j] = (float)b[i].qs[j] * d;
        }
        break;
    }
    default:
        break;
    }
}

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

#include <math.h>

/* Q8_0 (ggml quantize_row_q8_0_ref): d = amax/127, q = roundf(x / d) (half away from zero). */
static void quantize_row_q8_0(const float *x, block_q8_0 *y, int64_t n) {
    for (int64_t i = 0; i < n / QK8_0; i++) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) {
            const float v = fabsf(x[i * QK8_0 + j]);
            if (v > amax) amax = v;
        }
        const float d = amax / 127.0f;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fh1_float_to_half(d);
        for (int j = 0; j < QK8_0; j++) y[i].qs[j] = (int8_t)roundf(x[i * QK8_0 + j] * id);
    }
}

size_t fh1_quantize_row(int type, const float *src, void *dst, int64_t n) {
    const int bs = fh1_type_block_size(type);
    if (!bs || n % bs) return 0;
    switch (type) {
    case GGML_TYPE_F32:
        memcpy(dst, src, (size_t)n * 4);
        break;
    case GGML_TYPE_F16:
        for (int64_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = fh1_float_to_half(src[i]);
        break;
    case GGML_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &src[i], 4);
            ((uint16_t *)dst)[i] = (u & 0x7fffffff) > 0x7f800000 ? (uint16_t)((u >> 16) | 64) : (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
        }
        break;
    case GGML_TYPE_Q8_0:
        quantize_row_q8_0(src, dst, n);
        break;
    default:
        return 0;
    }
    return (size_t)(n / bs) * (size_t)fh1_type_size(type);
}

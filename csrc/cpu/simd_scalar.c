/* csrc/cpu/simd_scalar.c — the reference kernels. Every SIMD table must agree with these. */
#include "simd.h"
#include "../../quant/blocks.h"

#include <math.h>

static void matmul_scalar(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1, float *scratch) {
    (void)scratch;
    const int K = W->cols;
    float wrow[K > 0 ? K : 1];
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)W->data + (size_t)r * W->row_bytes;
        fh1_dequantize_row(W->type, row, wrow, K);
        for (int t = 0; t < T; t++) {
            const float *xt = x + (size_t)t * ldx;
            float acc = 0.0f;
            for (int k = 0; k < K; k++) acc += wrow[k] * xt[k];
            y[(size_t)t * ldy + r] = acc;
        }
    }
}

static float dot_scalar(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static float dot_f16_scalar(const uint16_t *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += fh1_half_to_float(a[i]) * b[i];
    return s;
}

static void axpy_scalar(float a, const float *x, float *y, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

static void axpy_f16_scalar(float a, const uint16_t *x, float *y, int n) {
    for (int i = 0; i < n; i++) y[i] += a * fh1_half_to_float(x[i]);
}

static float ssm_row_scalar(float *s, const float *dtB, const float *C, float dA, float x, int n) {
    float acc = 0.0f;
    for (int i = 0; i < n; i++) {
        s[i] = s[i] * dA + dtB[i] * x;
        acc += s[i] * C[i];
    }
    return acc;
}

static void mul_silu_scalar(float *y, const float *z, int n) {
    for (int i = 0; i < n; i++) y[i] *= z[i] / (1.0f + expf(-z[i]));
}

static void silu_scalar(const float *in, float *out, int n) {
    for (int i = 0; i < n; i++) out[i] = in[i] / (1.0f + expf(-in[i]));
}

static float exp_shift_sum_scalar(float *x, float m, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - m);
        s += x[i];
    }
    return s;
}

/* see fh1_simd.attn_block */
static void attn_block_scalar(const float *q, int ldq, int nq, const int *lim, const float *Kt, const float *Vb, int nk, int dh, float scale, float *m,
                              float *l, float *o) {
    for (int i = 0; i < nq; i++) {
        const int n = lim[i] < nk ? lim[i] : nk;
        if (n <= 0) continue;
        const float *qi = q + (size_t)i * ldq;
        float sc[FH1_ATT_KB];
        for (int s = 0; s < n; s++) {
            float a = 0.0f;
            for (int d = 0; d < dh; d++) a += qi[d] * Kt[(size_t)d * FH1_ATT_KB + s];
            sc[s] = a * scale;
        }
        float bm = sc[0];
        for (int s = 1; s < n; s++) bm = sc[s] > bm ? sc[s] : bm;
        const float mnew = bm > m[i] ? bm : m[i];
        const float corr = m[i] == -INFINITY ? 0.0f : expf(m[i] - mnew);
        float psum = 0.0f;
        for (int s = 0; s < n; s++) psum += (sc[s] = expf(sc[s] - mnew));
        l[i] = l[i] * corr + psum;
        m[i] = mnew;
        float *oi = o + (size_t)i * dh;
        for (int d = 0; d < dh; d++) oi[d] *= corr;
        for (int s = 0; s < n; s++)
            for (int d = 0; d < dh; d++) oi[d] += sc[s] * Vb[(size_t)s * dh + d];
    }
}

const fh1_simd fh1_simd_scalar = {
    "scalar", matmul_scalar, dot_scalar, dot_f16_scalar, axpy_scalar, axpy_f16_scalar, ssm_row_scalar, mul_silu_scalar, silu_scalar, exp_shift_sum_scalar,
    attn_block_scalar,
    NULL, /* ssm_scan_rows: ssm_row token by token */
    NULL, /* bf16_dot: f32 activations only */
    NULL, /* attn_decode: the per-head and tiled paths */
};

/* csrc/cpu/simd_tmpl.h — kernels written once against a small vector vocabulary; each ISA file
 * defines V, VL, MT (tokens per micro-tile), FH1_TARGET and the v* primitives, then includes this.
 * Weights are widened to f32 on load (bf16: shift; f16: vcvtph2ps; q8_0: int8→f32 × block scale),
 * so results agree with the scalar reference up to f32 summation order. */
#include "simd.h"
#include "../../quant/blocks.h"

static inline float SUF(w_scalar)(int type, const uint8_t *row, int k) {
    switch (type) {
    case GGML_TYPE_F32: return ((const float *)row)[k];
    case GGML_TYPE_F16: return fh1_half_to_float(((const uint16_t *)row)[k]);
    case GGML_TYPE_BF16: return fh1_bf16_to_float(((const uint16_t *)row)[k]);
    default: {
        const block_q8_0 *b = (const block_q8_0 *)row + k / QK8_0;
        return (float)b->qs[k % QK8_0] * fh1_half_to_float(b->d);
    }
    }
}

#define LOADW_F32(row, k) vload((const float *)(row) + (k))
#define LOADW_F16(row, k) vload_f16((const uint16_t *)(row) + (k))
#define LOADW_BF16(row, k) vload_bf16((const uint16_t *)(row) + (k))
#define LOADW_Q8_0(row, k) \
    vmul(vload_i8(((const block_q8_0 *)(row))[(k) / QK8_0].qs + (k) % QK8_0), vset1(vhalf(((const block_q8_0 *)(row))[(k) / QK8_0].d)))

/* 4 weight rows × MT tokens, then leftovers; K tail (K % VL) done in scalar. */
#define DEFINE_MATMUL(NAME, TYPE, LOADW)                                                                         \
    static FH1_TARGET void NAME(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1) { \
        const int K = W->cols, KV = K - K % VL;                                                                   \
        const uint8_t *base = (const uint8_t *)W->data;                                                           \
        const size_t rb = W->row_bytes;                                                                           \
        for (int tb = 0; tb < T; tb += 32) {                                                                      \
            const int te = tb + 32 < T ? tb + 32 : T;                                                             \
            int r = r0;                                                                                           \
            for (; r + 4 <= r1; r += 4) {                                                                         \
                const uint8_t *w0 = base + (size_t)r * rb, *w1 = w0 + rb, *w2 = w1 + rb, *w3 = w2 + rb;          \
                int t = tb;                                                                                       \
                for (; t + MT <= te; t += MT) {                                                                   \
                    V acc[4][MT];                                                                                 \
                    for (int j = 0; j < MT; j++) acc[0][j] = acc[1][j] = acc[2][j] = acc[3][j] = vzero();        \
                    for (int k = 0; k < KV; k += VL) {                                                            \
                        const V a0 = LOADW(w0, k), a1 = LOADW(w1, k), a2 = LOADW(w2, k), a3 = LOADW(w3, k);       \
                        for (int j = 0; j < MT; j++) {                                                            \
                            const V xv = vload(x + (size_t)(t + j) * ldx + k);                                    \
                            acc[0][j] = vfma(a0, xv, acc[0][j]);                                                  \
                            acc[1][j] = vfma(a1, xv, acc[1][j]);                                                  \
                            acc[2][j] = vfma(a2, xv, acc[2][j]);                                                  \
                            acc[3][j] = vfma(a3, xv, acc[3][j]);                                                  \
                        }                                                                                         \
                    }                                                                                             \
                    for (int j = 0; j < MT; j++) {                                                                \
                        const float *xt = x + (size_t)(t + j) * ldx;                                              \
                        float *yt = y + (size_t)(t + j) * ldy + r;                                                \
                        const uint8_t *wr[4] = {w0, w1, w2, w3};                                                  \
                        for (int i = 0; i < 4; i++) {                                                             \
                            float s = vhsum(acc[i][j]);                                                           \
                            for (int k = KV; k < K; k++) s += SUF(w_scalar)(TYPE, wr[i], k) * xt[k];              \
                            yt[i] = s;                                                                            \
                        }                                                                                         \
                    }                                                                                             \
                }                                                                                                 \
                for (; t < te; t++) {                                                                             \
                    const float *xt = x + (size_t)t * ldx;                                                        \
                    V c0 = vzero(), c1 = vzero(), c2 = vzero(), c3 = vzero();                                     \
                    for (int k = 0; k < KV; k += VL) {                                                            \
                        const V xv = vload(xt + k);                                                               \
                        c0 = vfma(LOADW(w0, k), xv, c0);                                                          \
                        c1 = vfma(LOADW(w1, k), xv, c1);                                                          \
                        c2 = vfma(LOADW(w2, k), xv, c2);                                                          \
                        c3 = vfma(LOADW(w3, k), xv, c3);                                                          \
                    }                                                                                             \
                    float s[4] = {vhsum(c0), vhsum(c1), vhsum(c2), vhsum(c3)};                                    \
                    const uint8_t *wr[4] = {w0, w1, w2, w3};                                                      \
                    for (int i = 0; i < 4; i++) {                                                                 \
                        for (int k = KV; k < K; k++) s[i] += SUF(w_scalar)(TYPE, wr[i], k) * xt[k];               \
                        y[(size_t)t * ldy + r + i] = s[i];                                                        \
                    }                                                                                             \
                }                                                                                                 \
            }                                                                                                     \
            for (; r < r1; r++) {                                                                                 \
                const uint8_t *w0 = base + (size_t)r * rb;                                                        \
                for (int t = tb; t < te; t++) {                                                                   \
                    const float *xt = x + (size_t)t * ldx;                                                        \
                    V c0 = vzero();                                                                               \
                    for (int k = 0; k < KV; k += VL) c0 = vfma(LOADW(w0, k), vload(xt + k), c0);                  \
                    float s = vhsum(c0);                                                                          \
                    for (int k = KV; k < K; k++) s += SUF(w_scalar)(TYPE, w0, k) * xt[k];                         \
                    y[(size_t)t * ldy + r] = s;                                                                   \
                }                                                                                                 \
            }                                                                                                     \
        }                                                                                                         \
    }

DEFINE_MATMUL(SUF(mm_f32), GGML_TYPE_F32, LOADW_F32)
DEFINE_MATMUL(SUF(mm_f16), GGML_TYPE_F16, LOADW_F16)
DEFINE_MATMUL(SUF(mm_bf16), GGML_TYPE_BF16, LOADW_BF16)
DEFINE_MATMUL(SUF(mm_q8_0), GGML_TYPE_Q8_0, LOADW_Q8_0)

static void SUF(matmul)(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1) {
    switch (W->type) {
    case GGML_TYPE_F32: SUF(mm_f32)(W, x, T, ldx, y, ldy, r0, r1); break;
    case GGML_TYPE_F16: SUF(mm_f16)(W, x, T, ldx, y, ldy, r0, r1); break;
    case GGML_TYPE_BF16: SUF(mm_bf16)(W, x, T, ldx, y, ldy, r0, r1); break;
    case GGML_TYPE_Q8_0:
        if (W->cols % VL == 0) SUF(mm_q8_0)(W, x, T, ldx, y, ldy, r0, r1);
        else fh1_simd_scalar.matmul(W, x, T, ldx, y, ldy, r0, r1);
        break;
    default: break;
    }
}

static FH1_TARGET float SUF(dot)(const float *a, const float *b, int n) {
    V c = vzero();
    int i = 0;
    for (; i + VL <= n; i += VL) c = vfma(vload(a + i), vload(b + i), c);
    float s = vhsum(c);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static FH1_TARGET float SUF(dot_f16)(const uint16_t *a, const float *b, int n) {
    V c = vzero();
    int i = 0;
    for (; i + VL <= n; i += VL) c = vfma(vload_f16(a + i), vload(b + i), c);
    float s = vhsum(c);
    for (; i < n; i++) s += fh1_half_to_float(a[i]) * b[i];
    return s;
}

static FH1_TARGET void SUF(axpy)(float a, const float *x, float *y, int n) {
    const V av = vset1(a);
    int i = 0;
    for (; i + VL <= n; i += VL) vstore(y + i, vfma(av, vload(x + i), vload(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

static FH1_TARGET void SUF(axpy_f16)(float a, const uint16_t *x, float *y, int n) {
    const V av = vset1(a);
    int i = 0;
    for (; i + VL <= n; i += VL) vstore(y + i, vfma(av, vload_f16(x + i), vload(y + i)));
    for (; i < n; i++) y[i] += a * fh1_half_to_float(x[i]);
}

static FH1_TARGET float SUF(ssm_row)(float *s, const float *dtB, const float *C, float dA, float x, int n) {
    const V dav = vset1(dA), xv = vset1(x);
    V acc = vzero();
    int i = 0;
    for (; i + VL <= n; i += VL) {
        /* s*dA + (dtB*x), rounded as the scalar reference does (no fused multiply-add) */
        const V sv = vadd(vmul(vload(s + i), dav), vmul(vload(dtB + i), xv));
        vstore(s + i, sv);
        acc = vfma(sv, vload(C + i), acc);
    }
    float r = vhsum(acc);
    for (; i < n; i++) {
        s[i] = s[i] * dA + dtB[i] * x;
        r += s[i] * C[i];
    }
    return r;
}

const fh1_simd SIMD_TABLE = {
    SIMD_NAME, SUF(matmul), SUF(dot), SUF(dot_f16), SUF(axpy), SUF(axpy_f16), SUF(ssm_row),
};

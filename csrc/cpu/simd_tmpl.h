/* csrc/cpu/simd_tmpl.h — kernels written once against a small vector vocabulary; each ISA file
 * defines V, VL, MT (tokens per micro-tile), FH1_TARGET and the v* primitives, then includes this.
 * Weights are widened to f32 on load (bf16: shift; f16: vcvtph2ps; q8_0: int8→f32 × block scale),
 * so results agree with the scalar reference up to f32 summation order. */
#include "simd.h"
#include "../../quant/blocks.h"

#include <math.h>
#include <string.h>

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

/* Software prefetch ~PF_BYTES ahead in the weight stream (the stream crosses rows seamlessly). */
#ifndef PF_BYTES
#define PF_BYTES 2048
#endif
#define W_BYTES_AT(type, k) ((type) == GGML_TYPE_F32 ? (size_t)(k) * 4 : (type) == GGML_TYPE_Q8_0 ? (size_t)(k) / 32 * 34 : (size_t)(k) * 2)
#define PREFETCH_W(w, k, type) __builtin_prefetch((const char *)(w) + W_BYTES_AT(type, k) + PF_BYTES, 0, 3)

/* T = 1 (decode): memory-bound. Rows are read one after the other, so the weights stream through
 * memory sequentially (the hardware prefetcher's best case); 4 accumulators hide FMA latency. */
#define DEFINE_GEMV(NAME, TYPE, LOADW)                                                                      \
    static FH1_TARGET void NAME(const fh1_matrix *W, const float *x, float *y, int r0, int r1) {           \
        const int K = W->cols, K4 = K - K % (4 * VL), KV = K - K % VL;                                      \
        for (int r = r0; r < r1; r++) {                                                                     \
            const uint8_t *w = (const uint8_t *)W->data + (size_t)r * W->row_bytes;                         \
            V c0 = vzero(), c1 = vzero(), c2 = vzero(), c3 = vzero();                                       \
            int k = 0;                                                                                      \
            for (; k < K4; k += 4 * VL) {                                                                   \
                c0 = vfma(LOADW(w, k), vload(x + k), c0);                                                   \
                c1 = vfma(LOADW(w, k + VL), vload(x + k + VL), c1);                                         \
                c2 = vfma(LOADW(w, k + 2 * VL), vload(x + k + 2 * VL), c2);                                 \
                c3 = vfma(LOADW(w, k + 3 * VL), vload(x + k + 3 * VL), c3);                                 \
            }                                                                                               \
            for (; k < KV; k += VL) c0 = vfma(LOADW(w, k), vload(x + k), c0);                               \
            float s = vhsum(vadd(vadd(c0, c1), vadd(c2, c3)));                                              \
            for (; k < K; k++) s += SUF(w_scalar)(TYPE, w, k) * x[k];                                       \
            y[r] = s;                                                                                       \
        }                                                                                                   \
    }

DEFINE_GEMV(SUF(mv_f32), GGML_TYPE_F32, LOADW_F32)
DEFINE_GEMV(SUF(mv_f16), GGML_TYPE_F16, LOADW_F16)
DEFINE_GEMV(SUF(mv_bf16), GGML_TYPE_BF16, LOADW_BF16)
DEFINE_GEMV(SUF(mv_q8_0), GGML_TYPE_Q8_0, LOADW_Q8_0)

DEFINE_MATMUL(SUF(mm_f32), GGML_TYPE_F32, LOADW_F32)
DEFINE_MATMUL(SUF(mm_f16), GGML_TYPE_F16, LOADW_F16)
DEFINE_MATMUL(SUF(mm_bf16), GGML_TYPE_BF16, LOADW_BF16)
DEFINE_MATMUL(SUF(mm_q8_0), GGML_TYPE_Q8_0, LOADW_Q8_0)

/* Prefill GEMM (T >= GEMM_MIN_T): blocked, no horizontal sums, each output written once.
 *   for each block of GEMM_TB tokens: pack x^T into xp[K][GEMM_TB] (f32)
 *     for each group of MR weight rows: widen them once into wb[MR][K] (f32)
 *       for each NR-token column of xp: acc[MR][2] += broadcast(w[k]) × x[k]   (outer products, all of K)
 * Weights are widened to f32 exactly as the other paths do. */
#ifndef NV
#define NV 2
#endif
#define GEMM_NR (NV * VL)

static FH1_TARGET void SUF(widen_rows)(const fh1_matrix *W, int r, int nrows, float *wb) {
    const int K = W->cols;
    for (int i = 0; i < MR; i++) {
        float *dst = wb + (size_t)i * K;
        if (i >= nrows) {
            memset(dst, 0, sizeof(float) * K);
            continue;
        }
        const uint8_t *row = (const uint8_t *)W->data + (size_t)(r + i) * W->row_bytes;
        int k = 0;
        switch (W->type) {
        case GGML_TYPE_F32: for (; k + VL <= K; k += VL) vstore(dst + k, LOADW_F32(row, k)); break;
        case GGML_TYPE_F16: for (; k + VL <= K; k += VL) vstore(dst + k, LOADW_F16(row, k)); break;
        case GGML_TYPE_BF16: for (; k + VL <= K; k += VL) vstore(dst + k, LOADW_BF16(row, k)); break;
        case GGML_TYPE_Q8_0: for (; k + VL <= K; k += VL) vstore(dst + k, LOADW_Q8_0(row, k)); break;
        default: fh1_dequantize_row(W->type, row, dst, K); k = K; break; /* other block formats */
        }
        for (; k < K; k++) dst[k] = SUF(w_scalar)(W->type, row, k);
    }
}

static FH1_TARGET void SUF(gemm)(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1, float *scratch) {
    const int K = W->cols;
    float *xp = scratch;                               /* [GEMM_TB / GEMM_NR][K][GEMM_NR] */
    float *wb = scratch + (size_t)K * GEMM_TB;         /* [MR][K] */
    for (int t0 = 0; t0 < T; t0 += GEMM_TB) {
        const int nt = T - t0 < GEMM_TB ? T - t0 : GEMM_TB;
        const int ncols = (nt + GEMM_NR - 1) / GEMM_NR;
        /* xp[cb][k][GEMM_NR]: each column block is one sequential stream for the k loop */
        for (int j = 0; j < ncols * GEMM_NR; j++) {
            float *col = xp + (size_t)(j / GEMM_NR) * K * GEMM_NR + j % GEMM_NR;
            if (j < nt) {
                const float *xt = x + (size_t)(t0 + j) * ldx;
                for (int k = 0; k < K; k++) col[(size_t)k * GEMM_NR] = xt[k];
            } else {
                for (int k = 0; k < K; k++) col[(size_t)k * GEMM_NR] = 0.0f;
            }
        }
        for (int r = r0; r < r1; r += MR) {
            const int nrows = r1 - r < MR ? r1 - r : MR;
            SUF(widen_rows)(W, r, nrows, wb);
            /* While computing on this group, pull the next group's weight rows into the cache: one
             * line every pf_every k-steps, so the widening that follows does not wait on DRAM. */
            const char *pf = (const char *)W->data + (size_t)(r + MR) * W->row_bytes;
            const char *pf_end = r + MR < r1 ? pf + (size_t)(r1 - r - MR < MR ? r1 - r - MR : MR) * W->row_bytes : pf;
            const size_t pf_lines = (size_t)(pf_end - pf) / 64 + 1;
            int pf_every = 1;
            while ((size_t)pf_every * 2 * pf_lines <= (size_t)K * ncols) pf_every *= 2;
            for (int cb = 0; cb < ncols; cb++) {
                V acc[MR][NV];
                for (int i = 0; i < MR; i++)
                    for (int v = 0; v < NV; v++) acc[i][v] = vzero();
                const float *xc = xp + (size_t)cb * K * GEMM_NR;
                for (int k = 0; k < K; k++) {
                    if (pf < pf_end && (k & (pf_every - 1)) == 0) {
                        __builtin_prefetch(pf, 0, 3);
                        pf += 64;
                    }
                    V xv[NV];
                    for (int v = 0; v < NV; v++) xv[v] = vload(xc + (size_t)k * GEMM_NR + v * VL);
                    for (int i = 0; i < MR; i++) {
                        const V w = vset1(wb[(size_t)i * K + k]);
                        for (int v = 0; v < NV; v++) acc[i][v] = vfma(w, xv[v], acc[i][v]);
                    }
                }
                float tmp[MR][GEMM_NR];
                for (int i = 0; i < MR; i++)
                    for (int v = 0; v < NV; v++) vstore(tmp[i] + v * VL, acc[i][v]);
                const int tbase = t0 + cb * GEMM_NR;
                const int nv = nt - cb * GEMM_NR < GEMM_NR ? nt - cb * GEMM_NR : GEMM_NR;
                for (int l = 0; l < nv; l++) {
                    float *yt = y + (size_t)(tbase + l) * ldy + r;
                    for (int i = 0; i < nrows; i++) yt[i] = tmp[i][l];
                }
            }
        }
    }
}

static FH1_TARGET float SUF(dot)(const float *a, const float *b, int n);

/* Other block formats at T < GEMM_MIN_T: dequantize each super-block of a row into L1 (reference
 * dequantizer), then a SIMD dot with the activations. */
static FH1_TARGET void SUF(mv_blocks)(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1) {
    const int K = W->cols, bs = fh1_type_block_size(W->type), ts = fh1_type_size(W->type);
    const int chunk = bs >= 256 ? bs : 256;
    float buf[256];
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)W->data + (size_t)r * W->row_bytes;
        for (int t = 0; t < T; t++) y[(size_t)t * ldy + r] = 0.0f;
        for (int k = 0; k < K; k += chunk) {
            const int n = K - k < chunk ? K - k : chunk;
            fh1_dequantize_row(W->type, row + (size_t)(k / bs) * ts, buf, n);
            for (int t = 0; t < T; t++) y[(size_t)t * ldy + r] += SUF(dot)(buf, x + (size_t)t * ldx + k, n);
        }
    }
}

static void SUF(matmul)(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1, float *scratch) {
    if (T >= GEMM_MIN_T && scratch) {
        SUF(gemm)(W, x, T, ldx, y, ldy, r0, r1, scratch);
        return;
    }
    if (T == 1) {
        switch (W->type) {
        case GGML_TYPE_F32: SUF(mv_f32)(W, x, y, r0, r1); return;
        case GGML_TYPE_F16: SUF(mv_f16)(W, x, y, r0, r1); return;
        case GGML_TYPE_BF16: SUF(mv_bf16)(W, x, y, r0, r1); return;
        case GGML_TYPE_Q8_0:
            if (W->cols % VL == 0) { SUF(mv_q8_0)(W, x, y, r0, r1); return; }
            break;
        default: break;
        }
    }
    switch (W->type) {
    case GGML_TYPE_F32: SUF(mm_f32)(W, x, T, ldx, y, ldy, r0, r1); break;
    case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0: case GGML_TYPE_Q5_1:
    case GGML_TYPE_Q2_K: case GGML_TYPE_Q3_K: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K: case GGML_TYPE_Q6_K:
        SUF(mv_blocks)(W, x, T, ldx, y, ldy, r0, r1);
        break;
    case GGML_TYPE_F16: SUF(mm_f16)(W, x, T, ldx, y, ldy, r0, r1); break;
    case GGML_TYPE_BF16: SUF(mm_bf16)(W, x, T, ldx, y, ldy, r0, r1); break;
    case GGML_TYPE_Q8_0:
        if (W->cols % VL == 0) SUF(mm_q8_0)(W, x, T, ldx, y, ldy, r0, r1);
        else fh1_simd_scalar.matmul(W, x, T, ldx, y, ldy, r0, r1, NULL);
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

/* exp(x) = 2^n · P(r), r = x − n·ln2 (Cody-Waite split), P the Cephes expf polynomial: within
 * 2 ulp of expf, so logits stay far inside the oracle bounds. */
static inline FH1_TARGET V SUF(vexp)(V x) {
    x = vmax_(vmin_(x, vset1(88.7f)), vset1(-103.0f));
    const V n = vround(vmul(x, vset1(1.44269504088896341f)));
    V r = vfma(n, vset1(-0.693359375f), x);
    r = vfma(n, vset1(2.12194440e-4f), r);
    V p = vset1(1.9875691500e-4f);
    p = vfma(p, r, vset1(1.3981999507e-3f));
    p = vfma(p, r, vset1(8.3334519073e-3f));
    p = vfma(p, r, vset1(4.1665795894e-2f));
    p = vfma(p, r, vset1(1.6666665459e-1f));
    p = vfma(p, r, vset1(5.0000001201e-1f));
    p = vfma(p, vmul(r, r), vadd(r, vset1(1.0f)));
    return vscale2(p, n);
}

/* y[i] *= silu(z[i]) */
static FH1_TARGET void SUF(mul_silu)(float *y, const float *z, int n) {
    int i = 0;
    for (; i + VL <= n; i += VL) {
        const V zv = vload(z + i);
        const V s = vdiv(zv, vadd(vset1(1.0f), SUF(vexp)(vneg(zv))));
        vstore(y + i, vmul(vload(y + i), s));
    }
    for (; i < n; i++) y[i] *= z[i] / (1.0f + expf(-z[i]));
}

/* out[i] = silu(in[i]) */
static FH1_TARGET void SUF(silu)(const float *in, float *out, int n) {
    int i = 0;
    for (; i + VL <= n; i += VL) {
        const V v = vload(in + i);
        vstore(out + i, vdiv(v, vadd(vset1(1.0f), SUF(vexp)(vneg(v)))));
    }
    for (; i < n; i++) out[i] = in[i] / (1.0f + expf(-in[i]));
}

const fh1_simd SIMD_TABLE = {
    SIMD_NAME, SUF(matmul), SUF(dot), SUF(dot_f16), SUF(axpy), SUF(axpy_f16), SUF(ssm_row), SUF(mul_silu), SUF(silu),
};

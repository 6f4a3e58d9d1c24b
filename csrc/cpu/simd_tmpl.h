/* csrc/cpu/simd_tmpl.h — kernels written once against a small vector vocabulary; each ISA file
 * defines V, VL, MT (tokens per micro-tile), FH1_TARGET and the v* primitives, then includes this.
 * Weights are widened to f32 on load (bf16: shift; f16: vcvtph2ps; q8_0: int8→f32 × block scale),
 * so results agree with the scalar reference up to f32 summation order. */
#include "simd.h"
#include "weight_prefetch.h"
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

/* T = 1 (decode): memory-bound. Rows are read one after the other, so the weights stream through
 * memory sequentially (the hardware prefetcher's best case); 4 accumulators hide FMA latency.
 * BYTE_AT(k) is element k's byte offset in a row: the lines ahead are prefetched as the integer
 * dots do (weight_prefetch.h; one core's hardware prefetchers alone fell short of the bandwidth). */
#define DEFINE_GEMV(NAME, TYPE, LOADW, BYTE_AT)                                                             \
    static FH1_TARGET void NAME(const fh1_matrix *W, const float *x, float *y, int r0, int r1) {           \
        const int K = W->cols, K4 = K - K % (4 * VL), KV = K - K % VL;                                      \
        for (int r = r0; r < r1; r++) {                                                                     \
            const uint8_t *w = (const uint8_t *)W->data + (size_t)r * W->row_bytes;                         \
            V c0 = vzero(), c1 = vzero(), c2 = vzero(), c3 = vzero();                                       \
            int k = 0;                                                                                      \
            for (; k < K4; k += 4 * VL) {                                                                   \
                for (int o = BYTE_AT(k); o < BYTE_AT(k + 4 * VL); o += 64) WEIGHT_PREFETCH(w + o);          \
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

#define BYTE_AT_4(k) ((k) * 4)
#define BYTE_AT_2(k) ((k) * 2)
#define BYTE_AT_Q8_0(k) ((k) / QK8_0 * (int)sizeof(block_q8_0))
DEFINE_GEMV(SUF(mv_f32), GGML_TYPE_F32, LOADW_F32, BYTE_AT_4)
DEFINE_GEMV(SUF(mv_f16), GGML_TYPE_F16, LOADW_F16, BYTE_AT_2)
DEFINE_GEMV(SUF(mv_bf16), GGML_TYPE_BF16, LOADW_BF16, BYTE_AT_2)
DEFINE_GEMV(SUF(mv_q8_0), GGML_TYPE_Q8_0, LOADW_Q8_0, BYTE_AT_Q8_0)

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

static FH1_TARGET void SUF(deq_row)(int type, const uint8_t *row, int k0, int n, float *out);

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
        default: SUF(deq_row)(W->type, row, 0, K, dst); k = K; break; /* other block formats */
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

/* Vectorised dequantization of one 256-element K-quant super-block into f32 (same products as
 * the reference: d·sc then ·q, minus dmin·m), used by the GEMV and the GEMM widening. */

static FH1_TARGET void SUF(deq_q4_K)(const block_q4_K *b, float *out) {
    const float d = vhalf(b->d), mn = vhalf(b->dmin);
    for (int c = 0; c < 4; c++) {
        uint8_t s0, m0, s1, m1;
        fh1_k4_scale_min(2 * c, b->scales, &s0, &m0);
        fh1_k4_scale_min(2 * c + 1, b->scales, &s1, &m1);
        const V d1 = vset1(d * s0), n1 = vset1(mn * m0), d2 = vset1(d * s1), n2 = vset1(mn * m1);
        const uint8_t *q = b->qs + 32 * c;
        uint8_t lo[32], hi[32];
        for (int l = 0; l < 32; l++) {
            lo[l] = q[l] & 0xF;
            hi[l] = q[l] >> 4;
        }
        for (int l = 0; l < 32; l += VL) {
            vstore(out + 64 * c + l, vsub(vmul(d1, vload_u8(lo + l)), n1));
            vstore(out + 64 * c + 32 + l, vsub(vmul(d2, vload_u8(hi + l)), n2));
        }
    }
}

static FH1_TARGET void SUF(deq_q5_K)(const block_q5_K *b, float *out) {
    const float d = vhalf(b->d), mn = vhalf(b->dmin);
    for (int c = 0; c < 4; c++) {
        uint8_t s0, m0, s1, m1;
        fh1_k4_scale_min(2 * c, b->scales, &s0, &m0);
        fh1_k4_scale_min(2 * c + 1, b->scales, &s1, &m1);
        const V d1 = vset1(d * s0), n1 = vset1(mn * m0), d2 = vset1(d * s1), n2 = vset1(mn * m1);
        const uint8_t *q = b->qs + 32 * c;
        const uint8_t u1 = (uint8_t)(1 << (2 * c)), u2 = (uint8_t)(2 << (2 * c));
        uint8_t lo[32], hi[32];
        for (int l = 0; l < 32; l++) {
            lo[l] = (uint8_t)((q[l] & 0xF) + (b->qh[l] & u1 ? 16 : 0));
            hi[l] = (uint8_t)((q[l] >> 4) + (b->qh[l] & u2 ? 16 : 0));
        }
        for (int l = 0; l < 32; l += VL) {
            vstore(out + 64 * c + l, vsub(vmul(d1, vload_u8(lo + l)), n1));
            vstore(out + 64 * c + 32 + l, vsub(vmul(d2, vload_u8(hi + l)), n2));
        }
    }
}

static FH1_TARGET void SUF(deq_q6_K)(const block_q6_K *b, float *out) {
    const float d = vhalf(b->d);
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
        const int8_t *sc = b->scales + 8 * h;
        int8_t q[4][32];
        for (int l = 0; l < 32; l++) {
            q[0][l] = (int8_t)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            q[1][l] = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            q[2][l] = (int8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            q[3][l] = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        }
        for (int g = 0; g < 4; g++)
            for (int l = 0; l < 32; l += VL) {
                const V s = vset1(d * sc[2 * g + l / 16]);
                vstore(out + 128 * h + 32 * g + l, vmul(s, vload_i8((const int8_t *)q[g] + l)));
            }
    }
}

/* Dequantizes n elements (a multiple of the block size) at element k0 of a row; vectorised for
 * the common K-quants, reference code for the rest. */
static FH1_TARGET void SUF(deq_row)(int type, const uint8_t *row, int k0, int n, float *out) {
    switch (type) {
    case GGML_TYPE_Q4_K:
        for (int k = 0; k < n; k += QK_K) SUF(deq_q4_K)((const block_q4_K *)row + (k0 + k) / QK_K, out + k);
        return;
    case GGML_TYPE_Q5_K:
        for (int k = 0; k < n; k += QK_K) SUF(deq_q5_K)((const block_q5_K *)row + (k0 + k) / QK_K, out + k);
        return;
    case GGML_TYPE_Q6_K:
        for (int k = 0; k < n; k += QK_K) SUF(deq_q6_K)((const block_q6_K *)row + (k0 + k) / QK_K, out + k);
        return;
    default: {
        const int bs = fh1_type_block_size(type), ts = fh1_type_size(type);
        fh1_dequantize_row(type, row + (size_t)(k0 / bs) * ts, out, n);
        return;
    }
    }
}

#ifdef HAS_INT_OPS
/* Decode-time dots fused with dequantization (no buffer round trip): the weights are rebuilt in
 * registers exactly as the reference dequantizer computes them, then FMA'd with the activations. */
#define Q_INIT V a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero()
#define Q_SUM vhsum(vadd(vadd(a0, a1), vadd(a2, a3)))

static FH1_TARGET float SUF(dot_q4_K)(const block_q4_K *b, const float *x, int nb) {
    Q_INIT;
    for (int i = 0; i < nb; i++, x += QK_K) {
        const float d = vhalf(b[i].d), mn = vhalf(b[i].dmin);
        for (int c = 0; c < 4; c++) {
            uint8_t s0, m0, s1, m1;
            fh1_k4_scale_min(2 * c, b[i].scales, &s0, &m0);
            fh1_k4_scale_min(2 * c + 1, b[i].scales, &s1, &m1);
            const V d1 = vset1(d * s0), n1 = vset1(mn * m0), d2 = vset1(d * s1), n2 = vset1(mn * m1);
            for (int l = 0; l < 32; l += 2 * VL) {
                const VI q = vload_u8_i32(b[i].qs + 32 * c + l), r = vload_u8_i32(b[i].qs + 32 * c + l + VL);
                a0 = vfma(vsub(vmul(d1, vcvt_i(vand_i(q, 15))), n1), vload(x + 64 * c + l), a0);
                a1 = vfma(vsub(vmul(d2, vcvt_i(vsrl_i(q, 4))), n2), vload(x + 64 * c + 32 + l), a1);
                a2 = vfma(vsub(vmul(d1, vcvt_i(vand_i(r, 15))), n1), vload(x + 64 * c + l + VL), a2);
                a3 = vfma(vsub(vmul(d2, vcvt_i(vsrl_i(r, 4))), n2), vload(x + 64 * c + 32 + l + VL), a3);
            }
        }
    }
    return Q_SUM;
}

static FH1_TARGET float SUF(dot_q5_K)(const block_q5_K *b, const float *x, int nb) {
    Q_INIT;
    for (int i = 0; i < nb; i++, x += QK_K) {
        const float d = vhalf(b[i].d), mn = vhalf(b[i].dmin);
        for (int c = 0; c < 4; c++) {
            uint8_t s0, m0, s1, m1;
            fh1_k4_scale_min(2 * c, b[i].scales, &s0, &m0);
            fh1_k4_scale_min(2 * c + 1, b[i].scales, &s1, &m1);
            const V d1 = vset1(d * s0), n1 = vset1(mn * m0), d2 = vset1(d * s1), n2 = vset1(mn * m1);
            for (int l = 0; l < 32; l += VL) {
                const VI q = vload_u8_i32(b[i].qs + 32 * c + l), h = vload_u8_i32(b[i].qh + l);
                const VI lo = vor_i(vand_i(q, 15), vsll_i(vand_i(vsrl_i(h, 2 * c), 1), 4));
                const VI hi = vor_i(vsrl_i(q, 4), vsll_i(vand_i(vsrl_i(h, 2 * c + 1), 1), 4));
                a0 = vfma(vsub(vmul(d1, vcvt_i(lo)), n1), vload(x + 64 * c + l), a0);
                a1 = vfma(vsub(vmul(d2, vcvt_i(hi)), n2), vload(x + 64 * c + 32 + l), a1);
            }
        }
    }
    return Q_SUM;
}

static FH1_TARGET float SUF(dot_q6_K)(const block_q6_K *b, const float *x, int nb) {
    Q_INIT;
    for (int i = 0; i < nb; i++, x += QK_K) {
        const float d = vhalf(b[i].d);
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
            const int8_t *sc = b[i].scales + 8 * h;
            const float *xh = x + 128 * h;
            for (int l = 0; l < 32; l += VL) {
                const int is = l / 16;
                const VI A = vload_u8_i32(ql + l), B = vload_u8_i32(ql + 32 + l), H = vload_u8_i32(qh + l);
                const VI q1 = vsub_i(vor_i(vand_i(A, 15), vsll_i(vand_i(H, 3), 4)), 32);
                const VI q2 = vsub_i(vor_i(vand_i(B, 15), vsll_i(vand_i(vsrl_i(H, 2), 3), 4)), 32);
                const VI q3 = vsub_i(vor_i(vsrl_i(A, 4), vsll_i(vand_i(vsrl_i(H, 4), 3), 4)), 32);
                const VI q4 = vsub_i(vor_i(vsrl_i(B, 4), vsll_i(vand_i(vsrl_i(H, 6), 3), 4)), 32);
                a0 = vfma(vmul(vset1(d * sc[is]), vcvt_i(q1)), vload(xh + l), a0);
                a1 = vfma(vmul(vset1(d * sc[is + 2]), vcvt_i(q2)), vload(xh + 32 + l), a1);
                a2 = vfma(vmul(vset1(d * sc[is + 4]), vcvt_i(q3)), vload(xh + 64 + l), a2);
                a3 = vfma(vmul(vset1(d * sc[is + 6]), vcvt_i(q4)), vload(xh + 96 + l), a3);
            }
        }
    }
    return Q_SUM;
}
#endif

/* Other block formats at T < GEMM_MIN_T: dequantize each super-block of a row into L1 (reference
 * dequantizer), then a SIMD dot with the activations. */
static FH1_TARGET void SUF(mv_blocks)(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1) {
    const int K = W->cols, bs = fh1_type_block_size(W->type);
#ifdef HAS_INT_OPS
    if (K % QK_K == 0 && (W->type == GGML_TYPE_Q4_K || W->type == GGML_TYPE_Q5_K || W->type == GGML_TYPE_Q6_K)) {
        for (int r = r0; r < r1; r++) {
            const void *row = (const uint8_t *)W->data + (size_t)r * W->row_bytes;
            for (int t = 0; t < T; t++) {
                const float *xt = x + (size_t)t * ldx;
                float v = W->type == GGML_TYPE_Q4_K ? SUF(dot_q4_K)(row, xt, K / QK_K)
                        : W->type == GGML_TYPE_Q5_K ? SUF(dot_q5_K)(row, xt, K / QK_K)
                                                   : SUF(dot_q6_K)(row, xt, K / QK_K);
                y[(size_t)t * ldy + r] = v;
            }
        }
        return;
    }
#endif
    const int chunk = bs >= 256 ? bs : 256;
    float buf[256] __attribute__((aligned(64)));
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)W->data + (size_t)r * W->row_bytes;
        for (int t = 0; t < T; t++) y[(size_t)t * ldy + r] = 0.0f;
        for (int k = 0; k < K; k += chunk) {
            const int n = K - k < chunk ? K - k : chunk;
            SUF(deq_row)(W->type, row, k, n, buf);
            for (int t = 0; t < T; t++) y[(size_t)t * ldy + r] += SUF(dot)(buf, x + (size_t)t * ldx + k, n);
        }
    }
}

static void SUF(matmul)(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1, float *scratch) {
#ifdef INT8_GEMM
    /* integer prefill GEMM for the weight types the ISA file takes (returns 0 for others) */
    if (T >= GEMM_MIN_T && scratch && INT8_GEMM(W, x, T, ldx, y, ldy, r0, r1, scratch)) return;
#endif
#ifdef BF16_GEMM
    /* opt-in: BF16 weights on bf16 activations (returns 0 unless asked for and supported) */
    if (T >= GEMM_MIN_T && scratch && BF16_GEMM(W, x, T, ldx, y, ldy, r0, r1, scratch)) return;
#endif
    if (T >= GEMM_MIN_T && scratch) {
        SUF(gemm)(W, x, T, ldx, y, ldy, r0, r1, scratch);
        return;
    }
#ifdef INT8_ACT_DOT
    /* integer dots with 8-bit activations where the ISA has them (returns 0 for other types) */
    if (INT8_ACT_DOT(W, x, T, ldx, y, ldy, r0, r1)) return;
#endif
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
    /* four independent accumulators: one chain would wait on the FMA latency every step */
    V c = vzero(), c1 = vzero(), c2 = vzero(), c3 = vzero();
    int i = 0;
    for (; i + 4 * VL <= n; i += 4 * VL) {
        c = vfma(vload(a + i), vload(b + i), c);
        c1 = vfma(vload(a + i + VL), vload(b + i + VL), c1);
        c2 = vfma(vload(a + i + 2 * VL), vload(b + i + 2 * VL), c2);
        c3 = vfma(vload(a + i + 3 * VL), vload(b + i + 3 * VL), c3);
    }
    for (; i + VL <= n; i += VL) c = vfma(vload(a + i), vload(b + i), c);
    c = vadd(vadd(c, c1), vadd(c2, c3));
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

#if VL == 16
/* ssm_scan_rows (simd.h) for RR rows of NVR vectors: ssm_row re-read and re-wrote the row
 * and summed its products in one FMA chain per token; here the RR·NVR state vectors stay in
 * registers over all T tokens and the chains of successive tokens overlap. Per row and token the
 * same operations in the same order as ssm_row, so prefill and decode stay bit-identical. */
#define SCAN_ROWS_FN(NAME, NVR, RR)                                                                                                    \
    static FH1_TARGET void NAME(float *S, int N, int T, const float *dtB, const float *C, size_t ldc, const float *x, size_t ldx,          \
                                const float *dA, float D, float *y, size_t ldy, int p) {                                                \
        V s[RR][NVR];                                                                                                                 \
        _Pragma("GCC unroll 16") for (int r = 0; r < RR; r++) _Pragma("GCC unroll 16") for (int i = 0; i < NVR; i++) s[r][i] =           \
            vload(S + (size_t)(p + r) * N + i * VL);                                                                                  \
        for (int t = 0; t < T; t++) {                                                                                                 \
            const float *b = dtB + (size_t)t * N, *c = C + (size_t)t * ldc, *xt = x + (size_t)t * ldx;                               \
            const V dav = vset1(dA[t]);                                                                                               \
            _Pragma("GCC unroll 16") for (int r = 0; r < RR; r++) {                                                                   \
                const V xv = vset1(xt[p + r]);                                                                                        \
                V acc = vzero();                                                                                                      \
                _Pragma("GCC unroll 16") for (int i = 0; i < NVR; i++) {                                                              \
                    s[r][i] = vadd(vmul(s[r][i], dav), vmul(vload(b + i * VL), xv));                                                  \
                    acc = vfma(s[r][i], vload(c + i * VL), acc);                                                                      \
                }                                                                                                                     \
                y[(size_t)t * ldy + p + r] = vhsum(acc) + D * xt[p + r];                                                              \
            }                                                                                                                         \
        }                                                                                                                             \
        _Pragma("GCC unroll 16") for (int r = 0; r < RR; r++) _Pragma("GCC unroll 16") for (int i = 0; i < NVR; i++)                     \
            vstore(S + (size_t)(p + r) * N + i * VL, s[r][i]);                                                                        \
    }
SCAN_ROWS_FN(SUF(scan_rows_128x2), 8, 2)
SCAN_ROWS_FN(SUF(scan_rows_128x1), 8, 1)
SCAN_ROWS_FN(SUF(scan_rows_256x1), 16, 1)
static FH1_TARGET int SUF(ssm_scan_rows)(float *S, int P, int N, int T, const float *dtB, const float *C, size_t ldc, const float *x, size_t ldx,
                                         const float *dA, float D, float *y, size_t ldy) {
    if (N != 128 && N != 256) return 0;
    if (!S) return 1;
    if (N == 128) {
        int p = 0;
        for (; p + 2 <= P; p += 2) SUF(scan_rows_128x2)(S, N, T, dtB, C, ldc, x, ldx, dA, D, y, ldy, p);
        if (p < P) SUF(scan_rows_128x1)(S, N, T, dtB, C, ldc, x, ldx, dA, D, y, ldy, p);
        return 1;
    }
    for (int p = 0; p < P; p++) SUF(scan_rows_256x1)(S, N, T, dtB, C, ldc, x, ldx, dA, D, y, ldy, p);
    return 1;
}
#define SSM_SCAN_ROWS SUF(ssm_scan_rows)
#else
#define SSM_SCAN_ROWS NULL
#endif

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

/* x[i] = exp(x[i] − m), returning their sum: the softmax numerators over the keys */
static FH1_TARGET float SUF(exp_shift_sum)(float *x, float m, int n) {
    const V mv = vset1(m);
    V acc = vset1(0.0f);
    int i = 0;
    for (; i + VL <= n; i += VL) {
        const V e = SUF(vexp)(vsub(vload(x + i), mv));
        vstore(x + i, e);
        acc = vadd(acc, e);
    }
    float s = vhsum(acc);
    for (; i < n; i++) {
        x[i] = expf(x[i] - m);
        s += x[i];
    }
    return s;
}

/* the largest of s[0..nv), nv a multiple of VL: whole vectors, then the lanes of one */
static inline FH1_TARGET float SUF(max_of)(const float *s, int nv) {
    V mx = vload(s);
    for (int i = VL; i < nv; i += VL) mx = vmax_(mx, vload(s + i));
    float lanes[VL];
    vstore(lanes, mx);
    float bm = lanes[0];
    for (int i = 1; i < VL; i++) bm = lanes[i] > bm ? lanes[i] : bm;
    return bm;
}

/* Prefill attention kernel, a register-blocked product in the way of a GEMM micro-kernel: a group
 * of QP queries goes through a key block together, so each K or V vector loaded feeds QP FMAs and
 * each broadcast query element feeds FH1_ATT_KB/VL of them (loads, not FMAs, were the limit with
 * one query at a time), and the group's sums are enough independent chains to cover the FMA
 * latency. ATT_ACC is the accumulators a pass holds: half the vector registers (AVX2 has 16,
 * AVX-512 and NEON 32), the rest for the loaded rows and broadcasts; ATT_QMAX the group size. */
#define ATT_ACC (VL == 8 ? 8 : 16)
#define ATT_NC (FH1_ATT_KB / VL)
#define ATT_QMAX (ATT_ACC / ATT_NC >= 4 ? 4 : ATT_ACC / ATT_NC >= 2 ? 2 : 1)

/* sc[a·FH1_ATT_KB + s] = scale · q_a · K[s] for the QP queries q + a·ldq (QP a constant after
 * inlining) against the whole block (Kt zero past its keys): q[d] is broadcast against row d of
 * Kt, so there are no horizontal sums. Small groups split d into U chains to keep enough sums. */
static inline __attribute__((always_inline)) FH1_TARGET void SUF(attn_scores)(const float *q, int ldq, const int QP, const float *Kt, int dh,
                                                                             float scale, float *sc) {
    enum { NC = ATT_NC, UMAX = 8 / ATT_NC > 1 ? 8 / ATT_NC : 1 };
    const int U = QP * NC >= 8 ? 1 : 8 / (QP * NC);
    V acc[ATT_QMAX][UMAX][NC];
    for (int a = 0; a < QP; a++)
        for (int u = 0; u < U; u++)
            for (int c = 0; c < NC; c++) acc[a][u][c] = vzero();
    int d = 0;
    for (; d + U <= dh; d += U)
        for (int u = 0; u < U; u++) {
            const float *kr = Kt + (size_t)(d + u) * FH1_ATT_KB;
            V k[NC];
            for (int c = 0; c < NC; c++) k[c] = vload(kr + c * VL);
            for (int a = 0; a < QP; a++) {
                const V qa = vset1(q[(size_t)a * ldq + d + u]);
                for (int c = 0; c < NC; c++) acc[a][u][c] = vfma(qa, k[c], acc[a][u][c]);
            }
        }
    for (; d < dh; d++)
        for (int a = 0; a < QP; a++) {
            const V qa = vset1(q[(size_t)a * ldq + d]);
            for (int c = 0; c < NC; c++) acc[a][0][c] = vfma(qa, vload(Kt + (size_t)d * FH1_ATT_KB + c * VL), acc[a][0][c]);
        }
    for (int a = 0; a < QP; a++)
        for (int c = 0; c < NC; c++) {
            V s = acc[a][0][c];
            for (int u = 1; u < U; u++) s = vadd(s, acc[a][u][c]);
            vstore(sc + a * FH1_ATT_KB + c * VL, vmul(s, vset1(scale)));
        }
}

/* The online-softmax step of QP queries over the block's scores (p + a·FH1_ATT_KB, the first
 * n[a] visible): each row of p becomes exp(score − new max) (0 past n[a]), m and l move on, and
 * corr[a] is the factor that rescales query a's output so far (one vector exp for the group; in
 * a query's first block m is −inf and vexp's clamp gives a factor of at most 2e-38, which only
 * ever multiplies the zero o and l it starts from). */
static inline __attribute__((always_inline)) FH1_TARGET void SUF(attn_softmax_step)(float *p, const int *n, const int QP, float *m, float *l, float *corr) {
    float shift[VL] = {0}, mnew[ATT_QMAX];
    for (int a = 0; a < QP; a++) {
        float *pa = p + a * FH1_ATT_KB;
        for (int s = n[a]; s < FH1_ATT_KB; s++) pa[s] = -INFINITY;
        const float bm = SUF(max_of)(pa, FH1_ATT_KB);
        mnew[a] = bm > m[a] ? bm : m[a];
        shift[a] = m[a] - mnew[a];
    }
    vstore(shift, SUF(vexp)(vload(shift)));
    for (int a = 0; a < QP; a++) {
        float *pa = p + a * FH1_ATT_KB;
        V sum = vzero();
        for (int c = 0; c < ATT_NC; c++) {
            const V e = SUF(vexp)(vsub(vload(pa + c * VL), vset1(mnew[a])));
            vstore(pa + c * VL, e);
            sum = vadd(sum, e);
        }
        corr[a] = shift[a];
        l[a] = l[a] * corr[a] + vhsum(sum);
        m[a] = mnew[a];
    }
}

/* o_a ← o_a·corr[a] + Σ_s p_a[s]·V[s] for the QP queries (o + a·dh, p + a·FH1_ATT_KB) over ncol
 * vectors of columns starting at o and Vb as given (V rows dh apart), the QP·ncol sums in
 * registers across the keys (QP and ncol are constants after inlining) */
static inline __attribute__((always_inline)) FH1_TARGET void SUF(attn_pv_pass)(float *o, const float *p, const float *corr, const int QP, const float *Vb,
                                                                              int n, int dh, const int ncol) {
    V acc[ATT_QMAX][ATT_ACC];
    for (int a = 0; a < QP; a++)
        for (int k = 0; k < ncol; k++) acc[a][k] = vmul(vload(o + (size_t)a * dh + k * VL), vset1(corr[a]));
    for (int s = 0; s < n; s++) {
        const float *vr = Vb + (size_t)s * dh;
        V v[ATT_ACC];
        for (int k = 0; k < ncol; k++) v[k] = vload(vr + k * VL);
        for (int a = 0; a < QP; a++) {
            const V pa = vset1(p[a * FH1_ATT_KB + s]);
            for (int k = 0; k < ncol; k++) acc[a][k] = vfma(pa, v[k], acc[a][k]);
        }
    }
    for (int a = 0; a < QP; a++)
        for (int k = 0; k < ncol; k++) vstore(o + (size_t)a * dh + k * VL, acc[a][k]);
}

/* PV for QP queries over all dh/VL column vectors, in passes of as many as the registers hold */
static inline __attribute__((always_inline)) FH1_TARGET void SUF(attn_pv)(float *o, const float *p, const float *corr, const int QP, const float *Vb, int n,
                                                                         int dh) {
    const int nvec = dh / VL, cols = ATT_ACC / QP;
    for (int k0 = 0; k0 < nvec; k0 += cols) {
        const int nc = nvec - k0 < cols ? nvec - k0 : cols;
        /* the widths head sizes 64 and 128 give, as constants so the sums stay in registers */
        if (nc == cols) SUF(attn_pv_pass)(o + k0 * VL, p, corr, QP, Vb + k0 * VL, n, dh, ATT_ACC / QP);
        else if (nc == 4) SUF(attn_pv_pass)(o + k0 * VL, p, corr, QP, Vb + k0 * VL, n, dh, 4);
        else SUF(attn_pv_pass)(o + k0 * VL, p, corr, QP, Vb + k0 * VL, n, dh, nc);
    }
}

/* one group of QP queries from index i: scores, their softmax steps, o += p·V */
static inline __attribute__((always_inline)) FH1_TARGET void SUF(attn_group)(const float *q, int ldq, const int QP, const int *lim, const float *Kt,
                                                                            const float *Vb, int nk, int dh, float scale, float *m, float *l, float *o) {
    float sc[ATT_QMAX * FH1_ATT_KB], corr[ATT_QMAX];
    SUF(attn_scores)(q, ldq, QP, Kt, dh, scale, sc);
    int na[ATT_QMAX], n = 0;
    for (int a = 0; a < QP; a++) {
        na[a] = lim[a] < nk ? lim[a] : nk;
        n = na[a] > n ? na[a] : n;
    }
    SUF(attn_softmax_step)(sc, na, QP, m, l, corr);
    SUF(attn_pv)(o, sc, corr, QP, Vb, n, dh);
}

/* see fh1_simd.attn_block: queries in groups of ATT_QMAX (a later query never sees fewer keys, so
 * once query i sees some, the rest of the group does too) */
static FH1_TARGET void SUF(attn_block)(const float *q, int ldq, int nq, const int *lim, const float *Kt, const float *Vb, int nk, int dh, float scale,
                                      float *m, float *l, float *o) {
    for (int i = 0; i < nq;) {
        if ((lim[i] < nk ? lim[i] : nk) <= 0) {
            i++;
            continue;
        }
        const float *qi = q + (size_t)i * ldq;
        float *oi = o + (size_t)i * dh;
        if (dh % VL) { /* no head size of the released models: one query at a time, plainly */
            float sc[FH1_ATT_KB], corr;
            const int n = lim[i] < nk ? lim[i] : nk;
            SUF(attn_scores)(qi, ldq, 1, Kt, dh, scale, sc);
            SUF(attn_softmax_step)(sc, &n, 1, m + i, l + i, &corr);
            for (int d = 0; d < dh; d++) oi[d] *= corr;
            for (int s = 0; s < nk; s++)
                for (int d = 0; d < dh; d++) oi[d] += sc[s] * Vb[(size_t)s * dh + d];
            i++;
            continue;
        }
        const int left = nq - i;
        const int QP = left >= ATT_QMAX ? ATT_QMAX : left >= 2 ? 2 : 1;
        if (QP == ATT_QMAX) SUF(attn_group)(qi, ldq, ATT_QMAX, lim + i, Kt, Vb, nk, dh, scale, m + i, l + i, oi);
        else if (QP == 2) SUF(attn_group)(qi, ldq, 2, lim + i, Kt, Vb, nk, dh, scale, m + i, l + i, oi);
        else SUF(attn_group)(qi, ldq, 1, lim + i, Kt, Vb, nk, dh, scale, m + i, l + i, oi);
        i += QP;
    }
}

#ifdef vpairsum
#define DEC_PF 16 /* keys ahead that the K rows are prefetched */
#define DEC_ROW(base, row, c) (f16 ? vload_f16((const uint16_t *)(base) + (row) + (c)) : vload((const float *)(base) + (row) + (c)))

/* scores of one group of VL keys (gk of them real) against RQ queries: each pair of key rows is
 * widened once per chunk and multiplied into 2·RQ accumulators (independent FMA chains), stored to
 * acc, then folded into one vector of VL scores per query by log2(VL) rounds of vpairsum (no
 * transposed copy of K, no horizontal sum per key). Keys past gk repeat the last real one: their
 * scores are finite and never used. */
static inline __attribute__((always_inline)) FH1_TARGET void SUF(dec_scores)(const float *q, const void *K, const void *Vc, size_t ld, const int f16,
                                                                            int key0, int gk, int dh, float scale, float *acc, float *sc, const int RQ) {
    const int esz = f16 ? 2 : 4;
    for (int k = 0; k < VL; k += 2) {
        const size_t row0 = (size_t)(key0 + (k < gk ? k : gk - 1)) * ld, row1 = (size_t)(key0 + (k + 1 < gk ? k + 1 : gk - 1)) * ld;
        /* at depth the rows come from memory: fetch K DEC_PF keys ahead, and these keys' V rows
         * for the o += p·V pass (hints: past the end of the cache they do not fault) */
        for (int b = 0; b < dh * esz; b += 64) {
            __builtin_prefetch((const char *)K + (row0 + DEC_PF * ld) * esz + b);
            __builtin_prefetch((const char *)K + (row1 + DEC_PF * ld) * esz + b);
            __builtin_prefetch((const char *)Vc + row0 * esz + b);
            __builtin_prefetch((const char *)Vc + row1 * esz + b);
        }
        V a0[DEC_RMAX], a1[DEC_RMAX];
        for (int r = 0; r < RQ; r++) a0[r] = a1[r] = vzero();
        for (int c = 0; c < dh; c += VL) {
            const V k0 = DEC_ROW(K, row0, c), k1 = DEC_ROW(K, row1, c);
            for (int r = 0; r < RQ; r++) {
                const V qv = vload(q + (size_t)r * dh + c);
                a0[r] = vfma(k0, qv, a0[r]);
                a1[r] = vfma(k1, qv, a1[r]);
            }
        }
        for (int r = 0; r < RQ; r++) {
            vstore(acc + ((size_t)r * VL + k) * VL, a0[r]);
            vstore(acc + ((size_t)r * VL + k + 1) * VL, a1[r]);
        }
    }
    for (int r = 0; r < RQ; r++) {
        V t[VL];
        for (int k = 0; k < VL; k++) t[k] = vload(acc + ((size_t)r * VL + k) * VL);
        for (int w = VL; w > 1; w /= 2)
            for (int i = 0; i < w / 2; i++) t[i] = vpairsum(t[2 * i], t[2 * i + 1]);
        vstore(sc + (size_t)r * DEC_KB, vmul(t[0], vset1(scale)));
    }
}

/* o[r][c .. c + UC·VL) ← o·corr[r] + Σ_k p[r][k]·V[k][..]: UC chunks × UK key phases × RQ
 * accumulators, so the sum over keys runs as that many independent FMA chains */
static inline __attribute__((always_inline)) FH1_TARGET void SUF(dec_pv)(float *o, int dh, const void *Vc, size_t ld, const int f16, int key0, int nk,
                                                                        const float *sc, const float *corr, int c, const int RQ, const int UC,
                                                                        const int UK) {
    V ov[2][2][DEC_RMAX];
    for (int u = 0; u < UC; u++)
        for (int r = 0; r < RQ; r++) {
            ov[0][u][r] = vmul(vload(o + (size_t)r * dh + c + u * VL), vset1(corr[r]));
            if (UK > 1) ov[1][u][r] = vzero();
        }
    int k = 0;
    for (; k + UK <= nk; k += UK)
        for (int h = 0; h < UK; h++)
            for (int u = 0; u < UC; u++) {
                const V vv = DEC_ROW(Vc, (size_t)(key0 + k + h) * ld, c + u * VL);
                for (int r = 0; r < RQ; r++) ov[h][u][r] = vfma(vset1(sc[(size_t)r * DEC_KB + k + h]), vv, ov[h][u][r]);
            }
    for (; k < nk; k++)
        for (int u = 0; u < UC; u++) {
            const V vv = DEC_ROW(Vc, (size_t)(key0 + k) * ld, c + u * VL);
            for (int r = 0; r < RQ; r++) ov[0][u][r] = vfma(vset1(sc[(size_t)r * DEC_KB + k]), vv, ov[0][u][r]);
        }
    for (int u = 0; u < UC; u++)
        for (int r = 0; r < RQ; r++) vstore(o + (size_t)r * dh + c + u * VL, UK > 1 ? vadd(ov[0][u][r], ov[1][u][r]) : ov[0][u][r]);
}

/* Decode attention (see fh1_simd.attn_decode), RQ query heads a compile-time constant so their
 * accumulators stay in registers: per DEC_KB keys, the scores (dec_scores), one online-softmax
 * step, and o += p·V with the V rows read in place (dec_pv). */
static inline __attribute__((always_inline)) FH1_TARGET void SUF(attn_decode_r)(const float *q, const void *K, const void *Vc, size_t ld, const int f16,
                                                                               int n, int dh, float scale, float *m, float *l, float *o, float *scratch,
                                                                               const int RQ) {
    float *acc = scratch, *sc = acc + (size_t)RQ * VL * VL;
    for (int s0 = 0; s0 < n; s0 += DEC_KB) {
        const int nk = n - s0 < DEC_KB ? n - s0 : DEC_KB;
        for (int g = 0; g < nk; g += VL)
            SUF(dec_scores)(q, K, Vc, ld, f16, s0 + g, nk - g < VL ? nk - g : VL, dh, scale, acc, sc + g, RQ);
        /* the online-softmax step; the max runs on whole vectors (the lanes past nk in the last
         * group repeat a real key's score, harmless to it) */
        const int nv = (nk + VL - 1) / VL * VL;
        float corr[DEC_RMAX];
        for (int r = 0; r < RQ; r++) {
            float *s = sc + (size_t)r * DEC_KB;
            const float bm = SUF(max_of)(s, nv);
            const float mnew = bm > m[r] ? bm : m[r];
            corr[r] = m[r] == -INFINITY ? 0.0f : expf(m[r] - mnew);
            l[r] = l[r] * corr[r] + SUF(exp_shift_sum)(s, mnew, nk);
            m[r] = mnew;
        }
        /* chains: RQ × chunks × key phases, eight or more where the registers allow */
        const int UK = RQ <= 3 ? 2 : 1;
        int c = 0;
        for (; c + 2 * VL <= dh; c += 2 * VL) SUF(dec_pv)(o, dh, Vc, ld, f16, s0, nk, sc, corr, c, RQ, 2, UK);
        for (; c < dh; c += VL) SUF(dec_pv)(o, dh, Vc, ld, f16, s0, nk, sc, corr, c, RQ, 1, UK);
    }
}

static FH1_TARGET int SUF(attn_decode)(const float *q, int R, const void *K, const void *Vc, size_t ld, int f16, int n, int dh, float scale, float *m,
                                       float *l, float *o, float *scratch) {
    if (R < 1 || R > DEC_RMAX || dh % VL != 0) return 0;
    if (!q) return 1; /* the caller asking whether the shape is taken */
#define DEC_CASE(r)                                                                                  \
    case r:                                                                                          \
        if (f16) SUF(attn_decode_r)(q, K, Vc, ld, 1, n, dh, scale, m, l, o, scratch, r);              \
        else SUF(attn_decode_r)(q, K, Vc, ld, 0, n, dh, scale, m, l, o, scratch, r);                  \
        return 1;
    switch (R) {
        DEC_CASE(1) DEC_CASE(2) DEC_CASE(3) DEC_CASE(4) DEC_CASE(5) DEC_CASE(6) DEC_CASE(7) DEC_CASE(8)
    }
#undef DEC_CASE
    return 0;
}
#undef DEC_ROW
#define ATTN_DECODE SUF(attn_decode)
#else
#define ATTN_DECODE NULL
#endif

const fh1_simd SIMD_TABLE = {
    SIMD_NAME, SUF(matmul), SUF(dot), SUF(dot_f16), SUF(axpy), SUF(axpy_f16), SUF(ssm_row), SUF(mul_silu), SUF(silu), SUF(exp_shift_sum), SUF(attn_block),
    SSM_SCAN_ROWS,
#ifdef BF16_GEMM
    has_bf16_dot,
#else
    NULL,
#endif
    ATTN_DECODE,
};

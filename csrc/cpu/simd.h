/* csrc/cpu/simd.h — the kernel table each ISA fills (simd_*.c), chosen once at run time. */
#ifndef FH1_SIMD_H
#define FH1_SIMD_H

#include "../model.h"
#include <stdint.h>

typedef struct {
    const char *name;
    /* y[t*ldy + r] = W[r,:] · x[t*ldx + :] for rows r in [r0, r1) and tokens t in [0, T).
     * Weights are widened to f32 as they are loaded; accumulation is f32. `scratch` is this
     * thread's FH1_GEMM_SCRATCH floats (for the blocked prefill GEMM). */
    void (*matmul)(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1, float *scratch);
    float (*dot)(const float *a, const float *b, int n);
    float (*dot_f16)(const uint16_t *a, const float *b, int n);
    void (*axpy)(float a, const float *x, float *y, int n);        /* y += a*x */
    void (*axpy_f16)(float a, const uint16_t *x, float *y, int n);
    /* One row of the SSM state update: s[n] = s[n]*dA + dtB[n]*x; returns Σ s[n]*C[n]. */
    float (*ssm_row)(float *s, const float *dtB, const float *C, float dA, float x, int n);
    void (*mul_silu)(float *y, const float *z, int n); /* y[i] *= silu(z[i]) */
    void (*silu)(const float *in, float *out, int n);  /* out[i] = silu(in[i]) */
    float (*exp_shift_sum)(float *x, float m, int n);  /* x[i] = exp(x[i] − m); returns Σ x[i] */
    /* Prefill attention, one block of nk ≤ FH1_ATT_KB keys against nq queries (rows of q, ldq
     * apart): K transposed (Kt[d][FH1_ATT_KB], zero past nk), V as rows (Vb[s][dh]). Query i sees
     * the block's keys s < lim[i] (causal; ≤ 0: none) and updates its online-softmax state: running
     * max m[i], sum l[i], unnormalised output o[i·dh ..]. */
    void (*attn_block)(const float *q, int ldq, int nq, const int *lim, const float *Kt, const float *Vb, int nk, int dh, float scale, float *m,
                       float *l, float *o);
    /* Prefill: ssm_row for every row p of one head's state S[P][N] over T ≤ FH1_SCAN_TB tokens, the
     * state rows held in registers across the tokens. Token t reads dtB + t·N, C + t·ldc, x + t·ldx
     * (x[p]) and dA[t] and writes y[t·ldy + p] = ssm_row(...) + D·x[p], with ssm_row's arithmetic.
     * NULL, or returning 0 (state sizes it lacks): use ssm_row. With S == NULL it only answers
     * whether it takes N, touching nothing. */
    int (*ssm_scan_rows)(float *S, int P, int N, int T, const float *dtB, const float *C, size_t ldc, const float *x, size_t ldx, const float *dA,
                         float D, float *y, size_t ldy);
    /* Whether matmul multiplies matrices marked bf16_act on bf16 activations here (NULL or 0:
     * never; 1: it can, for files that ask; 2: it can and is faster, so folded files do by default). */
    int (*bf16_dot)(void);
    /* Decode attention: the R query heads sharing one KV head (q: R rows of dh) against keys
     * [0, n) of K and Vc (rows ld elements apart; f16 when f16 != 0, else f32), read in place. It
     * updates their online-softmax state m[R], l[R], o[R·dh] (unnormalised), so a thread can take
     * a range of keys and the ranges merge afterwards. scratch: FH1_DEC_SCRATCH floats. Returns
     * 0, touching nothing, when it does not take R or dh (the caller then uses the other paths);
     * NULL where there is no such kernel. */
    int (*attn_decode)(const float *q, int R, const void *K, const void *Vc, size_t ld, int f16, int n, int dh, float scale, float *m, float *l,
                       float *o, float *scratch);
} fh1_simd;
/* decode attention: keys per online-softmax step, most query heads per KV head, per-thread scratch
 * (the score accumulators of one group of ≤ 16 keys and the step's scores, for DEC_RMAX heads) */
#define DEC_KB 64
#define DEC_RMAX 8
#define FH1_DEC_SCRATCH ((size_t)DEC_RMAX * (16 * 16 + DEC_KB))
/* tokens per ssm_scan_rows call (the per-thread Δ·B scratch holds FH1_SCAN_TB·N floats) */
#define FH1_SCAN_TB 64

/* keys per attention block (two AVX-512 vectors of scores) and the prefill query tile in tokens */
#define FH1_ATT_KB 32
#define FH1_ATT_QT 16
/* batches of at least this many tokens take the tiled attention */
#define FH1_ATT_MIN_T 4

/* Prefill uses the blocked GEMM from this many tokens on (below it, packing does not pay off). */
#define GEMM_MIN_T 8
/* Tokens per block of the GEMM, and its per-thread scratch for matrices of up to k_max columns:
 * x panel [k_max][GEMM_TB] + widened rows [8][k_max]. */
#define GEMM_TB 64
#define FH1_GEMM_SCRATCH(k_max) ((size_t)(k_max) * (GEMM_TB + 8))

/* Decode activations rounded to int8 per 256 elements (the integer dots of the K-quants): the
 * scale, and the sums of the rounded values per 16 and per 32 elements. */
typedef struct {
    float d;
    int16_t bsum16[16];
    int16_t bsum32[8];
} act_block;

extern const fh1_simd fh1_simd_scalar;
#if defined(__x86_64__) || defined(_M_X64)
extern const fh1_simd fh1_simd_avx2;
extern const fh1_simd fh1_simd_avx512;
#endif
#if defined(__aarch64__)
extern const fh1_simd fh1_simd_neon;
#endif

/* The table for this CPU; FALCON_H1_SIMD=scalar|avx2|avx512|neon overrides (downgrade only). */
const fh1_simd *fh1_simd_get(void);

#endif

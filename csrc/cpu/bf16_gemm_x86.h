/* csrc/cpu/bf16_gemm_x86.h — prefill GEMM for BF16 weights on bf16 activations (CPUs with
 * AVX512_BF16), included by simd_avx512.c.
 *
 * Only for matrices the loader marked bf16_act (model.c: the matrices of folded, llama.cpp-layout
 * files but the head, by default). Others widen BF16 to f32 and multiply f32 activations. This
 * path rounds the activations to bf16 (round to nearest even), as llama.cpp's CPU BF16 path and
 * the CUDA prefill's default do: vdpbf16ps multiplies 32 bf16 pairs per instruction with f32
 * accumulation, twice the products of an f32 FMA.
 *
 * Blocking: BG_TB = 64 tokens are packed as k-pairs, xp[k/2][token] = (x[t][k], x[t][k+1]) as one
 * 32-bit word, so one 64-byte load gives one k-pair of 16 tokens; a tile of BG_MR rows × 64
 * tokens keeps 24 accumulators, each row's k-pair broadcast straight from the file's row. */
#include <stdlib.h>
#include <string.h>
#define BG_TB 64
#define BG_MR 6
#define BG_NV (BG_TB / 16)
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))

/* 0: no AVX512_BF16; 1: the instruction, taken only when asked (FALCON_H1_BF16_GEMM=1); 2: the
 * default for folded files. 2 only on AMD (Zen 4/5), where vdpbf16ps doubles the f32 FMA's
 * products. On an Intel Xeon with AVX512_BF16 (no AMX) this kernel ran at vdpbf16ps's issue rate,
 * ~1 a cycle, and the f32 path on both FMA ports was faster: pp512 0.5B 66-77 against 87-98 t/s at
 * 1 thread, 1.5B-Deep 22.8 / 43.9 against 27.2 / 60.6 at 1 / 2 threads. */
static int bf16_dot_state = -1;
static int has_bf16_dot(void) {
    if (bf16_dot_state < 0) {
        __builtin_cpu_init();
        const int has = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw");
        bf16_dot_state = has ? (__builtin_cpu_is("amd") ? 2 : 1) : 0;
    }
    return bf16_dot_state;
}

/* tokens t0.. (n of them, the rest of the block zero) of x as bf16 k-pairs into xp[K/2][BG_TB] */
static BF16_TARGET void bg_pack(const float *x, int ldx, int n, int K, uint32_t *xp) {
    uint32_t pairs[16] __attribute__((aligned(64)));
    for (int t = 0; t < BG_TB; t++) {
        if (t >= n) {
            for (int p = 0; p < K / 2; p++) xp[(size_t)p * BG_TB + t] = 0;
            continue;
        }
        const float *xt = x + (size_t)t * ldx;
        int p = 0;
        for (; 2 * p + 32 <= K; p += 16) {
            /* cvtne2ps_pbh(hi, lo): lo's 16 values in the low half, so 32-bit lane i holds the
             * pair (x[2(p+i)], x[2(p+i)+1]), low half first, as the row's word p+i does */
            const __m512 lo = _mm512_loadu_ps(xt + 2 * p), hi = _mm512_loadu_ps(xt + 2 * p + 16);
            const __m512i h = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
            _mm512_store_si512((__m512i *)pairs, h);
            for (int i = 0; i < 16; i++) xp[(size_t)(p + i) * BG_TB + t] = pairs[i];
        }
        for (; p < K / 2; p++) {
            const __m128 v = _mm_set_ps(0.0f, 0.0f, xt[2 * p + 1], xt[2 * p]);
            const __m128i h = (__m128i)_mm_cvtneps_pbh(v);
            xp[(size_t)p * BG_TB + t] = (uint32_t)_mm_cvtsi128_si32(h);
        }
    }
}

static BF16_TARGET int bf16_gemm(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1, float *scratch) {
    const int K = W->cols;
    if (!W->bf16_act || W->type != GGML_TYPE_BF16 || K % 2 || !has_bf16_dot()) return 0;
    uint32_t *xp = (uint32_t *)scratch; /* K/2 · BG_TB words = 128·K bytes of FH1_GEMM_SCRATCH(K) */
    for (int t0 = 0; t0 < T; t0 += BG_TB) {
        const int n = T - t0 < BG_TB ? T - t0 : BG_TB;
        bg_pack(x + (size_t)t0 * ldx, ldx, n, K, xp);
        for (int r = r0; r < r1; r += BG_MR) {
            const int nr = r1 - r < BG_MR ? r1 - r : BG_MR;
            const uint32_t *w[BG_MR];
            for (int i = 0; i < BG_MR; i++) w[i] = (const uint32_t *)((const uint8_t *)W->data + (size_t)(r + (i < nr ? i : 0)) * W->row_bytes);
            __m512 acc[BG_MR][BG_NV];
            for (int i = 0; i < BG_MR; i++)
                for (int v = 0; v < BG_NV; v++) acc[i][v] = _mm512_setzero_ps();
            for (int p = 0; p < K / 2; p++) {
                __m512bh xv[BG_NV];
                for (int v = 0; v < BG_NV; v++) xv[v] = (__m512bh)_mm512_loadu_si512((const __m512i *)(xp + (size_t)p * BG_TB + 16 * v));
                for (int i = 0; i < BG_MR; i++) {
                    const __m512bh wv = (__m512bh)_mm512_set1_epi32((int)w[i][p]);
                    for (int v = 0; v < BG_NV; v++) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], xv[v], wv);
                }
            }
            float tmp[BG_MR][BG_TB] __attribute__((aligned(64)));
            for (int i = 0; i < BG_MR; i++)
                for (int v = 0; v < BG_NV; v++) _mm512_store_ps(tmp[i] + 16 * v, acc[i][v]);
            for (int t = 0; t < n; t++) {
                float *yt = y + (size_t)(t0 + t) * ldy + r;
                for (int i = 0; i < nr; i++) yt[i] = tmp[i][t];
            }
        }
    }
    return 1;
}

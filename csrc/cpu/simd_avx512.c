/* csrc/cpu/simd_avx512.c — AVX-512F kernels (16 floats per vector, 4 rows × 4 tokens per tile). */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define FH1_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c,avx2")))
#define SUF(x) x##_avx512
#define SIMD_TABLE fh1_simd_avx512
#define SIMD_NAME "avx512"
#define V __m512
#define VL 16
#define MR 8
#define MT 4
#define vzero() _mm512_setzero_ps()
#define vload(p) _mm512_loadu_ps(p)
#define vstore(p, v) _mm512_storeu_ps(p, v)
#define vset1(x) _mm512_set1_ps(x)
#define vmul(a, b) _mm512_mul_ps(a, b)
#define vadd(a, b) _mm512_add_ps(a, b)
#define vfma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define vhsum(v) _mm512_reduce_add_ps(v)
#define vload_f16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
#define vload_bf16(p) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p))), 16))
#define vload_i8(p) _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p))))
#define vhalf(h) _cvtsh_ss(h)
#define vmax_(a, b) _mm512_max_ps(a, b)
#define vmin_(a, b) _mm512_min_ps(a, b)
#define vsub(a, b) _mm512_sub_ps(a, b)
#define vload_u8(p) _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p))))
#define HAS_INT_OPS 1
#define VI __m512i
#define vload_u8_i32(p) _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p)))
#define vand_i(a, m) _mm512_and_si512(a, _mm512_set1_epi32(m))
#define vor_i(a, b) _mm512_or_si512(a, b)
#define vsrl_i(a, n) _mm512_srli_epi32(a, n)
#define vsll_i(a, n) _mm512_slli_epi32(a, n)
#define vsub_i(a, m) _mm512_sub_epi32(a, _mm512_set1_epi32(m))
#define vcvt_i(a) _mm512_cvtepi32_ps(a)
#define vdiv(a, b) _mm512_div_ps(a, b)
#define vneg(a) _mm512_sub_ps(_mm512_setzero_ps(), a)
#define vround(a) _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define vscale2(p, n) _mm512_scalef_ps(p, n)
/* lanes 0-7: sums of a's adjacent lane pairs, 8-15: of b's (the decode attention's key reduction) */
#define vpairsum(a, b)                                                                                                                 \
    _mm512_add_ps(_mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b),       \
                  _mm512_permutex2var_ps(a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b))

/* VNNI integer dots for decode (T < GEMM_MIN_T) with every block type we write (Q8_0, Q4_0, Q4_1,
 * Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K):
 * activations are quantized to 8 bits (per 256-element block with group sums for the K-quants,
 * per 32-element block for Q8_0, as ggml's Q8_K/Q8_0 activations), weights stay packed; vpdpbusd
 * multiplies 64 unsigned weight codes by 64 signed activations per instruction. Each int32 lane
 * of its result is a sum of 4 products that fits in int16 (≤ 4·63·127), so vpdpwssd applies the
 * sub-block scales and accumulates in one instruction: Q2_K/Q3_K on the lanes as they are (low
 * int16 of each lane, high half zero), Q4_K/Q5_K/Q6_K on two results packed to words (half the
 * scale instructions); the float scales are applied once per block in a vector accumulator. */
#include "simd.h"
#include "../../quant/blocks.h"

#include "weight_prefetch.h"

static int vnni_state = -1;
static int has_vnni(void) {
    if (vnni_state < 0) {
        __builtin_cpu_init();
        vnni_state = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    }
    return vnni_state;
}
static int int8_act_dot(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1);
#define INT8_ACT_DOT int8_act_dot
static int int8_gemm(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1, float *scratch);
#define INT8_GEMM int8_gemm
#include "bf16_gemm_x86.h"
#define BF16_GEMM bf16_gemm

#include "simd_tmpl.h"

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c,avx2")))

/* x (K floats) → q (K int8) + per-256 scale and group sums */
static VNNI_TARGET void quantize_act(const float *x, int K, int8_t *q, act_block *ab) {
    for (int i = 0; i < K / QK_K; i++) {
        const float *xb = x + (size_t)i * QK_K;
        __m512 mx = _mm512_setzero_ps();
        for (int j = 0; j < QK_K; j += 16) mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_loadu_ps(xb + j)));
        const float amax = _mm512_reduce_max_ps(mx);
        const float id = amax ? 127.0f / amax : 0.0f;
        ab[i].d = amax / 127.0f;
        const __m512 idv = _mm512_set1_ps(id);
        for (int j = 0; j < QK_K; j += 16) {
            const __m512i v = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(_mm512_loadu_ps(xb + j), idv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
            _mm_storeu_si128((__m128i *)(q + (size_t)i * QK_K + j), _mm512_cvtsepi32_epi8(v));
            ab[i].bsum16[j / 16] = (int16_t)_mm512_reduce_add_epi32(v);
        }
        for (int j = 0; j < 8; j++) ab[i].bsum32[j] = (int16_t)(ab[i].bsum16[2 * j] + ab[i].bsum16[2 * j + 1]);
    }
}

#include "k4_scales_x86.h"


/* Q4_K's and Q5_K's activations in pair order: per 128 elements [0..31 | 64..95 | 32..63 | 96..127],
 * so that one 64-byte load of codes (chunks 2p and 2p+1) gives the low nibbles of both chunks in
 * one vector and the high nibbles in another, each against 64 contiguous activations. */
static VNNI_TARGET void act_pair_order(int8_t *q8, int K) {
    for (int i = 0; i < K; i += 128) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)(q8 + i + 32)), b = _mm256_loadu_si256((const __m256i *)(q8 + i + 64));
        _mm256_storeu_si256((__m256i *)(q8 + i + 32), b);
        _mm256_storeu_si256((__m256i *)(q8 + i + 64), a);
    }
}
#define ACT_PAIR_ORDER(type) ((type) == GGML_TYPE_Q4_K || (type) == GGML_TYPE_Q5_K)

/* byte-shuffle controls that spread the scale words [sc0..sc7] (in every 128-bit lane) over the
 * packed sums of code pair p: lanes 0-1 get [s4p ×4 | s4p+1 ×4], lanes 2-3 [s4p+2 ×4 | s4p+3 ×4] */
#define SCW_BYTES(i) (2 * (i) + 1), (2 * (i))
#define SCW_WORDS4(i) SCW_BYTES(i), SCW_BYTES(i), SCW_BYTES(i), SCW_BYTES(i)
#define SCW_PAIR(p) _mm512_set_epi8(SCW_WORDS4(4 * (p) + 3), SCW_WORDS4(4 * (p) + 2), SCW_WORDS4(4 * (p) + 3), SCW_WORDS4(4 * (p) + 2), \
                                    SCW_WORDS4(4 * (p) + 1), SCW_WORDS4(4 * (p)), SCW_WORDS4(4 * (p) + 1), SCW_WORDS4(4 * (p)))

/* End of a Q4_K/Q5_K block: Σ_j sc_j·Σ(q·a) (sumi) times d·d_a into accv, and the mins term
 * −d_a·dmin·Σ_j m_j·bsum_j into the 4-lane acc. d and dmin are adjacent halves (dm points at d):
 * both converted and scaled by d_a at once. */
static inline VNNI_TARGET void k4_block_end(const uint16_t *dm_halves, __m128i sm, __m512i sumi, const act_block *ab, __m512 *accv, __m128 *acc) {
    uint32_t dm16;
    memcpy(&dm16, dm_halves, 4);
    const __m128 dm = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)dm16)), _mm_set1_ps(ab->d));
    *accv = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_broadcastss_ps(dm), *accv);
    const __m128i mp = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(sm, 8)), _mm_loadu_si128((const __m128i *)ab->bsum32));
    *acc = _mm_fnmadd_ps(_mm_cvtepi32_ps(mp), _mm_permute_ps(dm, 0x55), *acc);
}

/* Q4_K against pair-ordered activations: per pair of chunks one load, two vpdpbusd (low and high
 * nibbles), their sums packed to words (|Σ| ≤ 4·15·127 fits) and scaled by one vpdpwssd. */
static inline VNNI_TARGET void block_q4_K_vnni(const block_q4_K *b, const int8_t *q8, const act_block *ab, __m512 *accv, __m128 *acc) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m128i sm = unpack_k4(b->scales);
    const __m512i scw = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(sm));
    __m512i sumi = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int p = 0; p < 2; p++) {
        const __m512i qs = _mm512_loadu_si512((const void *)(b->qs + 64 * p));
        const __m512i lo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(qs, m4), _mm512_loadu_si512((const void *)(q8 + 128 * p)));
        const __m512i hi = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(_mm512_srli_epi16(qs, 4), m4), _mm512_loadu_si512((const void *)(q8 + 128 * p + 64)));
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_packs_epi32(lo, hi), _mm512_shuffle_epi8(scw, SCW_PAIR(p)));
    }
    k4_block_end(&b->d, sm, sumi, ab, accv, acc);
}

/* Q6_K: per half h one 64-byte load of ql gives the low nibbles of [q1 | q2] (elements 0-63 of the
 * half, natural order) and the high nibbles of [q3 | q4] (64-127); qh sits as is and >> 2 in the
 * two halves of a vector, so each vector's top two bits take one vpternlog. The dpbusd lanes of
 * 16-element sub-blocks are packed to words (|Σ| ≤ 4·63·127 fits) and scaled by one vpdpwssd:
 * 128-bit lane L holds sub-blocks 8h+L and 8h+4+L. */
static const int16_t Q6_SCALE_IDX[2][32] __attribute__((aligned(64))) = {
    {0, 0, 0, 0, 4, 4, 4, 4, 1, 1, 1, 1, 5, 5, 5, 5, 2, 2, 2, 2, 6, 6, 6, 6, 3, 3, 3, 3, 7, 7, 7, 7},
    {8, 8, 8, 8, 12, 12, 12, 12, 9, 9, 9, 9, 13, 13, 13, 13, 10, 10, 10, 10, 14, 14, 14, 14, 11, 11, 11, 11, 15, 15, 15, 15}};
static inline VNNI_TARGET void block_q6_K_vnni(const block_q6_K *b, const int8_t *q8, const act_block *ab, __m512 *accv, __m128 *acc) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), top2 = _mm512_set1_epi8(0x30);
    const __m128i sc8 = _mm_loadu_si128((const __m128i *)b->scales);
    const __m512i scw = _mm512_broadcast_i64x4(_mm256_cvtepi8_epi16(sc8)); /* signed scale words sc0..sc15 */
    __m512i sumi = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m512i ql = _mm512_loadu_si512((const void *)(b->ql + 64 * h));
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
        const __m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 2), 1);
        /* a | (b & c): codes 0..63 (stored +32) */
        const __m512i w0 = _mm512_ternarylogic_epi32(_mm512_and_si512(ql, m4), _mm512_slli_epi16(hz, 4), top2, 0xF8);
        const __m512i w1 = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4), hz, top2, 0xF8);
        const int8_t *a8 = q8 + 128 * h;
        const __m512i p0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w0, _mm512_loadu_si512((const void *)a8));
        const __m512i p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w1, _mm512_loadu_si512((const void *)(a8 + 64)));
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_packs_epi32(p0, p1), _mm512_permutexvar_epi16(_mm512_load_si512((const void *)Q6_SCALE_IDX[h]), scw));
    }
    /* codes were stored +32: subtract 32 · Σ_j sc_j · (sum of the 16 activations of sub-block j) */
    const __m256i off = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), _mm256_loadu_si256((const __m256i *)ab->bsum16));
    const __m128i o4 = _mm_add_epi32(_mm256_castsi256_si128(off), _mm256_extracti128_si256(off, 1));
    const float dd = ab->d * _cvtsh_ss(b->d);
    *accv = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(dd), *accv);
    *acc = _mm_fnmadd_ps(_mm_cvtepi32_ps(o4), _mm_set1_ps(32.0f * dd), *acc);
}

/* Q5_K as Q4_K, plus the fifth bits: in pair p the low nibbles of chunk 2p take bit 4p of qh and
 * those of chunk 2p+1 bit 4p+2, the high nibbles bits 4p+1 and 4p+3; one byte test against qh in
 * both halves of a vector and a masked add of 16 each (|Σ| ≤ 4·31·127 still fits a word). */
#define QH_BITS(a, b) _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << (a))), _mm256_set1_epi8((char)(1 << (b))), 1)
static inline VNNI_TARGET void block_q5_K_vnni(const block_q5_K *b, const int8_t *q8, const act_block *ab, __m512 *accv, __m128 *acc) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), b5 = _mm512_set1_epi8(0x10);
    const __m128i sm = unpack_k4(b->scales);
    const __m512i scw = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(sm));
    const __m512i hz = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)b->qh));
    __m512i sumi = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int p = 0; p < 2; p++) {
        const __m512i qs = _mm512_loadu_si512((const void *)(b->qs + 64 * p));
        __m512i lo = _mm512_and_si512(qs, m4), hi = _mm512_and_si512(_mm512_srli_epi16(qs, 4), m4);
        lo = _mm512_mask_add_epi8(lo, _mm512_test_epi8_mask(hz, QH_BITS(4 * p, 4 * p + 2)), lo, b5);
        hi = _mm512_mask_add_epi8(hi, _mm512_test_epi8_mask(hz, QH_BITS(4 * p + 1, 4 * p + 3)), hi, b5);
        const __m512i pl = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_loadu_si512((const void *)(q8 + 128 * p)));
        const __m512i ph = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, _mm512_loadu_si512((const void *)(q8 + 128 * p + 64)));
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_packs_epi32(pl, ph), _mm512_shuffle_epi8(scw, SCW_PAIR(p)));
    }
    k4_block_end(&b->d, sm, sumi, ab, accv, acc);
}

/* lanes [v_4c ×4 | v_4c+1 ×4 | v_4c+2 ×4 | v_4c+3 ×4]: the 16-element sub-blocks of a 64-element chunk */
#define SB16_IDX(c) _mm512_setr_epi32(4 * (c), 4 * (c), 4 * (c), 4 * (c), 4 * (c) + 1, 4 * (c) + 1, 4 * (c) + 1, 4 * (c) + 1, 4 * (c) + 2, 4 * (c) + 2, 4 * (c) + 2, 4 * (c) + 2, 4 * (c) + 3, 4 * (c) + 3, 4 * (c) + 3, 4 * (c) + 3)

/* Σ_j v_j·bsum16_j for 16 int16 values v (signed) */
static inline VNNI_TARGET int sum16_products(__m256i v16, const act_block *ab) {
    const __m256i p = _mm256_madd_epi16(v16, _mm256_loadu_si256((const __m256i *)ab->bsum16));
    const __m128i p4 = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
    return _mm_extract_epi32(p4, 0) + _mm_extract_epi32(p4, 1) + _mm_extract_epi32(p4, 2) + _mm_extract_epi32(p4, 3);
}

/* Q2_K: chunk c (64 elements) = 2-bit fields 2c and 2c+2 (mod 8) of the 32 bytes of its half;
 * value d·(sc & 15)·q − dmin·(sc >> 4) per 16-element sub-block. */
static inline VNNI_TARGET void block_q2_K_vnni(const block_q2_K *b, const int8_t *q8, const act_block *ab, __m512 *accv, __m128 *acc) {
    const __m128i sc8 = _mm_loadu_si128((const __m128i *)b->scales);
    const __m512i sc32 = _mm512_cvtepu8_epi32(_mm_and_si128(sc8, _mm_set1_epi8(0x0F)));
    const __m256i m3 = _mm256_set1_epi8(3);
    __m512i sumi = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * h));
        const __m512i w0 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(q, m3)), _mm256_and_si256(_mm256_srli_epi16(q, 2), m3), 1);
        const __m512i w1 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(_mm256_srli_epi16(q, 4), m3)), _mm256_and_si256(_mm256_srli_epi16(q, 6), m3), 1);
        const int8_t *a = q8 + 128 * h;
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_dpbusd_epi32(_mm512_setzero_si512(), w0, _mm512_loadu_si512((const void *)a)), _mm512_permutexvar_epi32(SB16_IDX(2 * h), sc32));
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_dpbusd_epi32(_mm512_setzero_si512(), w1, _mm512_loadu_si512((const void *)(a + 64))), _mm512_permutexvar_epi32(SB16_IDX(2 * h + 1), sc32));
    }
    const int msum = sum16_products(_mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(0x0F))), ab);
    *accv = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(ab->d * _cvtsh_ss(b->d)), *accv);
    *acc = _mm_sub_ss(*acc, _mm_set_ss(ab->d * _cvtsh_ss(b->dmin) * (float)msum));
}

/* Q3_K: the 2 low bits as in Q2_K, the third from hmask bit 4h+j; code u = low + 4·bit ∈ [0, 7]
 * stands for u − 4, so Σ sc·(u − 4)·a = Σ sc·u·a − 4·Σ sc·bsum16. Scales are 6-bit, signed. */
static inline VNNI_TARGET void block_q3_K_vnni(const block_q3_K *b, const int8_t *q8, const act_block *ab, __m512 *accv, __m128 *acc) {
    int8_t sc[16];
    for (int j = 0; j < 16; j++) sc[j] = fh1_q3_K_scale(j, b->scales);
    const __m128i sc8 = _mm_loadu_si128((const __m128i *)sc);
    const __m512i sc32 = _mm512_and_si512(_mm512_cvtepi8_epi32(sc8), _mm512_set1_epi32(0xFFFF));
    const __m256i m3 = _mm256_set1_epi8(3), m1 = _mm256_set1_epi8(1);
    __m256i H = _mm256_loadu_si256((const __m256i *)b->hmask);
    __m512i sumi = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * h));
        __m256i u[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            u[j] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 2 * j), m3), _mm256_slli_epi16(_mm256_and_si256(H, m1), 2));
            H = _mm256_srli_epi16(H, 1);
        }
        const int8_t *a = q8 + 128 * h;
        const __m512i w0 = _mm512_inserti64x4(_mm512_castsi256_si512(u[0]), u[1], 1), w1 = _mm512_inserti64x4(_mm512_castsi256_si512(u[2]), u[3], 1);
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_dpbusd_epi32(_mm512_setzero_si512(), w0, _mm512_loadu_si512((const void *)a)), _mm512_permutexvar_epi32(SB16_IDX(2 * h), sc32));
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_dpbusd_epi32(_mm512_setzero_si512(), w1, _mm512_loadu_si512((const void *)(a + 64))), _mm512_permutexvar_epi32(SB16_IDX(2 * h + 1), sc32));
    }
    const float dd = ab->d * _cvtsh_ss(b->d);
    *accv = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(dd), *accv);
    *acc = _mm_sub_ss(*acc, _mm_set_ss(dd * (float)(4 * sum16_products(_mm256_cvtepi8_epi16(sc8), ab))));
}


/* The sums of 4 vectors in one pass: [Σa Σb Σc Σd]. Rows of the 0.5B's K = 1024 matrices are only
 * 4 blocks long, so one reduction per row cost ~15% of the Q4_K dot; this shares it by 4. */
static inline VNNI_TARGET __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
    const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b)); /* per 128: a02 b02 a13 b13 */
    const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    const __m512 s = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd))),
                                   _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd)))); /* per 128: a b c d */
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(s), _mm512_extractf32x8_ps(s, 1));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/* Per block type: a row's accumulator (the block bodies above), one row (decode's tail rows) and
 * four consecutive rows with one shared reduction. The four are read one after the other:
 * interleaving their blocks broke the sequential stream the prefetchers follow (1.7x slower). */
#define DEFINE_ROW_DOTS(T)                                                                                                 \
    static inline VNNI_TARGET __m512 row_acc_##T(const block_##T *b, const int8_t *q8, const act_block *ab, int nb) {      \
        __m512 v = _mm512_setzero_ps();                                                                                       \
        __m128 s4 = _mm_setzero_ps();                                                                                         \
        for (int i = 0; i < nb; i++) {                                                                                        \
            WEIGHT_PREFETCH_BLOCK(b + i);                                                                                     \
            block_##T##_vnni(b + i, q8 + (size_t)i * QK_K, ab + i, &v, &s4);                                                  \
        }                                                                                                                     \
        return _mm512_add_ps(v, _mm512_zextps128_ps512(s4));                                                                  \
    }                                                                                                                         \
    static VNNI_TARGET float dot_##T##_i8(const block_##T *b, const int8_t *q8, const act_block *ab, int nb) {              \
        return _mm512_reduce_add_ps(row_acc_##T(b, q8, ab, nb));                                                              \
    }                                                                                                                         \
    static VNNI_TARGET void dot4_##T##_i8(const uint8_t *rows, size_t row_bytes, const int8_t *q8, const act_block *ab, int nb, float *out) { \
        const __m512 v0 = row_acc_##T((const block_##T *)rows, q8, ab, nb);                                                   \
        const __m512 v1 = row_acc_##T((const block_##T *)(rows + row_bytes), q8, ab, nb);                                     \
        const __m512 v2 = row_acc_##T((const block_##T *)(rows + 2 * row_bytes), q8, ab, nb);                                 \
        const __m512 v3 = row_acc_##T((const block_##T *)(rows + 3 * row_bytes), q8, ab, nb);                                 \
        _mm_storeu_ps(out, reduce4(v0, v1, v2, v3));                                                                          \
    }
DEFINE_ROW_DOTS(q2_K)
DEFINE_ROW_DOTS(q3_K)
DEFINE_ROW_DOTS(q4_K)
DEFINE_ROW_DOTS(q5_K)
DEFINE_ROW_DOTS(q6_K)
#define HAVE_DOT4 1

/* Activations for Q8_0 weights: one scale per 32 elements. */
static VNNI_TARGET void quantize_act_32(const float *x, int K, int8_t *q, float *d, float *dsum) {
    for (int i = 0; i < K / 32; i++) {
        const __m512 x0 = _mm512_loadu_ps(x + 32 * i), x1 = _mm512_loadu_ps(x + 32 * i + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
        const __m512 idv = _mm512_set1_ps(amax ? 127.0f / amax : 0.0f);
        d[i] = amax / 127.0f;
        const __m512i v0 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(x0, idv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        const __m512i v1 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(x1, idv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        _mm_storeu_si128((__m128i *)(q + 32 * i), _mm512_cvtsepi32_epi8(v0));
        _mm_storeu_si128((__m128i *)(q + 32 * i + 16), _mm512_cvtsepi32_epi8(v1));
        dsum[i] = d[i] * (float)_mm512_reduce_add_epi32(_mm512_add_epi32(v0, v1)); /* Σ of the rounded block */
    }
}

/* Q4_0/Q4_1/Q5_0/Q5_1: a block's 32 unsigned codes q (bytes [lo nibbles 0-15 | hi nibbles 16-31],
 * the 5th bits from qh) and its value q·d + m, with m = −8d (Q4_0), −16d (Q5_0) or the stored min.
 * Σ x·a over a block = d_a·(d·Σ q·a + m·Σ a): the first term by vpdpbusd, two blocks per
 * instruction, the second from the activation block sums. */
static inline VNNI_TARGET __m256i fifth_bits32(const uint8_t qh[4]) {
    uint32_t h;
    memcpy(&h, qh, 4);
    return _mm256_maskz_mov_epi8((__mmask32)h, _mm256_set1_epi8(0x10));
}
#include "int8_q32_terms.h"
#define DEFINE_DOT_32(T)                                                                                                   \
    static VNNI_TARGET float dot_##T##_i8(const block_##T *b, const int8_t *q8, const float *ad, const float *adsum, int nb) { \
        __m512 acc = _mm512_setzero_ps();                                                                                    \
        float off = 0.0f;                                                                                                    \
        int i = 0;                                                                                                           \
        for (; i + 2 <= nb; i += 2) {                                                                                        \
            WEIGHT_PREFETCH(b + i);                                                                                          \
            const __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(CODES_##T(b + i)), CODES_##T(b + i + 1), 1);        \
            const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w, _mm512_loadu_si512((const void *)(q8 + 32 * i))); \
            const float d0 = _cvtsh_ss(b[i].d), d1 = _cvtsh_ss(b[i + 1].d);                                                  \
            const __m512 sv = _mm512_insertf32x8(_mm512_set1_ps(d0 * ad[i]), _mm256_set1_ps(d1 * ad[i + 1]), 1);             \
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sv, acc);                                                            \
            off += MIN_##T(b + i, d0) * adsum[i] + MIN_##T(b + i + 1, d1) * adsum[i + 1];                                     \
        }                                                                                                                    \
        float s = _mm512_reduce_add_ps(acc) + off;                                                                           \
        if (i < nb) {                                                                                                        \
            const __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), CODES_##T(b + i), _mm256_loadu_si256((const __m256i *)(q8 + 32 * i))); \
            const __m128i p4 = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));                     \
            const int sum = _mm_extract_epi32(p4, 0) + _mm_extract_epi32(p4, 1) + _mm_extract_epi32(p4, 2) + _mm_extract_epi32(p4, 3); \
            const float d = _cvtsh_ss(b[i].d);                                                                               \
            s += (float)sum * d * ad[i] + MIN_##T(b + i, d) * adsum[i];                                                      \
        }                                                                                                                    \
        return s;                                                                                                            \
    }
DEFINE_DOT_32(q4_0)
DEFINE_DOT_32(q4_1)
DEFINE_DOT_32(q5_0)
DEFINE_DOT_32(q5_1)

/* Q8_0 · Q8_0, two blocks per instruction. vpdpbusd wants unsigned × signed: |w| × (a with w's
 * sign), exact for every code including −128 (|−128| reads as 128 unsigned). Lanes 0-7 hold the
 * first block's partial sums, 8-15 the second's, each scaled by its own d_w·d_a. */
static VNNI_TARGET float dot_q8_0_i8(const block_q8_0 *b, const int8_t *q8, const float *ad, int nb) {
    __m512 acc = _mm512_setzero_ps();
    int i = 0;
    for (; i + 2 <= nb; i += 2) {
        WEIGHT_PREFETCH(b + i);
        const __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)b[i].qs)), _mm256_loadu_si256((const __m256i *)b[i + 1].qs), 1);
        const __m512i a = _mm512_loadu_si512((const void *)(q8 + 32 * i));
        const __m512i as = _mm512_mask_sub_epi8(a, _mm512_movepi8_mask(w), _mm512_setzero_si512(), a);
        const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(w), as);
        const __m512 sv = _mm512_insertf32x8(_mm512_set1_ps(_cvtsh_ss(b[i].d) * ad[i]), _mm256_set1_ps(_cvtsh_ss(b[i + 1].d) * ad[i + 1]), 1);
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sv, acc);
    }
    float s = _mm512_reduce_add_ps(acc);
    if (i < nb) {
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += b[i].qs[j] * q8[32 * i + j];
        s += (float)sum * _cvtsh_ss(b[i].d) * ad[i];
    }
    return s;
}

#define INT8_READY() has_vnni()
#include "int8_dispatch.h"

/* Prefill (T >= GEMM_MIN_T) with Q8_0, Q4_0/Q4_1/Q5_0/Q5_1, Q4_K, Q5_K or Q6_K weights: an integer GEMM with 8-bit activations
 * (one scale per 32 elements, as decode's Q8_0 dot). Per block of 192 tokens the activations are
 * quantized once; per panel of 16 weight rows the codes are repacked so that one 64-byte load holds
 * 4 consecutive codes of each row (wq[k/4][row][4]), with per (32-element block, row) factors.
 * Then for 8 tokens at a time: acc[t] += vpdpbusd(4 activation bytes broadcast, 4 codes per row)
 * over a block, and once per block into f32 (16 rows per vector): 512 products per block and token
 * in 8 instructions where the f32 GEMM needs 32 FMAs. vpdpbusd multiplies unsigned by signed bytes:
 *   Q8_0: signed codes w, activations stored as q + 128: Σ w·q = acc − 128·Σ w  (ws, exact), × d·d_a;
 *   Q4_K: unsigned codes 0..15, signed activations: Σ (d·sc·w − dmin·m)·d_a·q
 *         = acc·(d·sc)·d_a − (dmin·m)·(d_a·Σ q)  (dsum from the quantizer); Q5_K alike with
 *         5-bit codes, and the 32-element blocks Q4_0/Q4_1/Q5_0/Q5_1 with values q·d + MIN;
 *   Q6_K: codes w − 32 as Q8_0's, with a scale per 16 codes: two accumulators per block. */
#define I8G_TB 192 /* tokens per activation block (the panel is repacked once per block) */
#define I8G_NT 8  /* tokens per microkernel step */
/* panel of rows r..r+nr-1 (zero rows past nr): codes, scale f1[b][row] and Q8_0's 128·Σw (ws) or
 * Q4_K's min term f2[b][row]; 32 codes of a block come out of one vector, then 8 word stores */
static VNNI_TARGET void i8g_panel(const fh1_matrix *W, int r, int nr, int nb, uint8_t *wq, float *f1, int32_t *ws, float *f2, int32_t *ws2) {
    const __m256i nib = _mm256_set1_epi8(0x0F), ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    for (int i = 0; i < 16; i++) {
        const uint8_t *row = i < nr ? (const uint8_t *)W->data + (size_t)(r + i) * W->row_bytes : NULL;
        for (int b = 0; b < nb; b++) {
            __m256i c = _mm256_setzero_si256();
            float s = 0.0f, m = 0.0f;
            int sum = 0, sum2 = 0;
            if (row && W->type == GGML_TYPE_Q6_K) { /* 32 codes of quarter g of half h, two scales of 16 */
                const block_q6_K *q = (const block_q6_K *)row + b / 8;
                const int h = (b % 8) / 4, g = b % 4;
                const __m256i ql = _mm256_loadu_si256((const __m256i *)(q->ql + 64 * h + 32 * (g % 2)));
                const __m256i qh = _mm256_loadu_si256((const __m256i *)(q->qh + 32 * h));
                const __m256i lo = _mm256_and_si256(g < 2 ? ql : _mm256_srli_epi16(ql, 4), nib);
                const __m256i hi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), _mm256_set1_epi8(3)), 4);
                c = _mm256_sub_epi8(_mm256_or_si256(lo, hi), _mm256_set1_epi8(32));
                const float d = _cvtsh_ss(q->d);
                s = d * q->scales[8 * h + 2 * g];
                m = d * q->scales[8 * h + 2 * g + 1];
                const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, c), ones16); /* 8 sums of 4 codes */
                int32_t p8[8];
                _mm256_storeu_si256((__m256i *)p8, p);
                sum = p8[0] + p8[1] + p8[2] + p8[3];
                sum2 = p8[4] + p8[5] + p8[6] + p8[7];
            } else if (row && W->type == GGML_TYPE_Q8_0) {
                const block_q8_0 *q = (const block_q8_0 *)row + b;
                c = _mm256_loadu_si256((const __m256i *)q->qs);
                s = _cvtsh_ss(q->d);
                const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, c), ones16); /* 8 sums of 4 codes */
                const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
                sum = _mm_extract_epi32(h, 0) + _mm_extract_epi32(h, 1) + _mm_extract_epi32(h, 2) + _mm_extract_epi32(h, 3);
            } else if (row && (W->type == GGML_TYPE_Q4_K || W->type == GGML_TYPE_Q5_K)) {
                /* sub-block j = b % 8 of super-block b / 8: low nibbles for even j, high for odd,
                 * Q5_K's fifth bit j of qh; the two layouts differ only in where qs sits */
                const int j = b % 8, q5 = W->type == GGML_TYPE_Q5_K;
                const uint8_t *sb = row + (size_t)(b / 8) * (q5 ? sizeof(block_q5_K) : sizeof(block_q4_K));
                const block_q4_K *q4 = (const block_q4_K *)sb;
                const block_q5_K *q5b = (const block_q5_K *)sb;
                uint8_t sc, mn;
                fh1_k4_scale_min(j, q4->scales, &sc, &mn); /* d, dmin and scales sit alike in both */
                const __m256i v = _mm256_loadu_si256((const __m256i *)((q5 ? q5b->qs : q4->qs) + 32 * (j / 2)));
                c = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(v, 4) : v, nib);
                if (q5) c = _mm256_or_si256(c, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(_mm256_loadu_si256((const __m256i *)q5b->qh), j), ones8), 4));
                s = _cvtsh_ss(q4->d) * sc;
                m = _cvtsh_ss(q4->dmin) * mn;
            } else if (row) { /* 32-element blocks with values q·d + MIN */
                switch (W->type) {
#define Q32_CASE(T, TYPE)                                                      \
    case TYPE: {                                                               \
        const block_##T *q = (const block_##T *)row + b;                       \
        c = CODES_##T(q);                                                      \
        s = _cvtsh_ss(q->d);                                                   \
        m = -(MIN_##T(q, s));                                                  \
        break;                                                                 \
    }
                Q32_CASE(q4_0, GGML_TYPE_Q4_0)
                Q32_CASE(q4_1, GGML_TYPE_Q4_1)
                Q32_CASE(q5_0, GGML_TYPE_Q5_0)
                Q32_CASE(q5_1, GGML_TYPE_Q5_1)
#undef Q32_CASE
                default: break;
                }
            }
            uint32_t wd4[8];
            _mm256_storeu_si256((__m256i *)wd4, c);
            for (int l4 = 0; l4 < 8; l4++) memcpy(wq + ((size_t)(8 * b + l4) * 16 + i) * 4, &wd4[l4], 4);
            f1[16 * b + i] = s;
            ws[16 * b + i] = 128 * sum;
            f2[16 * b + i] = m;
            ws2[16 * b + i] = 128 * sum2;
        }
    }
}
/* signed codes q → unsigned q + 128 */
static VNNI_TARGET void i8g_to_unsigned(uint8_t *q, int K) {
    for (int k = 0; k < K; k += 64) {
        const __mmask64 m = K - k >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (K - k)) - 1);
        _mm512_mask_storeu_epi8(q + k, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, q + k), _mm512_set1_epi8((char)0x80)));
    }
}
/* 16 rows × I8G_NT tokens, specialised per weight type through the inlining:
 *   I8G_Q8_0: signed codes, unsigned activations; (acc − 128·Σw)·d·d_a
 *   I8G_Q4_K: unsigned codes, signed activations; acc·(d·sc)·d_a − (dmin·m)·(d_a·Σq)
 *   I8G_Q6_K: signed codes (q − 32), unsigned activations, a scale per 16: two accumulators */
enum { I8G_Q4_K, I8G_Q8_0, I8G_Q6_K };
static inline __attribute__((always_inline)) VNNI_TARGET void i8g_kernel(int mode, const uint8_t *wq, const float *f1, const int32_t *ws, const float *f2, const int32_t *ws2, int nb,
                                                                        const uint8_t *xq, const float *xd, const float *xs, int K, float *y, int ldy, int nt, __mmask16 rows) {
    __m512 f[I8G_NT];
    for (int t = 0; t < I8G_NT; t++) f[t] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        __m512i a[I8G_NT], a2[I8G_NT];
        for (int t = 0; t < I8G_NT; t++) a[t] = a2[t] = _mm512_setzero_si512();
        for (int kk = 0; kk < 8; kk++) {
            const __m512i w = _mm512_loadu_si512((const void *)(wq + (size_t)(8 * b + kk) * 64));
            for (int t = 0; t < I8G_NT; t++) {
                int32_t v;
                memcpy(&v, xq + (size_t)t * K + 32 * b + 4 * kk, 4);
                const __m512i x4 = _mm512_set1_epi32(v);
                if (mode == I8G_Q4_K) a[t] = _mm512_dpbusd_epi32(a[t], w, x4);
                else if (mode == I8G_Q6_K && kk >= 4) a2[t] = _mm512_dpbusd_epi32(a2[t], x4, w);
                else a[t] = _mm512_dpbusd_epi32(a[t], x4, w);
            }
        }
        const __m512 s = _mm512_loadu_ps(f1 + 16 * b);
        if (mode == I8G_Q4_K) {
            const __m512 mn = _mm512_loadu_ps(f2 + 16 * b);
            for (int t = 0; t < I8G_NT; t++) {
                f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a[t]), _mm512_mul_ps(s, _mm512_set1_ps(xd[(size_t)t * (K / 32) + b])), f[t]);
                f[t] = _mm512_fnmadd_ps(mn, _mm512_set1_ps(xs[(size_t)t * (K / 32) + b]), f[t]);
            }
        } else {
            const __m512i o = _mm512_loadu_si512((const void *)(ws + 16 * b));
            for (int t = 0; t < I8G_NT; t++)
                f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(a[t], o)), _mm512_mul_ps(s, _mm512_set1_ps(xd[(size_t)t * (K / 32) + b])), f[t]);
            if (mode == I8G_Q6_K) {
                const __m512 s2 = _mm512_loadu_ps(f2 + 16 * b);
                const __m512i o2 = _mm512_loadu_si512((const void *)(ws2 + 16 * b));
                for (int t = 0; t < I8G_NT; t++)
                    f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(a2[t], o2)), _mm512_mul_ps(s2, _mm512_set1_ps(xd[(size_t)t * (K / 32) + b])), f[t]);
            }
        }
    }
    for (int t = 0; t < nt; t++) _mm512_mask_storeu_ps(y + (size_t)t * ldy, rows, f[t]);
}
#define I8G_KERNEL(name, mode)                                                                                                                 \
    static VNNI_TARGET void name(const uint8_t *wq, const float *f1, const int32_t *ws, const float *f2, const int32_t *ws2, int nb, const uint8_t *xq, \
                                 const float *xd, const float *xs, int K, float *y, int ldy, int nt, __mmask16 rows) {                                  \
        i8g_kernel(mode, wq, f1, ws, f2, ws2, nb, xq, xd, xs, K, y, ldy, nt, rows);                                                                     \
    }
I8G_KERNEL(i8g_kernel_q4_K, I8G_Q4_K)
I8G_KERNEL(i8g_kernel_q8_0, I8G_Q8_0)
I8G_KERNEL(i8g_kernel_q6_K, I8G_Q6_K)
static int int8_gemm_state = -1; /* FALCON_H1_INT8_GEMM=0: prefill through the f32 GEMM (comparisons) */
static int int8_gemm(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1, float *scratch) {
    const int K = W->cols, nb = K / 32, q8 = W->type == GGML_TYPE_Q8_0, q6 = W->type == GGML_TYPE_Q6_K;
    const int kq = int8_kquant(W->type) && W->type != GGML_TYPE_Q2_K && W->type != GGML_TYPE_Q3_K, b32 = int8_block32(W->type);
    if (int8_gemm_state < 0) {
        const char *e = getenv("FALCON_H1_INT8_GEMM");
        int8_gemm_state = !(e && !strcmp(e, "0"));
    }
    if (!int8_gemm_state || !(kq ? K % QK_K == 0 : b32 && K % 32 == 0) || K > INT_DOT_MAX_K || !has_vnni()) return 0;
    /* scratch (FH1_GEMM_SCRATCH(K) floats = 288·K bytes): activations 192·K + 2·192·K/32·4, panel 16·K + 4·16·K/32·4 = 264·K */
    uint8_t *xq = (uint8_t *)scratch, *wq = xq + (size_t)I8G_TB * K;
    float *xd = (float *)(wq + (size_t)16 * K), *xs = xd + (size_t)I8G_TB * nb, *f1 = xs + (size_t)I8G_TB * nb, *f2 = f1 + (size_t)16 * nb;
    int32_t *ws = (int32_t *)(f2 + (size_t)16 * nb), *ws2 = ws + (size_t)16 * nb;
    for (int t0 = 0; t0 < T; t0 += I8G_TB) {
        const int n = T - t0 < I8G_TB ? T - t0 : I8G_TB, np = (n + I8G_NT - 1) / I8G_NT * I8G_NT;
        for (int t = 0; t < np; t++) { /* tokens past n: zero codes and scales */
            uint8_t *q = xq + (size_t)t * K;
            if (t < n) quantize_act_32(x + (size_t)(t0 + t) * ldx, K, (int8_t *)q, xd + (size_t)t * nb, xs + (size_t)t * nb);
            else {
                memset(q, 0, K);
                memset(xd + (size_t)t * nb, 0, sizeof(float) * nb);
                memset(xs + (size_t)t * nb, 0, sizeof(float) * nb);
            }
            if (q8 || q6) i8g_to_unsigned(q, K);
        }
        for (int r = r0; r < r1; r += 16) {
            const int nr = r1 - r < 16 ? r1 - r : 16;
            i8g_panel(W, r, nr, nb, wq, f1, ws, f2, ws2);
            for (int t = 0; t < n; t += I8G_NT) {
                const int m = n - t < I8G_NT ? n - t : I8G_NT;
                float *yt = y + (size_t)(t0 + t) * ldy + r;
                const uint8_t *xt = xq + (size_t)t * K;
                const float *dt = xd + (size_t)t * nb, *st = xs + (size_t)t * nb;
                const __mmask16 live = (__mmask16)((1u << nr) - 1);
                if (q8) i8g_kernel_q8_0(wq, f1, ws, f2, ws2, nb, xt, dt, st, K, yt, ldy, m, live);
                else if (q6) i8g_kernel_q6_K(wq, f1, ws, f2, ws2, nb, xt, dt, st, K, yt, ldy, m, live);
                else i8g_kernel_q4_K(wq, f1, ws, f2, ws2, nb, xt, dt, st, K, yt, ldy, m, live);
            }
        }
    }
    return 1;
}

#endif

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

/* VNNI integer dots for the K-quants of the Q4_K_M mix (decode): activations are quantized to
 * 8 bits per 256-element block (scale, group sums), weights stay packed; vpdpbusd multiplies 64
 * unsigned weight codes by 64 signed activations per instruction, sub-block scales are applied to
 * the int32 lanes and the float scales once per super-block. */
#include "simd.h"
#include "../../quant/blocks.h"

static int vnni_state = -1;
static int has_vnni(void) {
    if (vnni_state < 0) {
        __builtin_cpu_init();
        vnni_state = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    }
    return vnni_state;
}
static int kquant_int_dot(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1);
#define KQUANT_INT_DOT kquant_int_dot

#include "simd_tmpl.h"

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c,avx2")))

typedef struct {
    float d;
    int16_t bsum16[16]; /* sums of the 16-element groups */
    int16_t bsum32[8];  /* sums of the 32-element groups */
} act_block;

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

/* The 8 six-bit scales and mins of a Q4_K block as bytes [sc0..sc7 | m0..m7] from the 12 packed
 * bytes (layout: spec §2.2), with word-wide masks instead of a loop. */
static inline void unpack_k4(const uint8_t *q, uint32_t out[4]) {
    uint32_t w[3];
    memcpy(w, q, 12);
    out[0] = w[0] & 0x3f3f3f3f;                                               /* scales 0..3 */
    out[1] = (w[2] & 0x0f0f0f0f) | (((w[0] >> 6) & 0x03030303) << 4);       /* scales 4..7 */
    out[2] = w[1] & 0x3f3f3f3f;                                               /* mins 0..3 */
    out[3] = ((w[2] >> 4) & 0x0f0f0f0f) | (((w[1] >> 6) & 0x03030303) << 4); /* mins 4..7 */
}

static VNNI_TARGET float dot_q4_K_vnni(const block_q4_K *b, const int8_t *q8, const act_block *ab, int nb) {
    float acc = 0.0f;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    /* lanes [s_2c ×8 | s_2c+1 ×8] for chunk c */
    const __m512i idx[4] = {_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1), _mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3),
                            _mm512_setr_epi32(4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5), _mm512_setr_epi32(6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7)};
    for (int i = 0; i < nb; i++) {
        uint32_t sm[4];
        unpack_k4(b[i].scales, sm);
        const __m512i sc32 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)sm));
        __m512i sumi = _mm512_setzero_si512();
        for (int c = 0; c < 4; c++) {
            const __m256i qs = _mm256_loadu_si256((const __m256i *)(b[i].qs + 32 * c));
            const __m256i lo = _mm256_and_si256(qs, m4), hi = _mm256_and_si256(_mm256_srli_epi16(qs, 4), m4);
            const __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
            const __m512i a = _mm512_loadu_si512((const void *)(q8 + (size_t)i * QK_K + 64 * c));
            const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w, a);
            sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(p, _mm512_permutexvar_epi32(idx[c], sc32)));
        }
        const __m128i mins16 = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)&sm[2]));
        const __m128i mp = _mm_madd_epi16(mins16, _mm_loadu_si128((const __m128i *)ab[i].bsum32));
        const int msum = _mm_extract_epi32(mp, 0) + _mm_extract_epi32(mp, 1) + _mm_extract_epi32(mp, 2) + _mm_extract_epi32(mp, 3);
        acc += ab[i].d * (_cvtsh_ss(b[i].d) * (float)_mm512_reduce_add_epi32(sumi) - _cvtsh_ss(b[i].dmin) * (float)msum);
    }
    return acc;
}

static VNNI_TARGET float dot_q6_K_vnni(const block_q6_K *b, const int8_t *q8, const act_block *ab, int nb) {
    float acc = 0.0f;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    /* lanes [sc_j0 ×4 | sc_j0+1 ×4 | sc_j0+2 ×4 | sc_j0+3 ×4] for j0 = 0, 4, 8, 12 */
    const __m512i idx[4] = {_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), _mm512_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7),
                            _mm512_setr_epi32(8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11), _mm512_setr_epi32(12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15)};
    for (int i = 0; i < nb; i++) {
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)b[i].scales);
        const __m512i sc32 = _mm512_cvtepi8_epi32(sc8);
        __m512i sumi = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
            const __m256i A = _mm256_loadu_si256((const __m256i *)ql), B = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i H = _mm256_loadu_si256((const __m256i *)qh);
            const __m256i q1 = _mm256_or_si256(_mm256_and_si256(A, m4), _mm256_slli_epi16(_mm256_and_si256(H, m2), 4));
            const __m256i q2 = _mm256_or_si256(_mm256_and_si256(B, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(H, 2), m2), 4));
            const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(A, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(H, 4), m2), 4));
            const __m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(B, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(H, 6), m2), 4));
            const int8_t *a8 = q8 + (size_t)i * QK_K + 128 * h;
            const __m512i w0 = _mm512_inserti64x4(_mm512_castsi256_si512(q1), q2, 1), w1 = _mm512_inserti64x4(_mm512_castsi256_si512(q3), q4, 1);
            const __m512i p0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w0, _mm512_loadu_si512((const void *)a8));
            const __m512i p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w1, _mm512_loadu_si512((const void *)(a8 + 64)));
            sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(p0, _mm512_permutexvar_epi32(idx[2 * h], sc32)));
            sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(p1, _mm512_permutexvar_epi32(idx[2 * h + 1], sc32)));
        }
        /* codes were stored +32: subtract 32 · Σ_j sc_j · (sum of the 16 activations of sub-block j) */
        const __m256i off = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), _mm256_loadu_si256((const __m256i *)ab[i].bsum16));
        const __m128i o4 = _mm_add_epi32(_mm256_castsi256_si128(off), _mm256_extracti128_si256(off, 1));
        const int o = _mm_extract_epi32(o4, 0) + _mm_extract_epi32(o4, 1) + _mm_extract_epi32(o4, 2) + _mm_extract_epi32(o4, 3);
        acc += ab[i].d * _cvtsh_ss(b[i].d) * (float)(_mm512_reduce_add_epi32(sumi) - 32 * o);
    }
    return acc;
}

static int kquant_int_dot(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1) {
    if ((W->type != GGML_TYPE_Q4_K && W->type != GGML_TYPE_Q6_K) || W->cols % QK_K || W->cols > 32768 || !has_vnni()) return 0;
    const int K = W->cols, nb = K / QK_K;
    int8_t q8[32768] __attribute__((aligned(64)));
    act_block ab[128];
    for (int t = 0; t < T; t++) {
        quantize_act(x + (size_t)t * ldx, K, q8, ab);
        for (int r = r0; r < r1; r++) {
            const void *row = (const uint8_t *)W->data + (size_t)r * W->row_bytes;
            y[(size_t)t * ldy + r] = W->type == GGML_TYPE_Q4_K ? dot_q4_K_vnni(row, q8, ab, nb) : dot_q6_K_vnni(row, q8, ab, nb);
        }
    }
    return 1;
}
#endif

/* csrc/cpu/simd_avx2.c — AVX2+FMA+F16C kernels (8 floats per vector, 4 rows × 2 tokens per tile). */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define FH1_TARGET __attribute__((target("avx2,fma,f16c")))
#define SUF(x) x##_avx2
#define SIMD_TABLE fh1_simd_avx2
#define SIMD_NAME "avx2"
#define V __m256
#define VL 8
#define MR 4
#define MT 2
#define vzero() _mm256_setzero_ps()
#define vload(p) _mm256_loadu_ps(p)
#define vstore(p, v) _mm256_storeu_ps(p, v)
#define vset1(x) _mm256_set1_ps(x)
#define vmul(a, b) _mm256_mul_ps(a, b)
#define vadd(a, b) _mm256_add_ps(a, b)
#define vfma(a, b, c) _mm256_fmadd_ps(a, b, c)
#define vload_f16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define vload_bf16(p) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))
#define vload_i8(p) _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p))))
#define vhalf(h) _cvtsh_ss(h)
#define vmax_(a, b) _mm256_max_ps(a, b)
#define vmin_(a, b) _mm256_min_ps(a, b)
#define vsub(a, b) _mm256_sub_ps(a, b)
#define vload_u8(p) _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p))))
#define HAS_INT_OPS 1
#define VI __m256i
#define vload_u8_i32(p) _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p)))
#define vand_i(a, m) _mm256_and_si256(a, _mm256_set1_epi32(m))
#define vor_i(a, b) _mm256_or_si256(a, b)
#define vsrl_i(a, n) _mm256_srli_epi32(a, n)
#define vsll_i(a, n) _mm256_slli_epi32(a, n)
#define vsub_i(a, m) _mm256_sub_epi32(a, _mm256_set1_epi32(m))
#define vcvt_i(a) _mm256_cvtepi32_ps(a)
#define vdiv(a, b) _mm256_div_ps(a, b)
#define vneg(a) _mm256_sub_ps(_mm256_setzero_ps(), a)
#define vround(a) _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
/* lanes 0-3: sums of a's adjacent lane pairs, 4-7: of b's (hadd interleaves the 128-bit halves;
 * the permute puts them back in order) */
static inline __attribute__((target("avx2,fma,f16c"))) __m256 vpairsum(__m256 a, __m256 b) {
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_hadd_ps(a, b)), 0xD8));
}
#define vpairsum vpairsum
/* p · 2^n for integral n: clamp n so the exponent field stays valid, then add it to the exponent */
static inline __attribute__((target("avx2,fma,f16c"))) __m256 vscale2(__m256 p, __m256 n) {
    n = _mm256_max_ps(_mm256_min_ps(n, _mm256_set1_ps(127.0f)), _mm256_set1_ps(-126.0f));
    return _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23)));
}

static inline __attribute__((target("avx2,fma,f16c"))) float vhsum(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

/* 8-bit-activation integer dots for decode, as in simd_avx512.c but with vpmaddubsw + vpmaddwd
 * (no VNNI): each pair of u8×s8 products fits int16 without saturation for every code range we
 * use (|code| ≤ 128 against |a| ≤ 127), so the sums are exact. */
#include "simd.h"
#include "../../quant/blocks.h"
static int int8_act_dot(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1);
#define INT8_ACT_DOT int8_act_dot

#include "simd_tmpl.h"
#include "int8_avx2.h"
#endif

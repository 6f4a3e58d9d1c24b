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
#define vdiv(a, b) _mm512_div_ps(a, b)
#define vneg(a) _mm512_sub_ps(_mm512_setzero_ps(), a)
#define vround(a) _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define vscale2(p, n) _mm512_scalef_ps(p, n)

#include "simd_tmpl.h"
#endif

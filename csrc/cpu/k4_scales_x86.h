/* csrc/cpu/k4_scales_x86.h — the 8 six-bit scales and mins of a Q4_K/Q5_K block as bytes
 * [sc0..sc7 | m0..m7] (layout: spec §2.2), with word-wide masks instead of a loop; shared by the
 * AVX-512 and AVX2 integer dots (their targets both include AVX2, so it inlines into either). */
#ifndef FH1_K4_SCALES_X86_H
#define FH1_K4_SCALES_X86_H
#include <immintrin.h>
static inline __attribute__((target("avx2"))) __m128i unpack_k4(const uint8_t *q) {
    /* 16-byte load: the 12 scale bytes are followed by the block's codes, so it stays inside the
     * block; built in registers (4 scalar stores + a vector load would stall on store forwarding) */
    const __m128i v = _mm_loadu_si128((const __m128i *)q);                  /* dwords w0 w1 w2 . */
    const __m128i lo = _mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0)), _mm_setr_epi32(0, 0, 0, 4)); /* w0 w2 w1 w2>>4 */
    const __m128i hi = _mm_srli_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0)), 2);                     /* (w0 w0 w1 w1)>>2 */
    return _mm_or_si128(_mm_and_si128(lo, _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f)),
                        _mm_and_si128(hi, _mm_setr_epi32(0, 0x30303030, 0, 0x30303030))); /* [sc0-3 | sc4-7 | m0-3 | m4-7] */
}
#endif

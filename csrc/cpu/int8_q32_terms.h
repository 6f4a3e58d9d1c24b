/* csrc/cpu/int8_q32_terms.h — for the x86 integer dots: a 32-element block's unsigned codes
 * (nibbles here, the 5th bits from the ISA file's fifth_bits32) and the constant m of its values
 * q·d + m. */

/* 16 bytes of packed nibbles → 32 codes [low nibbles | high nibbles] (AVX2; inlines into wider targets) */
static inline __attribute__((target("avx2"))) __m256i nibbles32(const uint8_t *qs) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1), _mm256_set1_epi8(0x0F));
}
#define CODES_q4_0(b) nibbles32((b)->qs)
#define CODES_q4_1(b) nibbles32((b)->qs)
#define CODES_q5_0(b) _mm256_or_si256(nibbles32((b)->qs), fifth_bits32((b)->qh))
#define CODES_q5_1(b) _mm256_or_si256(nibbles32((b)->qs), fifth_bits32((b)->qh))
#define MIN_q4_0(b, d) (-8.0f * (d))
#define MIN_q4_1(b, d) _cvtsh_ss((b)->m)
#define MIN_q5_0(b, d) (-16.0f * (d))
#define MIN_q5_1(b, d) _cvtsh_ss((b)->m)

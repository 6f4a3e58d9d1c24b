/* csrc/cpu/int8_q32_terms.h — for the x86 integer dots: a 32-element block's unsigned codes (from
 * the ISA file's nibbles32 / fifth_bits32) and the constant m of its values q·d + m. */
#define CODES_q4_0(b) nibbles32((b)->qs)
#define CODES_q4_1(b) nibbles32((b)->qs)
#define CODES_q5_0(b) _mm256_or_si256(nibbles32((b)->qs), fifth_bits32((b)->qh))
#define CODES_q5_1(b) _mm256_or_si256(nibbles32((b)->qs), fifth_bits32((b)->qh))
#define MIN_q4_0(b, d) (-8.0f * (d))
#define MIN_q4_1(b, d) _cvtsh_ss((b)->m)
#define MIN_q5_0(b, d) (-16.0f * (d))
#define MIN_q5_1(b, d) _cvtsh_ss((b)->m)

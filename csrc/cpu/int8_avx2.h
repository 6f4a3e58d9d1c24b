/* csrc/cpu/int8_avx2.h — the AVX2 integer dots of simd_avx2.c (included there, after the
 * template). Layouts and the role of each term follow simd_avx512.c; only the instruction
 * widths differ: a 256-bit product covers 32 codes, 8 int32 lanes of 4 products each. */
#define I8 __attribute__((target("avx2,fma,f16c")))
#include "weight_prefetch.h"


static inline I8 __m256i dot4(__m256i u, __m256i s) { return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)); }
static inline I8 int hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}
static inline I8 float hmax_abs(const float *x, int n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}
/* 32 floats × id → 32 int8 at q (round to nearest even); returns the four 8-lane int32 vectors' sums */
static inline I8 void round32(const float *x, float id, int8_t *q, int sums16[2]) {
    const __m256 idv = _mm256_set1_ps(id);
    __m256i v[4];
    for (int k = 0; k < 4; k++) v[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), idv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __m256i p16 = _mm256_packs_epi32(v[0], v[1]), p16b = _mm256_packs_epi32(v[2], v[3]);
    const __m256i p8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p16, p16b), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, p8);
    sums16[0] = hsum_i32(_mm256_add_epi32(v[0], v[1]));
    sums16[1] = hsum_i32(_mm256_add_epi32(v[2], v[3]));
}
static I8 void quantize_act(const float *x, int K, int8_t *q, act_block *ab) {
    for (int i = 0; i < K / QK_K; i++) {
        const float *xb = x + (size_t)i * QK_K;
        const float amax = hmax_abs(xb, QK_K);
        ab[i].d = amax / 127.0f;
        for (int j = 0; j < QK_K; j += 32) {
            int s[2];
            round32(xb + j, amax ? 127.0f / amax : 0.0f, q + (size_t)i * QK_K + j, s);
            ab[i].bsum16[j / 16] = (int16_t)s[0];
            ab[i].bsum16[j / 16 + 1] = (int16_t)s[1];
            ab[i].bsum32[j / 32] = (int16_t)(s[0] + s[1]);
        }
    }
}
static I8 void quantize_act_32(const float *x, int K, int8_t *q, float *d, float *dsum) {
    for (int i = 0; i < K / 32; i++) {
        const float amax = hmax_abs(x + 32 * i, 32);
        d[i] = amax / 127.0f;
        int s[2];
        round32(x + 32 * i, amax ? 127.0f / amax : 0.0f, q + 32 * i, s);
        dsum[i] = d[i] * (float)(s[0] + s[1]);
    }
}

static inline I8 float hsum_f(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

static I8 float dot_q8_0_i8(const block_q8_0 *b, const int8_t *q8, const float *ad, int nb) {
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < nb; i++) {
        if (!(i & 1)) WEIGHT_PREFETCH(b + i); /* a 64-byte line per two 34-byte blocks */
        const __m256i w = _mm256_loadu_si256((const __m256i *)b[i].qs), a = _mm256_loadu_si256((const __m256i *)(q8 + 32 * i));
        const __m256i p = dot4(_mm256_abs_epi8(w), _mm256_sign_epi8(a, w));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(_cvtsh_ss(b[i].d) * ad[i]), acc);
    }
    return hsum_f(acc);
}

/* byte j = 0x10 where bit j of qh is set */
static inline I8 __m256i fifth_bits32(const uint8_t qh[4]) {
    uint32_t h;
    memcpy(&h, qh, 4);
    const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)h), _mm256_setr_epi64x(0, 0x0101010101010101LL, 0x0202020202020202LL, 0x0303030303030303LL));
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit), _mm256_set1_epi8(0x10));
}
#include "int8_q32_terms.h"
#define DEFINE_DOT_32(T)                                                                                                     \
    static I8 float dot_##T##_i8(const block_##T *b, const int8_t *q8, const float *ad, const float *adsum, int nb) {        \
        __m256 acc = _mm256_setzero_ps();                                                                                    \
        float off = 0.0f;                                                                                                    \
        for (int i = 0; i < nb; i++) {                                                                                       \
            if (!(i & 1)) WEIGHT_PREFETCH(b + i);                                                                            \
            const float d = _cvtsh_ss(b[i].d);                                                                               \
            const __m256i p = dot4(CODES_##T(b + i), _mm256_loadu_si256((const __m256i *)(q8 + 32 * i)));                     \
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * ad[i]), acc);                                     \
            off += MIN_##T(b + i, d) * adsum[i];                                                                             \
        }                                                                                                                    \
        return hsum_f(acc) + off;                                                                                            \
    }
DEFINE_DOT_32(q4_0)
DEFINE_DOT_32(q4_1)
DEFINE_DOT_32(q5_0)
DEFINE_DOT_32(q5_1)

/* [s ×4 | t ×4] with each value in the low int16 of its lane (vpmaddwd applies it exactly) */
static inline I8 __m256i lane_scales(int s, int t) { return _mm256_setr_epi32(s & 0xFFFF, s & 0xFFFF, s & 0xFFFF, s & 0xFFFF, t & 0xFFFF, t & 0xFFFF, t & 0xFFFF, t & 0xFFFF); }
static inline I8 int sum16_products(const int8_t *v, const act_block *ab) {
    int s = 0;
    for (int j = 0; j < 16; j++) s += v[j] * ab->bsum16[j];
    return s;
}

#include "k4_scales_x86.h"
/* byte-shuffle control that copies scale word j (of 8 words in each 128-bit lane) to every word */
#define WORD_BCAST(j) _mm256_set1_epi16((short)((2 * (j)) | ((2 * (j) + 1) << 8)))

/* Q4_K and Q5_K: chunk c's 32 low codes are sub-block 2c, its 32 high codes sub-block 2c+1.
 * vpmaddubsw gives 16 sums of 2 products (≤ 2·31·127), vpmaddwd multiplies them by the sub-block
 * scale and adds pairs: one instruction per 32 codes for the scale. The block's integer sum is
 * scaled by d·d_a into the vector accv, the mins term −d_a·dmin·Σ m_j·bsum_j goes to the 4-lane
 * acc; both are summed once per row. */
static inline I8 void block_k45(const uint8_t *scales, const uint8_t *qs, const uint8_t *qh, const uint16_t *dm_halves, const int8_t *q8, const act_block *ab,
                                __m256 *accv, __m128 *acc) {
    const __m128i sm = unpack_k4(scales);
    const __m256i scw = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm)); /* words sc0..sc7 in both lanes */
    const __m256i m4 = _mm256_set1_epi8(0x0F), m1 = _mm256_set1_epi8(1);
    __m256i H = qh ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        if (qh) {
            lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(H, m1), 4));
            hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(H, 1), m1), 4));
            H = _mm256_srli_epi16(H, 2);
        }
        const __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c)));
        const __m256i phi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c + 32)));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(plo, _mm256_shuffle_epi8(scw, WORD_BCAST(2 * c))));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(phi, _mm256_shuffle_epi8(scw, WORD_BCAST(2 * c + 1))));
    }
    uint32_t dm16;
    memcpy(&dm16, dm_halves, 4);
    const __m128 dm = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)dm16)), _mm_set1_ps(ab->d)); /* [d·d_a, dmin·d_a] */
    *accv = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_broadcastss_ps(dm), *accv);
    const __m128i mp = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(sm, 8)), _mm_loadu_si128((const __m128i *)ab->bsum32));
    *acc = _mm_fnmadd_ps(_mm_cvtepi32_ps(mp), _mm_permute_ps(dm, 0x55), *acc);
}
static inline I8 float row_sum(__m256 v, __m128 s4) {
    s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return hsum_f(v) + _mm_cvtss_f32(_mm_add_ss(s4, _mm_movehdup_ps(s4)));
}
/* Q4_K (no fifth bits) and Q5_K rows */
#define DEFINE_K45_DOT(T, QH)                                                                                              \
    static I8 float dot_##T##_i8(const block_##T *b, const int8_t *q8, const act_block *ab, int nb) {                       \
        __m256 v = _mm256_setzero_ps();                                                                                    \
        __m128 s4 = _mm_setzero_ps();                                                                                      \
        for (int i = 0; i < nb; i++) {                                                                                     \
            WEIGHT_PREFETCH_BLOCK(b + i);                                                                                  \
            block_k45(b[i].scales, b[i].qs, QH, &b[i].d, q8 + (size_t)i * QK_K, ab + i, &v, &s4);                         \
        }                                                                                                                  \
        return row_sum(v, s4);                                                                                             \
    }
DEFINE_K45_DOT(q4_K, NULL)
DEFINE_K45_DOT(q5_K, b[i].qh)

/* Q6_K: codes stored +32 (0..63) against signed activations; vpmaddubsw pair sums (≤ 2·63·127) go
 * straight into vpmaddwd with [sc_j ×8 | sc_j+1 ×8] (lane 0 holds a 32-code group's first 16-element
 * sub-block, lane 1 its second), and the +32 comes off the block's integer sum as
 * 32·Σ_j sc_j·bsum16_j before the one float multiply. */
static I8 float dot_q6_K_i8(const block_q6_K *b, const int8_t *q8, const act_block *ab, int nb) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < nb; i++) {
        WEIGHT_PREFETCH_BLOCK(b + i);
        const __m256i scw = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b[i].scales)); /* words sc0..7 | sc8..15 */
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
            const __m256i A = _mm256_loadu_si256((const __m256i *)ql), B = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i Hq = _mm256_loadu_si256((const __m256i *)qh);
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(A, m4), _mm256_slli_epi16(_mm256_and_si256(Hq, m2), 4)),
                _mm256_or_si256(_mm256_and_si256(B, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(Hq, 2), m2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(A, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(Hq, 4), m2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(B, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(Hq, 6), m2), 4))};
            const __m256i half = _mm256_permute2x128_si256(scw, scw, h ? 0x11 : 0x00); /* sc8h..sc8h+7 in both lanes */
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++) {
                const __m256i p = _mm256_maddubs_epi16(q[g], _mm256_loadu_si256((const __m256i *)(q8 + (size_t)i * QK_K + 128 * h + 32 * g)));
                const __m256i sg = _mm256_shuffle_epi8(half, _mm256_set_m128i(_mm256_castsi256_si128(WORD_BCAST(2 * g + 1)), _mm256_castsi256_si128(WORD_BCAST(2 * g))));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sg));
            }
        }
        const __m256i off = _mm256_madd_epi16(scw, _mm256_loadu_si256((const __m256i *)ab[i].bsum16));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(sumi, _mm256_slli_epi32(off, 5))), _mm256_set1_ps(ab[i].d * _cvtsh_ss(b[i].d)), acc);
    }
    return hsum_f(acc);
}

static I8 float dot_q2_K_i8(const block_q2_K *b, const int8_t *q8, const act_block *ab, int nb) {
    float s = 0.0f;
    const __m256i m3 = _mm256_set1_epi8(3);
    for (int i = 0; i < nb; i++) {
        __m256i sumi = _mm256_setzero_si256();
        int8_t mins[16];
        for (int j = 0; j < 16; j++) mins[j] = (int8_t)(b[i].scales[j] >> 4);
        for (int h = 0; h < 2; h++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(b[i].qs + 32 * h));
            for (int j = 0; j < 4; j++) {
                const __m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), m3);
                const __m256i p = dot4(u, _mm256_loadu_si256((const __m256i *)(q8 + (size_t)i * QK_K + 128 * h + 32 * j)));
                const int sb = 8 * h + 2 * j;
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, lane_scales(b[i].scales[sb] & 0xF, b[i].scales[sb + 1] & 0xF)));
            }
        }
        s += ab[i].d * (_cvtsh_ss(b[i].d) * (float)hsum_i32(sumi) - _cvtsh_ss(b[i].dmin) * (float)sum16_products(mins, ab + i));
    }
    return s;
}

static I8 float dot_q3_K_i8(const block_q3_K *b, const int8_t *q8, const act_block *ab, int nb) {
    float s = 0.0f;
    const __m256i m3 = _mm256_set1_epi8(3), m1 = _mm256_set1_epi8(1);
    for (int i = 0; i < nb; i++) {
        int8_t sc[16];
        for (int j = 0; j < 16; j++) sc[j] = fh1_q3_K_scale(j, b[i].scales);
        __m256i H = _mm256_loadu_si256((const __m256i *)b[i].hmask), sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(b[i].qs + 32 * h));
            for (int j = 0; j < 4; j++) {
                const __m256i u = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 2 * j), m3), _mm256_slli_epi16(_mm256_and_si256(H, m1), 2));
                H = _mm256_srli_epi16(H, 1);
                const __m256i p = dot4(u, _mm256_loadu_si256((const __m256i *)(q8 + (size_t)i * QK_K + 128 * h + 32 * j)));
                const int sb = 8 * h + 2 * j;
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, lane_scales(sc[sb], sc[sb + 1])));
            }
        }
        /* code u stands for u − 4 */
        s += ab[i].d * _cvtsh_ss(b[i].d) * (float)(hsum_i32(sumi) - 4 * sum16_products(sc, ab + i));
    }
    return s;
}

#define INT8_READY() 1
#include "int8_dispatch.h"

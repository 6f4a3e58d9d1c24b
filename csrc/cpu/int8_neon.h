/* csrc/cpu/int8_neon.h — the NEON integer dots of simd_neon.c (included there, after the
 * template). Same terms as simd_avx512.c / int8_avx2.h; codes of every type fit in int8 (≤ 63,
 * or the signed Q8_0 values), so a signed 8×8→16-bit multiply is exact and the sums widen to 32. */

/* Σ w[i]·a[i] over 16 int8 pairs */
static inline int32_t dot16(int8x16_t w, int8x16_t a) {
    const int16x8_t lo = vmull_s8(vget_low_s8(w), vget_low_s8(a)), hi = vmull_high_s8(w, a);
    return vaddvq_s32(vpadalq_s16(vpaddlq_s16(lo), hi));
}
static inline float amax_of(const float *x, int n) {
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int j = 0; j < n; j += 4) m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + j)));
    return vmaxvq_f32(m);
}
/* 16 floats × id → 16 int8 (round to nearest even); returns their sum */
static inline int round16(const float *x, float id, int8_t *q) {
    int32x4_t v[4];
    for (int k = 0; k < 4; k++) v[k] = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + 4 * k), id));
    const int16x8_t a = vcombine_s16(vqmovn_s32(v[0]), vqmovn_s32(v[1])), b = vcombine_s16(vqmovn_s32(v[2]), vqmovn_s32(v[3]));
    vst1q_s8(q, vcombine_s8(vqmovn_s16(a), vqmovn_s16(b)));
    return vaddvq_s32(vaddq_s32(vaddq_s32(v[0], v[1]), vaddq_s32(v[2], v[3])));
}
static void quantize_act(const float *x, int K, int8_t *q, act_block *ab) {
    for (int i = 0; i < K / QK_K; i++) {
        const float *xb = x + (size_t)i * QK_K;
        const float amax = amax_of(xb, QK_K), id = amax ? 127.0f / amax : 0.0f;
        ab[i].d = amax / 127.0f;
        for (int j = 0; j < 16; j++) ab[i].bsum16[j] = (int16_t)round16(xb + 16 * j, id, q + (size_t)i * QK_K + 16 * j);
        for (int j = 0; j < 8; j++) ab[i].bsum32[j] = (int16_t)(ab[i].bsum16[2 * j] + ab[i].bsum16[2 * j + 1]);
    }
}
static void quantize_act_32(const float *x, int K, int8_t *q, float *d, float *dsum) {
    for (int i = 0; i < K / 32; i++) {
        const float amax = amax_of(x + 32 * i, 32), id = amax ? 127.0f / amax : 0.0f;
        d[i] = amax / 127.0f;
        const int s = round16(x + 32 * i, id, q + 32 * i) + round16(x + 32 * i + 16, id, q + 32 * i + 16);
        dsum[i] = d[i] * (float)s;
    }
}

static float dot_q8_0_i8(const block_q8_0 *b, const int8_t *q8, const float *ad, int nb) {
    float s = 0.0f;
    for (int i = 0; i < nb; i++) {
        const int32_t p = dot16(vld1q_s8(b[i].qs), vld1q_s8(q8 + 32 * i)) + dot16(vld1q_s8(b[i].qs + 16), vld1q_s8(q8 + 32 * i + 16));
        s += (float)p * fh1_half_to_float(b[i].d) * ad[i];
    }
    return s;
}

/* 16 bytes with bit j of (h >> first) in byte j, as 0x10 */
static inline uint8x16_t fifth_bits16(uint32_t h) {
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bytes = vcombine_u8(vdup_n_u8((uint8_t)h), vdup_n_u8((uint8_t)(h >> 8)));
    return vandq_u8(vtstq_u8(bytes, vld1q_u8(bit)), vdupq_n_u8(0x10));
}
#define DEFINE_DOT_32(T, HAS_QH, MIN)                                                                                      \
    static float dot_##T##_i8(const block_##T *b, const int8_t *q8, const float *ad, const float *adsum, int nb) {         \
        float s = 0.0f;                                                                                                    \
        for (int i = 0; i < nb; i++) {                                                                                     \
            const uint8x16_t q = vld1q_u8(b[i].qs);                                                                        \
            uint8x16_t lo = vandq_u8(q, vdupq_n_u8(0x0F)), hi = vshrq_n_u8(q, 4);                                          \
            if (HAS_QH) {                                                                                                  \
                uint32_t h;                                                                                                \
                memcpy(&h, (const uint8_t *)&b[i] + offsetof(block_##T, qs) - 4, 4);                                       \
                lo = vorrq_u8(lo, fifth_bits16(h));                                                                        \
                hi = vorrq_u8(hi, fifth_bits16(h >> 16));                                                                  \
            }                                                                                                              \
            const int32_t p = dot16(vreinterpretq_s8_u8(lo), vld1q_s8(q8 + 32 * i)) + dot16(vreinterpretq_s8_u8(hi), vld1q_s8(q8 + 32 * i + 16)); \
            const float d = fh1_half_to_float(b[i].d);                                                                     \
            s += (float)p * d * ad[i] + (MIN) * adsum[i];                                                                  \
        }                                                                                                                  \
        return s;                                                                                                          \
    }
DEFINE_DOT_32(q4_0, 0, -8.0f * d)
DEFINE_DOT_32(q4_1, 0, fh1_half_to_float(b[i].m))
DEFINE_DOT_32(q5_0, 1, -16.0f * d)
DEFINE_DOT_32(q5_1, 1, fh1_half_to_float(b[i].m))

static inline float block_k45(const uint8_t *scales, const uint8_t *qs, const uint8_t *qh, uint16_t dh, uint16_t dmh, const int8_t *q8, const act_block *ab) {
    uint8_t sc[8], mn[8];
    for (int j = 0; j < 8; j++) fh1_k4_scale_min(j, scales, &sc[j], &mn[j]);
    const uint8x16_t m4 = vdupq_n_u8(0x0F), one = vdupq_n_u8(1);
    int sumi = 0;
    for (int c = 0; c < 4; c++) {
        int32_t plo = 0, phi = 0;
        for (int h = 0; h < 2; h++) {
            const uint8x16_t q = vld1q_u8(qs + 32 * c + 16 * h);
            uint8x16_t lo = vandq_u8(q, m4), hi = vshrq_n_u8(q, 4);
            if (qh) {
                const uint8x16_t H = vld1q_u8(qh + 16 * h);
                lo = vorrq_u8(lo, vshlq_n_u8(vandq_u8(vshlq_u8(H, vdupq_n_s8((int8_t)(-2 * c))), one), 4));
                hi = vorrq_u8(hi, vshlq_n_u8(vandq_u8(vshlq_u8(H, vdupq_n_s8((int8_t)(-2 * c - 1))), one), 4));
            }
            plo += dot16(vreinterpretq_s8_u8(lo), vld1q_s8(q8 + 64 * c + 16 * h));
            phi += dot16(vreinterpretq_s8_u8(hi), vld1q_s8(q8 + 64 * c + 32 + 16 * h));
        }
        sumi += sc[2 * c] * plo + sc[2 * c + 1] * phi;
    }
    int msum = 0;
    for (int j = 0; j < 8; j++) msum += mn[j] * ab->bsum32[j];
    return ab->d * (fh1_half_to_float(dh) * (float)sumi - fh1_half_to_float(dmh) * (float)msum);
}
static float dot_q4_K_i8(const block_q4_K *b, const int8_t *q8, const act_block *ab, int nb) {
    float s = 0.0f;
    for (int i = 0; i < nb; i++) s += block_k45(b[i].scales, b[i].qs, NULL, b[i].d, b[i].dmin, q8 + (size_t)i * QK_K, ab + i);
    return s;
}
static float dot_q5_K_i8(const block_q5_K *b, const int8_t *q8, const act_block *ab, int nb) {
    float s = 0.0f;
    for (int i = 0; i < nb; i++) s += block_k45(b[i].scales, b[i].qs, b[i].qh, b[i].d, b[i].dmin, q8 + (size_t)i * QK_K, ab + i);
    return s;
}

static float dot_q6_K_i8(const block_q6_K *b, const int8_t *q8, const act_block *ab, int nb) {
    float s = 0.0f;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m2 = vdupq_n_u8(0x03);
    for (int i = 0; i < nb; i++) {
        int sumi = 0, off = 0;
        for (int h = 0; h < 2; h++)
            for (int l0 = 0; l0 < 32; l0 += 16) {
                const uint8x16_t A = vld1q_u8(b[i].ql + 64 * h + l0), B = vld1q_u8(b[i].ql + 64 * h + 32 + l0), H = vld1q_u8(b[i].qh + 32 * h + l0);
                const uint8x16_t q[4] = {vorrq_u8(vandq_u8(A, m4), vshlq_n_u8(vandq_u8(H, m2), 4)), vorrq_u8(vandq_u8(B, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(H, 2), m2), 4)),
                                         vorrq_u8(vshrq_n_u8(A, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(H, 4), m2), 4)), vorrq_u8(vshrq_n_u8(B, 4), vshlq_n_u8(vshrq_n_u8(H, 6), 4))};
                for (int g = 0; g < 4; g++) {
                    const int sb = 8 * h + 2 * g + l0 / 16;
                    sumi += b[i].scales[sb] * dot16(vreinterpretq_s8_u8(q[g]), vld1q_s8(q8 + (size_t)i * QK_K + 128 * h + 32 * g + l0));
                }
            }
        for (int j = 0; j < 16; j++) off += b[i].scales[j] * ab[i].bsum16[j];
        s += ab[i].d * fh1_half_to_float(b[i].d) * (float)(sumi - 32 * off);
    }
    return s;
}

static float dot_q2_K_i8(const block_q2_K *b, const int8_t *q8, const act_block *ab, int nb) {
    float s = 0.0f;
    const uint8x16_t m3 = vdupq_n_u8(3);
    for (int i = 0; i < nb; i++) {
        int sumi = 0, msum = 0;
        for (int h = 0; h < 2; h++)
            for (int l0 = 0; l0 < 32; l0 += 16) {
                const uint8x16_t q = vld1q_u8(b[i].qs + 32 * h + l0);
                for (int j = 0; j < 4; j++) {
                    const uint8x16_t u = vandq_u8(vshlq_u8(q, vdupq_n_s8((int8_t)(-2 * j))), m3);
                    const int sb = 8 * h + 2 * j + l0 / 16;
                    sumi += (b[i].scales[sb] & 0xF) * dot16(vreinterpretq_s8_u8(u), vld1q_s8(q8 + (size_t)i * QK_K + 128 * h + 32 * j + l0));
                }
            }
        for (int j = 0; j < 16; j++) msum += (b[i].scales[j] >> 4) * ab[i].bsum16[j];
        s += ab[i].d * (fh1_half_to_float(b[i].d) * (float)sumi - fh1_half_to_float(b[i].dmin) * (float)msum);
    }
    return s;
}

static float dot_q3_K_i8(const block_q3_K *b, const int8_t *q8, const act_block *ab, int nb) {
    float s = 0.0f;
    const uint8x16_t m3 = vdupq_n_u8(3), one = vdupq_n_u8(1);
    for (int i = 0; i < nb; i++) {
        int sc[16], sumi = 0, off = 0;
        for (int j = 0; j < 16; j++) sc[j] = fh1_q3_K_scale(j, b[i].scales);
        for (int h = 0; h < 2; h++)
            for (int l0 = 0; l0 < 32; l0 += 16) {
                const uint8x16_t q = vld1q_u8(b[i].qs + 32 * h + l0), H = vld1q_u8(b[i].hmask + l0);
                for (int j = 0; j < 4; j++) {
                    const uint8x16_t hb = vandq_u8(vshlq_u8(H, vdupq_n_s8((int8_t)(-(4 * h + j)))), one);
                    const uint8x16_t u = vorrq_u8(vandq_u8(vshlq_u8(q, vdupq_n_s8((int8_t)(-2 * j))), m3), vshlq_n_u8(hb, 2));
                    const int sb = 8 * h + 2 * j + l0 / 16;
                    sumi += sc[sb] * dot16(vreinterpretq_s8_u8(u), vld1q_s8(q8 + (size_t)i * QK_K + 128 * h + 32 * j + l0));
                }
            }
        for (int j = 0; j < 16; j++) off += sc[j] * ab[i].bsum16[j];
        s += ab[i].d * fh1_half_to_float(b[i].d) * (float)(sumi - 4 * off);
    }
    return s;
}

#define INT8_READY() 1
#include "int8_dispatch.h"

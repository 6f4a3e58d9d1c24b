/*
 * quant/blocks.h — ggml's block layouts and scalar conversions, shared by every backend.
 * Byte layouts are ggml's exactly (spec: gguf-falcon-h1.md §2); sizes are asserted.
 */
#ifndef FH1_QUANT_BLOCKS_H
#define FH1_QUANT_BLOCKS_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
#define FH1_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define FH1_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

/* ggml type ids (GGUF tensor types) */
enum {
    GGML_TYPE_F32 = 0, GGML_TYPE_F16 = 1, GGML_TYPE_Q4_0 = 2, GGML_TYPE_Q4_1 = 3,
    GGML_TYPE_Q5_0 = 6, GGML_TYPE_Q5_1 = 7, GGML_TYPE_Q8_0 = 8, GGML_TYPE_Q8_1 = 9,
    GGML_TYPE_Q2_K = 10, GGML_TYPE_Q3_K = 11, GGML_TYPE_Q4_K = 12, GGML_TYPE_Q5_K = 13,
    GGML_TYPE_Q6_K = 14, GGML_TYPE_Q8_K = 15, GGML_TYPE_BF16 = 30,
};

#define QK8_0 32
typedef struct {
    uint16_t d;        /* f16 scale */
    int8_t qs[QK8_0];  /* value = qs[i] * d */
} block_q8_0;
FH1_STATIC_ASSERT(sizeof(block_q8_0) == 34, "block_q8_0 must be 34 bytes");

#define QK4_0 32
typedef struct { uint16_t d; uint8_t qs[16]; } block_q4_0;                 /* (q - 8)·d */
typedef struct { uint16_t d, m; uint8_t qs[16]; } block_q4_1;              /* q·d + m */
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } block_q5_0;  /* (q - 16)·d, 5th bits in qh */
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; } block_q5_1;
FH1_STATIC_ASSERT(sizeof(block_q4_0) == 18, "q4_0");
FH1_STATIC_ASSERT(sizeof(block_q4_1) == 20, "q4_1");
FH1_STATIC_ASSERT(sizeof(block_q5_0) == 22, "q5_0");
FH1_STATIC_ASSERT(sizeof(block_q5_1) == 24, "q5_1");

/* K-quants: super-blocks of 256 */
#define QK_K 256
typedef struct { uint8_t scales[16]; uint8_t qs[64]; uint16_t d, dmin; } block_q2_K;          /* 16×16, 2-bit */
typedef struct { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; } block_q3_K; /* 16×16, 3-bit */
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } block_q4_K;          /* 8×32, 4-bit + min */
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } block_q5_K;
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } block_q6_K; /* 16×16, 6-bit */
typedef struct { float d; int8_t qs[256]; int16_t bsums[16]; } block_q8_K;                     /* activations */
FH1_STATIC_ASSERT(sizeof(block_q2_K) == 84, "q2_K");
FH1_STATIC_ASSERT(sizeof(block_q3_K) == 110, "q3_K");
FH1_STATIC_ASSERT(sizeof(block_q4_K) == 144, "q4_K");
FH1_STATIC_ASSERT(sizeof(block_q5_K) == 176, "q5_K");
FH1_STATIC_ASSERT(sizeof(block_q6_K) == 210, "q6_K");
FH1_STATIC_ASSERT(sizeof(block_q8_K) == 292, "q8_K");

/* IEEE half → float, exact. */
static inline float fh1_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(mant & 0x400)) { mant <<= 1; exp--; }
            mant &= 0x3ff;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* float → IEEE half, round to nearest even. */
static inline uint16_t fh1_float_to_half(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000;
    int32_t exp = (int32_t)((u >> 23) & 0xff);
    uint32_t mant = u & 0x7fffff;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    int32_t e = exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = 1u << (shift - 1);
        uint32_t r = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    return (uint16_t)(sign | r);
}

static inline float fh1_bf16_to_float(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Elements per block and bytes per block of a ggml type; 0 if we cannot run it. */
static inline int fh1_type_block_size(int type) {
    switch (type) {
    case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_BF16: return 1;
    case GGML_TYPE_Q8_0: case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0: case GGML_TYPE_Q5_1: return 32;
    case GGML_TYPE_Q2_K: case GGML_TYPE_Q3_K: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K: case GGML_TYPE_Q6_K: case GGML_TYPE_Q8_K: return QK_K;
    default: return 0;
    }
}
static inline int fh1_type_size(int type) {
    switch (type) {
    case GGML_TYPE_F32: return 4;
    case GGML_TYPE_F16: case GGML_TYPE_BF16: return 2;
    case GGML_TYPE_Q8_0: return (int)sizeof(block_q8_0);
    case GGML_TYPE_Q4_0: return (int)sizeof(block_q4_0);
    case GGML_TYPE_Q4_1: return (int)sizeof(block_q4_1);
    case GGML_TYPE_Q5_0: return (int)sizeof(block_q5_0);
    case GGML_TYPE_Q5_1: return (int)sizeof(block_q5_1);
    case GGML_TYPE_Q2_K: return (int)sizeof(block_q2_K);
    case GGML_TYPE_Q3_K: return (int)sizeof(block_q3_K);
    case GGML_TYPE_Q4_K: return (int)sizeof(block_q4_K);
    case GGML_TYPE_Q5_K: return (int)sizeof(block_q5_K);
    case GGML_TYPE_Q6_K: return (int)sizeof(block_q6_K);
    case GGML_TYPE_Q8_K: return (int)sizeof(block_q8_K);
    default: return 0;
    }
}

/* Q4_K/Q5_K: the 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes */
static inline void fh1_k4_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}
/* Q3_K: the signed 6-bit scale of sub-block j (0..15) from the 12 packed bytes */
static inline int8_t fh1_q3_K_scale(int j, const uint8_t *scales) {
    const int lo = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
    return (int8_t)((lo | (((scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
}

/* Reference dequantization of one row of n elements (n a multiple of the block size). */
void fh1_dequantize_row(int type, const void *src, float *dst, int64_t n);



/* Reference quantization of one row of n elements (n a multiple of the block size), ggml-exact.
 * Returns the bytes written, or 0 if the type cannot be produced. */
size_t fh1_quantize_row(int type, const float *src, void *dst, int64_t n);

/* Quantizes nrows rows of ncols with up to n_threads threads; returns bytes written or 0. */
size_t fh1_quantize_rows(int type, const float *src, void *dst, int64_t nrows, int64_t ncols, int n_threads);
#endif

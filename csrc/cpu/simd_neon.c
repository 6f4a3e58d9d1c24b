/* csrc/cpu/simd_neon.c — ARM NEON kernels (4 floats per vector, 4 rows × 2 tokens per tile). */
#if defined(__aarch64__)
#include <arm_neon.h>

#define FH1_TARGET
#define SUF(x) x##_neon
#define SIMD_TABLE fh1_simd_neon
#define SIMD_NAME "neon"
#define V float32x4_t
#define VL 4
#define MR 4
#define MT 2
#define vzero() vdupq_n_f32(0.0f)
#define vload(p) vld1q_f32(p)
#define vstore(p, v) vst1q_f32(p, v)
#define vset1(x) vdupq_n_f32(x)
#define vmul(a, b) vmulq_f32(a, b)
#define vadd(a, b) vaddq_f32(a, b)
#define vfma(a, b, c) vfmaq_f32(c, a, b)
#define vhsum(v) vaddvq_f32(v)
#define vload_f16(p) vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)))
#define vload_bf16(p) vreinterpretq_f32_u32(vshlq_n_u32(vmovl_u16(vld1_u16(p)), 16))
#define vload_i8(p) vcvtq_f32_s32(vmovl_s16(vget_low_s16(vmovl_s8(vld1_s8(p)))))
#define vhalf(h) fh1_half_to_float(h)
#define vmax_(a, b) vmaxq_f32(a, b)
#define vmin_(a, b) vminq_f32(a, b)
#define vsub(a, b) vsubq_f32(a, b)
#define vload_u8(p) vcvtq_f32_u32(vmovl_u16(vget_low_u16(vmovl_u8(vld1_u8(p)))))
#define vdiv(a, b) vdivq_f32(a, b)
#define vneg(a) vnegq_f32(a)
#define vround(a) vrndnq_f32(a)
#define vpairsum(a, b) vpaddq_f32(a, b) /* [a0+a1, a2+a3, b0+b1, b2+b3] */
static inline float32x4_t vscale2(float32x4_t p, float32x4_t n) {
    n = vmaxq_f32(vminq_f32(n, vdupq_n_f32(127.0f)), vdupq_n_f32(-126.0f));
    return vmulq_f32(p, vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23)));
}

/* 8-bit-activation integer dots for decode (int8_neon.h): widening multiplies (vmull_s8) and
 * pairwise accumulation, available on every AArch64 core (no dotprod extension needed). */
#include "simd.h"
#include "../../quant/blocks.h"
static int int8_act_dot(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1);
#define INT8_ACT_DOT int8_act_dot

#include "simd_tmpl.h"
#include "int8_neon.h"
#endif

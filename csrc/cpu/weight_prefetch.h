/* csrc/cpu/weight_prefetch.h — decode's software prefetch of the weight streams (integer dots in simd_avx512.c and int8_avx2.h, GEMV in simd_tmpl.h). */
#ifndef FH1_WEIGHT_PREFETCH_H
#define FH1_WEIGHT_PREFETCH_H
/* Software prefetch ahead in decode's weight streams (the integer dots and the f32/f16/bf16 GEMV
 * in simd_tmpl.h). The hardware prefetchers alone left one core well short of the bandwidth: on
 * AMD ~21 GB/s on Q8_0 rows, where 4 KB ahead gave ~23-24 GB/s and 0.5B Q8_0 tg128 +6%.
 * How the lines are fetched is chosen once at run time (simd_select.c):
 *  - AMD (EPYC, Zen): non-temporally (prefetchnta), 4 KB ahead: the weights are read once per
 *    token, and this gave +5-11% on 0.5B Q4_K_M / Q8_0 decode over keeping them (median of 4 runs).
 *  - elsewhere: into L1 2 KB ahead and into L2 8 KB ahead. On an Intel Xeon with AVX-512 the
 *    non-temporal prefetch cost 40% (0.5B Q8_0 tg64 at 1 thread 11.1 against 18.8 t/s with
 *    prefetcht0 4 KB ahead) and was slower than none (13.9); the second, far prefetch into L2 then
 *    took 1.5B-Deep BF16 decode at 1 thread from 3.7-4.0 to 4.7-5.0 t/s (against one prefetch
 *    4 KB ahead; the pairs 1 / 8 KB, 2 / 6 KB, 2 / 16 KB and 4 / 12-16 KB were slower).
 * FALCON_H1_PREFETCH=nta|t0|off overrides the choice (t0: the L1 + L2 pair). */
#ifndef PF_NTA_BYTES
#define PF_NTA_BYTES 4096
#endif
#ifndef PF_L1_BYTES
#define PF_L1_BYTES 2048
#endif
#ifndef PF_L2_BYTES
#define PF_L2_BYTES 8192
#endif
enum { FH1_PF_OFF = 0, FH1_PF_NTA = 1, FH1_PF_T0 = 2 };
extern int fh1_weight_prefetch;
/* the line some way ahead of a, where the reader is now; _BLOCK: of each line of the block *p */
#define WEIGHT_PREFETCH(a)                                                                                             \
    do {                                                                                                               \
        if (fh1_weight_prefetch == FH1_PF_T0) {                                                                        \
            __builtin_prefetch((const char *)(a) + PF_L1_BYTES, 0, 3);                                                 \
            __builtin_prefetch((const char *)(a) + PF_L2_BYTES, 0, 2);                                                 \
        } else if (fh1_weight_prefetch == FH1_PF_NTA)                                                                  \
            __builtin_prefetch((const char *)(a) + PF_NTA_BYTES, 0, 0);                                                \
    } while (0)
#define WEIGHT_PREFETCH_BLOCK(p)                                                                                       \
    do {                                                                                                               \
        for (size_t o_ = 0; o_ < sizeof *(p); o_ += 64) WEIGHT_PREFETCH((const char *)(p) + o_);                       \
    } while (0)
#endif

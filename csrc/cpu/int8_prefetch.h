/* csrc/cpu/int8_prefetch.h — decode's software prefetch for the integer dots (simd_avx512.c, int8_avx2.h). */
#ifndef FH1_INT8_PREFETCH_H
#define FH1_INT8_PREFETCH_H
/* Software prefetch INT8_PF_BYTES ahead in decode's weight stream (0: off). The hardware
 * prefetchers alone left one core at ~21 GB/s on Q8_0 rows; 4 KB ahead gave ~23-24 GB/s and
 * 0.5B Q8_0 tg128 at 1 thread +6%. K-quant blocks (84-210 bytes) prefetch each of their lines. */
#ifndef INT8_PF_BYTES
#define INT8_PF_BYTES 4096
#endif
/* How the lines are fetched, chosen once at run time (simd_select.c): the weights are read once
 * per token, and on AMD (EPYC, Zen) fetching them non-temporally (prefetchnta) gave +5-11% on 0.5B
 * Q4_K_M / Q8_0 decode over keeping them (median of 4 runs each); on an Intel Xeon with AVX-512
 * and AMX the same prefetchnta cost 40% (0.5B Q8_0 tg64 at 1 thread 11.1 against 18.8 t/s with
 * prefetcht0, Q4_K_M 21.1 against 33.0) and was slower than no software prefetch at all (13.9 /
 * 25.6). FALCON_H1_PREFETCH=nta|t0|off overrides the choice. */
enum { FH1_PF_OFF = 0, FH1_PF_NTA = 1, FH1_PF_T0 = 2 };
extern int fh1_int8_prefetch;
#if INT8_PF_BYTES > 0
#define INT8_PREFETCH_LINE(a)                                                                                              \
    do {                                                                                                                   \
        if (fh1_int8_prefetch == FH1_PF_T0) __builtin_prefetch((a), 0, 3);                                                \
        else if (fh1_int8_prefetch == FH1_PF_NTA) __builtin_prefetch((a), 0, 0);                                          \
    } while (0)
#define INT8_PREFETCH(p) INT8_PREFETCH_LINE((const char *)(p) + INT8_PF_BYTES)
#define INT8_PREFETCH_BLOCK(p)                                                                                             \
    do {                                                                                                                   \
        for (size_t o_ = 0; o_ < sizeof *(p); o_ += 64) INT8_PREFETCH_LINE((const char *)(p) + INT8_PF_BYTES + o_);       \
    } while (0)
#else
#define INT8_PREFETCH(p) ((void)0)
#define INT8_PREFETCH_BLOCK(p) ((void)0)
#endif
#endif

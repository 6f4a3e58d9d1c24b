/* csrc/cpu/int8_prefetch.h — decode's software prefetch for the integer dots (simd_avx512.c, int8_avx2.h). */
#ifndef FH1_INT8_PREFETCH_H
#define FH1_INT8_PREFETCH_H
/* Software prefetch INT8_PF_BYTES ahead in decode's weight stream (0: off). The hardware
 * prefetchers alone left one core at ~21 GB/s on Q8_0 rows; 4 KB ahead gave ~23-24 GB/s and
 * 0.5B Q8_0 tg128 at 1 thread +6%. K-quant blocks (84-210 bytes) prefetch each of their lines.
 * Non-temporal (locality 0, prefetchnta): the weights are read once per token, and keeping them
 * out of the outer cache levels gave another +5-11% on 0.5B Q4_K_M / Q8_0 decode (median of 4
 * runs each) over locality 3. */
#ifndef INT8_PF_BYTES
#define INT8_PF_BYTES 4096
#endif
#ifndef INT8_PF_LOCALITY
#define INT8_PF_LOCALITY 0
#endif
#if INT8_PF_BYTES > 0
#define INT8_PREFETCH(p) __builtin_prefetch((const char *)(p) + INT8_PF_BYTES, 0, INT8_PF_LOCALITY)
#define INT8_PREFETCH_BLOCK(p)                                                                                             \
    do {                                                                                                                   \
        for (size_t o_ = 0; o_ < sizeof *(p); o_ += 64) __builtin_prefetch((const char *)(p) + INT8_PF_BYTES + o_, 0, INT8_PF_LOCALITY);   \
    } while (0)
#else
#define INT8_PREFETCH(p) ((void)0)
#define INT8_PREFETCH_BLOCK(p) ((void)0)
#endif
#endif

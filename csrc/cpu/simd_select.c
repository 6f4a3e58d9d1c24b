/* csrc/cpu/simd_select.c — pick the kernel table once: the best the CPU supports, or a lower one
 * forced by FALCON_H1_SIMD (so CI can run the scalar fallback on any machine). */
#include "simd.h"
#include "weight_prefetch.h"

#include <stdlib.h>
#include <string.h>

static const fh1_simd *chosen;

int fh1_weight_prefetch = FH1_PF_T0;

/* decode's software prefetch of the weights (weight_prefetch.h): non-temporal on AMD, into L1 and
 * L2 elsewhere, or as FALCON_H1_PREFETCH says */
static int prefetch_mode(void) {
    const char *e = getenv("FALCON_H1_PREFETCH");
    if (e && strcmp(e, "off") == 0) return FH1_PF_OFF;
    if (e && strcmp(e, "nta") == 0) return FH1_PF_NTA;
    if (e && strcmp(e, "t0") == 0) return FH1_PF_T0;
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    if (__builtin_cpu_is("amd")) return FH1_PF_NTA;
#endif
    return FH1_PF_T0;
}

static const fh1_simd *best(void) {
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq"))
        return &fh1_simd_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &fh1_simd_avx2;
#elif defined(__aarch64__)
    return &fh1_simd_neon;
#endif
    return &fh1_simd_scalar;
}

const fh1_simd *fh1_simd_get(void) {
    if (chosen) return chosen;
    const fh1_simd *s = best();
    const char *want = getenv("FALCON_H1_SIMD");
    if (want && *want) {
        if (strcmp(want, "scalar") == 0) s = &fh1_simd_scalar;
#if defined(__x86_64__) || defined(_M_X64)
        else if (strcmp(want, "avx2") == 0 && s == &fh1_simd_avx512) s = &fh1_simd_avx2;
#endif
    }
    fh1_weight_prefetch = prefetch_mode();
    chosen = s;
    return s;
}

const char *fh1_simd_name(void) { return fh1_simd_get()->name; }

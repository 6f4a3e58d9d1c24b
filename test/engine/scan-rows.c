/* Built and run by scan-rows.test.ts: the prefill SSM kernel ssm_scan_rows (state rows kept in
 * registers across tokens) against ssm_row called token by token and row by row, as decode does:
 * the new states and outputs must be bit-identical. Prints one line per case; exit 1 on a
 * mismatch, 77 when the CPU lacks AVX-512. */
#include "../../csrc/cpu/simd.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float frand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return ((*s >> 8) / 16777216.0f) * 2.0f - 1.0f;
}

int main(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512dq"))
        return 77;
    const fh1_simd *k = &fh1_simd_avx512;
    if (!k->ssm_scan_rows) return 1;
    int bad = 0;
    unsigned seed = 12345;
    const int Ns[] = {128, 256}, Ps[] = {64, 7}, Ts[] = {1, 37, FH1_SCAN_TB};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 3; c++) {
                const int N = Ns[a], P = Ps[b], T = Ts[c];
                const size_t ldc = N + 40, ldx = P + 24, ldy = P + 8; /* strided rows, as xbc and y are */
                float *S0 = malloc(sizeof(float) * P * N), *S1 = malloc(sizeof(float) * P * N), *S2 = malloc(sizeof(float) * P * N);
                float *dtB = malloc(sizeof(float) * T * N), *C = malloc(sizeof(float) * T * ldc), *x = malloc(sizeof(float) * T * ldx);
                float *y1 = calloc((size_t)T * ldy, sizeof(float)), *y2 = calloc((size_t)T * ldy, sizeof(float)), dA[FH1_SCAN_TB];
                for (int i = 0; i < P * N; i++) S0[i] = frand(&seed);
                for (int i = 0; i < T * N; i++) dtB[i] = 0.1f * frand(&seed);
                for (size_t i = 0; i < (size_t)T * ldc; i++) C[i] = frand(&seed);
                for (size_t i = 0; i < (size_t)T * ldx; i++) x[i] = frand(&seed);
                for (int t = 0; t < T; t++) dA[t] = 0.5f + 0.5f * (frand(&seed) + 1.0f) / 2.0f;
                const float D = 0.75f;
                memcpy(S1, S0, sizeof(float) * P * N);
                memcpy(S2, S0, sizeof(float) * P * N);
                for (int t = 0; t < T; t++)
                    for (int p = 0; p < P; p++)
                        y1[t * ldy + p] = k->ssm_row(S1 + (size_t)p * N, dtB + (size_t)t * N, C + t * ldc, dA[t], x[t * ldx + p], N) + D * x[t * ldx + p];
                const int took = k->ssm_scan_rows(S2, P, N, T, dtB, C, ldc, x, ldx, dA, D, y2, ldy);
                const int same = took && !memcmp(S1, S2, sizeof(float) * P * N) && !memcmp(y1, y2, sizeof(float) * T * ldy);
                printf("%s N=%d P=%d T=%d: states and outputs %s ssm_row's\n", same ? "ok" : "FAIL", N, P, T, same ? "bit-identical to" : "differ from");
                bad |= !same;
                free(S0), free(S1), free(S2), free(dtB), free(C), free(x), free(y1), free(y2);
            }
    float s = 0, v = 0, y = 0, dA = 1;
    const int other = k->ssm_scan_rows(&s, 1, 64, 1, &v, &v, 64, &v, 1, &dA, 0, &y, 1);
    printf("%s N=64: %s\n", other ? "FAIL" : "ok", other ? "taken, but there is no kernel for it" : "left to ssm_row");
    /* the probe (S == NULL) says the same without touching anything */
    const int probe = k->ssm_scan_rows(NULL, 64, 128, 0, NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0) && k->ssm_scan_rows(NULL, 64, 256, 0, NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0) &&
                      !k->ssm_scan_rows(NULL, 64, 64, 0, NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
    printf("%s probe: takes N=128 and N=256, not N=64\n", probe ? "ok" : "FAIL");
    return bad || other || !probe;
}

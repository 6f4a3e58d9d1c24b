/* Built and run by attn-block.test.ts: the prefill attention kernel (fh1_simd.attn_block) of every
 * SIMD table this CPU runs, against attention computed directly in double precision (softmax over
 * all visible keys at once, no online rescaling). Blocks are fed as forward.c feeds them: K
 * transposed and zero past the block's keys, causal limits per query, the head's queries R to a
 * token. Head sizes 16 (the fixtures), 64 and 128 (the released models), 72 (a size no vector
 * width divides); query counts that leave every group size's tail. Prints one line per case;
 * exit 1 on a mismatch. */
#include "../../csrc/cpu/simd.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float frand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return ((*s >> 8) / 16777216.0f) * 2.0f - 1.0f;
}

/* one (kv head, tile) item: nt tokens from position pos0, R queries each, against keys [0, pos0+nt) */
static int check(const fh1_simd *k, int dh, int R, int nt, int pos0, unsigned seed) {
    const int nq = nt * R, nkeys = pos0 + nt, ldq = dh + 8;
    const float scale = 1.0f / sqrtf((float)dh);
    float *q = malloc(sizeof(float) * nq * ldq), *K = malloc(sizeof(float) * nkeys * dh), *Vr = malloc(sizeof(float) * nkeys * dh);
    float *o = calloc((size_t)nq * dh, sizeof(float)), *m = malloc(sizeof(float) * nq), *l = calloc(nq, sizeof(float));
    float *Kt = malloc(sizeof(float) * dh * FH1_ATT_KB), *Vb = malloc(sizeof(float) * FH1_ATT_KB * dh);
    int *lim = malloc(sizeof(int) * nq);
    for (int i = 0; i < nq * ldq; i++) q[i] = 2.0f * frand(&seed);
    for (int i = 0; i < nkeys * dh; i++) K[i] = frand(&seed), Vr[i] = frand(&seed);
    for (int i = 0; i < nq; i++) m[i] = -INFINITY;
    for (int s0 = 0; s0 < nkeys; s0 += FH1_ATT_KB) {
        const int nk = nkeys - s0 < FH1_ATT_KB ? nkeys - s0 : FH1_ATT_KB;
        for (int s = 0; s < FH1_ATT_KB; s++)
            for (int d = 0; d < dh; d++) {
                Kt[(size_t)d * FH1_ATT_KB + s] = s < nk ? K[(size_t)(s0 + s) * dh + d] : 0.0f;
                Vb[(size_t)s * dh + d] = s < nk ? Vr[(size_t)(s0 + s) * dh + d] : 1e30f; /* never weighted */
            }
        for (int i = 0; i < nq; i++) lim[i] = pos0 + i / R + 1 - s0;
        k->attn_block(q, ldq, nq, lim, Kt, Vb, nk, dh, scale, m, l, o);
    }
    double worst = 0.0;
    for (int i = 0; i < nq; i++) {
        const int n = pos0 + i / R + 1;
        double *w = malloc(sizeof(double) * n), mx = -INFINITY, sum = 0.0;
        for (int s = 0; s < n; s++) {
            double a = 0.0;
            for (int d = 0; d < dh; d++) a += (double)q[(size_t)i * ldq + d] * K[(size_t)s * dh + d];
            w[s] = a * scale;
            mx = w[s] > mx ? w[s] : mx;
        }
        for (int s = 0; s < n; s++) sum += (w[s] = exp(w[s] - mx));
        for (int d = 0; d < dh; d++) {
            double ref = 0.0;
            for (int s = 0; s < n; s++) ref += w[s] * Vr[(size_t)s * dh + d];
            ref /= sum;
            const double got = o[(size_t)i * dh + d] / l[i], e = fabs(got - ref);
            worst = e > worst || e != e ? e : worst;
        }
        free(w);
    }
    const int ok = worst <= 2e-6; /* f32 rounding of sums over at most 149 keys and 128 dims */
    printf("%s %s dh=%d R=%d tokens=%d from=%d: max |error| %.2e\n", ok ? "ok" : "FAIL", k->name, dh, R, nt, pos0, worst);
    free(q), free(K), free(Vr), free(o), free(m), free(l), free(Kt), free(Vb), free(lim);
    return !ok;
}

int main(void) {
    const fh1_simd *tables[3];
    int n = 0;
#if defined(__aarch64__)
    tables[n++] = &fh1_simd_neon;
#else
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) tables[n++] = &fh1_simd_avx2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        tables[n++] = &fh1_simd_avx512;
#endif
    tables[n++] = &fh1_simd_scalar;
    int bad = 0;
    const int dhs[] = {16, 64, 128, 72}, Rs[] = {4, 3}, tiles[][2] = {{16, 0}, {16, 100}, {7, 45}, {1, 3}};
    for (int t = 0; t < n; t++)
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 2; b++)
                for (int c = 0; c < 4; c++) bad |= check(tables[t], dhs[a], Rs[b], tiles[c][0], tiles[c][1], 777u + a * 31 + b * 7 + c);
    printf("tables checked: %d\n", n);
    return bad;
}

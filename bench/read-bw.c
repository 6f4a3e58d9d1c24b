/* bench/read-bw.c — streaming read bandwidth of this machine, the roofline of CPU decode.
 *   cc -O2 -mavx2 -pthread -o read-bw bench/read-bw.c && ./read-bw [threads=1] [GiB=1]
 * Each thread sums its own slice with 256-bit loads, best of 5 passes. */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct { const char *p; size_t n; long long sum; } slice;

static void *reader(void *arg) {
    slice *s = arg;
    __m256i acc = _mm256_setzero_si256();
    for (size_t i = 0; i < s->n; i += 128) {
        acc = _mm256_add_epi32(acc, _mm256_load_si256((const __m256i *)(s->p + i)));
        acc = _mm256_add_epi32(acc, _mm256_load_si256((const __m256i *)(s->p + i + 32)));
        acc = _mm256_add_epi32(acc, _mm256_load_si256((const __m256i *)(s->p + i + 64)));
        acc = _mm256_add_epi32(acc, _mm256_load_si256((const __m256i *)(s->p + i + 96)));
    }
    int v[8];
    _mm256_storeu_si256((__m256i *)v, acc);
    s->sum = v[0];
    return NULL;
}

int main(int argc, char **argv) {
    const int nt = argc > 1 ? atoi(argv[1]) : 1;
    const size_t n = (size_t)(argc > 2 ? atof(argv[2]) : 1.0) * (1ull << 30) / (128 * (size_t)nt) * 128 * (size_t)nt;
    if (nt < 1 || nt > 256 || !n) return 2;
    char *a = aligned_alloc(64, n);
    if (!a) return 1;
    memset(a, 1, n);
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        pthread_t th[256];
        slice s[256];
        const double t0 = now();
        for (int i = 0; i < nt; i++) {
            s[i] = (slice){a + n / nt * i, n / nt, 0};
            pthread_create(&th[i], NULL, reader, &s[i]);
        }
        for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
        const double gbs = n / (now() - t0) / 1e9;
        if (gbs > best) best = gbs;
    }
    printf("%d thread%s: %.1f GB/s streaming read\n", nt, nt > 1 ? "s" : "", best);
    free(a);
    return 0;
}

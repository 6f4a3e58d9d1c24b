/* bench/gpu/gemv-check.c — on the GPU machine: the decode GEMV kernels of every quantized type
 * against a double-precision reference on the same dequantized weights, without the rounding
 * amplification of a whole model.
 *   int8 path: x is rounded to int8 per 32 values exactly as k_quant_act does (scale max|x|/127,
 *   nearest even), so GPU and reference sum the same products; only the f32 scaling differs.
 *   f32 path: the plain dot of the dequantized row with x.
 * Bound: |y - ref| <= 1e-5 · Σ|w·x| per row (the f32 rounding of the block scales and the sums).
 * Rows: 67 (not a multiple of the 4 rows a block takes), columns 1280 (the 1.5B-Deep width) and
 * 3072 (the 7B's). Exit status 1 on any failure.
 * Build: see bench/gpu/build.sh, linking this file instead of fh1_eval.c. */
#include "../../csrc/cuda/backend.h"
#include "../../quant/blocks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng_state = 777;
static double urand(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}
static float nrand(void) { return (float)(sqrt(-2.0 * log(urand() + 1e-300)) * cos(6.283185307179586 * urand())); }

/* x rounded to int8 per 32 as the GPU does: q and the per-block scale */
static void round_act(const float *x, int n, int8_t *q, float *d) {
    for (int b = 0; b < n / 32; b++) {
        float amax = 0.0f;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(x[32 * b + i]));
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        for (int i = 0; i < 32; i++) q[32 * b + i] = (int8_t)nearbyintf(x[32 * b + i] * id);
        d[b] = amax / 127.0f;
    }
}

int main(void) {
    static const struct { int type; const char *name; } types[] = {
        {GGML_TYPE_Q8_0, "Q8_0"}, {GGML_TYPE_Q4_0, "Q4_0"}, {GGML_TYPE_Q4_1, "Q4_1"}, {GGML_TYPE_Q5_0, "Q5_0"},
        {GGML_TYPE_Q5_1, "Q5_1"}, {GGML_TYPE_Q4_K, "Q4_K"}, {GGML_TYPE_Q5_K, "Q5_K"}, {GGML_TYPE_Q6_K, "Q6_K"},
    };
    const int rows = 67, widths[] = {1280, 3072};
    int failures = 0;
    char err[256];
    if (fh1_cuda_device_count() < 1) {
        fprintf(stderr, "gemv-check: no CUDA device\n");
        return 2;
    }
    for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++) {
        const int cols = widths[wi];
        float *wf = malloc(sizeof(float) * cols), *deq = malloc(sizeof(float) * (size_t)rows * cols), *x = malloc(sizeof(float) * cols);
        float *y = malloc(sizeof(float) * rows), *ad = malloc(sizeof(float) * cols / 32);
        int8_t *xq = malloc(cols);
        uint8_t *wq = malloc((size_t)rows * cols * 2);
        for (int k = 0; k < cols; k++) x[k] = nrand() * (k % 97 == 0 ? 8.0f : 1.0f); /* a few large values, as real activations have */
        round_act(x, cols, xq, ad);
        for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
            size_t rb = 0;
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < cols; k++) wf[k] = nrand() * 0.02f;
                rb = fh1_quantize_row(types[ti].type, wf, wq + (size_t)r * rb, cols); /* every row the same size */
                fh1_dequantize_row(types[ti].type, wq + (size_t)r * rb, deq + (size_t)r * cols, cols);
            }
            for (int int8 = 0; int8 <= 1; int8++) {
                if (!fh1_cuda_gemv_check(types[ti].type, rows, cols, wq, rb, x, y, int8, err, sizeof err)) {
                    printf("%s %d cols %s: %s\n", types[ti].name, cols, int8 ? "int8" : "f32", err);
                    failures++;
                    continue;
                }
                double worst = 0.0, vs_f32 = 0.0;
                for (int r = 0; r < rows; r++) {
                    const float *w = deq + (size_t)r * cols;
                    double ref = 0.0, mag = 0.0, exact = 0.0, exact_mag = 0.0;
                    for (int k = 0; k < cols; k++) {
                        const double v = int8 ? (double)w[k] * xq[k] * ad[k / 32] : (double)w[k] * x[k];
                        ref += v, mag += fabs(v);
                        exact += (double)w[k] * x[k], exact_mag += fabs((double)w[k] * x[k]);
                    }
                    worst = fmax(worst, fabs(y[r] - ref) / mag);
                    vs_f32 = fmax(vs_f32, fabs(y[r] - exact) / exact_mag);
                }
                const int ok = worst <= 1e-5;
                failures += !ok;
                printf("%-4s %4d cols, %s x: max |y - ref| / Σ|w·x| = %.2e %s (vs the f32-x dot: %.2e)\n", types[ti].name, cols, int8 ? "int8" : " f32", worst,
                       ok ? "ok" : "FAIL", vs_f32);
            }
        }
        free(wf), free(deq), free(x), free(y), free(ad), free(xq), free(wq);
    }
    printf(failures ? "gemv-check: %d failures\n" : "gemv-check: all ok\n", failures);
    return failures ? 1 : 0;
}

/* Built and run by int8-kernels.test.ts: every integer dot (AVX-512 VNNI, or AVX2 with
 * -DCHECK_AVX2, or NEON with -DCHECK_NEON) against the f32 dot of the reference-dequantized weights with the same 8-bit
 * activations. The integer part is exact, so the two may differ only by f32 rounding. Also: the
 * SIMD dequantizer of the prefill path equals the reference dequantizer bit for bit. With AVX-512
 * VNNI also the integer prefill GEMM (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) on 19 rows × 13 tokens (tails of both tiles)
 * against the same f32 reference per output. Prints one line per check; exit 1 on a mismatch, 77
 * when the CPU lacks the instructions. */
#if defined(CHECK_NEON)
#include "../../csrc/cpu/simd_neon.c"
#define DOT(t) dot_##t##_i8
#define DEQ_ROW deq_row_neon
static int usable(void) { return 1; }
#elif defined(CHECK_AVX2)
#include "../../csrc/cpu/simd_avx2.c"
#define DOT(t) dot_##t##_i8
#define DEQ_ROW deq_row_avx2
static int usable(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
#include "../../csrc/cpu/simd_avx512.c"
#define DOT(t) dot_##t##_i8
#define DEQ_ROW deq_row_avx512
static int usable(void) { return has_vnni(); }
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 88172645463325252ull;
static float uniform(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0));
}

#if !defined(CHECK_NEON) && !defined(CHECK_AVX2)
/* int8_gemm for one weight type: every output against Σ dequantized w · (8-bit activation) */
static int check_gemm(int type, const char *name) {
    enum { GK = 512, GR = 19, GT = 13 };
    static float w[GR][GK], wd[GK], x[GT][GK], y[GT][GR], xa[GK];
    static uint8_t rows[GR][GK * 2];
    static int8_t q8[GK];
    static float ad[GK / QK8_0], adsum[GK / QK8_0];
    static float scratch[FH1_GEMM_SCRATCH(GK)];
    size_t rb = 0;
    for (int r = 0; r < GR; r++) {
        for (int i = 0; i < GK; i++) w[r][i] = (uniform() - 0.5f) * (uniform() > 0.98f ? 12.0f : 1.0f);
        rb = fh1_quantize_row(type, w[r], rows[r], GK);
    }
    for (int t = 0; t < GT; t++)
        for (int i = 0; i < GK; i++) x[t][i] = (uniform() - 0.5f) * (t % 2 ? 4.0f : 1.0f);
    uint8_t *packed = malloc(rb * GR);
    for (int r = 0; r < GR; r++) memcpy(packed + rb * r, rows[r], rb);
    const fh1_matrix W = {packed, type, GR, GK, rb};
    if (!int8_gemm(&W, &x[0][0], GT, GK, &y[0][0], GR, 0, GR, scratch)) {
        printf("MISMATCH GEMM %s not taken\n", name);
        free(packed);
        return 1;
    }
    double worst = 0.0;
    for (int t = 0; t < GT; t++) {
        quantize_act_32(x[t], GK, q8, ad, adsum);
        for (int i = 0; i < GK; i++) xa[i] = q8[i] * ad[i / QK8_0];
        for (int r = 0; r < GR; r++) {
            fh1_dequantize_row(type, rows[r], wd, GK);
            double ref = 0.0, mag = 0.0;
            for (int i = 0; i < GK; i++) ref += (double)wd[i] * xa[i], mag += fabs((double)wd[i] * xa[i]);
            const double rel = fabs(y[t][r] - ref) / mag;
            if (rel > worst) worst = rel;
        }
    }
    free(packed);
    const int ok = worst <= 1e-5;
    printf("%s GEMM %s max |int - f32| / sum|terms| = %.2e\n", ok ? "ok" : "MISMATCH", name, worst);
    return !ok;
}
#endif

/* decode's entry (int8_act_dot) on rows 1..10 of an 11-row matrix: rows taken four at a time where
 * the ISA has a 4-row dot, then the tail, each row against its double reference */
static int check_rows(int type, const char *name) {
    enum { RK = 768, RR = 11 };
    static float w[RR][RK], wd[RK], x[RK], xa[RK], y[RR];
    static uint8_t rows[RR][RK * 2];
    static int8_t q8[RK];
    static act_block ab[RK / QK_K];
    static float ad[RK / QK8_0], adsum[RK / QK8_0];
    size_t rb = 0;
    for (int r = 0; r < RR; r++) {
        for (int i = 0; i < RK; i++) w[r][i] = (uniform() - 0.5f) * (uniform() > 0.98f ? 12.0f : 1.0f);
        rb = fh1_quantize_row(type, w[r], rows[r], RK);
    }
    for (int i = 0; i < RK; i++) x[i] = (uniform() - 0.5f) * 3.0f;
    uint8_t *packed = malloc(rb * RR);
    for (int r = 0; r < RR; r++) memcpy(packed + rb * r, rows[r], rb);
    const fh1_matrix W = {packed, type, RR, RK, rb};
    for (int r = 0; r < RR; r++) y[r] = -12345.0f;
    const int taken = int8_act_dot(&W, x, 1, RK, y, RR, 1, RR);
    if (int8_kquant(type)) {
        quantize_act(x, RK, q8, ab);
        for (int i = 0; i < RK; i++) xa[i] = q8[i] * ab[i / QK_K].d;
    } else {
        quantize_act_32(x, RK, q8, ad, adsum);
        for (int i = 0; i < RK; i++) xa[i] = q8[i] * ad[i / QK8_0];
    }
    double worst = y[0] == -12345.0f ? 0.0 : 1.0; /* row 0 is outside the range: untouched */
    for (int r = 1; r < RR; r++) {
        fh1_dequantize_row(type, rows[r], wd, RK);
        double ref = 0.0, mag = 0.0;
        for (int i = 0; i < RK; i++) ref += (double)wd[i] * xa[i], mag += fabs((double)wd[i] * xa[i]);
        const double rel = fabs(y[r] - ref) / mag;
        if (!(rel <= worst)) worst = rel;
    }
    free(packed);
    const int ok = taken && worst <= 1e-5;
    printf("%s rows %s max |int - f32| / sum|terms| = %.2e\n", ok ? "ok" : "MISMATCH", name, worst);
    return !ok;
}

int main(void) {
    if (!usable()) return 77;
    enum { K = 1024, ROWS = 16 };
    const char *names[] = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
    const int types[] = {GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K};
    static float w[K], x[K], wd[K], xa[K];
    static uint8_t row[K * 2];
    static int8_t q8[K];
    static act_block ab[K / QK_K];
    static float ad[K / QK8_0], adsum[K / QK8_0];
    int bad = 0;
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
        const int t = types[ti], kq = t == GGML_TYPE_Q2_K || t == GGML_TYPE_Q3_K || t == GGML_TYPE_Q4_K || t == GGML_TYPE_Q5_K || t == GGML_TYPE_Q6_K;
        double worst = 0.0;
        int deq_bad = 0;
        for (int r = 0; r < ROWS; r++) {
            for (int i = 0; i < K; i++) {
                const float u = uniform();
                w[i] = (uniform() - 0.5f) * (u > 0.98f ? 12.0f : 1.0f); /* heavy tail on some rows' elements */
                x[i] = (uniform() - 0.5f) * (r % 2 ? 4.0f : 1.0f);
            }
            fh1_quantize_row(t, w, row, K);
            fh1_dequantize_row(t, row, wd, K);
            /* the SIMD dequantizer of the prefill GEMM must equal the reference bit for bit */
            static float ws[K];
            DEQ_ROW(t, row, 0, K, ws);
            if (memcmp(ws, wd, sizeof ws)) deq_bad = 1;
            if (kq) {
                quantize_act(x, K, q8, ab);
                for (int i = 0; i < K; i++) xa[i] = q8[i] * ab[i / QK_K].d;
#ifdef ACT_PAIR_ORDER
                if (ACT_PAIR_ORDER(t)) act_pair_order(q8, K); /* the dot expects its own activation order */
#endif
            } else {
                quantize_act_32(x, K, q8, ad, adsum);
                for (int i = 0; i < K; i++) xa[i] = q8[i] * ad[i / QK8_0];
            }
            double ref = 0.0, mag = 0.0;
            for (int i = 0; i < K; i++) ref += (double)wd[i] * xa[i], mag += fabs((double)wd[i] * xa[i]);
            float got;
            switch (t) {
            case GGML_TYPE_Q8_0: got = DOT(q8_0)((const void *)row, q8, ad, K / QK8_0); break;
            case GGML_TYPE_Q4_0: got = DOT(q4_0)((const void *)row, q8, ad, adsum, K / QK8_0); break;
            case GGML_TYPE_Q4_1: got = DOT(q4_1)((const void *)row, q8, ad, adsum, K / QK8_0); break;
            case GGML_TYPE_Q5_0: got = DOT(q5_0)((const void *)row, q8, ad, adsum, K / QK8_0); break;
            case GGML_TYPE_Q5_1: got = DOT(q5_1)((const void *)row, q8, ad, adsum, K / QK8_0); break;
            case GGML_TYPE_Q2_K: got = DOT(q2_K)((const void *)row, q8, ab, K / QK_K); break;
            case GGML_TYPE_Q3_K: got = DOT(q3_K)((const void *)row, q8, ab, K / QK_K); break;
            case GGML_TYPE_Q4_K: got = DOT(q4_K)((const void *)row, q8, ab, K / QK_K); break;
            case GGML_TYPE_Q5_K: got = DOT(q5_K)((const void *)row, q8, ab, K / QK_K); break;
            default: got = DOT(q6_K)((const void *)row, q8, ab, K / QK_K); break;
            }
            const double rel = fabs(got - ref) / mag;
            if (rel > worst) worst = rel;
        }
        const int ok = worst <= 1e-5 && !deq_bad;
        bad |= !ok;
        printf("%s %s max |int - f32| / sum|terms| = %.2e%s\n", ok ? "ok" : "MISMATCH", names[ti], worst, deq_bad ? ", SIMD dequantize differs from the reference" : ", SIMD dequantize bit-identical");
    }
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) bad |= check_rows(types[ti], names[ti]);
#if !defined(CHECK_NEON) && !defined(CHECK_AVX2)
    bad |= check_gemm(GGML_TYPE_Q8_0, "Q8_0");
    bad |= check_gemm(GGML_TYPE_Q4_K, "Q4_K");
    bad |= check_gemm(GGML_TYPE_Q6_K, "Q6_K");
    bad |= check_gemm(GGML_TYPE_Q5_K, "Q5_K");
    bad |= check_gemm(GGML_TYPE_Q4_0, "Q4_0");
    bad |= check_gemm(GGML_TYPE_Q4_1, "Q4_1");
    bad |= check_gemm(GGML_TYPE_Q5_0, "Q5_0");
    bad |= check_gemm(GGML_TYPE_Q5_1, "Q5_1");
#endif
    return bad;
}

/* csrc/cpu/int8_dispatch.h — decode's entry into the integer dots, shared by the ISA files
 * (simd_avx512.c, int8_avx2.h, int8_neon.h). Each defines quantize_act (per 256, into act_block with
 * group sums), quantize_act_32, dot_<type>_i8 for every block type and INT8_READY() (whether this
 * CPU runs them), then includes this. Returns 0 for weights it does not take. */
#define INT_DOT_MAX_K 32768
/* the weight types with integer dots: 256-element K-quants and 32-element blocks */
static inline int int8_kquant(int type) {
    return type == GGML_TYPE_Q2_K || type == GGML_TYPE_Q3_K || type == GGML_TYPE_Q4_K || type == GGML_TYPE_Q5_K || type == GGML_TYPE_Q6_K;
}
static inline int int8_block32(int type) {
    return type == GGML_TYPE_Q8_0 || type == GGML_TYPE_Q4_0 || type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_0 || type == GGML_TYPE_Q5_1;
}
static int int8_act_dot(const fh1_matrix *W, const float *x, int T, int ldx, float *y, int ldy, int r0, int r1) {
    const int K = W->cols;
    const int kq = int8_kquant(W->type), b32 = int8_block32(W->type);
    if (!(kq ? K % QK_K == 0 : b32 && K % QK8_0 == 0) || K > INT_DOT_MAX_K || !INT8_READY()) return 0;
    int8_t q8[INT_DOT_MAX_K] __attribute__((aligned(64)));
    act_block ab[INT_DOT_MAX_K / QK_K];
    float ad[INT_DOT_MAX_K / QK8_0], adsum[INT_DOT_MAX_K / QK8_0];
    for (int t = 0; t < T; t++) {
        if (kq) quantize_act(x + (size_t)t * ldx, K, q8, ab);
        else quantize_act_32(x + (size_t)t * ldx, K, q8, ad, adsum);
#ifdef ACT_PAIR_ORDER
        if (ACT_PAIR_ORDER(W->type)) act_pair_order(q8, K);
#endif
        float *yt = y + (size_t)t * ldy;
        int r = r0;
#ifdef HAVE_DOT4
        if (kq)
            for (; r + 4 <= r1; r += 4) {
                const uint8_t *rows = (const uint8_t *)W->data + (size_t)r * W->row_bytes;
                switch (W->type) {
                case GGML_TYPE_Q2_K: dot4_q2_K_i8(rows, W->row_bytes, q8, ab, K / QK_K, yt + r); break;
                case GGML_TYPE_Q3_K: dot4_q3_K_i8(rows, W->row_bytes, q8, ab, K / QK_K, yt + r); break;
                case GGML_TYPE_Q4_K: dot4_q4_K_i8(rows, W->row_bytes, q8, ab, K / QK_K, yt + r); break;
                case GGML_TYPE_Q5_K: dot4_q5_K_i8(rows, W->row_bytes, q8, ab, K / QK_K, yt + r); break;
                default: dot4_q6_K_i8(rows, W->row_bytes, q8, ab, K / QK_K, yt + r); break;
                }
            }
#endif
        for (; r < r1; r++) {
            const void *row = (const uint8_t *)W->data + (size_t)r * W->row_bytes;
            switch (W->type) {
            case GGML_TYPE_Q2_K: yt[r] = dot_q2_K_i8(row, q8, ab, K / QK_K); break;
            case GGML_TYPE_Q3_K: yt[r] = dot_q3_K_i8(row, q8, ab, K / QK_K); break;
            case GGML_TYPE_Q4_K: yt[r] = dot_q4_K_i8(row, q8, ab, K / QK_K); break;
            case GGML_TYPE_Q5_K: yt[r] = dot_q5_K_i8(row, q8, ab, K / QK_K); break;
            case GGML_TYPE_Q6_K: yt[r] = dot_q6_K_i8(row, q8, ab, K / QK_K); break;
            case GGML_TYPE_Q4_0: yt[r] = dot_q4_0_i8(row, q8, ad, adsum, K / QK8_0); break;
            case GGML_TYPE_Q4_1: yt[r] = dot_q4_1_i8(row, q8, ad, adsum, K / QK8_0); break;
            case GGML_TYPE_Q5_0: yt[r] = dot_q5_0_i8(row, q8, ad, adsum, K / QK8_0); break;
            case GGML_TYPE_Q5_1: yt[r] = dot_q5_1_i8(row, q8, ad, adsum, K / QK8_0); break;
            default: yt[r] = dot_q8_0_i8(row, q8, ad, K / QK8_0); break;
            }
        }
    }
    return 1;
}

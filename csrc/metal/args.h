/* csrc/metal/args.h — argument blocks of the Metal kernels (kernels.metal), shared with the host
 * side (backend.mm), which passes them with setBytes. Plain ints and floats only, so the layout is
 * the same in the Metal Shading Language and in C++. Names follow csrc/cuda/backend.cu. */
#ifndef FH1_METAL_ARGS_H
#define FH1_METAL_ARGS_H

#ifdef __METAL_VERSION__
typedef ulong fh1_u64;
#else
#include <stdint.h>
typedef uint64_t fh1_u64;
#endif

/* a weight matrix [rows][cols] of ggml type `type`, rows `rb` bytes apart */
typedef struct {
    fh1_u64 rb;
    int rows, cols, type;
    int T; /* tokens (matmul) */
} mat_args;

typedef struct {
    int D;
    float mult;
} embed_args;

/* out = w ⊙ x / rms(x), and out·m2 / out·m3 into the optional second and third outputs */
typedef struct {
    int n, has2, has3;
    float eps, m2, m3;
} norm_args;

/* input epilogues of both branches (k_post_ssm, k_post_attn) */
typedef struct {
    int Din, E, Cd, H, qd, kvd, dh, nh, nkv, n_ctx, layer, kv_f16, T, pos0;
    int has_in_b, has_mup, has_bq, has_bk, has_bv;
    float key_mult, theta, dt_min, dt_max;
} post_args;

typedef struct {
    int Din, E, Cd, K, T, has_b;
} conv_args;

typedef struct {
    int T, H, P, N, G, E, Cd;
} scan_args;

/* the SSD prefill scan's chunk length in tokens: the kernels' tiles and the host's buffer sizes */
#define SSD_Q 64

/* k_scan_carry: C chunks of H heads' per_head state elements each */
typedef struct {
    int C, H, per_head;
} carry_args;

typedef struct {
    int Din, E, G, rms, before;
    float eps;
} gate_args;

typedef struct {
    int T, pos0, nh, nkv, dh, n_ctx, layer, kv_f16;
} attn_args;

/* x += (s + bs)·ms + (a + ba)·ma */
typedef struct {
    int D, T, has_bs, has_ba;
    float ms, ma;
} residual2_args;

/* h = (up + ub) ⊙ silu((gate + gb)·gm) */
typedef struct {
    int F, T, has_gb, has_ub;
    float gm;
} swiglu_args;

/* x += (f + b)·m */
typedef struct {
    int D, T, has_b;
    float m;
} residual1_args;

typedef struct {
    int n;
    float m;
} scale_args;

typedef struct {
    int V;
} argmax_args;

#endif

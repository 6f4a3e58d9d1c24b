/* csrc/model.h — the three structs of the engine: hyperparameters, weights (pointers into the
 * mmap, never copies) and per-context state. Shapes are given as [outer][inner] (row-major). */
#ifndef FH1_MODEL_H
#define FH1_MODEL_H

#include "falcon_h1.h"
#include "gguf.h"

#include <stdatomic.h>
#include <pthread.h>
#include <stdint.h>

typedef struct {
    int n_vocab, n_embd, n_layer, n_ctx_train, n_ff;
    int n_head, n_head_kv, head_dim;    /* attention */
    int d_inner, ssm_n_head, ssm_head_dim, d_state, n_group, d_conv; /* Mamba-2: E, H, P, N, G, K */
    int conv_dim, in_proj_dim;          /* Cd = E + 2GN, Din = E + Cd + H */
    int ssm_rms_norm, norm_before_gate;
    float rope_theta, rms_eps;
    float dt_min, dt_max;               /* clamp of Δ after softplus (default 0, +inf) */
    /* µP multipliers applied at run time; all 1 in folded (llama.cpp-layout) files */
    float embedding_mult, lm_head_mult, attn_in_mult, attn_out_mult, key_mult;
    float ssm_in_mult, ssm_out_mult, mlp_gate_mult, mlp_down_mult;
    int has_multipliers;
} fh1_hparams;

/* A weight matrix [rows][cols] (ggml ne = {cols, rows}) of any supported type. */
typedef struct {
    const void *data;
    int type;
    int rows, cols;
    size_t row_bytes;
    int bf16_act; /* CPU prefill may round its activations to bf16 (BF16 weights; see model.c) */
} fh1_matrix;

typedef struct {
    const float *attn_norm;     /* [D] */
    fh1_matrix wq, wk, wv, wo;  /* [Hq*dh][D], [Hkv*dh][D], [Hkv*dh][D], [D][Hq*dh] */
    const float *bq, *bk, *bv, *bo; /* optional biases */
    fh1_matrix ssm_in;          /* [Din][D] */
    const float *ssm_in_b;      /* [Din] optional */
    const float *mup_vec;       /* [Din] optional (legacy / --keep-multipliers files) */
    const float *conv_w;        /* [Cd][K] */
    float *conv_wt;             /* [K][Cd] transposed copy (small, owned) so the conv vectorises */
    const float *conv_b;        /* [Cd] optional */
    const float *dt_bias;       /* [H] */
    const float *ssm_a;         /* [H]  A = -exp(A_log) */
    const float *ssm_d;         /* [H] */
    const float *ssm_norm;      /* [E] optional (grouped: [G][E/G]) */
    fh1_matrix ssm_out;         /* [D][E] */
    const float *ssm_out_b;     /* [D] optional */
    const float *ffn_norm;      /* [D] */
    fh1_matrix ffn_gate, ffn_up;/* [F][D] */
    fh1_matrix ffn_down;        /* [D][F] */
    const float *ffn_gate_b, *ffn_up_b, *ffn_down_b; /* optional */
} fh1_layer;

struct fh1_model {
    fh1_hparams hp;
    fh1_matrix tok_embd;        /* [V][D] */
    fh1_matrix output;          /* [V][D]; token_embd when the file has no output.weight */
    const float *output_norm;   /* [D] */
    fh1_layer *layers;          /* [n_layer] */
    gguf_file gguf;
    void *map;
    size_t map_size;
    uint64_t n_params;
    int bf16_act; /* how many matrices are marked bf16_act (model.c) */
    pthread_t reader; /* faults the mapping in ahead of the first tokens (Linux, huge pages) */
    int reader_started;
    int reader_stop; /* __atomic builtins: this header is also compiled as C++ (CUDA, Metal) */
};

/* Advise a range onto 2 MiB pages (Linux; FALCON_H1_THP=0 off); returns whether it did (model.c). */
#ifdef __cplusplus
extern "C"
#endif
int fh1_advise_huge_pages(void *p, size_t bytes);

#endif

/* csrc/context.h — per-sequence state: caches that persist across calls, and scratch activations
 * for one ubatch of up to n_batch tokens (allocated once, never in the decode loop). */
#ifndef FH1_CONTEXT_H
#define FH1_CONTEXT_H

#include "model.h"
#include "cpu/simd.h"
#include "cpu/threads.h"

#include <stdatomic.h>

struct fh1_context {
    fh1_model *model;
    int n_ctx, n_batch, n_threads;
    fh1_kv_type kv_type;
    int n_past;
    fh1_pool *pool;
    const fh1_simd *simd;

    /* persistent state */
    void *k_cache, *v_cache; /* [n_layer][n_ctx][Hkv*dh], f32 or f16 */
    float *conv_state;       /* [n_layer][K-1][Cd], oldest first */
    float *ssm_state;        /* [n_layer][H][P][N] */

    /* scratch for one ubatch (B = n_batch) */
    float *x;          /* [B][D] residual stream */
    float *u;          /* [B][D] attn_norm output (feeds both branches) */
    float *u_ssm;      /* [B][D] u × ssm_in_multiplier (aliases u when the multiplier is 1) */
    float *u_attn;     /* [B][D] u × attention_in_multiplier (aliases u when 1) */
    float *zxbcdt;     /* [B][Din] in_proj output: z | xBC | dt */
    float *conv_in;    /* [K-1+B][Cd] conv window: state rows then new rows */
    float *xbc;        /* [B][Cd] conv + SiLU output: x | B | C */
    float *dt;         /* [B][H] Δ after softplus */
    float *y;          /* [B][E] scan output, then gated/normed in place */
    float *q, *k, *v;  /* [B][Hq*dh], [B][Hkv*dh], [B][Hkv*dh] */
    float *att;        /* [B][Hq*dh] attention output before o_proj */
    float *ssm_out;    /* [B][D] */
    float *attn_out;   /* [B][D] */
    float *gate, *up;  /* [B][F] */
    float *ffn_out;    /* [B][D] */
    float *rope_cos, *rope_sin; /* [B][dh/2] */
    float *scores;     /* [n_threads][n_ctx] attention probabilities */
    float *dtB;        /* [n_threads][FH1_SCAN_TB][N] Δ·B of one head and FH1_SCAN_TB tokens */
    float *head_in;    /* [B][D] final norm output */
    float *gemm_scratch; /* [n_threads][gemm_scratch_floats] */
    size_t gemm_scratch_floats; /* FH1_GEMM_SCRATCH(widest matrix row) */
    float *attn_scratch; /* [n_threads][attn_scratch_floats] prefill attention tiles (queries, outputs, K/V block) */
    size_t attn_scratch_floats;
    float *dec_scratch; /* [n_threads][FH1_DEC_SCRATCH] decode attention scores */
    float *dec_part;    /* decode attention split over keys: per item, its heads' m[R], l[R], o[R][dh] */
    float *ssd_scratch;  /* [n_threads][ssd_scratch_floats] chunked-scan work space (NULL: recurrence only) */
    size_t ssd_scratch_floats;

    float *logits;     /* [logits_cap][V] */
    int logits_cap, n_logits;

    struct fh1_cuda *cuda; /* non-NULL: layers [gpu_first, n_layer) run on the GPU(s) (csrc/cuda) */
    int gpu_first;         /* layers below run on the CPU (--gpu-layers) */
    int gpu_head;          /* final norm + head on the GPU */
    int logits_on_gpu;     /* the last row is still on the device (GPU-sampled decode) */
    struct fh1_metal *metal; /* non-NULL: the forward pass runs on the Apple GPU (csrc/metal) */
    char backend[300];

    atomic_int busy;
    atomic_int cancel;
};

/* Evaluates one ubatch (T <= n_batch tokens at positions n_past..), updating caches.
 * If logits_all, writes T rows to out; else the last row only (out may be NULL for none). */
void fh1_forward(struct fh1_context *ctx, const int32_t *tokens, int T, float *out, int logits_all);
/* Part of the pass for a split with the GPU, without advancing n_past: embedding (if embed),
 * layers [l0, l1) on c->x, then the head if out is non-NULL. */
void fh1_forward_part(struct fh1_context *ctx, const int32_t *tokens, int T, int embed, int l0, int l1, float *out, int logits_all);

#endif

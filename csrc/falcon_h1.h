/*
 * falcon_h1.h — the public C API of the Falcon-H1 inference engine.
 *
 * Opaque handles, params structs with *_default_params(), return codes (never exit()).
 * No Node.js types: the addon and the C tests/benchmarks use only this header.
 *
 *   model   : hyperparameters + weights (pointers into the mmapped GGUF), read-only, shareable
 *   context : activations, KV cache (attention part) and conv/SSM state (Mamba part) of one sequence
 */
#ifndef FALCON_H1_H
#define FALCON_H1_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    FH1_OK = 0,
    FH1_ERR_IO = 1,           /* cannot open / mmap the file */
    FH1_ERR_FORMAT = 2,       /* malformed or truncated GGUF, wrong architecture, bad shapes */
    FH1_ERR_UNSUPPORTED = 3,  /* valid file, but a tensor type or feature we do not run */
    FH1_ERR_ARG = 4,          /* bad argument: token id out of range, bad params */
    FH1_ERR_NOMEM = 5,
    FH1_ERR_CONTEXT_FULL = 6, /* more tokens than the context holds */
    FH1_ERR_CANCELLED = 7,    /* cancelled between chunks; the state is consistent */
    FH1_ERR_BUSY = 8,         /* a decode is already running on this context */
} fh1_status;

typedef struct fh1_model fh1_model;
typedef struct fh1_context fh1_context;
typedef struct fh1_sampler fh1_sampler;

typedef enum { FH1_KV_F32 = 0, FH1_KV_F16 = 1 } fh1_kv_type;

/* How a CUDA context uses several GPUs of one host. AUTO: one GPU (main_gpu) when the model fits in
 * its free memory, else LAYER. LAYER: contiguous runs of layers per GPU, sized by free memory. */
typedef enum { FH1_SPLIT_AUTO = -1, FH1_SPLIT_NONE = 0, FH1_SPLIT_LAYER = 1 } fh1_split_mode;

typedef struct {
    int prefault; /* touch every weight page at load (slower load, no page faults later) */
} fh1_model_params;

typedef struct {
    int n_ctx;            /* tokens the KV cache holds; 0 = the model's training context */
    int n_batch;          /* tokens evaluated per internal step (ubatch) */
    int n_threads;        /* worker threads including the caller; 0 = all cores */
    fh1_kv_type kv_type;  /* KV cache element type; conv/SSM state is always f32 */
    int device;           /* 0 = CPU, 1 = CUDA, 2 = Metal (fail if unavailable), -1 = a GPU when available */
    int gpu_layers;       /* with CUDA: the last N layers run on the GPU(s), the rest on the CPU;
                             N > n_layer also puts the output head there; -1 = everything */
    fh1_split_mode split_mode;
    int main_gpu;         /* device index used when not splitting */
} fh1_context_params;

typedef struct {
    int n_vocab, n_embd, n_layer, n_ctx_train, n_ff;
    int n_head, n_head_kv, head_dim;
    int ssm_d_inner, ssm_n_head, ssm_head_dim, ssm_d_state, ssm_n_group, ssm_d_conv;
    int ssm_rms_norm, ssm_norm_before_gate, has_multipliers;
    float rope_theta, rms_eps;
    uint64_t n_params, weight_bytes;
    int weight_type; /* ggml type id of most matrices */
} fh1_model_info;

fh1_model_params fh1_model_default_params(void);
fh1_context_params fh1_context_default_params(void);

/* Loads (mmaps) a GGUF file and validates every tensor against the hyperparameters.
 * On failure returns a status and writes a one-line message into err. */
fh1_status fh1_model_load(const char *path, fh1_model_params params, fh1_model **out, char *err, size_t err_len);
void fh1_model_free(fh1_model *model);
void fh1_model_get_info(const fh1_model *model, fh1_model_info *info);

fh1_status fh1_context_new(fh1_model *model, fh1_context_params params, fh1_context **out, char *err, size_t err_len);
void fh1_context_free(fh1_context *ctx);
int fh1_n_ctx(const fh1_context *ctx);
int fh1_n_threads(const fh1_context *ctx);

/* Evaluates tokens at positions n_past .. n_past+n_tokens-1 and appends them to the state.
 * logits_mode: 0 = last token only, 1 = every token. The batch is split into chunks of n_batch;
 * cancellation (fh1_cancel) is honoured between chunks, leaving a consistent, shorter state. */
fh1_status fh1_decode(fh1_context *ctx, const int32_t *tokens, int n_tokens, int logits_mode, char *err, size_t err_len);
/* fh1_decode (last logits only), then the next token from the last row with the sampler. With the
 * head on a GPU the chain runs there and only the token id crosses to the host; the logits row is
 * fetched lazily if fh1_get_logits asks for it. Same choices as fh1_sampler_sample on that row. */
fh1_status fh1_decode_sample(fh1_context *ctx, const int32_t *tokens, int n_tokens, fh1_sampler *smp, int32_t *token, char *err, size_t err_len);
/* Logits of the last fh1_decode: rows x n_vocab floats; rows = n_tokens or 1. */
const float *fh1_get_logits(const fh1_context *ctx, int *n_rows);
int fh1_n_past(const fh1_context *ctx);
void fh1_reset(fh1_context *ctx);
void fh1_cancel(fh1_context *ctx);

/* State snapshot (KV cache up to n_past + conv + SSM state + last logits row).
 * fh1_state_size gives the exact bytes fh1_state_save will write. */
size_t fh1_state_size(const fh1_context *ctx);
fh1_status fh1_state_save(const fh1_context *ctx, void *dst, size_t capacity, size_t *written);
fh1_status fh1_state_load(fh1_context *ctx, const void *src, size_t size, char *err, size_t err_len);

/* ---- sampling (native, next to decode) ------------------------------------------------------
 * Order as llama.cpp's default chain: penalties → top-k → top-p → min-p → temperature → draw.
 * temp <= 0 is greedy (argmax after penalties). Same seed, same choices. */
typedef struct {
    float temp;
    int top_k;               /* <= 0: off */
    float top_p;             /* >= 1: off */
    float min_p;             /* <= 0: off */
    float repeat_penalty;    /* 1: off */
    int repeat_last_n;       /* window of past tokens for all penalties; 0: off, -1: whole history */
    float presence_penalty;  /* 0: off */
    float frequency_penalty; /* 0: off */
    uint64_t seed;
} fh1_sampler_params;

fh1_sampler_params fh1_sampler_default_params(void);
fh1_sampler *fh1_sampler_new(fh1_sampler_params params, int n_vocab);
void fh1_sampler_free(fh1_sampler *s);
/* Adds a token to the penalty history (prompt tokens and generated ones). */
void fh1_sampler_accept(fh1_sampler *s, int32_t token);
void fh1_sampler_reset(fh1_sampler *s);
/* Chooses the next token from one row of logits (not modified). */
int32_t fh1_sampler_sample(fh1_sampler *s, const float *logits);

/* Where this context runs: "cpu avx512", "cuda NVIDIA H100 80GB HBM3", … */
const char *fh1_context_backend(const fh1_context *ctx);
/* Number of usable CUDA devices (0 when the CUDA backend is not built or no GPU/driver). */
int fh1_cuda_devices(void);

/* SIMD level in use: "avx512", "avx2", "neon" or "scalar" (FALCON_H1_SIMD=scalar forces the fallback). */
const char *fh1_simd_name(void);

#ifdef __cplusplus
}
#endif
#endif

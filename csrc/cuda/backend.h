/* csrc/cuda/backend.h — the CUDA backend behind the public API (no CUDA types here, so the CPU
 * build and the addon compile without the toolkit). Built only when nvcc is found (FH1_CUDA).
 *
 * One fh1_cuda runs the layers [first_layer, n_layer) of a model on one or more GPUs: each GPU
 * holds a contiguous run of layers (--split-mode layer) with their KV cache and SSM state, and
 * only the residual stream (T × n_embd floats) moves between them. Layers before first_layer run
 * on the CPU (--gpu-layers); the embedding is on the GPU only when first_layer is 0, the head only
 * when asked for. */
#ifndef FH1_CUDA_BACKEND_H
#define FH1_CUDA_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fh1_model;
typedef struct fh1_cuda fh1_cuda;

typedef struct {
    int n_ctx, n_batch, kv_f16;
    int first_layer;  /* layers below run on the CPU; 0 = all on the GPU(s) */
    int head;         /* final norm + output matrix on the (last) GPU */
    int split_mode;   /* FH1_SPLIT_* of falcon_h1.h */
    int main_gpu;     /* the GPU used without a split */
} fh1_cuda_params;

/* Number of usable CUDA devices (0 without a driver or GPU; never fails). */
int fh1_cuda_device_count(void);
/* Uploads the weights (once) and allocates KV cache, conv/SSM state and activations on the GPU(s). */
fh1_cuda *fh1_cuda_new(const struct fh1_model *m, fh1_cuda_params p, char *err, size_t err_len);
void fh1_cuda_free(fh1_cuda *c);

/* Sampling on the GPU: the same chain and choices as fh1_sampler_sample (csrc/sample.c) for the
 * same logits; the host passes the penalty window as unique (token, count) pairs and the uniform
 * draw u, and gets one token id back (or -1 when the candidates the GPU keeps cannot decide it;
 * the logits row is then copied to the host for the CPU sampler). */
#define FH1_GPU_SAMPLE_PAIRS 1024
typedef struct {
    float temp, top_p, min_p, repeat_penalty, presence_penalty, frequency_penalty;
    int top_k, n_pairs;
    double u;
    int32_t token[FH1_GPU_SAMPLE_PAIRS], count[FH1_GPU_SAMPLE_PAIRS];
} fh1_gpu_sample;

/* One ubatch at positions pos0... x_in: the residual stream after the CPU's layers (NULL when the
 * GPU embeds). With the head on the GPU, logits rows (all, or the last) go to `out` if non-NULL, or,
 * with `sample`, the last row is sampled on the GPU into *token (out receives the row only when
 * *token is -1). Without the head, the residual stream of all T rows is copied to x_out. */
int fh1_cuda_forward(fh1_cuda *c, const int32_t *tokens, int T, int pos0, const float *x_in, float *out, int logits_all,
                     const fh1_gpu_sample *sample, int32_t *token, float *x_out, char *err, size_t err_len);
/* Copies the last logits row of the last forward (GPU-sampled decodes leave it on the device). */
int fh1_cuda_logits_row(fh1_cuda *c, float *out, char *err, size_t err_len);
/* Samples the given host logits row on the GPU (tests of the sampler kernel). */
int fh1_cuda_sample_row(fh1_cuda *c, const float *logits, const fh1_gpu_sample *sample, int32_t *token, char *err, size_t err_len);
/* One decode GEMV of `rows` rows of a `type` matrix (row_bytes apart) against x[cols], on the
 * current device, through the kernels decode uses: int8 = 1 the int8-input dp4a path (types it
 * takes), 0 the f32 path. For bench/gpu/gemv-check.c; returns 0 with err on failure. */
int fh1_cuda_gemv_check(int type, int rows, int cols, const void *w, size_t row_bytes, const float *x, float *y, int int8, char *err, size_t err_len);
void fh1_cuda_reset(fh1_cuda *c);
/* Copies the GPU layers' state to/from host buffers laid out as the CPU context's: K and V
 * [layer][n_ctx][kvd] (only the first n_past rows of each layer move), conv [layer][K-1][Cd],
 * SSM [layer][H][P][N]; layers below first_layer are left alone. */
int fh1_cuda_get_state(fh1_cuda *c, void *k_cache, void *v_cache, float *conv, float *ssm, int n_past);
int fh1_cuda_set_state(fh1_cuda *c, const void *k_cache, const void *v_cache, const float *conv, const float *ssm, int n_past);
/* "NVIDIA H100 80GB HBM3", or "2 × NVIDIA H100 80GB HBM3, layers 0-21 | 22-43" with a split. */
const char *fh1_cuda_device_name(fh1_cuda *c);

#ifdef __cplusplus
}
#endif
#endif

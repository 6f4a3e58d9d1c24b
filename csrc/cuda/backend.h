/* csrc/cuda/backend.h — the CUDA backend behind the public API (no CUDA types here, so the CPU
 * build and the addon compile without the toolkit). Built only when nvcc is found (FH1_CUDA). */
#ifndef FH1_CUDA_BACKEND_H
#define FH1_CUDA_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fh1_model;
typedef struct fh1_cuda fh1_cuda;

/* Number of usable CUDA devices (0 without a driver or GPU; never fails). */
int fh1_cuda_device_count(void);
/* Uploads the weights (once) and allocates KV cache, conv/SSM state and activations on the GPU. */
fh1_cuda *fh1_cuda_new(const struct fh1_model *m, int n_ctx, int n_batch, int kv_f16, char *err, size_t err_len);
void fh1_cuda_free(fh1_cuda *c);
/* One ubatch at positions pos0..; logits rows (all, or the last) are copied to `out` if non-NULL. */
int fh1_cuda_forward(fh1_cuda *c, const int32_t *tokens, int T, int pos0, float *out, int logits_all, char *err, size_t err_len);
void fh1_cuda_reset(fh1_cuda *c);
/* Copies the state to/from host buffers laid out as the CPU context's: K and V [layer][n_ctx][kvd]
 * (only the first n_past rows of each layer move), conv [layer][K-1][Cd], SSM [layer][H][P][N]. */
int fh1_cuda_get_state(fh1_cuda *c, void *k_cache, void *v_cache, float *conv, float *ssm, int n_past);
int fh1_cuda_set_state(fh1_cuda *c, const void *k_cache, const void *v_cache, const float *conv, const float *ssm, int n_past);
const char *fh1_cuda_device_name(fh1_cuda *c);

#ifdef __cplusplus
}
#endif
#endif

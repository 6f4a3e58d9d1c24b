/* csrc/metal/backend.h — the Metal backend behind the public API (no Objective-C or Metal types
 * here, so context.c stays plain C). Built only on macOS (binding.gyp, OS=="mac"; FH1_METAL).
 * The same shape as csrc/cuda/backend.h without placement: Apple GPUs share the host's memory, so
 * the weights are the mmap itself (newBufferWithBytesNoCopy) and every layer runs on the GPU. */
#ifndef FH1_METAL_BACKEND_H
#define FH1_METAL_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fh1_model;
typedef struct fh1_metal fh1_metal;

/* 1 when a Metal device exists (never fails). */
int fh1_metal_available(void);
/* Wraps the weights, compiles the kernels (csrc/metal/kernels.metal, found next to the addon or
 * at $FALCON_H1_METAL_SOURCE) and allocates KV cache, conv/SSM state and activations. */
fh1_metal *fh1_metal_new(const struct fh1_model *m, int n_ctx, int n_batch, int kv_f16, char *err, size_t err_len);
void fh1_metal_free(fh1_metal *c);
/* One ubatch at positions pos0..; logits rows (all, or the last) to `out` if non-NULL. With
 * `greedy`, the last row's argmax is taken on the GPU into *token and nothing else is copied. */
int fh1_metal_forward(fh1_metal *c, const int32_t *tokens, int T, int pos0, float *out, int logits_all, int greedy, int32_t *token,
                      char *err, size_t err_len);
/* The last logits row of the last forward (after a greedy one). */
void fh1_metal_logits_row(fh1_metal *c, float *out);
void fh1_metal_reset(fh1_metal *c);
/* State to/from host buffers laid out as the CPU context's (see fh1_cuda_get_state). */
int fh1_metal_get_state(fh1_metal *c, void *k_cache, void *v_cache, float *conv, float *ssm, int n_past);
int fh1_metal_set_state(fh1_metal *c, const void *k_cache, const void *v_cache, const float *conv, const float *ssm, int n_past);
const char *fh1_metal_device_name(fh1_metal *c);

#ifdef __cplusplus
}
#endif
#endif

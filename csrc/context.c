/* csrc/context.c — context lifetime, decode (ubatch splitting, cancellation), state snapshots. */
#include "context.h"
#include "cuda/backend.h"
#include "metal/backend.h"
#include "sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATE_MAGIC 0x31484653u /* "SFH1" */
#define STATE_VERSION 1u

fh1_context_params fh1_context_default_params(void) {
    fh1_context_params p = {0};
    p.n_ctx = 0;
    p.n_batch = 512;
    p.n_threads = 0;
    p.kv_type = FH1_KV_F16;
    p.device = 0;
    p.gpu_layers = -1;
    p.split_mode = FH1_SPLIT_AUTO;
    p.main_gpu = 0;
    return p;
}

/* A device that was asked for by name cannot be used: the context goes, the reason stays in err. */
static fh1_status refuse_device(fh1_context *c, char *err, size_t err_len, const char *why, const char *detail) {
    snprintf(err, err_len, "%s%s", why, detail);
    fh1_context_free(c);
    return FH1_ERR_UNSUPPORTED;
}

static float *falloc(size_t n, int *ok) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) *ok = 0;
    return p;
}

fh1_status fh1_context_new(fh1_model *model, fh1_context_params p, fh1_context **out, char *err, size_t err_len) {
    *out = NULL;
    const fh1_hparams *hp = &model->hp;
    if (p.n_ctx < 0 || p.n_batch < 0 || p.n_threads < 0 || (p.kv_type != FH1_KV_F32 && p.kv_type != FH1_KV_F16)) {
        snprintf(err, err_len, "invalid context parameters");
        return FH1_ERR_ARG;
    }
    if (p.device < -1 || p.device > 2 || p.gpu_layers < -1 || p.split_mode < FH1_SPLIT_AUTO || p.split_mode > FH1_SPLIT_LAYER || p.main_gpu < 0) {
        snprintf(err, err_len, "invalid GPU parameters (device %d, gpu_layers %d, split_mode %d, main_gpu %d)", p.device, p.gpu_layers, (int)p.split_mode, p.main_gpu);
        return FH1_ERR_ARG;
    }
    fh1_context *c = calloc(1, sizeof(*c));
    if (!c) { snprintf(err, err_len, "out of memory"); return FH1_ERR_NOMEM; }
    c->model = model;
    c->n_ctx = p.n_ctx ? p.n_ctx : hp->n_ctx_train;
    if (c->n_ctx <= 0) c->n_ctx = 4096;
    c->n_batch = p.n_batch ? p.n_batch : 512;
    if (c->n_batch > c->n_ctx) c->n_batch = c->n_ctx;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c->n_threads = p.n_threads ? p.n_threads : (int)(ncpu > 0 ? ncpu : 1);
    c->kv_type = p.kv_type;
    c->simd = fh1_simd_get();

    const size_t B = (size_t)c->n_batch, D = (size_t)hp->n_embd;
    const size_t kvd = (size_t)hp->n_head_kv * hp->head_dim, qd = (size_t)hp->n_head * hp->head_dim;
    const size_t kv_elems = (size_t)hp->n_layer * (size_t)c->n_ctx * kvd;
    const size_t kv_bytes = kv_elems * (c->kv_type == FH1_KV_F16 ? 2 : 4);
    int ok = 1;
    c->k_cache = calloc(1, kv_bytes ? kv_bytes : 1);
    c->v_cache = calloc(1, kv_bytes ? kv_bytes : 1);
    if (!c->k_cache || !c->v_cache) ok = 0;
    c->conv_state = falloc((size_t)hp->n_layer * (hp->d_conv - 1) * hp->conv_dim, &ok);
    c->ssm_state = falloc((size_t)hp->n_layer * hp->d_inner * hp->d_state, &ok);
    /* the SSM state is read and written whole every token (28 MB on the 0.5B): on 2 MiB pages,
     * +3-5% decode (bench/README.md). Not the KV cache: it fills as the context grows and would
     * take 2 MiB at a time per layer. */
    fh1_advise_huge_pages(c->ssm_state, sizeof(float) * (size_t)hp->n_layer * hp->d_inner * hp->d_state);
    c->x = falloc(B * D, &ok);
    c->u = falloc(B * D, &ok);
    c->u_ssm = hp->ssm_in_mult != 1.0f ? falloc(B * D, &ok) : c->u;
    c->u_attn = hp->attn_in_mult != 1.0f ? falloc(B * D, &ok) : c->u;
    c->zxbcdt = falloc(B * hp->in_proj_dim, &ok);
    c->conv_in = falloc((B + hp->d_conv - 1) * hp->conv_dim, &ok);
    c->xbc = falloc(B * hp->conv_dim, &ok);
    c->dt = falloc(B * hp->ssm_n_head, &ok);
    c->y = falloc(B * hp->d_inner, &ok);
    c->q = falloc(B * qd, &ok);
    c->k = falloc(B * kvd, &ok);
    c->v = falloc(B * kvd, &ok);
    c->att = falloc(B * qd, &ok);
    c->ssm_out = falloc(B * D, &ok);
    c->attn_out = falloc(B * D, &ok);
    c->gate = falloc(B * hp->n_ff, &ok);
    c->up = falloc(B * hp->n_ff, &ok);
    c->ffn_out = falloc(B * D, &ok);
    c->rope_cos = falloc(B * hp->head_dim / 2, &ok);
    c->rope_sin = falloc(B * hp->head_dim / 2, &ok);
    c->scores = falloc((size_t)c->n_threads * c->n_ctx, &ok);
    c->dtB = falloc((size_t)c->n_threads * FH1_SCAN_TB * hp->d_state, &ok);
    c->head_in = falloc(B * D, &ok);
    c->gemm_scratch_floats = FH1_GEMM_SCRATCH(hp->n_ff > hp->d_inner ? (hp->n_ff > (int)D ? hp->n_ff : (int)D) : (hp->d_inner > (int)D ? hp->d_inner : (int)D));
    if ((size_t)hp->n_head * (size_t)hp->head_dim > c->gemm_scratch_floats / (GEMM_TB + 8)) c->gemm_scratch_floats = FH1_GEMM_SCRATCH(hp->n_head * hp->head_dim);
    c->gemm_scratch = falloc((size_t)c->n_threads * c->gemm_scratch_floats, &ok);
    {
        /* chunked SSD scan: B, C, Bᵀ, X̃, X̃ᵀ, CB, M, Y, Yo, dS, α + its own GEMM scratch (widest: 64 or N) */
        const size_t Q = 64, P = (size_t)hp->ssm_head_dim, N = (size_t)hp->d_state;
        const size_t kmax = N > Q ? N : Q;
        c->ssd_scratch_floats = 3 * Q * N + 2 * Q * P + 2 * Q * Q + 2 * Q * P + P * N + Q + FH1_GEMM_SCRATCH(kmax);
        const char *scan = getenv("FALCON_H1_SCAN");
        if (scan && strcmp(scan, "chunked") == 0) c->ssd_scratch = falloc((size_t)c->n_threads * c->ssd_scratch_floats, &ok);
    }
    {
        /* prefill attention tile: queries and outputs [nq][dh], m, l, limits [nq], K^T and V blocks */
        const size_t nq = (size_t)FH1_ATT_QT * (hp->n_head / hp->n_head_kv), dh = (size_t)hp->head_dim;
        c->attn_scratch_floats = 2 * nq * dh + 3 * nq + 2 * dh * FH1_ATT_KB + dh + 16;
        c->attn_scratch = falloc((size_t)c->n_threads * c->attn_scratch_floats, &ok);
        /* decode: items are (token, kv head, key range), at most n_threads + FH1_ATT_MIN_T·n_head_kv */
        const size_t R = (size_t)(hp->n_head / hp->n_head_kv), items = (size_t)c->n_threads + (size_t)FH1_ATT_MIN_T * hp->n_head_kv;
        c->dec_scratch = falloc((size_t)c->n_threads * FH1_DEC_SCRATCH, &ok);
        c->dec_part = falloc(items * R * (dh + 2), &ok);
    }
    c->logits_cap = 1;
    c->logits = falloc((size_t)hp->n_vocab, &ok);
    if (ok) c->pool = fh1_pool_new(c->n_threads);
    if (!ok || !c->pool) {
        fh1_context_free(c);
        snprintf(err, err_len, "out of memory allocating a context of %d tokens (KV cache %.1f MiB)", p.n_ctx, 2.0 * kv_bytes / 1048576.0);
        return FH1_ERR_NOMEM;
    }
    c->n_threads = fh1_pool_size(c->pool);
    /* the prefill's activation rounding changes the numbers, so it is part of where this runs */
    const int bf16_prefill = model->bf16_act && c->simd->bf16_dot && c->simd->bf16_dot();
    snprintf(c->backend, sizeof c->backend, "cpu %s%s", c->simd->name, bf16_prefill ? " (bf16 prefill)" : "");
    if ((p.device == 1 || p.device == -1) && p.gpu_layers != 0) {
#ifdef FH1_CUDA
        char cerr[256] = {0};
        /* llama.cpp's meaning of -ngl: the last N layers on the GPU, and the head too when N > n_layer */
        const int all = p.gpu_layers < 0 || p.gpu_layers > hp->n_layer;
        c->gpu_first = all ? 0 : hp->n_layer - p.gpu_layers;
        c->gpu_head = all;
        fh1_cuda_params cp = {c->n_ctx, c->n_batch, c->kv_type == FH1_KV_F16, c->gpu_first, c->gpu_head, (int)p.split_mode, p.main_gpu};
        if (fh1_cuda_device_count() > 0) c->cuda = fh1_cuda_new(model, cp, cerr, sizeof cerr);
        else snprintf(cerr, sizeof cerr, "no CUDA device found");
        if (c->cuda && all) snprintf(c->backend, sizeof c->backend, "cuda %s", fh1_cuda_device_name(c->cuda));
        else if (c->cuda && c->gpu_first == 0)
            snprintf(c->backend, sizeof c->backend, "cuda %s (all layers; the head on cpu %s)", fh1_cuda_device_name(c->cuda), c->simd->name);
        else if (c->cuda)
            snprintf(c->backend, sizeof c->backend, "cuda %s (layers %d-%d; layers 0-%d and the head on cpu %s)", fh1_cuda_device_name(c->cuda), c->gpu_first,
                     hp->n_layer - 1, c->gpu_first - 1, c->simd->name);
        else if (p.device == 1) return refuse_device(c, err, err_len, "cannot use CUDA: ", cerr);
#else
        if (p.device == 1) return refuse_device(c, err, err_len, "this build has no CUDA backend (nvcc was not found when it was built)", "");
#endif
    }
    /* Metal (macOS): every layer on the GPU, the weights shared with the mmap */
    if (!c->cuda && (p.device == 2 || p.device == -1)) {
#ifdef FH1_METAL
        char merr[512] = {0};
        if (fh1_metal_available()) c->metal = fh1_metal_new(model, c->n_ctx, c->n_batch, c->kv_type == FH1_KV_F16, merr, sizeof merr);
        else snprintf(merr, sizeof merr, "no Metal device found");
        if (c->metal) snprintf(c->backend, sizeof c->backend, "metal %s", fh1_metal_device_name(c->metal));
        else if (p.device == 2) return refuse_device(c, err, err_len, "cannot use Metal: ", merr);
#else
        if (p.device == 2) return refuse_device(c, err, err_len, "this build has no Metal backend (it is built on macOS only)", "");
#endif
    }
    *out = c;
    return FH1_OK;
}

void fh1_context_free(fh1_context *c) {
    if (!c) return;
#ifdef FH1_CUDA
    fh1_cuda_free(c->cuda);
#endif
#ifdef FH1_METAL
    fh1_metal_free(c->metal);
#endif
    fh1_pool_free(c->pool);
    if (c->u_ssm != c->u) free(c->u_ssm);
    if (c->u_attn != c->u) free(c->u_attn);
    void *bufs[] = {c->k_cache, c->v_cache, c->conv_state, c->ssm_state, c->x, c->u, c->zxbcdt, c->conv_in, c->xbc, c->dt, c->y,
                    c->q, c->k, c->v, c->att, c->ssm_out, c->attn_out, c->gate, c->up, c->ffn_out, c->rope_cos, c->rope_sin,
                    c->scores, c->dtB, c->head_in, c->gemm_scratch, c->ssd_scratch, c->attn_scratch, c->dec_scratch, c->dec_part, c->logits};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) free(bufs[i]);
    free(c);
}

int fh1_n_ctx(const fh1_context *c) { return c->n_ctx; }
const char *fh1_context_backend(const fh1_context *c) { return c->backend; }
int fh1_cuda_devices(void) {
#ifdef FH1_CUDA
    return fh1_cuda_device_count();
#else
    return 0;
#endif
}
int fh1_n_threads(const fh1_context *c) { return c->n_threads; }
int fh1_n_past(const fh1_context *c) { return c->n_past; }
void fh1_cancel(fh1_context *c) { atomic_store(&c->cancel, 1); }

void fh1_reset(fh1_context *c) {
    const fh1_hparams *hp = &c->model->hp;
    c->n_past = 0;
    c->n_logits = 0;
    c->logits_on_gpu = 0;
    memset(c->conv_state, 0, sizeof(float) * (size_t)hp->n_layer * (hp->d_conv - 1) * hp->conv_dim);
    memset(c->ssm_state, 0, sizeof(float) * (size_t)hp->n_layer * hp->d_inner * hp->d_state);
#ifdef FH1_CUDA
    if (c->cuda) fh1_cuda_reset(c->cuda);
#endif
#ifdef FH1_METAL
    if (c->metal) fh1_metal_reset(c->metal);
#endif
    /* the KV cache needs no clearing: attention only reads positions < n_past */
}

#ifdef FH1_CUDA
/* One ubatch with the GPU: the CPU's layers first (they come first, as in llama.cpp), then the
 * GPU's, then the head on whichever side holds it. */
static int forward_with_gpu(fh1_context *c, const int32_t *tokens, int T, float *out, int logits_all, const fh1_gpu_sample *sample, int32_t *token,
                            char *err, size_t err_len) {
    const int L = c->model->hp.n_layer;
    if (c->gpu_first > 0) fh1_forward_part(c, tokens, T, 1, 0, c->gpu_first, NULL, 0);
    if (!fh1_cuda_forward(c->cuda, tokens, T, c->n_past, c->gpu_first > 0 ? c->x : NULL, c->gpu_head ? out : NULL, logits_all, c->gpu_head ? sample : NULL,
                          token, c->gpu_head ? NULL : c->x, err, err_len))
        return 0;
    if (!c->gpu_head && out) fh1_forward_part(c, tokens, T, 0, L, L, out, logits_all);
    c->n_past += T;
    return 1;
}
#endif

/* the last row of a GPU-sampled decode, fetched when someone asks for it */
static void fetch_gpu_logits(fh1_context *c) {
#ifdef FH1_CUDA
    char err[256];
    if (c->logits_on_gpu && c->cuda && !fh1_cuda_logits_row(c->cuda, c->logits, err, sizeof err)) c->n_logits = 0;
#endif
#ifdef FH1_METAL
    if (c->logits_on_gpu && c->metal) fh1_metal_logits_row(c->metal, c->logits);
#endif
    c->logits_on_gpu = 0;
}

static fh1_status decode_impl(fh1_context *c, const int32_t *tokens, int n, int logits_all, const fh1_gpu_sample *sample, int32_t *token, char *err,
                              size_t err_len) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&c->busy, &expected, 1)) {
        snprintf(err, err_len, "a decode is already running on this context");
        return FH1_ERR_BUSY;
    }
    fh1_status st = FH1_OK;
    const int V = c->model->hp.n_vocab;
    atomic_store(&c->cancel, 0);
    c->logits_on_gpu = 0;
#if !defined(FH1_CUDA) && !defined(FH1_METAL)
    (void)sample;
    (void)token;
#endif
    if (n <= 0) {
        snprintf(err, err_len, "no tokens to evaluate");
        st = FH1_ERR_ARG;
        goto done;
    }
    if (n > c->n_ctx - c->n_past) {
        snprintf(err, err_len, "%d tokens do not fit: the context holds %d and %d are used", n, c->n_ctx, c->n_past);
        st = FH1_ERR_CONTEXT_FULL;
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= V) {
            snprintf(err, err_len, "token id %d at index %d is out of range (vocabulary has %d tokens)", tokens[i], i, V);
            st = FH1_ERR_ARG;
            goto done;
        }
    }
    const int rows = logits_all ? n : 1;
    if (rows > c->logits_cap) {
        float *nl = realloc(c->logits, sizeof(float) * (size_t)rows * V);
        if (!nl) {
            snprintf(err, err_len, "out of memory for %d rows of logits", rows);
            st = FH1_ERR_NOMEM;
            goto done;
        }
        c->logits = nl;
        c->logits_cap = rows;
    }
    c->n_logits = 0;
    for (int done_tokens = 0; done_tokens < n;) {
        if (done_tokens > 0 && atomic_load(&c->cancel)) {
            snprintf(err, err_len, "cancelled after %d of %d tokens", done_tokens, n);
            st = FH1_ERR_CANCELLED;
            break;
        }
        const int T = n - done_tokens < c->n_batch ? n - done_tokens : c->n_batch;
        const int last_chunk = done_tokens + T == n;
        float *out = logits_all ? c->logits + (size_t)done_tokens * V : (last_chunk ? c->logits : NULL);
#ifdef FH1_CUDA
        if (c->cuda) {
            if (!forward_with_gpu(c, tokens + done_tokens, T, out, logits_all, sample && last_chunk ? sample : NULL, token, err, err_len)) {
                st = FH1_ERR_NOMEM;
                break;
            }
        } else
#endif
#ifdef FH1_METAL
            if (c->metal) {
            /* greedy only (fh1_decode_sample passes it when the sampler is plain argmax) */
            if (!fh1_metal_forward(c->metal, tokens + done_tokens, T, c->n_past, out, logits_all, sample && last_chunk, token, err, err_len)) {
                st = FH1_ERR_NOMEM;
                break;
            }
            c->n_past += T;
        } else
#endif
            fh1_forward(c, tokens + done_tokens, T, out, logits_all);
        done_tokens += T;
        c->n_logits = logits_all ? done_tokens : (last_chunk ? 1 : 0);
    }
done:
    atomic_store(&c->busy, 0);
    return st;
}

fh1_status fh1_decode(fh1_context *c, const int32_t *tokens, int n, int logits_all, char *err, size_t err_len) {
    return decode_impl(c, tokens, n, logits_all, NULL, NULL, err, err_len);
}

static int gpu_sampling_enabled(void) {
    const char *e = getenv("FALCON_H1_GPU_SAMPLING");
    return !(e && !strcmp(e, "0"));
}

fh1_status fh1_decode_sample(fh1_context *c, const int32_t *tokens, int n, fh1_sampler *smp, int32_t *token, char *err, size_t err_len) {
    if (!smp || !token) {
        snprintf(err, err_len, "fh1_decode_sample needs a sampler and a place for the token");
        return FH1_ERR_ARG;
    }
    const fh1_gpu_sample *args = NULL;
    static __thread fh1_gpu_sample ga; /* 8 KB: kept off the stack */
#ifdef FH1_CUDA
    if (c->cuda && c->gpu_head && gpu_sampling_enabled() && fh1_sampler_gpu_args(smp, &ga)) args = &ga;
#endif
#ifdef FH1_METAL
    if (c->metal && gpu_sampling_enabled() && fh1_sampler_gpu_args(smp, &ga)) { /* Metal samples greedy choices only */
        if (ga.temp <= 0.0f && ga.n_pairs == 0) args = &ga;
        else fh1_sampler_undo_draw(smp);
    }
#endif
    (void)gpu_sampling_enabled;
    (void)ga;
    int32_t t = -1;
    const fh1_status st = decode_impl(c, tokens, n, 0, args, &t, err, err_len);
    if (args && (st != FH1_OK || t < 0)) fh1_sampler_undo_draw(smp); /* not drawn after all (or the CPU redraws) */
    if (st != FH1_OK) return st;
    if (args && t >= 0) {
        c->logits_on_gpu = 1;
        *token = t;
        return FH1_OK;
    }
    *token = fh1_sampler_sample(smp, c->logits + (size_t)(c->n_logits - 1) * c->model->hp.n_vocab);
    return FH1_OK;
}

const float *fh1_get_logits(const fh1_context *c, int *n_rows) {
    if (c->logits_on_gpu) fetch_gpu_logits((fh1_context *)c);
    if (n_rows) *n_rows = c->n_logits;
    return c->logits;
}

/* ---- state snapshots --------------------------------------------------------------------- */

typedef struct {
    uint32_t magic, version;
    uint32_t n_layer, n_embd, kv_dim, kv_type, conv_elems, ssm_elems, n_vocab;
    int32_t n_past;
    uint32_t has_logits, reserved;
} state_header;

static size_t kv_elem_size(const fh1_context *c) { return c->kv_type == FH1_KV_F16 ? 2 : 4; }

size_t fh1_state_size(const fh1_context *c) {
    const fh1_hparams *hp = &c->model->hp;
    const size_t kvd = (size_t)hp->n_head_kv * hp->head_dim;
    return sizeof(state_header) + 2 * (size_t)hp->n_layer * (size_t)c->n_past * kvd * kv_elem_size(c) +
           sizeof(float) * ((size_t)hp->n_layer * (hp->d_conv - 1) * hp->conv_dim + (size_t)hp->n_layer * hp->d_inner * hp->d_state) +
           (c->n_logits > 0 ? sizeof(float) * (size_t)hp->n_vocab : 0);
}

fh1_status fh1_state_save(const fh1_context *c, void *dst, size_t cap, size_t *written) {
    const fh1_hparams *hp = &c->model->hp;
    const size_t need = fh1_state_size(c);
    if (cap < need) return FH1_ERR_ARG;
    const size_t kvd = (size_t)hp->n_head_kv * hp->head_dim, es = kv_elem_size(c);
    state_header h = {STATE_MAGIC, STATE_VERSION, (uint32_t)hp->n_layer, (uint32_t)hp->n_embd, (uint32_t)kvd, (uint32_t)c->kv_type,
                      (uint32_t)((hp->d_conv - 1) * hp->conv_dim), (uint32_t)(hp->d_inner * hp->d_state), (uint32_t)hp->n_vocab,
                      c->n_past, c->n_logits > 0, 0};
    if (c->logits_on_gpu) fetch_gpu_logits((fh1_context *)c);
#ifdef FH1_CUDA
    if (c->cuda && !fh1_cuda_get_state(c->cuda, c->k_cache, c->v_cache, c->conv_state, c->ssm_state, c->n_past)) return FH1_ERR_NOMEM;
#endif
#ifdef FH1_METAL
    if (c->metal) fh1_metal_get_state(c->metal, c->k_cache, c->v_cache, c->conv_state, c->ssm_state, c->n_past);
#endif
    uint8_t *p = dst;
    memcpy(p, &h, sizeof(h));
    p += sizeof(h);
    const size_t row = (size_t)c->n_past * kvd * es;
    for (int il = 0; il < hp->n_layer; il++) {
        memcpy(p, (const uint8_t *)c->k_cache + (size_t)il * c->n_ctx * kvd * es, row);
        p += row;
        memcpy(p, (const uint8_t *)c->v_cache + (size_t)il * c->n_ctx * kvd * es, row);
        p += row;
    }
    const size_t conv = sizeof(float) * (size_t)hp->n_layer * h.conv_elems, ssm = sizeof(float) * (size_t)hp->n_layer * h.ssm_elems;
    memcpy(p, c->conv_state, conv);
    p += conv;
    memcpy(p, c->ssm_state, ssm);
    p += ssm;
    if (c->n_logits > 0) {
        const int V = hp->n_vocab;
        memcpy(p, c->logits + (size_t)(c->n_logits - 1) * V, sizeof(float) * V);
        p += sizeof(float) * V;
    }
    *written = (size_t)(p - (uint8_t *)dst);
    return FH1_OK;
}

fh1_status fh1_state_load(fh1_context *c, const void *src, size_t size, char *err, size_t err_len) {
    const fh1_hparams *hp = &c->model->hp;
    state_header h;
    if (size < sizeof(h)) { snprintf(err, err_len, "state is truncated"); return FH1_ERR_FORMAT; }
    memcpy(&h, src, sizeof(h));
    const size_t kvd = (size_t)hp->n_head_kv * hp->head_dim, es = kv_elem_size(c);
    if (h.magic != STATE_MAGIC || h.version != STATE_VERSION) { snprintf(err, err_len, "not a falcon-h1 state snapshot"); return FH1_ERR_FORMAT; }
    if (h.n_layer != (uint32_t)hp->n_layer || h.n_embd != (uint32_t)hp->n_embd || h.kv_dim != kvd || h.kv_type != (uint32_t)c->kv_type ||
        h.conv_elems != (uint32_t)((hp->d_conv - 1) * hp->conv_dim) || h.ssm_elems != (uint32_t)(hp->d_inner * hp->d_state) ||
        h.n_vocab != (uint32_t)hp->n_vocab) {
        snprintf(err, err_len, "state was saved for a different model or KV cache type");
        return FH1_ERR_ARG;
    }
    if (h.n_past < 0 || h.n_past > c->n_ctx) { snprintf(err, err_len, "state holds %d tokens, the context only %d", h.n_past, c->n_ctx); return FH1_ERR_CONTEXT_FULL; }
    const size_t row = (size_t)h.n_past * kvd * es;
    const size_t conv = sizeof(float) * (size_t)hp->n_layer * h.conv_elems, ssm = sizeof(float) * (size_t)hp->n_layer * h.ssm_elems;
    const size_t need = sizeof(h) + 2 * row * hp->n_layer + conv + ssm + (h.has_logits ? sizeof(float) * hp->n_vocab : 0);
    if (size != need) { snprintf(err, err_len, "state has %zu bytes, expected %zu", size, need); return FH1_ERR_FORMAT; }
    int expected = 0;
    if (!atomic_compare_exchange_strong(&c->busy, &expected, 1)) { snprintf(err, err_len, "a decode is running on this context"); return FH1_ERR_BUSY; }
    const uint8_t *p = (const uint8_t *)src + sizeof(h);
    for (int il = 0; il < hp->n_layer; il++) {
        memcpy((uint8_t *)c->k_cache + (size_t)il * c->n_ctx * kvd * es, p, row);
        p += row;
        memcpy((uint8_t *)c->v_cache + (size_t)il * c->n_ctx * kvd * es, p, row);
        p += row;
    }
    memcpy(c->conv_state, p, conv);
    p += conv;
    memcpy(c->ssm_state, p, ssm);
    p += ssm;
    c->n_logits = 0;
    c->logits_on_gpu = 0;
    if (h.has_logits) {
        memcpy(c->logits, p, sizeof(float) * hp->n_vocab);
        c->n_logits = 1;
    }
    c->n_past = h.n_past;
#ifdef FH1_CUDA
    if (c->cuda && !fh1_cuda_set_state(c->cuda, c->k_cache, c->v_cache, c->conv_state, c->ssm_state, c->n_past)) {
        atomic_store(&c->busy, 0);
        snprintf(err, err_len, "CUDA: cannot upload the state");
        return FH1_ERR_NOMEM;
    }
#endif
#ifdef FH1_METAL
    if (c->metal) fh1_metal_set_state(c->metal, c->k_cache, c->v_cache, c->conv_state, c->ssm_state, c->n_past);
#endif
    atomic_store(&c->busy, 0);
    return FH1_OK;
}

/* csrc/model.c — load a Falcon-H1 GGUF: mmap, read hyperparameters, validate and bind every tensor.
 * Reads llama.cpp's upstream layout (multipliers folded) and TII's legacy layout (multipliers as
 * metadata, blk.N.ssm_mup_vec, blk.N.ffn_pre_norm), which `convert --keep-multipliers` also writes. */
#include "model.h"
#include "cpu/simd.h"
#include "../quant/blocks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    fh1_model *m;
    char *err;
    size_t err_len;
    unsigned char *used; /* [n_tensors] which tensors were bound */
    fh1_status status;
} loader;

/* The fault-in thread (see fh1_advise_huge_pages): one byte every 2 MiB, in file order */
static void *fault_in(void *arg) {
    fh1_model *m = arg;
    volatile uint8_t sink = 0;
    for (size_t o = 0; o < m->map_size && !__atomic_load_n(&m->reader_stop, __ATOMIC_RELAXED); o += (size_t)2 << 20) sink ^= ((const uint8_t *)m->map)[o];
    (void)sink;
    return NULL;
}

/* Linux: [p, p + bytes), trimmed inward to whole pages, onto 2 MiB pages where the kernel gives
 * them (madvise MADV_HUGEPAGE); FALCON_H1_THP=0 turns it off. Returns whether it was advised.
 * Used for the weights (decode reads each once a token: with 4 KiB pages the TLB misses cost 2-12%
 * of it, bench/README.md; the kernel maps 2 MiB pages only where the page cache holds the file in
 * 2 MiB folios, i.e. when it is read through this mapping, not while it is cached in small ones,
 * e.g. just after it was written) and for a context's SSM state (context.c). */
int fh1_advise_huge_pages(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
    const char *e = getenv("FALCON_H1_THP");
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = ((uintptr_t)p + page - 1) & ~(page - 1), end = ((uintptr_t)p + bytes) & ~(page - 1);
    return p && end > a && !(e && !strcmp(e, "0")) && madvise((void *)a, end - a, MADV_HUGEPAGE) == 0;
#else
    (void)p, (void)bytes;
    return 0;
#endif
}

static fh1_status lerr(loader *L, fh1_status st, const char *fmt, ...) {
    if (L->status == FH1_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(L->err, L->err_len, fmt, ap);
        va_end(ap);
        L->status = st;
    }
    return st;
}

static int matrix_type_ok(int t) {
    return fh1_type_block_size(t) > 0 && t != GGML_TYPE_Q8_K;
}

static const char *type_name(int t) {
    switch (t) {
    case 0: return "F32"; case 1: return "F16"; case 2: return "Q4_0"; case 3: return "Q4_1";
    case 6: return "Q5_0"; case 7: return "Q5_1"; case 8: return "Q8_0"; case 10: return "Q2_K";
    case 11: return "Q3_K"; case 12: return "Q4_K"; case 13: return "Q5_K"; case 14: return "Q6_K";
    case 15: return "Q8_K"; case 30: return "BF16"; default: return "an unsupported type";
    }
}

static const gguf_tensor *find(loader *L, const char *name, int required) {
    const gguf_file *g = &L->m->gguf;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        if (strcmp(g->tensors[i].name, name) == 0) {
            L->used[i] = 1;
            return &g->tensors[i];
        }
    }
    if (required) lerr(L, FH1_ERR_FORMAT, "missing tensor '%s'", name);
    return NULL;
}

static int shape_is(const gguf_tensor *t, int64_t ne0, int64_t ne1) {
    return t->ne[0] == ne0 && t->ne[1] == ne1 && t->ne[2] == 1 && t->ne[3] == 1;
}

/* A vector of n f32 values; accepts ne {n} or {1, n} (llama.cpp stores A and D as [1, H]). */
static const float *vec(loader *L, const char *name, int64_t n, int required) {
    const gguf_tensor *t = find(L, name, required);
    if (!t) return NULL;
    if (t->type != GGML_TYPE_F32) {
        lerr(L, FH1_ERR_UNSUPPORTED, "tensor '%s' is %s; SSM parameters and norms must be F32", name, type_name(t->type));
        return NULL;
    }
    int64_t total = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    if (total != n || (t->ne[0] != n && t->ne[1] * t->ne[0] != n)) {
        lerr(L, FH1_ERR_FORMAT, "tensor '%s' has shape [%lld, %lld], expected %lld values", name, (long long)t->ne[0], (long long)t->ne[1], (long long)n);
        return NULL;
    }
    return (const float *)((const uint8_t *)L->m->map + t->offset);
}

/* Which BF16 matrices the CPU prefill may multiply on bf16 activations (vdpbf16ps, on CPUs where
 * it gives twice the products of an f32 FMA (simd.h bf16_dot), as llama.cpp's CPU path does). Folded files
 * (llama.cpp's layout) already sit ~2.8e-3 of the logit scale from HF because folding rounds the
 * multiplied weights; bf16 activations everywhere but the head keep them within their 3e-3 bound
 * (2.3-2.9e-3 on tiny-a; the head's rounding alone adds ~5e-4 straight onto the logits).
 * Files with kept multipliers exist to be exact (2e-5) and stay on f32 activations.
 * FALCON_H1_BF16_GEMM=0 turns it off, =1 marks every BF16 matrix of any file, head included. */
static void mark_bf16_activations(fh1_model *m) {
    const char *e = getenv("FALCON_H1_BF16_GEMM");
    const fh1_simd *cpu = fh1_simd_get();
    const int faster = cpu->bf16_dot && cpu->bf16_dot() == 2;
    const int policy = e && !strcmp(e, "0") ? 0 : e && !strcmp(e, "1") ? 2 : m->hp.has_multipliers || !faster ? 0 : 1;
    m->bf16_act = 0;
    if (!policy) return;
    for (int i = 0; i < m->hp.n_layer; i++) {
        fh1_layer *l = &m->layers[i];
        fh1_matrix *ms[] = {&l->wq, &l->wk, &l->wv, &l->wo, &l->ssm_in, &l->ssm_out, &l->ffn_gate, &l->ffn_up, &l->ffn_down};
        for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++) m->bf16_act += ms[j]->bf16_act = ms[j]->type == GGML_TYPE_BF16;
    }
    if (policy == 2) m->bf16_act += m->output.bf16_act = m->output.type == GGML_TYPE_BF16;
}

/* A [rows][cols] matrix (ggml ne {cols, rows}). */
static int mat(loader *L, fh1_matrix *out, const char *name, int rows, int cols, int required) {
    const gguf_tensor *t = find(L, name, required);
    memset(out, 0, sizeof(*out));
    if (!t) return 0;
    if (!shape_is(t, cols, rows)) {
        lerr(L, FH1_ERR_FORMAT, "tensor '%s' has shape [%lld, %lld], expected [%d, %d]", name, (long long)t->ne[0], (long long)t->ne[1], cols, rows);
        return 0;
    }
    if (!matrix_type_ok(t->type)) {
        lerr(L, FH1_ERR_UNSUPPORTED, "tensor '%s' is %s, which this engine does not run (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K are supported)", name, type_name(t->type));
        return 0;
    }
    out->data = (const uint8_t *)L->m->map + t->offset;
    out->type = t->type;
    out->rows = rows;
    out->cols = cols;
    out->row_bytes = (size_t)cols / (size_t)fh1_type_block_size(t->type) * (size_t)fh1_type_size(t->type);
    return 1;
}

static int get_u32(loader *L, const char *key, int *out, int required) {
    uint32_t v;
    if (gguf_get_u32(&L->m->gguf, key, &v)) {
        if (v > (1u << 30)) { lerr(L, FH1_ERR_FORMAT, "metadata %s = %u is out of range", key, v); return 0; }
        *out = (int)v;
        return 1;
    }
    if (required) lerr(L, FH1_ERR_FORMAT, "missing metadata key %s", key);
    return 0;
}

static float get_f32_or(loader *L, const char *key, float def) {
    float v;
    return gguf_get_f32(&L->m->gguf, key, &v) ? v : def;
}

static fh1_status read_hparams(loader *L) {
    fh1_hparams *hp = &L->m->hp;
    const gguf_file *g = &L->m->gguf;
    const char *arch;
    size_t alen;
    if (!gguf_get_str(g, "general.architecture", &arch, &alen)) return lerr(L, FH1_ERR_FORMAT, "no general.architecture");
    if (alen != 9 || memcmp(arch, "falcon-h1", 9) != 0)
        return lerr(L, FH1_ERR_FORMAT, "architecture '%.*s' is not falcon-h1", (int)(alen > 64 ? 64 : alen), arch);

    get_u32(L, "falcon-h1.embedding_length", &hp->n_embd, 1);
    get_u32(L, "falcon-h1.block_count", &hp->n_layer, 1);
    get_u32(L, "falcon-h1.context_length", &hp->n_ctx_train, 1);
    get_u32(L, "falcon-h1.feed_forward_length", &hp->n_ff, 1);
    get_u32(L, "falcon-h1.attention.head_count", &hp->n_head, 1);
    hp->n_head_kv = hp->n_head;
    get_u32(L, "falcon-h1.attention.head_count_kv", &hp->n_head_kv, 0);
    if (!get_u32(L, "falcon-h1.attention.key_length", &hp->head_dim, 0) &&
        !get_u32(L, "falcon-h1.attention.head_dim", &hp->head_dim, 0))
        hp->head_dim = hp->n_head ? hp->n_embd / hp->n_head : 0;
    get_u32(L, "falcon-h1.ssm.conv_kernel", &hp->d_conv, 1);
    /* legacy files store expand·D in ssm.inner_size; the true width is ssm.mamba_d_ssm */
    if (!get_u32(L, "falcon-h1.ssm.mamba_d_ssm", &hp->d_inner, 0)) get_u32(L, "falcon-h1.ssm.inner_size", &hp->d_inner, 1);
    get_u32(L, "falcon-h1.ssm.state_size", &hp->d_state, 1);
    get_u32(L, "falcon-h1.ssm.time_step_rank", &hp->ssm_n_head, 1);
    get_u32(L, "falcon-h1.ssm.group_count", &hp->n_group, 1);
    if (L->status) return L->status;
    if (!gguf_get_f32(g, "falcon-h1.attention.layer_norm_rms_epsilon", &hp->rms_eps)) return lerr(L, FH1_ERR_FORMAT, "missing metadata key falcon-h1.attention.layer_norm_rms_epsilon");
    if (!gguf_get_f32(g, "falcon-h1.rope.freq_base", &hp->rope_theta) && !gguf_get_f32(g, "falcon-h1.rope_theta", &hp->rope_theta))
        hp->rope_theta = 10000.0f;

    if (hp->n_embd <= 0 || hp->n_layer <= 0 || hp->n_head <= 0 || hp->n_head_kv <= 0 || hp->head_dim <= 0 || (hp->head_dim & 1) ||
        hp->n_head % hp->n_head_kv || hp->ssm_n_head <= 0 || hp->d_inner % hp->ssm_n_head || hp->n_group <= 0 ||
        hp->ssm_n_head % hp->n_group || hp->d_state <= 0 || hp->d_conv <= 0 || hp->n_ff <= 0)
        return lerr(L, FH1_ERR_FORMAT, "inconsistent hyperparameters (heads, groups or sizes do not divide)");
    hp->ssm_head_dim = hp->d_inner / hp->ssm_n_head;
    hp->conv_dim = hp->d_inner + 2 * hp->n_group * hp->d_state;
    hp->in_proj_dim = hp->d_inner + hp->conv_dim + hp->ssm_n_head;

    int b = 0;
    hp->norm_before_gate = gguf_get_bool(g, "falcon-h1.mamba_norm_before_gate", &b) ? b : 0;
    hp->embedding_mult = get_f32_or(L, "falcon-h1.embedding_multiplier", 1.0f);
    hp->lm_head_mult = get_f32_or(L, "falcon-h1.lm_head_multiplier", 1.0f);
    hp->attn_in_mult = get_f32_or(L, "falcon-h1.attention_in_multiplier", 1.0f);
    hp->attn_out_mult = get_f32_or(L, "falcon-h1.attention_out_multiplier", 1.0f);
    hp->key_mult = get_f32_or(L, "falcon-h1.key_multiplier", 1.0f);
    hp->ssm_in_mult = get_f32_or(L, "falcon-h1.ssm_in_multiplier", 1.0f);
    hp->ssm_out_mult = get_f32_or(L, "falcon-h1.ssm_out_multiplier", 1.0f);
    hp->mlp_gate_mult = get_f32_or(L, "falcon-h1.mlp_gate_multiplier", 1.0f);
    hp->mlp_down_mult = get_f32_or(L, "falcon-h1.mlp_down_multiplier", 1.0f);
    hp->has_multipliers = gguf_find(g, "falcon-h1.embedding_multiplier") != NULL;
    float lim[2];
    hp->dt_min = 0.0f;
    hp->dt_max = __builtin_inff();
    if (gguf_get_f32_arr(g, "falcon-h1.ssm.time_step_limit", lim, 2)) {
        hp->dt_min = lim[0];
        hp->dt_max = lim[1];
    }
    return FH1_OK;
}

static fh1_status bind_tensors(loader *L) {
    fh1_model *m = L->m;
    fh1_hparams *hp = &m->hp;
    const int D = hp->n_embd, F = hp->n_ff, E = hp->d_inner, H = hp->ssm_n_head;
    const int qd = hp->n_head * hp->head_dim, kvd = hp->n_head_kv * hp->head_dim;
    char name[96];

    const gguf_tensor *te = find(L, "token_embd.weight", 1);
    if (!te) return L->status;
    hp->n_vocab = (int)te->ne[1];
    if (!mat(L, &m->tok_embd, "token_embd.weight", hp->n_vocab, D, 1)) return L->status;
    if (!mat(L, &m->output, "output.weight", hp->n_vocab, D, 0)) {
        if (L->status) return L->status;
        m->output = m->tok_embd; /* tied head */
    }
    m->output_norm = vec(L, "output_norm.weight", D, 1);

    m->layers = calloc((size_t)hp->n_layer, sizeof(fh1_layer));
    if (!m->layers) return lerr(L, FH1_ERR_NOMEM, "out of memory");
    for (int i = 0; i < hp->n_layer && !L->status; i++) {
        fh1_layer *l = &m->layers[i];
#define N(fmt) (snprintf(name, sizeof(name), "blk.%d." fmt, i), name)
        l->attn_norm = vec(L, N("attn_norm.weight"), D, 1);
        mat(L, &l->wq, N("attn_q.weight"), qd, D, 1);
        mat(L, &l->wk, N("attn_k.weight"), kvd, D, 1);
        mat(L, &l->wv, N("attn_v.weight"), kvd, D, 1);
        mat(L, &l->wo, N("attn_output.weight"), D, qd, 1);
        l->bq = vec(L, N("attn_q.bias"), qd, 0);
        l->bk = vec(L, N("attn_k.bias"), kvd, 0);
        l->bv = vec(L, N("attn_v.bias"), kvd, 0);
        l->bo = vec(L, N("attn_output.bias"), D, 0);
        mat(L, &l->ssm_in, N("ssm_in.weight"), hp->in_proj_dim, D, 1);
        l->ssm_in_b = vec(L, N("ssm_in.bias"), hp->in_proj_dim, 0);
        l->mup_vec = vec(L, N("ssm_mup_vec"), hp->in_proj_dim, 0);
        l->conv_w = vec(L, N("ssm_conv1d.weight"), (int64_t)hp->conv_dim * hp->d_conv, 1);
        l->conv_b = vec(L, N("ssm_conv1d.bias"), hp->conv_dim, 0);
        l->dt_bias = vec(L, N("ssm_dt.bias"), H, 1);
        l->ssm_a = vec(L, N("ssm_a"), H, 1);
        l->ssm_d = vec(L, N("ssm_d"), H, 1);
        l->ssm_norm = vec(L, N("ssm_norm.weight"), E, 0);
        mat(L, &l->ssm_out, N("ssm_out.weight"), D, E, 1);
        l->ssm_out_b = vec(L, N("ssm_out.bias"), D, 0);
        l->ffn_norm = vec(L, N("ffn_norm"), D, 0);
        if (!l->ffn_norm && !L->status) l->ffn_norm = vec(L, N("ffn_pre_norm"), D, 0);
        if (!l->ffn_norm && !L->status) lerr(L, FH1_ERR_FORMAT, "missing tensor 'blk.%d.ffn_norm'", i);
        mat(L, &l->ffn_gate, N("ffn_gate.weight"), F, D, 1);
        mat(L, &l->ffn_up, N("ffn_up.weight"), F, D, 1);
        mat(L, &l->ffn_down, N("ffn_down.weight"), D, F, 1);
        l->ffn_gate_b = vec(L, N("ffn_gate.bias"), F, 0);
        l->ffn_up_b = vec(L, N("ffn_up.bias"), F, 0);
        l->ffn_down_b = vec(L, N("ffn_down.bias"), D, 0);
#undef N
        if (l->conv_w) {
            l->conv_wt = malloc(sizeof(float) * (size_t)hp->conv_dim * hp->d_conv);
            if (!l->conv_wt) return lerr(L, FH1_ERR_NOMEM, "out of memory");
            for (int ch = 0; ch < hp->conv_dim; ch++)
                for (int k = 0; k < hp->d_conv; k++) l->conv_wt[(size_t)k * hp->conv_dim + ch] = l->conv_w[(size_t)ch * hp->d_conv + k];
        }
        if (i == 0) hp->ssm_rms_norm = l->ssm_norm != NULL;
        else if ((l->ssm_norm != NULL) != hp->ssm_rms_norm && !L->status)
            lerr(L, FH1_ERR_FORMAT, "blk.%d: ssm_norm.weight present in some layers only", i);
    }
    if (L->status) return L->status;
    for (int64_t i = 0; i < m->gguf.n_tensors; i++) {
        if (!L->used[i] && strcmp(m->gguf.tensors[i].name, "rope_freqs") != 0)
            return lerr(L, FH1_ERR_FORMAT, "unexpected tensor '%s' for falcon-h1", m->gguf.tensors[i].name);
    }
    if (!hp->ssm_rms_norm) hp->norm_before_gate = 0;
    mark_bf16_activations(m);
    m->n_params = 0;
    for (int64_t i = 0; i < m->gguf.n_tensors; i++) {
        const gguf_tensor *t = &m->gguf.tensors[i];
        m->n_params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
    }
    return FH1_OK;
}

fh1_model_params fh1_model_default_params(void) {
    fh1_model_params p = {0};
    return p;
}

fh1_status fh1_model_load(const char *path, fh1_model_params params, fh1_model **out, char *err, size_t err_len) {
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(err, err_len, "%s: cannot open (%s)", path, strerror(errno));
        return FH1_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        snprintf(err, err_len, "%s: cannot read (empty or not a regular file)", path);
        close(fd);
        return FH1_ERR_IO;
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(err, err_len, "%s: mmap failed (%s)", path, strerror(errno));
        return FH1_ERR_IO;
    }
    fh1_model *m = calloc(1, sizeof(fh1_model));
    if (!m) { munmap(map, size); snprintf(err, err_len, "out of memory"); return FH1_ERR_NOMEM; }
    m->map = map;
    m->map_size = size;
    const int huge = fh1_advise_huge_pages(map, size);
    char perr[256];
    if (gguf_parse(&m->gguf, map, size, perr, sizeof(perr)) != 0) {
        snprintf(err, err_len, "%s: %s", path, perr);
        munmap(map, size);
        free(m);
        return FH1_ERR_FORMAT;
    }
    char lbuf[384] = {0};
    loader L = {m, lbuf, sizeof(lbuf), calloc((size_t)(m->gguf.n_tensors ? m->gguf.n_tensors : 1), 1), FH1_OK};
    if (!L.used) lerr(&L, FH1_ERR_NOMEM, "out of memory");
    if (!L.status) read_hparams(&L);
    if (!L.status) bind_tensors(&L);
    free(L.used);
    if (L.status) {
        snprintf(err, err_len, "%s: %s", path, lbuf);
        fh1_model_free(m);
        return L.status;
    }
    madvise(map, size, MADV_WILLNEED);
    /* with huge pages a fault reads 2-4 MiB and WILLNEED no longer reads ahead: a thread faults the
     * file in, in order, ahead of the first tokens (cold 3 GB file: 2.5 s to the first 16 tokens
     * without huge pages, 3.0-4.5 s with them alone, 1.1-2.8 s with this thread) */
    if (huge) m->reader_started = pthread_create(&m->reader, NULL, fault_in, m) == 0;
    if (params.prefault) {
        volatile uint8_t sink = 0;
        for (size_t o = 0; o < size; o += 4096) sink ^= ((const uint8_t *)map)[o];
        (void)sink;
    }
    *out = m;
    return FH1_OK;
}

void fh1_model_free(fh1_model *m) {
    if (!m) return;
    if (m->reader_started) {
        __atomic_store_n(&m->reader_stop, 1, __ATOMIC_RELAXED);
        pthread_join(m->reader, NULL);
    }
    if (m->layers)
        for (int i = 0; i < m->hp.n_layer; i++) free(m->layers[i].conv_wt);
    free(m->layers);
    gguf_free(&m->gguf);
    if (m->map) munmap(m->map, m->map_size);
    free(m);
}

void fh1_model_get_info(const fh1_model *m, fh1_model_info *info) {
    const fh1_hparams *hp = &m->hp;
    memset(info, 0, sizeof(*info));
    info->n_vocab = hp->n_vocab;
    info->n_embd = hp->n_embd;
    info->n_layer = hp->n_layer;
    info->n_ctx_train = hp->n_ctx_train;
    info->n_ff = hp->n_ff;
    info->n_head = hp->n_head;
    info->n_head_kv = hp->n_head_kv;
    info->head_dim = hp->head_dim;
    info->ssm_d_inner = hp->d_inner;
    info->ssm_n_head = hp->ssm_n_head;
    info->ssm_head_dim = hp->ssm_head_dim;
    info->ssm_d_state = hp->d_state;
    info->ssm_n_group = hp->n_group;
    info->ssm_d_conv = hp->d_conv;
    info->ssm_rms_norm = hp->ssm_rms_norm;
    info->ssm_norm_before_gate = hp->norm_before_gate;
    info->has_multipliers = hp->has_multipliers;
    info->rope_theta = hp->rope_theta;
    info->rms_eps = hp->rms_eps;
    info->n_params = m->n_params;
    info->weight_bytes = m->map_size;
    info->weight_type = m->layers ? m->layers[0].ffn_up.type : m->tok_embd.type;
}

// csrc/metal/backend.mm — the Metal backend: host side of kernels.metal, in the order of
// csrc/cuda/backend.cu (enqueue_forward there, encode_forward here). One command buffer per
// ubatch, one serial compute encoder (each dispatch sees the previous one's writes). Weights are
// the mmapped file itself where Metal allows it (page-aligned no-copy buffer), else copied once.
#import <Foundation/Foundation.h>
#import <Metal/Metal.h>

#include <dlfcn.h>
#include <unistd.h>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <unordered_map>
#include <vector>

extern "C" {
#include "../model.h"
#include "backend.h"
}
#include "args.h"

namespace {

struct bref {
    id<MTLBuffer> b;
    NSUInteger off;
};

const char *kKernels[] = {"k_matmul", "k_gemv16", "k_gemv_quant", "k_embed", "k_rmsnorm", "k_post_ssm", "k_post_attn", "k_conv", "k_conv_state",
                          "k_scan", "k_ssd_cb", "k_ssd_state", "k_scan_carry", "k_ssd_out", "k_gate", "k_attn", "k_residual2", "k_swiglu",
                          "k_residual1", "k_scale", "k_argmax"};

// the SSD prefill scan (kernels.metal): chunks of SSD_Q tokens (args.h), from SSD_MIN_T tokens on, at
// most SSD_CHUNKS chunks a launch group (the states buffer's size); its tiles need 256-thread threadgroups
constexpr int SSD_MIN_T = 128, SSD_CHUNKS = 32;

// kernels.metal with args.h pasted in (a runtime-compiled library cannot resolve includes)
std::string read_file(const std::string &path) {
    FILE *f = fopen(path.c_str(), "rb");
    if (!f) return "";
    std::string s;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    fclose(f);
    return s;
}

std::string kernel_source(std::string *where) {
    std::vector<std::string> dirs;
    if (const char *e = getenv("FALCON_H1_METAL_SOURCE")) dirs.push_back(e);
    Dl_info info;
    if (dladdr((const void *)&fh1_metal_new, &info) && info.dli_fname) { // build/Release/falcon_h1.node → csrc/metal
        std::string p = info.dli_fname;
        p = p.substr(0, p.find_last_of('/'));
        dirs.push_back(p + "/../../csrc/metal");
    }
    for (const std::string &d : dirs) {
        std::string src = read_file(d + "/kernels.metal"), args = read_file(d + "/args.h");
        const size_t at = src.find("#include \"args.h\"");
        if (src.empty() || args.empty() || at == std::string::npos) continue;
        *where = d;
        return src.substr(0, at) + args + src.substr(at + strlen("#include \"args.h\""));
    }
    return "";
}

} // namespace

struct fh1_metal {
    const fh1_model *m;
    int n_ctx, n_batch, kv_f16;
    char name[256];
    id<MTLDevice> dev;
    id<MTLCommandQueue> queue;
    std::unordered_map<std::string, id<MTLComputePipelineState>> pipes;
    id<MTLBuffer> weights; // no-copy over the whole mapping, or nil
    std::unordered_map<const void *, id<MTLBuffer>> copies;
    id<MTLBuffer> k_cache, v_cache, conv_state, ssm_state;
    id<MTLBuffer> tok, x, u, us, ua, zx, xbc, dt, y, q, k, v, att, so, ao, g, up, fo, hin, logits, token, dummy;
    // SSD scan (FALCON_H1_METAL_SSD=1, opt-in until a Mac has run it): chunk states, chunk decays,
    // C·Bᵀ per chunk and group; scan_cb nil: the recurrence only
    id<MTLBuffer> scan_cs, scan_decay, scan_cb;
    int last_rows;
};

// where a weight (or small f32 vector) of n bytes lives on the GPU side
static bref wref(fh1_metal *c, const void *p, size_t n) {
    if (!p) return {c->dummy, 0};
    const uint8_t *base = (const uint8_t *)c->m->map, *q = (const uint8_t *)p;
    if (c->weights && q >= base && q + n <= base + c->m->map_size) return {c->weights, (NSUInteger)(q - base)};
    auto it = c->copies.find(p);
    if (it != c->copies.end()) return {it->second, 0};
    id<MTLBuffer> b = [c->dev newBufferWithBytes:p length:(n ? n : 4) options:MTLResourceStorageModeShared];
    c->copies[p] = b;
    return {b, 0};
}

static bref mref(fh1_metal *c, const fh1_matrix &w) { return wref(c, w.data, w.row_bytes * (size_t)w.rows); }
static bref sref(id<MTLBuffer> b, size_t off_bytes = 0) { return {b, (NSUInteger)off_bytes}; }

static void bind(id<MTLComputeCommandEncoder> e, int idx, bref r) { [e setBuffer:r.b offset:r.off atIndex:idx]; }
template <typename A> static void bind_args(id<MTLComputeCommandEncoder> e, int idx, const A &a) { [e setBytes:&a length:sizeof(A) atIndex:idx]; }
// threads per threadgroup are capped by what the pipeline allows (every kernel loops or counts
// its simdgroups, so fewer threads only means less parallelism)
static void run(fh1_metal *c, id<MTLComputeCommandEncoder> e, const char *k, MTLSize groups, NSUInteger threads) {
    id<MTLComputePipelineState> p = c->pipes[k];
    [e setComputePipelineState:p];
    [e dispatchThreadgroups:groups threadsPerThreadgroup:MTLSizeMake(MIN(threads, p.maxTotalThreadsPerThreadgroup), 1, 1)];
}
// one simdgroup per item (a weight row, a (head, p) pair): as many threadgroups as needed for
// the simdgroups the pipeline allows per threadgroup
static void run_per_simdgroup(fh1_metal *c, id<MTLComputeCommandEncoder> e, const char *k, size_t items, size_t y, NSUInteger want_sg) {
    id<MTLComputePipelineState> p = c->pipes[k];
    const NSUInteger sg = MAX((NSUInteger)1, MIN(want_sg, p.maxTotalThreadsPerThreadgroup / 32));
    [e setComputePipelineState:p];
    [e dispatchThreadgroups:MTLSizeMake((items + sg - 1) / sg, y, 1) threadsPerThreadgroup:MTLSizeMake(32 * sg, 1, 1)];
}
static MTLSize g1(size_t n) { return MTLSizeMake(n, 1, 1); }
static size_t cdiv(size_t a, size_t b) { return (a + b - 1) / b; }

static bool is16(int t) { return t == 0 || t == 1 || t == 30; }

// y[t][r] = W[r]·x[t] (the choice of kernels as in the CUDA matmul, without tensor cores)
static void matmul(fh1_metal *c, id<MTLComputeCommandEncoder> e, const fh1_matrix &W, bref x, int T, bref y) {
    mat_args a = {(fh1_u64)W.row_bytes, W.rows, W.cols, W.type, T};
    bind(e, 0, mref(c, W));
    bind(e, 1, x);
    bind(e, 2, y);
    bind_args(e, 3, a);
    if (T == 1 && is16(W.type) && W.cols % 4 == 0) run_per_simdgroup(c, e, "k_gemv16", W.rows, 1, 4);
    else if (T == 1 && !is16(W.type) && W.cols % 16 == 0) run_per_simdgroup(c, e, "k_gemv_quant", W.rows, 1, 4);
    else run_per_simdgroup(c, e, "k_matmul", W.rows, cdiv(T, 8), 4);
}

extern "C" int fh1_metal_available(void) {
    @autoreleasepool {
        id<MTLDevice> d = MTLCreateSystemDefaultDevice();
        return d != nil;
    }
}

extern "C" void fh1_metal_free(fh1_metal *c) { delete c; } // ARC releases every buffer and pipeline

extern "C" fh1_metal *fh1_metal_new(const fh1_model *m, int n_ctx, int n_batch, int kv_f16, char *err, size_t err_len) {
    @autoreleasepool {
        fh1_metal *c = new fh1_metal();
        c->m = m;
        c->n_ctx = n_ctx;
        c->n_batch = n_batch;
        c->kv_f16 = kv_f16;
        c->dev = MTLCreateSystemDefaultDevice();
        if (!c->dev) {
            snprintf(err, err_len, "no Metal device");
            delete c;
            return nullptr;
        }
        snprintf(c->name, sizeof c->name, "%s", c->dev.name.UTF8String);
        const fh1_hparams *hp = &m->hp;
        if (hp->d_conv > 9 || hp->d_state > 256 || hp->head_dim > 256) {
            snprintf(err, err_len, "the Metal backend supports d_conv <= 9, d_state <= 256, head_dim <= 256");
            delete c;
            return nullptr;
        }
        std::string where, src = kernel_source(&where);
        if (src.empty()) {
            snprintf(err, err_len, "cannot find csrc/metal/kernels.metal next to the addon (set FALCON_H1_METAL_SOURCE to its folder)");
            delete c;
            return nullptr;
        }
        MTLCompileOptions *opt = [MTLCompileOptions new];
        opt.fastMathEnabled = NO; // exp, division and sqrt as IEEE as Metal gives them: the oracle bounds depend on it
        NSError *e = nil;
        id<MTLLibrary> lib = [c->dev newLibraryWithSource:[NSString stringWithUTF8String:src.c_str()] options:opt error:&e];
        if (!lib) {
            snprintf(err, err_len, "Metal: compiling %s/kernels.metal failed: %s", where.c_str(), e ? e.localizedDescription.UTF8String : "?");
            delete c;
            return nullptr;
        }
        for (const char *k : kKernels) {
            id<MTLFunction> f = [lib newFunctionWithName:[NSString stringWithUTF8String:k]];
            id<MTLComputePipelineState> p = f ? [c->dev newComputePipelineStateWithFunction:f error:&e] : nil;
            if (!p) {
                snprintf(err, err_len, "Metal: kernel %s: %s", k, e ? e.localizedDescription.UTF8String : "not found");
                delete c;
                return nullptr;
            }
            c->pipes[k] = p;
        }
        c->queue = [c->dev newCommandQueue];
        // the weights: the mapping itself when it is page-aligned and within the buffer limit
        const size_t page = (size_t)getpagesize(), len = (m->map_size + page - 1) / page * page;
        if (((uintptr_t)m->map % page) == 0 && len <= c->dev.maxBufferLength)
            c->weights = [c->dev newBufferWithBytesNoCopy:m->map length:len options:MTLResourceStorageModeShared deallocator:nil];
        const size_t B = n_batch, D = hp->n_embd, kvd = (size_t)hp->n_head_kv * hp->head_dim, qd = (size_t)hp->n_head * hp->head_dim;
        auto buf = [&](size_t bytes) { return [c->dev newBufferWithLength:(bytes ? bytes : 4) options:MTLResourceStorageModeShared]; };
        const size_t kvb = (size_t)hp->n_layer * n_ctx * kvd * (kv_f16 ? 2 : 4);
        c->k_cache = buf(kvb);
        c->v_cache = buf(kvb);
        c->conv_state = buf((size_t)hp->n_layer * (hp->d_conv - 1) * hp->conv_dim * 4);
        c->ssm_state = buf((size_t)hp->n_layer * hp->d_inner * hp->d_state * 4);
        c->tok = buf(B * 4);
        c->x = buf(B * D * 4), c->u = buf(B * D * 4), c->us = buf(B * D * 4), c->ua = buf(B * D * 4);
        c->zx = buf(B * hp->in_proj_dim * 4), c->xbc = buf(B * hp->conv_dim * 4), c->dt = buf(B * hp->ssm_n_head * 4), c->y = buf(B * hp->d_inner * 4);
        c->q = buf(B * qd * 4), c->k = buf(B * kvd * 4), c->v = buf(B * kvd * 4), c->att = buf(B * qd * 4);
        c->so = buf(B * D * 4), c->ao = buf(B * D * 4), c->g = buf(B * hp->n_ff * 4), c->up = buf(B * hp->n_ff * 4), c->fo = buf(B * D * 4);
        c->hin = buf(B * D * 4), c->logits = buf(B * (size_t)hp->n_vocab * 4), c->token = buf(4), c->dummy = buf(16);
        for (id<MTLBuffer> b : {c->k_cache, c->v_cache, c->conv_state, c->ssm_state, c->logits, c->g, c->up, c->dummy})
            if (!b) {
                snprintf(err, err_len, "Metal: out of memory for a context of %d tokens", n_ctx);
                delete c;
                return nullptr;
            }
        const char *ssd_env = getenv("FALCON_H1_METAL_SSD");
        bool ssd = ssd_env && !strcmp(ssd_env, "1") && B >= (size_t)SSD_MIN_T;
        for (const char *k : {"k_ssd_cb", "k_ssd_state", "k_scan_carry", "k_ssd_out"})
            if (c->pipes[k].maxTotalThreadsPerThreadgroup < 256) ssd = false;
        if (ssd) {
            const size_t nc = MIN((size_t)SSD_CHUNKS, cdiv(B, SSD_Q));
            c->scan_cs = buf(nc * hp->d_inner * hp->d_state * 4);
            c->scan_decay = buf(nc * hp->ssm_n_head * 4);
            c->scan_cb = buf(nc * hp->n_group * SSD_Q * SSD_Q * 4);
            if (!c->scan_cs || !c->scan_decay) c->scan_cb = nil; // then the recurrence, which needs no scratch
        }
        memset(c->conv_state.contents, 0, c->conv_state.length);
        memset(c->ssm_state.contents, 0, c->ssm_state.length);
        return c;
    }
}

// prefill scan in the SSD form (csrc/cuda/backend.cu scan_ssd): segments of up to SSD_CHUNKS
// chunks, each starting from the state the one before left in the cache
static void scan_ssd(fh1_metal *c, id<MTLComputeCommandEncoder> e, const fh1_layer *l, size_t ssm_off, int T) {
    const fh1_hparams *hp = &c->m->hp;
    const int H = hp->ssm_n_head, P = hp->ssm_head_dim, N = hp->d_state, G = hp->n_group, E = hp->d_inner, Cd = hp->conv_dim;
    const size_t pt = cdiv(P, 64), nt = cdiv(N, 64);
    for (int t0 = 0; t0 < T; t0 += SSD_CHUNKS * SSD_Q) {
        const int Ts = MIN(T - t0, SSD_CHUNKS * SSD_Q), C = (Ts + SSD_Q - 1) / SSD_Q;
        const scan_args sa = {Ts, H, P, N, G, E, Cd};
        const bref xbc = sref(c->xbc, (size_t)t0 * Cd * 4), dt = sref(c->dt, (size_t)t0 * H * 4);
        bind(e, 0, xbc), bind(e, 1, sref(c->scan_cb)), bind_args(e, 2, sa);
        run(c, e, "k_ssd_cb", MTLSizeMake(C, G, 1), 256);
        bind(e, 0, xbc), bind(e, 1, dt), bind(e, 2, wref(c, l->ssm_a, H * 4)), bind(e, 3, sref(c->ssm_state, ssm_off));
        bind(e, 4, sref(c->scan_cs)), bind(e, 5, sref(c->scan_decay)), bind_args(e, 6, sa);
        run(c, e, "k_ssd_state", MTLSizeMake(pt * nt, H, C), 256);
        bind(e, 0, sref(c->scan_cs)), bind(e, 1, sref(c->scan_decay)), bind(e, 2, sref(c->ssm_state, ssm_off)), bind_args(e, 3, carry_args{C, H, P * N});
        run(c, e, "k_scan_carry", g1(cdiv((size_t)H * P * N, 256)), 256);
        bind(e, 0, xbc), bind(e, 1, dt), bind(e, 2, wref(c, l->ssm_a, H * 4)), bind(e, 3, wref(c, l->ssm_d, H * 4)), bind(e, 4, sref(c->scan_cb));
        bind(e, 5, sref(c->scan_cs)), bind(e, 6, sref(c->y, (size_t)t0 * E * 4)), bind_args(e, 7, sa);
        run(c, e, "k_ssd_out", MTLSizeMake(pt, H, C), 256);
    }
}

// The dispatches of one ubatch (csrc/cuda/backend.cu enqueue_forward, without the decode graph)
static void encode_forward(fh1_metal *c, id<MTLComputeCommandEncoder> e, int T, int pos0, int logit_rows, bool greedy) {
    const fh1_model *m = c->m;
    const fh1_hparams *hp = &m->hp;
    const int D = hp->n_embd, E = hp->d_inner, H = hp->ssm_n_head, Din = hp->in_proj_dim, Cd = hp->conv_dim, F = hp->n_ff;
    const int dh = hp->head_dim, qd = hp->n_head * dh, kvd = hp->n_head_kv * dh, K = hp->d_conv, N = hp->d_state;
    const bool ssm_scaled = hp->ssm_in_mult != 1.0f, attn_scaled = hp->attn_in_mult != 1.0f;
    const mat_args em = {(fh1_u64)m->tok_embd.row_bytes, m->tok_embd.rows, m->tok_embd.cols, m->tok_embd.type, T};
    bind(e, 0, mref(c, m->tok_embd)), bind(e, 1, sref(c->tok)), bind(e, 2, sref(c->x)), bind_args(e, 3, em), bind_args(e, 4, embed_args{D, hp->embedding_mult});
    run(c, e, "k_embed", g1(T), 256);
    for (int il = 0; il < hp->n_layer; il++) {
        const fh1_layer *l = &m->layers[il];
        const size_t conv_off = (size_t)il * (K - 1) * Cd * 4, ssm_off = (size_t)il * E * N * 4;
        // attn_norm: one normalised input for both branches (scaled copies for the µP multipliers)
        bind(e, 0, sref(c->x)), bind(e, 1, wref(c, l->attn_norm, D * 4)), bind(e, 2, sref(c->u)), bind(e, 3, sref(c->us)), bind(e, 4, sref(c->ua));
        bind_args(e, 5, norm_args{D, ssm_scaled, attn_scaled, hp->rms_eps, hp->ssm_in_mult, hp->attn_in_mult});
        run(c, e, "k_rmsnorm", g1(T), 256);
        const bref us = sref(ssm_scaled ? c->us : c->u), ua = sref(attn_scaled ? c->ua : c->u);
        // input projections of both branches
        matmul(c, e, l->ssm_in, us, T, sref(c->zx));
        matmul(c, e, l->wq, ua, T, sref(c->q));
        matmul(c, e, l->wk, ua, T, sref(c->k));
        matmul(c, e, l->wv, ua, T, sref(c->v));
        const post_args pa = {Din, E, Cd, H, qd, kvd, dh, hp->n_head, hp->n_head_kv, c->n_ctx, il, c->kv_f16, T, pos0,
                              l->ssm_in_b != nullptr, l->mup_vec != nullptr, l->bq != nullptr, l->bk != nullptr, l->bv != nullptr,
                              hp->key_mult, hp->rope_theta, hp->dt_min, hp->dt_max};
        bind(e, 0, sref(c->zx)), bind(e, 1, sref(c->dt)), bind(e, 2, wref(c, l->ssm_in_b, Din * 4)), bind(e, 3, wref(c, l->mup_vec, Din * 4));
        bind(e, 4, wref(c, l->dt_bias, H * 4)), bind_args(e, 5, pa);
        run(c, e, "k_post_ssm", g1(cdiv((size_t)T * Din, 256)), 256);
        bind(e, 0, sref(c->q)), bind(e, 1, sref(c->k)), bind(e, 2, sref(c->v)), bind(e, 3, wref(c, l->bq, qd * 4)), bind(e, 4, wref(c, l->bk, kvd * 4));
        bind(e, 5, wref(c, l->bv, kvd * 4)), bind(e, 6, sref(c->k_cache)), bind(e, 7, sref(c->v_cache)), bind_args(e, 8, pa);
        run(c, e, "k_post_attn", g1((size_t)T * (hp->n_head + hp->n_head_kv)), 64);
        // Mamba-2: conv with state → scan → gate/norm
        const conv_args ca = {Din, E, Cd, K, T, l->conv_b != nullptr};
        bind(e, 0, sref(c->zx)), bind(e, 1, wref(c, l->conv_w, (size_t)Cd * K * 4)), bind(e, 2, wref(c, l->conv_b, Cd * 4));
        bind(e, 3, sref(c->conv_state, conv_off)), bind(e, 4, sref(c->xbc)), bind_args(e, 5, ca);
        run(c, e, "k_conv", g1(cdiv((size_t)T * Cd, 256)), 256);
        bind(e, 0, sref(c->zx)), bind(e, 1, sref(c->conv_state, conv_off)), bind_args(e, 2, ca);
        run(c, e, "k_conv_state", g1(cdiv(Cd, 256)), 256);
        if (c->scan_cb && T >= SSD_MIN_T) {
            scan_ssd(c, e, l, ssm_off, T);
        } else {
            bind(e, 0, sref(c->xbc)), bind(e, 1, sref(c->dt)), bind(e, 2, wref(c, l->ssm_a, H * 4)), bind(e, 3, wref(c, l->ssm_d, H * 4));
            bind(e, 4, sref(c->ssm_state, ssm_off)), bind(e, 5, sref(c->y)), bind_args(e, 6, scan_args{T, H, hp->ssm_head_dim, N, hp->n_group, E, Cd});
            run_per_simdgroup(c, e, "k_scan", (size_t)H * hp->ssm_head_dim, 1, 8);
        }
        bind(e, 0, sref(c->y)), bind(e, 1, sref(c->zx)), bind(e, 2, wref(c, l->ssm_norm, E * 4));
        bind_args(e, 3, gate_args{Din, E, hp->n_group, hp->ssm_rms_norm, hp->norm_before_gate, hp->rms_eps});
        run(c, e, "k_gate", g1((size_t)T * hp->n_group), 256);
        // attention over the KV cache
        bind(e, 0, sref(c->q)), bind(e, 1, sref(c->k_cache)), bind(e, 2, sref(c->v_cache)), bind(e, 3, sref(c->att));
        bind_args(e, 4, attn_args{T, pos0, hp->n_head, hp->n_head_kv, dh, c->n_ctx, il, c->kv_f16});
        run(c, e, "k_attn", g1((size_t)T * hp->n_head), 32 * 8);
        // output projections, then x' = x + (s + a)
        matmul(c, e, l->ssm_out, sref(c->y), T, sref(c->so));
        matmul(c, e, l->wo, sref(c->att), T, sref(c->ao));
        bind(e, 0, sref(c->x)), bind(e, 1, sref(c->so)), bind(e, 2, wref(c, l->ssm_out_b, D * 4)), bind(e, 3, sref(c->ao)), bind(e, 4, wref(c, l->bo, D * 4));
        bind_args(e, 5, residual2_args{D, T, l->ssm_out_b != nullptr, l->bo != nullptr, hp->ssm_out_mult, hp->attn_out_mult});
        run(c, e, "k_residual2", g1(cdiv((size_t)D * T, 256)), 256);
        // SwiGLU
        bind(e, 0, sref(c->x)), bind(e, 1, wref(c, l->ffn_norm, D * 4)), bind(e, 2, sref(c->u)), bind(e, 3, sref(c->dummy)), bind(e, 4, sref(c->dummy));
        bind_args(e, 5, norm_args{D, 0, 0, hp->rms_eps, 1.0f, 1.0f});
        run(c, e, "k_rmsnorm", g1(T), 256);
        matmul(c, e, l->ffn_gate, sref(c->u), T, sref(c->g));
        matmul(c, e, l->ffn_up, sref(c->u), T, sref(c->up));
        bind(e, 0, sref(c->g)), bind(e, 1, sref(c->up)), bind(e, 2, wref(c, l->ffn_gate_b, F * 4)), bind(e, 3, wref(c, l->ffn_up_b, F * 4));
        bind_args(e, 4, swiglu_args{F, T, l->ffn_gate_b != nullptr, l->ffn_up_b != nullptr, hp->mlp_gate_mult});
        run(c, e, "k_swiglu", g1(cdiv((size_t)F * T, 256)), 256);
        matmul(c, e, l->ffn_down, sref(c->up), T, sref(c->fo));
        bind(e, 0, sref(c->x)), bind(e, 1, sref(c->fo)), bind(e, 2, wref(c, l->ffn_down_b, D * 4));
        bind_args(e, 3, residual1_args{D, T, l->ffn_down_b != nullptr, hp->mlp_down_mult});
        run(c, e, "k_residual1", g1(cdiv((size_t)D * T, 256)), 256);
    }
    if (!logit_rows) return;
    const int first = T - logit_rows;
    bind(e, 0, sref(c->x, (size_t)first * D * 4)), bind(e, 1, wref(c, m->output_norm, D * 4)), bind(e, 2, sref(c->hin));
    bind(e, 3, sref(c->dummy)), bind(e, 4, sref(c->dummy)), bind_args(e, 5, norm_args{D, 0, 0, hp->rms_eps, 1.0f, 1.0f});
    run(c, e, "k_rmsnorm", g1(logit_rows), 256);
    matmul(c, e, m->output, sref(c->hin), logit_rows, sref(c->logits));
    const int nl = logit_rows * hp->n_vocab;
    if (hp->lm_head_mult != 1.0f) {
        bind(e, 0, sref(c->logits)), bind_args(e, 1, scale_args{nl, hp->lm_head_mult});
        run(c, e, "k_scale", g1(cdiv(nl, 256)), 256);
    }
    if (greedy) {
        bind(e, 0, sref(c->logits, (size_t)(logit_rows - 1) * hp->n_vocab * 4)), bind(e, 1, sref(c->token)), bind_args(e, 2, argmax_args{hp->n_vocab});
        run(c, e, "k_argmax", g1(1), 1024);
    }
}

extern "C" int fh1_metal_forward(fh1_metal *c, const int32_t *tokens, int T, int pos0, float *out, int logits_all, int greedy, int32_t *token,
                                 char *err, size_t err_len) {
    @autoreleasepool {
        const int V = c->m->hp.n_vocab;
        const int rows = (out || greedy) ? (logits_all && !greedy ? T : 1) : 0;
        memcpy(c->tok.contents, tokens, sizeof(int32_t) * T);
        id<MTLCommandBuffer> cb = [c->queue commandBuffer];
        id<MTLComputeCommandEncoder> e = [cb computeCommandEncoder];
        encode_forward(c, e, T, pos0, rows, greedy != 0);
        [e endEncoding];
        [cb commit];
        [cb waitUntilCompleted];
        if (cb.status == MTLCommandBufferStatusError) {
            snprintf(err, err_len, "Metal: %s", cb.error ? cb.error.localizedDescription.UTF8String : "command buffer failed");
            return 0;
        }
        c->last_rows = rows;
        if (greedy) *token = *(const int32_t *)c->token.contents;
        else if (rows && out) memcpy(out, c->logits.contents, sizeof(float) * (size_t)rows * V);
        return 1;
    }
}

extern "C" void fh1_metal_logits_row(fh1_metal *c, float *out) {
    const int V = c->m->hp.n_vocab;
    memcpy(out, (const float *)c->logits.contents + (size_t)(c->last_rows > 0 ? c->last_rows - 1 : 0) * V, sizeof(float) * V);
}

extern "C" void fh1_metal_reset(fh1_metal *c) {
    memset(c->conv_state.contents, 0, c->conv_state.length);
    memset(c->ssm_state.contents, 0, c->ssm_state.length);
}

// shared storage: the state is plain host memory between command buffers
static int copy_state(fh1_metal *c, void *k_rows, void *v_rows, float *conv, float *ssm, int n_past, bool down) {
    const fh1_hparams *hp = &c->m->hp;
    const size_t es = c->kv_f16 ? 2 : 4, kvd = (size_t)hp->n_head_kv * hp->head_dim, row = (size_t)n_past * kvd * es, layer = (size_t)c->n_ctx * kvd * es;
    for (int il = 0; il < hp->n_layer; il++) {
        uint8_t *dk = (uint8_t *)c->k_cache.contents + il * layer, *dv = (uint8_t *)c->v_cache.contents + il * layer;
        uint8_t *hk = (uint8_t *)k_rows + il * layer, *hv = (uint8_t *)v_rows + il * layer;
        memcpy(down ? hk : dk, down ? dk : hk, row);
        memcpy(down ? hv : dv, down ? dv : hv, row);
    }
    memcpy(down ? (void *)conv : c->conv_state.contents, down ? c->conv_state.contents : (void *)conv, c->conv_state.length);
    memcpy(down ? (void *)ssm : c->ssm_state.contents, down ? c->ssm_state.contents : (void *)ssm, c->ssm_state.length);
    return 1;
}

extern "C" int fh1_metal_get_state(fh1_metal *c, void *k, void *v, float *conv, float *ssm, int n_past) { return copy_state(c, k, v, conv, ssm, n_past, true); }
extern "C" int fh1_metal_set_state(fh1_metal *c, const void *k, const void *v, const float *conv, const float *ssm, int n_past) {
    return copy_state(c, (void *)k, (void *)v, (float *)conv, (float *)ssm, n_past, false);
}
extern "C" const char *fh1_metal_device_name(fh1_metal *c) { return c->name; }

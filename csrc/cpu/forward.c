/* csrc/cpu/forward.c — the whole Falcon-H1 forward pass on the CPU, in reading order:
 *
 *   embed → for each layer [ attn_norm → (Mamba-2 mixer ‖ attention) → add → ffn_norm → SwiGLU → add ]
 *         → final norm → head
 *
 * Every thread of the pool runs this function; each op takes its share (fh1_split) and threads
 * meet at a barrier where the next op reads what the previous one wrote. Kernels are in simd_*.c;
 * small elementwise steps are inline here. Numerics follow HF transformers' float32 path
 * (spec: falcon-h1-model.md §3-§5): multipliers as f32 scalars, f32 accumulation. */
#include "../context.h"
#include "../../quant/blocks.h"

#include <math.h>
#include <string.h>

typedef struct {
    fh1_context *ctx;
    const int32_t *tokens;
    int T, pos0;
    float *out;
    int logits_all;
    int embed, l0, l1; /* embed the tokens first; run layers [l0, l1) */
} fwd_job;

static inline float softplus(float v) { return v > 20.0f ? v : log1pf(expf(v)); }

/* out = w ⊙ (v / sqrt(mean(v²) + eps)); the mean is accumulated in double (torch's reduction is
 * more accurate than a naive f32 sum). */
static void rmsnorm(const float *v, const float *w, float *out, int n, float eps) {
    double ss = 0.0;
    for (int i = 0; i < n; i++) ss += (double)v[i] * v[i];
    const float r = 1.0f / sqrtf((float)(ss / n) + eps);
    for (int i = 0; i < n; i++) out[i] = w[i] * (v[i] * r);
}

/* Row-split matmul: this thread's share of W's rows, in multiples of 4 so tiles stay whole. */
static void mm(const fh1_context *c, const fh1_matrix *W, const float *x, int T, float *y, int ith, int nth) {
    int b, e;
    fh1_split((W->rows + 3) / 4, ith, nth, &b, &e);
    b *= 4;
    e = e * 4 < W->rows ? e * 4 : W->rows;
    if (b < e) c->simd->matmul(W, x, T, W->cols, y, W->rows, b, e, c->gemm_scratch + (size_t)ith * c->gemm_scratch_floats);
}

static void rope(float *v, int n_heads, int dh, const float *cs, const float *sn) {
    const int half = dh / 2;
    for (int h = 0; h < n_heads; h++) {
        float *p = v + h * dh;
        for (int i = 0; i < half; i++) {
            const float a = p[i], b = p[i + half];
            p[i] = a * cs[i] - b * sn[i];
            p[i + half] = b * cs[i] + a * sn[i];
        }
    }
}

/* Token t's inputs to head h's recurrence: Δ·B into dtB[0..N), and exp(Δ·A) returned. */
static float scan_token_inputs(const fh1_context *c, const fh1_layer *l, int t, int h, int g, float *dtB) {
    const fh1_hparams *hp = &c->model->hp;
    const int N = hp->d_state;
    const float *B = c->xbc + (size_t)t * hp->conv_dim + hp->d_inner + g * N;
    const float delta = c->dt[(size_t)t * hp->ssm_n_head + h];
    for (int n = 0; n < N; n++) dtB[n] = delta * B[n];
    return expf(delta * l->ssm_a[h]);
}

/* Prefill of head h through the ISA's ssm_scan_rows (which takes this state size), FH1_SCAN_TB
 * tokens a call. dtB: this thread's [FH1_SCAN_TB][N] scratch. */
static void scan_rows_head(fh1_context *c, const fh1_layer *l, float *S, int h, int g, int T, float *dtB) {
    const fh1_hparams *hp = &c->model->hp;
    const int P = hp->ssm_head_dim, N = hp->d_state, E = hp->d_inner, Cd = hp->conv_dim;
    for (int t0 = 0; t0 < T; t0 += FH1_SCAN_TB) {
        const int n = T - t0 < FH1_SCAN_TB ? T - t0 : FH1_SCAN_TB;
        float dA[FH1_SCAN_TB];
        for (int t = 0; t < n; t++) dA[t] = scan_token_inputs(c, l, t0 + t, h, g, dtB + (size_t)t * N);
        const float *xbc = c->xbc + (size_t)t0 * Cd;
        c->simd->ssm_scan_rows(S, P, N, n, dtB, xbc + E + hp->n_group * N + g * N, Cd, xbc + h * P, Cd, dA, l->ssm_d[h], c->y + (size_t)t0 * E + h * P, E);
    }
}

/* Mamba-2 recurrence (spec §4.4) for this thread's heads over the T tokens of the ubatch. */
static void ssm_scan(fh1_context *c, const fh1_layer *l, float *state, int T, int ith, int nth) {
    const fh1_hparams *hp = &c->model->hp;
    const int H = hp->ssm_n_head, P = hp->ssm_head_dim, N = hp->d_state, E = hp->d_inner, Cd = hp->conv_dim;
    const int heads_per_group = H / hp->n_group;
    float *dtB = c->dtB + (size_t)ith * FH1_SCAN_TB * N;
    /* several tokens: the state rows in registers where the ISA has a kernel for this state size */
    const int rows = T > 1 && c->simd->ssm_scan_rows && c->simd->ssm_scan_rows(NULL, P, N, 0, NULL, NULL, 0, NULL, 0, NULL, 0.0f, NULL, 0);
    int h0, h1;
    fh1_split(H, ith, nth, &h0, &h1);
    for (int h = h0; h < h1; h++) {
        const int g = h / heads_per_group;
        float *S = state + (size_t)h * P * N;
        if (rows) {
            scan_rows_head(c, l, S, h, g, T, dtB);
            continue;
        }
        for (int t = 0; t < T; t++) {
            const float *xbc = c->xbc + (size_t)t * Cd;
            const float *x = xbc + h * P;
            const float *C = xbc + E + hp->n_group * N + g * N;
            const float dA = scan_token_inputs(c, l, t, h, g, dtB);
            float *y = c->y + (size_t)t * E + h * P;
            for (int p = 0; p < P; p++) y[p] = c->simd->ssm_row(S + (size_t)p * N, dtB, C, dA, x[p], N) + l->ssm_d[h] * x[p];
        }
    }
}

/* The same recurrence in the chunked SSD form (spec §4.7) for long prefills: per chunk of Q
 * tokens the work is four small matrix products run on the blocked GEMM,
 *   CB = C·Bᵀ,  Y = (L ∘ CB)·X̃ + exp(α)·(C·Sᵀ) + D·x,  S ← exp(α_end)·S + (w ∘ X̃)ᵀ·B,
 * with L[l][s] = exp(α_l − α_s) for s ≤ l. Same function, other summation order. */
#define SSD_CHUNK 64
static void ssm_scan_chunked(fh1_context *c, const fh1_layer *l, float *state, int T, int ith, int nth) {
    const fh1_hparams *hp = &c->model->hp;
    const int H = hp->ssm_n_head, P = hp->ssm_head_dim, N = hp->d_state, E = hp->d_inner, Cd = hp->conv_dim, G = hp->n_group;
    const int Q = SSD_CHUNK, hpg = H / G;
    float *w = c->ssd_scratch + (size_t)ith * c->ssd_scratch_floats;
    float *Bq = w, *Cq = Bq + Q * N, *Bt = Cq + Q * N, *Xt = Bt + (size_t)N * Q, *XtT = Xt + (size_t)Q * P, *CB = XtT + (size_t)P * Q;
    float *M = CB + Q * Q, *Y = M + Q * Q, *Yo = Y + (size_t)Q * P, *dS = Yo + (size_t)Q * P, *alpha = dS + (size_t)P * N;
    float *gemm = alpha + Q;
    int h0, h1;
    fh1_split(H, ith, nth, &h0, &h1);
    for (int h = h0; h < h1; h++) {
        const int g = h / hpg;
        float *S = state + (size_t)h * P * N;
        for (int c0 = 0; c0 < T; c0 += Q) {
            const int q = T - c0 < Q ? T - c0 : Q;
            float cum = 0.0f;
            for (int i = 0; i < q; i++) {
                const int t = c0 + i;
                const float *xbc = c->xbc + (size_t)t * Cd;
                const float delta = c->dt[(size_t)t * H + h];
                cum += delta * l->ssm_a[h];
                alpha[i] = cum;
                memcpy(Bq + i * N, xbc + E + g * N, sizeof(float) * N);
                memcpy(Cq + i * N, xbc + E + G * N + g * N, sizeof(float) * N);
                for (int p = 0; p < P; p++) Xt[i * P + p] = delta * xbc[h * P + p];
            }
            const float aend = alpha[q - 1];
            /* CB[l][s] = C_l · B_s */
            fh1_matrix Bm = {Bq, GGML_TYPE_F32, q, N, sizeof(float) * N, 0};
            c->simd->matmul(&Bm, Cq, q, N, CB, q, 0, q, gemm);
            /* M = L ∘ CB (causal, decayed) */
            for (int i = 0; i < q; i++)
                for (int s = 0; s < q; s++) M[i * q + s] = s <= i ? CB[i * q + s] * expf(alpha[i] - alpha[s]) : 0.0f;
            /* Y[l][p] = Σ_s M[l][s] X̃[s][p] : weights X̃ᵀ [P][q] */
            for (int i = 0; i < q; i++)
                for (int p = 0; p < P; p++) XtT[p * q + i] = Xt[i * P + p];
            fh1_matrix XtTm = {XtT, GGML_TYPE_F32, P, q, sizeof(float) * q, 0};
            c->simd->matmul(&XtTm, M, q, q, Y, P, 0, P, gemm);
            /* Yo[l][p] = C_l · S[p] (state entering the chunk) */
            fh1_matrix Sm = {S, GGML_TYPE_F32, P, N, sizeof(float) * N, 0};
            c->simd->matmul(&Sm, Cq, q, N, Yo, P, 0, P, gemm);
            for (int i = 0; i < q; i++) {
                const int t = c0 + i;
                const float *x = c->xbc + (size_t)t * Cd + h * P;
                float *y = c->y + (size_t)t * E + h * P;
                const float decay = expf(alpha[i]);
                for (int p = 0; p < P; p++) y[p] = (Y[i * P + p] + decay * Yo[i * P + p]) + l->ssm_d[h] * x[p];
            }
            /* S ← exp(α_end)·S + Σ_s exp(α_end − α_s) X̃_s ⊗ B_s : weights Bᵀ [N][q], rows of (w∘X̃)ᵀ [P][q] */
            for (int i = 0; i < q; i++) {
                const float ws = expf(aend - alpha[i]);
                for (int p = 0; p < P; p++) XtT[p * q + i] = ws * Xt[i * P + p];
                for (int n = 0; n < N; n++) Bt[n * q + i] = Bq[i * N + n];
            }
            fh1_matrix Btm = {Bt, GGML_TYPE_F32, N, q, sizeof(float) * q, 0};
            c->simd->matmul(&Btm, XtT, P, q, dS, N, 0, N, gemm);
            const float dec = expf(aend);
            for (size_t i = 0; i < (size_t)P * N; i++) S[i] = S[i] * dec + dS[i];
        }
    }
}

/* Prefill vs decode for the scan. The chunked form is used only when FALCON_H1_SCAN=chunked
 * (the context then allocates its scratch): on this CPU it measured 3.5x slower than the
 * recurrence at pp512 on the 0.5B (39 vs 138 t/s) — its GEMMs are 64×64×N, too small for the
 * blocked kernel, and it adds Q²/2 exp() per head and chunk — while the recurrence keeps each
 * head's P×N state in L1. It stays as the tested reference of the form the CUDA prefill scan
 * runs by default (k_ssd_*, where the same products are 64×64 tiles on many cores); within the
 * chunked path, ubatches shorter than two chunks still use the recurrence. */
#define SSD_MIN_TOKENS (2 * SSD_CHUNK)
static void ssm_mix(fh1_context *c, const fh1_layer *l, float *state, int T, int ith, int nth) {
    if (T >= SSD_MIN_TOKENS && c->ssd_scratch) ssm_scan_chunked(c, l, state, T, ith, nth);
    else ssm_scan(c, l, state, T, ith, nth);
}

/* K or V row s of kv head kvh in layer il, widened to f32 (exact for f16) */
static void kv_row(const fh1_context *c, const void *cache, int il, int s, int kvh, float *out) {
    const fh1_hparams *hp = &c->model->hp;
    const int dh = hp->head_dim, kvd = hp->n_head_kv * dh;
    const size_t off = ((size_t)il * c->n_ctx + (size_t)s) * kvd + (size_t)kvh * dh;
    if (c->kv_type == FH1_KV_F16) {
        memset(out, 0, sizeof(float) * dh);
        c->simd->axpy_f16(1.0f, (const uint16_t *)cache + off, out, dh); /* 0 + 1·x: the exact widening */
    } else {
        memcpy(out, (const float *)cache + off, sizeof(float) * dh);
    }
}

/* Prefill attention, flash style: work items are (kv head, tile of FH1_ATT_QT tokens); an item's
 * queries (its tokens × the query heads sharing the kv head) walk the visible keys in blocks of
 * FH1_ATT_KB, each block widened once (K transposed) and used by all of them, with an online
 * softmax. Items are dealt round-robin so the causal triangle's long and short rows mix. */
static void attention_tiled(fh1_context *c, int il, int T, int pos0, int ith, int nth) {
    const fh1_hparams *hp = &c->model->hp;
    const int dh = hp->head_dim, Hq = hp->n_head, Hkv = hp->n_head_kv, R = Hq / Hkv, qd = Hq * dh;
    const float scale = (float)(1.0 / sqrt((double)dh));
    const int tiles = (T + FH1_ATT_QT - 1) / FH1_ATT_QT, nq_max = FH1_ATT_QT * R;
    float *ws = c->attn_scratch + (size_t)ith * c->attn_scratch_floats;
    float *Q = ws, *O = Q + (size_t)nq_max * dh, *M = O + (size_t)nq_max * dh, *L = M + nq_max;
    int *lim = (int *)(L + nq_max); /* keys of the current block each query sees */
    float *Kt = (float *)(lim + nq_max), *Vb = Kt + (size_t)dh * FH1_ATT_KB, *row = Vb + (size_t)FH1_ATT_KB * dh;
    for (int w = ith; w < Hkv * tiles; w += nth) {
        const int kvh = w / tiles, t0 = (w % tiles) * FH1_ATT_QT, t1 = t0 + FH1_ATT_QT < T ? t0 + FH1_ATT_QT : T;
        const int nq = (t1 - t0) * R;
        for (int t = t0; t < t1; t++)
            for (int r = 0; r < R; r++) {
                const int i = (t - t0) * R + r;
                memcpy(Q + (size_t)i * dh, c->q + (size_t)t * qd + (size_t)(kvh * R + r) * dh, sizeof(float) * dh);
                M[i] = -INFINITY;
                L[i] = 0.0f;
            }
        memset(O, 0, sizeof(float) * (size_t)nq * dh);
        const int n_keys = pos0 + t1;
        for (int s0 = 0; s0 < n_keys; s0 += FH1_ATT_KB) {
            const int nk = n_keys - s0 < FH1_ATT_KB ? n_keys - s0 : FH1_ATT_KB;
            for (int s = 0; s < nk; s++) {
                kv_row(c, c->k_cache, il, s0 + s, kvh, row);
                for (int d = 0; d < dh; d++) Kt[(size_t)d * FH1_ATT_KB + s] = row[d];
                kv_row(c, c->v_cache, il, s0 + s, kvh, Vb + (size_t)s * dh);
            }
            for (int s = nk; s < FH1_ATT_KB; s++)
                for (int d = 0; d < dh; d++) Kt[(size_t)d * FH1_ATT_KB + s] = 0.0f;
            for (int i = 0; i < nq; i++) lim[i] = pos0 + t0 + i / R + 1 - s0; /* query i is token t0 + i/R */
            c->simd->attn_block(Q, dh, nq, lim, Kt, Vb, nk, dh, scale, M, L, O);
        }
        for (int t = t0; t < t1; t++)
            for (int r = 0; r < R; r++) {
                const int i = (t - t0) * R + r;
                const float inv = 1.0f / L[i];
                float *o = c->att + (size_t)t * qd + (size_t)(kvh * R + r) * dh;
                for (int d = 0; d < dh; d++) o[d] = O[(size_t)i * dh + d] * inv;
            }
    }
}

/* Decode attention (batches of fewer than FH1_ATT_MIN_T tokens) on simd->attn_decode, which reads
 * the cache rows in place: the tiled path widens and transposes every key block for a handful of
 * queries, and at depth 4096 that copy cost more than the arithmetic. Work items are (token, kv
 * head, key range); the keys are split only when the (token, kv head) pairs leave threads idle, in
 * ranges of at least DEC_MIN_KEYS, and the ranges' softmax states then merge per query head after
 * a barrier. Returns 0 (every thread alike) when the kernel does not take this shape. */
#define DEC_MIN_KEYS 128
static int attention_decode(fh1_context *c, int il, int T, int pos0, int ith, int nth) {
    const fh1_hparams *hp = &c->model->hp;
    const int dh = hp->head_dim, Hkv = hp->n_head_kv, R = hp->n_head / Hkv, kvd = Hkv * dh, qd = hp->n_head * dh;
    const int f16 = c->kv_type == FH1_KV_F16;
    if (T >= FH1_ATT_MIN_T || !c->simd->attn_decode || !c->simd->attn_decode(NULL, R, NULL, NULL, 0, f16, 0, dh, 0.0f, NULL, NULL, NULL, NULL)) return 0;
    const float scale = (float)(1.0 / sqrt((double)dh));
    int splits = 1;
    if (T * Hkv < nth) {
        const int by_keys = (pos0 + 1) / DEC_MIN_KEYS;
        splits = (nth + T * Hkv - 1) / (T * Hkv);
        if (splits > by_keys) splits = by_keys > 1 ? by_keys : 1;
    }
    const size_t esz = f16 ? sizeof(uint16_t) : sizeof(float), part = (size_t)R * (dh + 2);
    float *ws = c->dec_scratch + (size_t)ith * FH1_DEC_SCRATCH;
    for (int w = ith; w < T * Hkv * splits; w += nth) {
        const int t = w / (Hkv * splits), kvh = (w / splits) % Hkv, sp = w % splits;
        int k0, k1;
        fh1_split(pos0 + t + 1, sp, splits, &k0, &k1);
        const size_t off = ((size_t)il * c->n_ctx + (size_t)k0) * kvd + (size_t)kvh * dh;
        const float *q = c->q + (size_t)t * qd + (size_t)kvh * R * dh;
        float ml[2 * DEC_RMAX], *m = splits > 1 ? c->dec_part + (size_t)w * part : ml, *l = m + R;
        float *o = splits > 1 ? m + 2 * R : c->att + (size_t)t * qd + (size_t)kvh * R * dh;
        for (int r = 0; r < R; r++) {
            m[r] = -INFINITY;
            l[r] = 0.0f;
        }
        memset(o, 0, sizeof(float) * (size_t)R * dh);
        c->simd->attn_decode(q, R, (const char *)c->k_cache + off * esz, (const char *)c->v_cache + off * esz, kvd, f16, k1 - k0, dh, scale, m, l, o, ws);
        if (splits == 1)
            for (int r = 0; r < R; r++)
                for (int d = 0; d < dh; d++) o[(size_t)r * dh + d] /= l[r];
    }
    if (splits > 1) {
        fh1_barrier(c->pool);
        int b, e;
        fh1_split(T * hp->n_head, ith, nth, &b, &e);
        for (int w = b; w < e; w++) {
            const int t = w / hp->n_head, j = w % hp->n_head, kvh = j / R, r = j % R;
            const float *first = c->dec_part + (size_t)(t * Hkv + kvh) * splits * part;
            float mx = -INFINITY, sum = 0.0f;
            for (int sp = 0; sp < splits; sp++) mx = first[sp * part + r] > mx ? first[sp * part + r] : mx;
            float *out = c->att + (size_t)t * qd + (size_t)j * dh;
            memset(out, 0, sizeof(float) * dh);
            for (int sp = 0; sp < splits; sp++) {
                const float *pm = first + sp * part, wgt = pm[r] == -INFINITY ? 0.0f : expf(pm[r] - mx);
                sum += pm[R + r] * wgt;
                for (int d = 0; d < dh; d++) out[d] += wgt * pm[2 * R + (size_t)r * dh + d];
            }
            for (int d = 0; d < dh; d++) out[d] /= sum;
        }
    }
    return 1;
}

/* Causal softmax attention of this thread's (token, head) pairs against the KV cache. Short
 * batches go to attention_decode where the SIMD table has its kernel (every table but the scalar
 * one, for up to DEC_RMAX query heads per KV head). Otherwise longer batches, and short ones whose
 * (kv head, token) items give every thread one, take attention_tiled, which widens each key block
 * once for all the query heads sharing it; the rest use the per-head loop below (every K and V row
 * read once per query head, one dot with a horizontal sum per key). */
static void attention(fh1_context *c, int il, int T, int pos0, int ith, int nth) {
    if (attention_decode(c, il, T, pos0, ith, nth)) return;
    if (T >= FH1_ATT_MIN_T || T * c->model->hp.n_head_kv >= nth) {
        attention_tiled(c, il, T, pos0, ith, nth);
        return;
    }
    const fh1_hparams *hp = &c->model->hp;
    const int dh = hp->head_dim, Hq = hp->n_head, R = hp->n_head / hp->n_head_kv;
    const int kvd = hp->n_head_kv * dh, qd = Hq * dh;
    const float scale = (float)(1.0 / sqrt((double)dh));
    float *sc = c->scores + (size_t)ith * c->n_ctx;
    int b, e;
    fh1_split(T * Hq, ith, nth, &b, &e);
    for (int w = b; w < e; w++) {
        const int t = w / Hq, j = w % Hq, kvh = j / R, n = pos0 + t + 1;
        const float *q = c->q + (size_t)t * qd + j * dh;
        float *o = c->att + (size_t)t * qd + j * dh;
        float mx = -INFINITY;
        if (c->kv_type == FH1_KV_F16) {
            const uint16_t *K = (const uint16_t *)c->k_cache + (size_t)il * c->n_ctx * kvd + kvh * dh;
            for (int s = 0; s < n; s++) {
                sc[s] = c->simd->dot_f16(K + (size_t)s * kvd, q, dh) * scale;
                if (sc[s] > mx) mx = sc[s];
            }
        } else {
            const float *K = (const float *)c->k_cache + (size_t)il * c->n_ctx * kvd + kvh * dh;
            for (int s = 0; s < n; s++) {
                sc[s] = c->simd->dot(K + (size_t)s * kvd, q, dh) * scale;
                if (sc[s] > mx) mx = sc[s];
            }
        }
        const float sum = c->simd->exp_shift_sum(sc, mx, n);
        const float inv = 1.0f / sum;
        memset(o, 0, sizeof(float) * dh);
        if (c->kv_type == FH1_KV_F16) {
            const uint16_t *Vc = (const uint16_t *)c->v_cache + (size_t)il * c->n_ctx * kvd + kvh * dh;
            for (int s = 0; s < n; s++) c->simd->axpy_f16(sc[s] * inv, Vc + (size_t)s * kvd, o, dh);
        } else {
            const float *Vc = (const float *)c->v_cache + (size_t)il * c->n_ctx * kvd + kvh * dh;
            for (int s = 0; s < n; s++) c->simd->axpy(sc[s] * inv, Vc + (size_t)s * kvd, o, dh);
        }
    }
}

static void forward_job(void *arg, int ith, int nth) {
    fwd_job *j = arg;
    fh1_context *c = j->ctx;
    const fh1_model *m = c->model;
    const fh1_hparams *hp = &m->hp;
    fh1_pool *pool = c->pool;
    const int T = j->T, pos0 = j->pos0;
    const int D = hp->n_embd, F = hp->n_ff, E = hp->d_inner, H = hp->ssm_n_head, K = hp->d_conv;
    const int Cd = hp->conv_dim, Din = hp->in_proj_dim, G = hp->n_group;
    const int dh = hp->head_dim, qd = hp->n_head * dh, kvd = hp->n_head_kv * dh;
    int t0, t1;
    fh1_split(T, ith, nth, &t0, &t1);

    /* embedding and this ubatch's RoPE tables */
    for (int t = t0; t < t1; t++) {
        if (j->embed) {
            const int32_t tok = j->tokens[t];
            float *xt = c->x + (size_t)t * D;
            fh1_dequantize_row(m->tok_embd.type, (const uint8_t *)m->tok_embd.data + (size_t)tok * m->tok_embd.row_bytes, xt, D);
            if (hp->embedding_mult != 1.0f)
                for (int i = 0; i < D; i++) xt[i] *= hp->embedding_mult;
        }
        const float pos = (float)(pos0 + t);
        for (int i = 0; i < dh / 2; i++) {
            const float inv_freq = 1.0f / powf(hp->rope_theta, (float)(2 * i) / (float)dh);
            const float ang = pos * inv_freq;
            c->rope_cos[(size_t)t * (dh / 2) + i] = cosf(ang);
            c->rope_sin[(size_t)t * (dh / 2) + i] = sinf(ang);
        }
    }
    fh1_barrier(pool);

    for (int il = j->l0; il < j->l1; il++) {
        const fh1_layer *l = &m->layers[il];
        float *conv_state = c->conv_state + (size_t)il * (K - 1) * Cd;
        float *ssm_state = c->ssm_state + (size_t)il * H * hp->ssm_head_dim * hp->d_state;

        /* attn_norm: one normalised input feeds both branches */
        for (int t = t0; t < t1; t++) {
            float *ut = c->u + (size_t)t * D;
            rmsnorm(c->x + (size_t)t * D, l->attn_norm, ut, D, hp->rms_eps);
            if (c->u_ssm != c->u)
                for (int i = 0; i < D; i++) c->u_ssm[(size_t)t * D + i] = ut[i] * hp->ssm_in_mult;
            if (c->u_attn != c->u)
                for (int i = 0; i < D; i++) c->u_attn[(size_t)t * D + i] = ut[i] * hp->attn_in_mult;
        }
        fh1_barrier(pool);

        /* input projections of both branches */
        mm(c, &l->ssm_in, c->u_ssm, T, c->zxbcdt, ith, nth);
        mm(c, &l->wq, c->u_attn, T, c->q, ith, nth);
        mm(c, &l->wk, c->u_attn, T, c->k, ith, nth);
        mm(c, &l->wv, c->u_attn, T, c->v, ith, nth);
        fh1_barrier(pool);

        /* per token: in_proj bias and µP vector; q/k/v biases, key multiplier, RoPE, KV write;
         * Δ = softplus(dt + dt_bias), clamped */
        for (int t = t0; t < t1; t++) {
            float *zt = c->zxbcdt + (size_t)t * Din;
            if (l->ssm_in_b)
                for (int i = 0; i < Din; i++) zt[i] += l->ssm_in_b[i];
            if (l->mup_vec)
                for (int i = 0; i < Din; i++) zt[i] *= l->mup_vec[i];
            for (int h = 0; h < H; h++) {
                float d = softplus(zt[E + Cd + h] + l->dt_bias[h]);
                d = d < hp->dt_min ? hp->dt_min : d > hp->dt_max ? hp->dt_max : d;
                c->dt[(size_t)t * H + h] = d;
            }
            float *qt = c->q + (size_t)t * qd, *kt = c->k + (size_t)t * kvd, *vt = c->v + (size_t)t * kvd;
            if (l->bq) for (int i = 0; i < qd; i++) qt[i] += l->bq[i];
            if (l->bk) for (int i = 0; i < kvd; i++) kt[i] += l->bk[i];
            if (l->bv) for (int i = 0; i < kvd; i++) vt[i] += l->bv[i];
            if (hp->key_mult != 1.0f) for (int i = 0; i < kvd; i++) kt[i] *= hp->key_mult;
            const float *cs = c->rope_cos + (size_t)t * (dh / 2), *sn = c->rope_sin + (size_t)t * (dh / 2);
            rope(qt, hp->n_head, dh, cs, sn);
            rope(kt, hp->n_head_kv, dh, cs, sn);
            const size_t slot = ((size_t)il * c->n_ctx + (size_t)(pos0 + t)) * kvd;
            if (c->kv_type == FH1_KV_F16) {
                uint16_t *kc = (uint16_t *)c->k_cache + slot, *vc = (uint16_t *)c->v_cache + slot;
                for (int i = 0; i < kvd; i++) { kc[i] = fh1_float_to_half(kt[i]); vc[i] = fh1_float_to_half(vt[i]); }
            } else {
                memcpy((float *)c->k_cache + slot, kt, sizeof(float) * kvd);
                memcpy((float *)c->v_cache + slot, vt, sizeof(float) * kvd);
            }
        }
        fh1_barrier(pool);

        /* causal depthwise conv over x|B|C with the carried state, then SiLU. Each thread owns a
         * block of channels; rows of the [K-1+T][Cd] window are contiguous, so loops over
         * channels vectorise. */
        {
            int c0, c1;
            fh1_split((Cd + 15) / 16, ith, nth, &c0, &c1);
            c0 *= 16;
            c1 = c1 * 16 < Cd ? c1 * 16 : Cd;
            const size_t nb = sizeof(float) * (size_t)(c1 - c0);
            if (c0 < c1) {
                for (int r = 0; r < K - 1; r++) memcpy(c->conv_in + (size_t)r * Cd + c0, conv_state + (size_t)r * Cd + c0, nb);
                for (int t = 0; t < T; t++) memcpy(c->conv_in + (size_t)(K - 1 + t) * Cd + c0, c->zxbcdt + (size_t)t * Din + E + c0, nb);
                for (int t = 0; t < T; t++) {
                    float *o = c->xbc + (size_t)t * Cd;
                    const float *in0 = c->conv_in + (size_t)t * Cd;
                    for (int ch = c0; ch < c1; ch++) o[ch] = l->conv_wt[ch] * in0[ch];
                    for (int k = 1; k < K; k++) {
                        const float *in = c->conv_in + (size_t)(t + k) * Cd, *w = l->conv_wt + (size_t)k * Cd;
                        for (int ch = c0; ch < c1; ch++) o[ch] += w[ch] * in[ch];
                    }
                    if (l->conv_b)
                        for (int ch = c0; ch < c1; ch++) o[ch] += l->conv_b[ch];
                    c->simd->silu(o + c0, o + c0, c1 - c0);
                }
                for (int r = 0; r < K - 1; r++) memcpy(conv_state + (size_t)r * Cd + c0, c->conv_in + (size_t)(T + r) * Cd + c0, nb);
            }
        }
        fh1_barrier(pool);

        /* the two sequence mixers: SSM scan (split by head), attention (split by token×head) */
        ssm_mix(c, l, ssm_state, T, ith, nth);
        attention(c, il, T, pos0, ith, nth);
        fh1_barrier(pool);

        /* gate y with silu(z), with or without the grouped RMSNorm (spec §4.5) */
        {
            const int gs = E / G;
            int w0, w1;
            fh1_split(T * G, ith, nth, &w0, &w1);
            for (int w = w0; w < w1; w++) {
                const int t = w / G, g = w % G;
                float *y = c->y + (size_t)t * E + g * gs;
                const float *z = c->zxbcdt + (size_t)t * Din + g * gs;
                if (!hp->ssm_rms_norm) {
                    c->simd->mul_silu(y, z, gs);
                } else if (!hp->norm_before_gate) {
                    c->simd->mul_silu(y, z, gs);
                    rmsnorm(y, l->ssm_norm + g * gs, y, gs, hp->rms_eps);
                } else {
                    rmsnorm(y, l->ssm_norm + g * gs, y, gs, hp->rms_eps);
                    c->simd->mul_silu(y, z, gs);
                }
            }
        }
        fh1_barrier(pool);

        /* output projections of both branches */
        mm(c, &l->ssm_out, c->y, T, c->ssm_out, ith, nth);
        mm(c, &l->wo, c->att, T, c->attn_out, ith, nth);
        fh1_barrier(pool);

        /* x' = x + (s + a), then ffn_norm */
        for (int t = t0; t < t1; t++) {
            float *xt = c->x + (size_t)t * D, *st = c->ssm_out + (size_t)t * D, *at = c->attn_out + (size_t)t * D;
            for (int i = 0; i < D; i++) {
                const float s = (st[i] + (l->ssm_out_b ? l->ssm_out_b[i] : 0.0f)) * hp->ssm_out_mult;
                const float a = (at[i] + (l->bo ? l->bo[i] : 0.0f)) * hp->attn_out_mult;
                xt[i] = xt[i] + (s + a);
            }
            rmsnorm(xt, l->ffn_norm, c->u + (size_t)t * D, D, hp->rms_eps);
        }
        fh1_barrier(pool);

        /* SwiGLU: each thread owns the same rows of gate and up, so it can combine them at once */
        {
            int b, e;
            fh1_split((F + 3) / 4, ith, nth, &b, &e);
            b *= 4;
            e = e * 4 < F ? e * 4 : F;
            if (b < e) {
                float *scratch = c->gemm_scratch + (size_t)ith * c->gemm_scratch_floats;
                c->simd->matmul(&l->ffn_gate, c->u, T, D, c->gate, F, b, e, scratch);
                c->simd->matmul(&l->ffn_up, c->u, T, D, c->up, F, b, e, scratch);
                for (int t = 0; t < T; t++) {
                    float *g = c->gate + (size_t)t * F, *u = c->up + (size_t)t * F;
                    if (l->ffn_gate_b) for (int i = b; i < e; i++) g[i] += l->ffn_gate_b[i];
                    if (hp->mlp_gate_mult != 1.0f) for (int i = b; i < e; i++) g[i] *= hp->mlp_gate_mult;
                    if (l->ffn_up_b) for (int i = b; i < e; i++) u[i] += l->ffn_up_b[i];
                    c->simd->mul_silu(u + b, g + b, e - b); /* h = up ⊙ silu(gate) */
                }
            }
        }
        fh1_barrier(pool);
        mm(c, &l->ffn_down, c->up, T, c->ffn_out, ith, nth);
        fh1_barrier(pool);
        for (int t = t0; t < t1; t++) {
            float *xt = c->x + (size_t)t * D, *ft = c->ffn_out + (size_t)t * D;
            for (int i = 0; i < D; i++) xt[i] += (ft[i] + (l->ffn_down_b ? l->ffn_down_b[i] : 0.0f)) * hp->mlp_down_mult;
        }
        fh1_barrier(pool);
    }

    /* final norm and head, for the rows that need logits */
    if (!j->out) return;
    const int first = j->logits_all ? 0 : T - 1, rows = T - first;
    int r0, r1;
    fh1_split(rows, ith, nth, &r0, &r1);
    for (int r = r0; r < r1; r++) rmsnorm(c->x + (size_t)(first + r) * D, m->output_norm, c->head_in + (size_t)r * D, D, hp->rms_eps);
    fh1_barrier(pool);
    mm(c, &m->output, c->head_in, rows, j->out, ith, nth);
    if (hp->lm_head_mult != 1.0f) {
        fh1_barrier(pool);
        const int V = hp->n_vocab;
        int v0, v1;
        fh1_split(rows * V, ith, nth, &v0, &v1);
        for (int i = v0; i < v1; i++) j->out[i] *= hp->lm_head_mult;
    }
}

void fh1_forward(fh1_context *ctx, const int32_t *tokens, int T, float *out, int logits_all) {
    fwd_job j = {ctx, tokens, T, ctx->n_past, out, logits_all, 1, 0, ctx->model->hp.n_layer};
    fh1_pool_run(ctx->pool, forward_job, &j);
    ctx->n_past += T;
}

void fh1_forward_part(fh1_context *ctx, const int32_t *tokens, int T, int embed, int l0, int l1, float *out, int logits_all) {
    fwd_job j = {ctx, tokens, T, ctx->n_past, out, logits_all, embed, l0, l1};
    fh1_pool_run(ctx->pool, forward_job, &j);
}

/* csrc/sample.c — token sampling with llama.cpp's default order and meanings. */
#include "sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct fh1_sampler {
    fh1_sampler_params p;
    int n_vocab;
    int32_t *hist;   /* ring of the last `cap` accepted tokens */
    int cap, n_hist, head;
    uint64_t rng, rng_before_draw;
    float *work;     /* [n_vocab] adjusted logits */
    int32_t *idx;    /* [n_vocab] candidate ids */
    int32_t *count;  /* [n_vocab] occurrences in the penalty window (zero between calls) */
    int32_t *pen_count; /* [n_vocab] counts of the window's distinct tokens, in s->idx's order */
};

fh1_sampler_params fh1_sampler_default_params(void) {
    fh1_sampler_params p;
    p.temp = 0.8f;
    p.top_k = 40;
    p.top_p = 0.95f;
    p.min_p = 0.05f;
    p.repeat_penalty = 1.0f;
    p.repeat_last_n = 64;
    p.presence_penalty = 0.0f;
    p.frequency_penalty = 0.0f;
    p.seed = 0;
    return p;
}

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

fh1_sampler *fh1_sampler_new(fh1_sampler_params p, int n_vocab) {
    if (n_vocab <= 0) return NULL;
    fh1_sampler *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->p = p;
    s->n_vocab = n_vocab;
    s->cap = p.repeat_last_n < 0 ? 1 << 20 : (p.repeat_last_n > 0 ? p.repeat_last_n : 1);
    s->hist = malloc(sizeof(int32_t) * (size_t)s->cap);
    s->work = malloc(sizeof(float) * (size_t)n_vocab);
    s->idx = malloc(sizeof(int32_t) * (size_t)n_vocab);
    s->count = calloc((size_t)n_vocab, sizeof(int32_t));
    s->pen_count = malloc(sizeof(int32_t) * (size_t)n_vocab);
    if (!s->hist || !s->work || !s->idx || !s->count || !s->pen_count) {
        fh1_sampler_free(s);
        return NULL;
    }
    s->rng = p.seed;
    return s;
}

void fh1_sampler_free(fh1_sampler *s) {
    if (!s) return;
    free(s->hist);
    free(s->work);
    free(s->idx);
    free(s->count);
    free(s->pen_count);
    free(s);
}

void fh1_sampler_reset(fh1_sampler *s) {
    s->n_hist = 0;
    s->head = 0;
    s->rng = s->p.seed;
}

void fh1_sampler_accept(fh1_sampler *s, int32_t token) {
    if (s->p.repeat_last_n == 0 || token < 0 || token >= s->n_vocab) return;
    s->hist[s->head] = token;
    s->head = (s->head + 1) % s->cap;
    if (s->n_hist < s->cap) s->n_hist++;
}

/* the candidates' total order: higher logit first, then lower id */
static inline int worse(const float *w, int32_t a, int32_t b) { return w[a] < w[b] || (w[a] == w[b] && a > b); }

/* The penalty window's distinct tokens in order of first occurrence, with their counts, into
 * tok/cnt (at most cap); returns how many, 0 when no penalty is on, -1 when more than cap. */
static int penalty_window(fh1_sampler *s, int32_t *tok, int32_t *cnt, int cap) {
    const fh1_sampler_params *p = &s->p;
    if (s->n_hist == 0 || (p->repeat_penalty == 1.0f && p->presence_penalty == 0.0f && p->frequency_penalty == 0.0f)) return 0;
    for (int i = 0; i < s->n_hist; i++) s->count[s->hist[i]]++;
    int n = 0, over = 0;
    for (int i = 0; i < s->n_hist; i++) {
        const int32_t t = s->hist[i];
        if (s->count[t] == 0) continue; /* already listed */
        if (n < cap) {
            tok[n] = t;
            cnt[n++] = s->count[t];
        } else {
            over = 1;
        }
        s->count[t] = 0;
    }
    return over ? -1 : n;
}

static __thread float *t_keys;
static int by_logit_desc(const void *a, const void *b) {
    const float x = t_keys[*(const int32_t *)a], y = t_keys[*(const int32_t *)b];
    if (x != y) return x < y ? 1 : -1;
    return *(const int32_t *)a - *(const int32_t *)b;
}

int32_t fh1_sampler_sample(fh1_sampler *s, const float *logits) {
    const int V = s->n_vocab;
    float *w = s->work;
    memcpy(w, logits, sizeof(float) * (size_t)V);

    /* penalties over the window, once per distinct token */
    const fh1_sampler_params *p = &s->p;
    const int n_pen = penalty_window(s, s->idx, s->pen_count, V);
    for (int i = 0; i < n_pen; i++) {
        const int32_t t = s->idx[i];
        const int c = s->pen_count[i];
        if (p->repeat_penalty != 1.0f) w[t] = w[t] > 0 ? w[t] / p->repeat_penalty : w[t] * p->repeat_penalty;
        w[t] -= (float)c * p->frequency_penalty + (c > 0 ? p->presence_penalty : 0.0f);
    }

    if (p->temp <= 0.0f) {
        int32_t best = 0;
        for (int i = 1; i < V; i++)
            if (w[i] > w[best]) best = i;
        return best;
    }

    /* candidates sorted by logit; with top-k, a size-k min-heap selects them in O(V log k) */
    int n;
    t_keys = w;
    const int k = p->top_k > 0 && p->top_k < V ? p->top_k : V;
    if (k < V) {
        int32_t *h = s->idx; /* min-heap: h[0] is the weakest kept; ties rank by id, so the */
        int hn = 0;            /* k kept are the first k of the sorted order (the GPU keeps the same) */
        for (int32_t i = 0; i < V; i++) {
            if (hn < k) {
                int j = hn++;
                while (j > 0 && worse(w, i, h[(j - 1) / 2])) { h[j] = h[(j - 1) / 2]; j = (j - 1) / 2; }
                h[j] = i;
            } else if (worse(w, h[0], i)) {
                int j = 0;
                for (;;) {
                    int c = 2 * j + 1;
                    if (c >= k) break;
                    if (c + 1 < k && worse(w, h[c + 1], h[c])) c++;
                    if (!worse(w, h[c], i)) break;
                    h[j] = h[c];
                    j = c;
                }
                h[j] = i;
            }
        }
        n = k;
        qsort(s->idx, (size_t)n, sizeof(int32_t), by_logit_desc);
    } else {
        for (int i = 0; i < V; i++) s->idx[i] = i;
        n = V;
        qsort(s->idx, (size_t)V, sizeof(int32_t), by_logit_desc);
    }

    /* softmax over the candidates (before temperature, as llama.cpp's top-p/min-p see it) */
    const float mx = w[s->idx[0]];
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += exp((double)w[s->idx[i]] - mx);
    if (p->top_p < 1.0f) {
        double cum = 0.0;
        int keep = n;
        for (int i = 0; i < n; i++) {
            cum += exp((double)w[s->idx[i]] - mx) / sum;
            if (cum >= p->top_p) {
                keep = i + 1;
                break;
            }
        }
        n = keep;
    }
    if (p->min_p > 0.0f) {
        const double thresh = log((double)p->min_p) + mx;
        int keep = 0;
        while (keep < n && (double)w[s->idx[keep]] >= thresh) keep++;
        if (keep < 1) keep = 1;
        n = keep;
    }

    /* temperature, then draw */
    double tot = 0.0;
    for (int i = 0; i < n; i++) tot += exp(((double)w[s->idx[i]] - mx) / p->temp);
    const double r = (double)(splitmix(&s->rng) >> 11) * (1.0 / 9007199254740992.0) * tot;
    double acc = 0.0;
    for (int i = 0; i < n; i++) {
        acc += exp(((double)w[s->idx[i]] - mx) / p->temp);
        if (r < acc) return s->idx[i];
    }
    return s->idx[n - 1];
}

int fh1_sampler_gpu_args(fh1_sampler *s, fh1_gpu_sample *a) {
    const fh1_sampler_params *p = &s->p;
    a->temp = p->temp;
    a->top_k = p->top_k;
    a->top_p = p->top_p;
    a->min_p = p->min_p;
    a->repeat_penalty = p->repeat_penalty;
    a->presence_penalty = p->presence_penalty;
    a->frequency_penalty = p->frequency_penalty;
    a->n_pairs = penalty_window(s, a->token, a->count, FH1_GPU_SAMPLE_PAIRS);
    if (a->n_pairs < 0) return 0;
    s->rng_before_draw = s->rng;
    a->u = p->temp > 0.0f ? (double)(splitmix(&s->rng) >> 11) * (1.0 / 9007199254740992.0) : 0.0;
    return 1;
}

void fh1_sampler_undo_draw(fh1_sampler *s) { s->rng = s->rng_before_draw; }

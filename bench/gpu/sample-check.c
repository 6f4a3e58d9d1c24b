/* bench/gpu/sample-check.c — on the GPU machine: the GPU sampler against the CPU sampler, and
 * the state round trip and GPU-sampled generation of a (possibly split) CUDA context.
 *   sample-check MODEL.gguf [--gpu-layers N] [--split-mode none|layer]
 * 1. For many random logit rows and sampler settings (greedy, the default chain, top-k off,
 *    top-k above the GPU's 1024 candidates, penalties, heavy ties), the token the GPU kernel picks
 *    must equal fh1_sampler_sample's on the same row with the same seed; the rows the GPU hands
 *    back (-1) are counted.
 * 2. Generation with fh1_decode_sample (GPU chain) and with FALCON_H1_GPU_SAMPLING=0 (logits
 *    copied, CPU chain) must give the same tokens.
 * 3. Saving the state after a prompt, generating, restoring and generating again must repeat. */
#include "../../csrc/falcon_h1.h"
#include "../../csrc/model.h"
#include "../../csrc/sample.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 12345;
static double urand(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}
static float nrand(void) { return (float)(sqrt(-2.0 * log(urand() + 1e-300)) * cos(6.283185307179586 * urand())); }

typedef struct { const char *name; fh1_sampler_params p; float scale; int ties; int hist; } config;

static int generate(fh1_context *c, int V, const int32_t *prompt, int n, int gen, fh1_sampler_params sp, int32_t *out, char *err) {
    fh1_sampler *s = fh1_sampler_new(sp, V);
    for (int i = 0; i < n; i++) fh1_sampler_accept(s, prompt[i]);
    int32_t tok;
    if (fh1_decode_sample(c, prompt, n, s, &tok, err, 512)) return 0;
    for (int g = 0; g < gen; g++) {
        out[g] = tok;
        fh1_sampler_accept(s, tok);
        if (fh1_decode_sample(c, &tok, 1, s, &tok, err, 512)) return 0;
    }
    fh1_sampler_free(s);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.gguf [--gpu-layers N] [--split-mode none|layer]\n", argv[0]);
        return 2;
    }
    fh1_context_params cp = fh1_context_default_params();
    cp.device = 1;
    cp.n_ctx = 512;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--gpu-layers")) cp.gpu_layers = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--split-mode")) cp.split_mode = !strcmp(argv[i + 1], "layer") ? FH1_SPLIT_LAYER : FH1_SPLIT_NONE;
    }
    char err[512];
    fh1_model *m;
    if (fh1_model_load(argv[1], fh1_model_default_params(), &m, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    const int V = m->hp.n_vocab;
    int failures = 0;

    /* 1. the sampler kernel alone */
    fh1_cuda_params gp = {64, 64, 1, 0, 1, FH1_SPLIT_NONE, 0};
    fh1_cuda *g = fh1_cuda_new(m, gp, err, sizeof err);
    if (!g) { fprintf(stderr, "%s\n", err); return 1; }
    fh1_sampler_params def = fh1_sampler_default_params();
    config cfgs[] = {
        {"greedy", def, 3.0f, 0, 0},
        {"default chain (temp .8, top-k 40, top-p .95, min-p .05)", def, 3.0f, 0, 0},
        {"default chain, flat logits", def, 0.3f, 0, 0},
        {"top-k off, top-p .9", def, 3.0f, 0, 0},
        {"top-k off, top-p .9, flat", def, 0.3f, 0, 0},
        {"top-k 3000, min-p .05", def, 3.0f, 0, 0},
        {"top-k off, top-p 1, min-p 0 (whole vocabulary)", def, 3.0f, 0, 0},
        {"penalties (repeat 1.3, presence .4, frequency .2, window 200)", def, 3.0f, 0, 200},
        {"greedy with penalties", def, 3.0f, 0, 200},
        {"ties (logits on 8 levels), top-k 40", def, 3.0f, 8, 0},
        {"ties, greedy", def, 3.0f, 8, 0},
    };
    cfgs[0].p.temp = 0.0f;
    cfgs[3].p.top_k = 0, cfgs[3].p.top_p = 0.9f, cfgs[3].p.min_p = 0.0f;
    cfgs[4].p = cfgs[3].p;
    cfgs[5].p.top_k = 3000, cfgs[5].p.top_p = 1.0f;
    cfgs[6].p.top_k = 0, cfgs[6].p.top_p = 1.0f, cfgs[6].p.min_p = 0.0f;
    cfgs[7].p.repeat_penalty = 1.3f, cfgs[7].p.presence_penalty = 0.4f, cfgs[7].p.frequency_penalty = 0.2f, cfgs[7].p.repeat_last_n = 200;
    cfgs[8].p = cfgs[7].p, cfgs[8].p.temp = 0.0f;
    cfgs[10].p.temp = 0.0f;
    float *row = malloc(sizeof(float) * V);
    for (size_t ci = 0; ci < sizeof cfgs / sizeof cfgs[0]; ci++) {
        const config *cf = &cfgs[ci];
        int same = 0, differ = 0, handed_back = 0;
        for (int trial = 0; trial < 300; trial++) {
            for (int i = 0; i < V; i++) row[i] = cf->scale * nrand();
            if (cf->ties)
                for (int i = 0; i < V; i++) row[i] = floorf(row[i] * cf->ties / (3.0f * cf->scale)) / 2.0f;
            fh1_sampler_params p = cf->p;
            p.seed = 1000 + trial;
            fh1_sampler *a = fh1_sampler_new(p, V), *b = fh1_sampler_new(p, V);
            for (int h = 0; h < cf->hist; h++) {
                const int32_t t = (int32_t)(urand() * 300); /* repeats, so counts > 1 */
                fh1_sampler_accept(a, t);
                fh1_sampler_accept(b, t);
            }
            for (int step = 0; step < 3; step++) { /* three draws: the rng streams must stay in step */
                const int32_t want = fh1_sampler_sample(a, row);
                fh1_gpu_sample args;
                int32_t got = -2;
                if (!fh1_sampler_gpu_args(b, &args)) got = -3;
                else if (!fh1_cuda_sample_row(g, row, &args, &got, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
                if (got == -1) {
                    handed_back++;
                    fh1_sampler_undo_draw(b);
                    got = fh1_sampler_sample(b, row);
                }
                if (got == want) same++;
                else {
                    differ++;
                    if (differ <= 3) fprintf(stderr, "  %s: trial %d step %d: GPU %d, CPU %d\n", cf->name, trial, step, got, want);
                }
                fh1_sampler_accept(a, want);
                fh1_sampler_accept(b, want);
            }
            fh1_sampler_free(a);
            fh1_sampler_free(b);
        }
        printf("sampler %-62s V=%d: %d same, %d differ, %d handed back to the CPU\n", cf->name, V, same, differ, handed_back);
        failures += differ;
    }
    fh1_cuda_free(g);

    /* 2. generation through the model, GPU chain vs CPU chain */
    fh1_context *c;
    if (fh1_context_new(m, cp, &c, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    printf("context: %s\n", fh1_context_backend(c));
    int32_t prompt[40], a_out[48], b_out[48];
    for (int i = 0; i < 40; i++) prompt[i] = (i * 37 + 11) % V;
    fh1_sampler_params sp = def;
    sp.seed = 7;
    sp.repeat_penalty = 1.1f;
    if (!generate(c, V, prompt, 40, 48, sp, a_out, err)) { fprintf(stderr, "%s\n", err); return 1; }
    fh1_reset(c);
    setenv("FALCON_H1_GPU_SAMPLING", "0", 1);
    if (!generate(c, V, prompt, 40, 48, sp, b_out, err)) { fprintf(stderr, "%s\n", err); return 1; }
    unsetenv("FALCON_H1_GPU_SAMPLING");
    const int gen_same = !memcmp(a_out, b_out, sizeof a_out);
    printf("generation, 48 tokens sampled on the GPU vs on the CPU: %s\n", gen_same ? "identical" : "DIFFERENT");
    failures += !gen_same;

    /* 3. state round trip */
    fh1_reset(c);
    if (fh1_decode(c, prompt, 40, 0, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    const size_t sz = fh1_state_size(c);
    void *st = malloc(sz);
    size_t wr;
    fh1_state_save(c, st, sz, &wr);
    float *l1 = malloc(sizeof(float) * V * 8), *l2 = malloc(sizeof(float) * V * 8);
    int32_t more[8] = {5, 9, 200, 3, 77, 1, 2, 300};
    for (int i = 0; i < 8; i++) more[i] %= V;
    fh1_decode(c, more, 8, 1, err, sizeof err);
    memcpy(l1, fh1_get_logits(c, NULL), sizeof(float) * V * 8);
    fh1_reset(c);
    fh1_decode(c, more, 3, 0, err, sizeof err); /* scribble on the state first */
    if (fh1_state_load(c, st, wr, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    fh1_decode(c, more, 8, 1, err, sizeof err);
    memcpy(l2, fh1_get_logits(c, NULL), sizeof(float) * V * 8);
    const int state_same = !memcmp(l1, l2, sizeof(float) * V * 8);
    printf("state saved after the prompt, restored over other state: next 8 rows of logits %s\n", state_same ? "bit-identical" : "DIFFERENT");
    failures += !state_same;
    fh1_context_free(c);
    fh1_model_free(m);
    printf("%s\n", failures ? "FAILED" : "all sample/state checks passed");
    return failures != 0;
}

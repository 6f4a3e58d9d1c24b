/* csrc/tools/fh1_eval.c — drive the C API without Node: evaluate token ids and write logits.
 *   fh1_eval MODEL.gguf IDS_FILE OUT.f32 [--decode] [--chunks a,b,...] [--threads N] [--kv f32|f16] [--ctx N]
 *            [--device cpu|cuda|auto] [--gpu-layers N] [--split-mode none|layer] [--main-gpu I]
 *            [--bench N [--sample]]   (pp over the ids, then tg of N tokens; --sample: with sampling)
 * IDS_FILE holds whitespace- or comma-separated ids. Every position's logits are written as
 * little-endian float32 rows. Used by C-level checks and benchmarks (and on machines without Node). */
#include "../falcon_h1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.gguf IDS_FILE OUT.f32 [--decode] [--chunks a,b,..] [--threads N] [--kv f32|f16] [--ctx N]\n", argv[0]);
        return 2;
    }
    fh1_context_params cp = fh1_context_default_params();
    int decode = 0, bench_gen = 0, bench_sample = 0;
    int chunks[64], n_chunks = 0;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--decode")) decode = 1;
        else if (!strcmp(argv[i], "--bench") && i + 1 < argc) bench_gen = atoi(argv[++i]); /* pp over the ids, then tg of N tokens */
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) cp.n_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
            const char *d = argv[++i];
            cp.device = !strcmp(d, "cuda") ? 1 : !strcmp(d, "auto") ? -1 : 0;
        }
        else if (!strcmp(argv[i], "--ctx") && i + 1 < argc) cp.n_ctx = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--gpu-layers") && i + 1 < argc) cp.gpu_layers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--split-mode") && i + 1 < argc) cp.split_mode = !strcmp(argv[++i], "layer") ? FH1_SPLIT_LAYER : FH1_SPLIT_NONE;
        else if (!strcmp(argv[i], "--main-gpu") && i + 1 < argc) cp.main_gpu = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sample")) bench_sample = 1;
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) cp.n_batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--kv") && i + 1 < argc) cp.kv_type = strcmp(argv[++i], "f32") ? FH1_KV_F16 : FH1_KV_F32;
        else if (!strcmp(argv[i], "--chunks") && i + 1 < argc) {
            for (char *s = strtok(argv[++i], ","); s && n_chunks < 64; s = strtok(NULL, ",")) chunks[n_chunks++] = atoi(s);
        } else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) { perror(argv[2]); return 1; }
    int cap = 1024, n = 0;
    int32_t *ids = malloc(sizeof(int32_t) * cap);
    int v, ch;
    while (1) {
        if (fscanf(f, "%d", &v) == 1) {
            if (n == cap) ids = realloc(ids, sizeof(int32_t) * (cap *= 2));
            ids[n++] = v;
        } else if ((ch = fgetc(f)) == EOF) break;
    }
    fclose(f);
    char err[512];
    fh1_model *m;
    double t0 = now();
    if (fh1_model_load(argv[1], fh1_model_default_params(), &m, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    fh1_context *c;
    if (fh1_context_new(m, cp, &c, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    fh1_model_info info;
    fh1_model_get_info(m, &info);
    const int V = info.n_vocab;
    if (bench_gen > 0) {
        /* llama-bench style: warm-up, then timed prompt (last logits only) and timed generation */
        for (int rep = 0; rep < 3; rep++) {
            fh1_reset(c);
            double a = now();
            if (fh1_decode(c, ids, n, 0, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
            double b = now();
            int32_t tok = ids[n - 1];
            fh1_sampler *smp = fh1_sampler_new(fh1_sampler_default_params(), V); /* temp 0.8, top-k 40, top-p 0.95, min-p 0.05 */
            for (int g = 0; g < bench_gen; g++) {
                const fh1_status st = bench_sample ? fh1_decode_sample(c, &tok, 1, smp, &tok, err, sizeof err) : fh1_decode(c, &tok, 1, 0, err, sizeof err);
                if (st) { fprintf(stderr, "%s\n", err); return 1; }
            }
            fh1_sampler_free(smp);
            double e = now();
            if (rep) printf("%s: pp%d %.1f t/s, tg%d%s %.2f t/s (%.2f ms/token)\n", fh1_context_backend(c), n, n / (b - a), bench_gen, bench_sample ? " sampled" : "", bench_gen / (e - b), 1e3 * (e - b) / bench_gen);
        }
        return 0;
    }
    float *all = malloc(sizeof(float) * (size_t)V * n);
    double t1 = now();
    int pos = 0, ci = 0;
    while (pos < n) {
        int step = decode ? 1 : (ci < n_chunks ? chunks[ci++] : n - pos);
        if (step > n - pos) step = n - pos;
        if (fh1_decode(c, ids + pos, step, 1, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
        int rows;
        const float *lg = fh1_get_logits(c, &rows);
        memcpy(all + (size_t)pos * V, lg, sizeof(float) * (size_t)V * rows);
        pos += step;
    }
    double t2 = now();
    FILE *o = fopen(argv[3], "wb");
    fwrite(all, sizeof(float), (size_t)V * n, o);
    fclose(o);
    fprintf(stderr, "%d tokens, %s, %d threads, load %.3f s, eval %.3f s (%.1f tok/s)\n", n, fh1_context_backend(c), fh1_n_threads(c), t1 - t0, t2 - t1, n / (t2 - t1));
    fh1_context_free(c);
    fh1_model_free(m);
    free(all);
    free(ids);
    return 0;
}

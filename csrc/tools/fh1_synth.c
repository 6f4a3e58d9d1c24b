/* csrc/tools/fh1_synth.c — a random-weight Falcon-H1 GGUF of a released shape, for benchmarks on
 * machines without Node (the GPU machine). Same layout and tokenizer metadata as
 * src/bench/synthetic.ts (GPT-2 style byte tokens and numbered names, which the engine ignores and
 * llama-bench needs), so llama-bench loads the same file there.
 *   fh1_synth 0.5b|1.5b-deep|7b|34b bf16|f16|q8_0|q4_k|q4_k_m OUT.gguf
 * q4_k_m mixes types as llama-quantize's Q4_K_M does for falcon-h1 (src/quantize/recipes.ts): the
 * head Q6_K, attn_v and ffn_down Q6_K in the first and last eighth of the layers and every third
 * layer between, the rest Q4_K. */
#include "../../quant/blocks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { const char *name; int D, L, Hq, Hkv, dh, F, E, H, N, G, V, rms; } shape;
static const shape SHAPES[] = {
    {"0.5b", 1024, 36, 8, 2, 64, 2048, 1536, 24, 128, 1, 32784, 0},
    {"1.5b-deep", 1280, 66, 6, 2, 128, 3072, 1536, 24, 256, 1, 65536, 1},
    {"7b", 3072, 44, 12, 2, 128, 12288, 3072, 24, 256, 1, 130048, 1},
    {"34b", 5120, 72, 20, 4, 128, 21504, 4096, 32, 256, 2, 261120, 1},
};

static FILE *f;
static void w8(const void *p, size_t n) { fwrite(p, 1, n, f); }
static void u32(uint32_t v) { w8(&v, 4); }
static void u64(uint64_t v) { w8(&v, 8); }
static void str(const char *s) { u64(strlen(s)); w8(s, strlen(s)); }
static void kv_u32(const char *k, uint32_t v) { str(k); u32(4); u32(v); }
static void kv_f32(const char *k, float v) { str(k); u32(6); w8(&v, 4); }
static void kv_str(const char *k, const char *v) { str(k); u32(8); str(v); }

/* The tokenizer keys llama.cpp's vocabulary loader needs: token i < 256 is byte i (control and
 * non-printing bytes moved up by 256, as in src/bench/synthetic.ts), the rest "<tN>". */
static void kv_vocab(int V) {
    str("tokenizer.ggml.model"); u32(8); str("gpt2");
    str("tokenizer.ggml.pre"); u32(8); str("falcon-h1");
    str("tokenizer.ggml.tokens"); u32(9); u32(8); u64(V);
    for (int i = 0; i < V; i++) {
        char t[16];
        if (i < 256) {
            const unsigned cp = i < 33 || (i > 126 && i < 161) || i == 173 ? 256 + i : i;
            if (cp < 0x80) { t[0] = (char)cp; t[1] = 0; }
            else { t[0] = (char)(0xC0 | cp >> 6); t[1] = (char)(0x80 | (cp & 0x3F)); t[2] = 0; }
        } else snprintf(t, sizeof t, "<t%d>", i);
        str(t);
    }
    str("tokenizer.ggml.token_type"); u32(9); u32(5); u64(V);
    for (int i = 0; i < V; i++) u32(1);
    str("tokenizer.ggml.merges"); u32(9); u32(8); u64(0);
    kv_u32("tokenizer.ggml.bos_token_id", 1);
    kv_u32("tokenizer.ggml.eos_token_id", 11);
}

typedef struct { char name[64]; int nd; uint64_t ne[2]; int type; int kind; uint64_t bytes; } tinfo;
static tinfo T[2000];
static int nt;
static void add(const char *name, uint64_t ne0, uint64_t ne1, int type, int kind) {
    tinfo *t = &T[nt++];
    snprintf(t->name, 64, "%s", name);
    t->nd = ne1 ? 2 : 1;
    t->ne[0] = ne0;
    t->ne[1] = ne1 ? ne1 : 1;
    t->type = type;
    t->kind = kind;
    t->bytes = ne0 / fh1_type_block_size(type) * fh1_type_size(type) * t->ne[1];
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: fh1_synth SIZE TYPE OUT\n"); return 2; }
    const shape *s = NULL;
    for (size_t i = 0; i < sizeof SHAPES / sizeof *SHAPES; i++) if (!strcmp(SHAPES[i].name, argv[1])) s = &SHAPES[i];
    const int km = !strcmp(argv[2], "q4_k_m");
    int mt = !strcmp(argv[2], "bf16") ? GGML_TYPE_BF16 : !strcmp(argv[2], "f16") ? GGML_TYPE_F16 : !strcmp(argv[2], "q8_0") ? GGML_TYPE_Q8_0 : !strcmp(argv[2], "q4_k") || km ? GGML_TYPE_Q4_K : -1;
    if (!s || mt < 0) { fprintf(stderr, "unknown size or type\n"); return 2; }
    /* llama.cpp's LLAMA_FTYPE numbers, which llama-bench prints as the model type */
    const int file_type = km ? 15 : mt == GGML_TYPE_BF16 ? 32 : mt == GGML_TYPE_F16 ? 1 : mt == GGML_TYPE_Q8_0 ? 7 : 14;
    const int L8 = s->L / 8;
    const int qd = s->Hq * s->dh, kvd = s->Hkv * s->dh, Cd = s->E + 2 * s->G * s->N, Din = s->E + Cd + s->H;
    char n[80];
    add("output.weight", s->D, s->V, km ? GGML_TYPE_Q6_K : mt, 0);
    add("token_embd.weight", s->D, s->V, mt, 0);
    add("output_norm.weight", s->D, 0, 0, 1);
    for (int i = 0; i < s->L; i++) {
        const int more = km && (i < L8 || i >= 7 * s->L / 8 || (i - L8) % 3 == 2), mt6 = more ? GGML_TYPE_Q6_K : mt;
#define A(fmt, a, b, t, k) (snprintf(n, sizeof n, "blk.%d." fmt, i), add(n, a, b, t, k))
        A("ffn_down.weight", s->F, s->D, mt6, 0); A("ffn_gate.weight", s->D, s->F, mt, 0); A("ffn_up.weight", s->D, s->F, mt, 0);
        A("attn_norm.weight", s->D, 0, 0, 1); A("ssm_a", 1, s->H, 0, 2); A("ssm_d", 1, s->H, 0, 1);
        A("ssm_conv1d.bias", Cd, 0, 0, 4); A("ssm_conv1d.weight", 4, Cd, 0, 3); A("ssm_dt.bias", s->H, 0, 0, 5);
        A("ssm_in.weight", s->D, Din, mt, 0);
        if (s->rms) A("ssm_norm.weight", s->E / s->G, s->G, 0, 1);
        A("ssm_out.weight", s->E, s->D, mt, 0); A("ffn_norm", s->D, 0, 0, 1);
        A("attn_k.weight", s->D, kvd, mt, 0); A("attn_output.weight", qd, s->D, mt, 0); A("attn_q.weight", s->D, qd, mt, 0); A("attn_v.weight", s->D, kvd, mt6, 0);
#undef A
    }
    f = fopen(argv[3], "wb");
    if (!f) { perror(argv[3]); return 1; }
    w8("GGUF", 4); u32(3); u64(nt); u64(26);
    kv_str("general.architecture", "falcon-h1");
    kv_u32("falcon-h1.context_length", 262144); kv_u32("falcon-h1.embedding_length", s->D); kv_u32("falcon-h1.feed_forward_length", s->F);
    kv_u32("falcon-h1.attention.head_count", s->Hq); kv_u32("falcon-h1.attention.head_count_kv", s->Hkv); kv_u32("falcon-h1.block_count", s->L);
    kv_u32("falcon-h1.attention.key_length", s->dh); kv_u32("falcon-h1.attention.value_length", s->dh);
    kv_u32("falcon-h1.ssm.conv_kernel", 4); kv_u32("falcon-h1.ssm.inner_size", s->E); kv_u32("falcon-h1.ssm.state_size", s->N);
    kv_u32("falcon-h1.ssm.time_step_rank", s->H); kv_u32("falcon-h1.ssm.group_count", s->G); kv_f32("falcon-h1.attention.layer_norm_rms_epsilon", 1e-5f);
    kv_f32("falcon-h1.rope.freq_base", 1e11f); kv_u32("general.file_type", file_type);
    kv_u32("falcon-h1.vocab_size", s->V); kv_u32("general.quantization_version", 2);
    kv_vocab(s->V);
    uint64_t off = 0;
    for (int i = 0; i < nt; i++) {
        str(T[i].name); u32(T[i].nd); u64(T[i].ne[0]); if (T[i].nd == 2) u64(T[i].ne[1]); u32(T[i].type); u64(off);
        off += (T[i].bytes + 31) / 32 * 32;
    }
    long pos = ftell(f);
    for (long p = pos; p % 32; p++) fputc(0, f);
    /* one random pattern of 1 Mi values, quantized once, cycled through every matrix */
    const int PAT = 1 << 20;
    float *pat = malloc(sizeof(float) * PAT);
    uint32_t r = 12345;
    for (int i = 0; i < PAT; i++) { r ^= r << 13; r ^= r >> 17; r ^= r << 5; pat[i] = ((r / 4294967296.0f) - 0.5f) * 0.06f; }
    uint8_t *qpat[GGML_TYPE_BF16 + 1] = {0}; /* the pattern in each matrix type used */
    size_t pb[GGML_TYPE_BF16 + 1] = {0};
    float *small = malloc(sizeof(float) * 1 << 20);
    for (int i = 0; i < nt; i++) {
        if (T[i].kind == 0) {
            const int ty = T[i].type;
            if (!qpat[ty]) {
                pb[ty] = (size_t)PAT / fh1_type_block_size(ty) * fh1_type_size(ty);
                qpat[ty] = malloc(pb[ty]);
                fh1_quantize_row(ty, pat, qpat[ty], PAT);
            }
            for (uint64_t done = 0; done < T[i].bytes;) { size_t k = T[i].bytes - done < pb[ty] ? T[i].bytes - done : pb[ty]; w8(qpat[ty], k); done += k; }
        } else {
            uint64_t cnt = T[i].ne[0] * T[i].ne[1];
            for (uint64_t j = 0; j < cnt; j++) {
                float v = T[i].kind == 1 ? 1.0f : T[i].kind == 2 ? -expf(fabsf(pat[j % PAT]) * 60.0f) : T[i].kind == 3 ? pat[j % PAT] * 10.0f : T[i].kind == 5 ? -2.0f + pat[j % PAT] * 30.0f : 0.0f;
                small[j] = v;
            }
            w8(small, cnt * 4);
        }
        for (uint64_t p = T[i].bytes; p % 32; p++) fputc(0, f);
    }
    fclose(f);
    fprintf(stderr, "wrote %s: %d tensors, %.2f GB\n", argv[3], nt, off / 1e9);
    return 0;
}

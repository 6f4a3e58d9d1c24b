/* csrc/gguf.c — GGUF parser. Every length, count and offset is checked against the mapping size. */
#include "gguf.h"
#include "../quant/blocks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    size_t size, pos;
    char *err;
    size_t err_len;
    int failed;
} cursor;

static int fail(cursor *c, const char *msg) {
    if (!c->failed) snprintf(c->err, c->err_len, "%s (at byte %zu of %zu)", msg, c->pos, c->size);
    c->failed = 1;
    return -1;
}

static int need(cursor *c, uint64_t n) {
    if (c->failed) return -1;
    if (n > c->size - c->pos) return fail(c, "truncated file");
    return 0;
}

static uint64_t rd_u64(cursor *c) {
    if (need(c, 8)) return 0;
    uint64_t v;
    memcpy(&v, c->p + c->pos, 8);
    c->pos += 8;
    return v;
}
static uint32_t rd_u32(cursor *c) {
    if (need(c, 4)) return 0;
    uint32_t v;
    memcpy(&v, c->p + c->pos, 4);
    c->pos += 4;
    return v;
}

static size_t scalar_size(int t) {
    switch (t) {
    case GGUF_U8: case GGUF_I8: case GGUF_BOOL: return 1;
    case GGUF_U16: case GGUF_I16: return 2;
    case GGUF_U32: case GGUF_I32: case GGUF_F32: return 4;
    case GGUF_U64: case GGUF_I64: case GGUF_F64: return 8;
    default: return 0;
    }
}

/* Skips one value of type t (not an array). */
static int skip_scalar(cursor *c, int t) {
    if (t == GGUF_STR) {
        uint64_t n = rd_u64(c);
        if (need(c, n)) return -1;
        c->pos += n;
        return 0;
    }
    size_t s = scalar_size(t);
    if (!s) return fail(c, "invalid metadata value type");
    if (need(c, s)) return -1;
    c->pos += s;
    return 0;
}

static size_t ggml_type_block(int t) {
    switch (t) {
    case 0: return 1;   case 1: return 1;  case 30: return 1;
    case 2: case 3: case 6: case 7: case 8: case 9: case 20: case 39: return 32;
    case 10: case 11: case 12: case 13: case 14: case 15: case 16: case 17: case 18: case 19:
    case 21: case 22: case 23: case 29: case 34: case 35: return 256;
    case 24: case 25: case 26: case 27: case 28: return 1;
    default: return 0;
    }
}
static size_t ggml_type_bytes(int t) {
    static const struct { int t; size_t b; } tab[] = {
        {0, 4}, {1, 2}, {2, 18}, {3, 20}, {6, 22}, {7, 24}, {8, 34}, {9, 36}, {10, 84}, {11, 110},
        {12, 144}, {13, 176}, {14, 210}, {15, 292}, {16, 66}, {17, 74}, {18, 98}, {19, 50}, {20, 18},
        {21, 110}, {22, 82}, {23, 136}, {24, 1}, {25, 2}, {26, 4}, {27, 8}, {28, 8}, {29, 56}, {30, 2},
        {34, 54}, {35, 66}, {39, 17},
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (tab[i].t == t) return tab[i].b;
    return 0;
}

int gguf_parse(gguf_file *g, const uint8_t *data, size_t size, char *err, size_t err_len) {
    memset(g, 0, sizeof(*g));
    cursor c = {data, size, 0, err, err_len, 0};
    g->data = data;
    g->size = size;
    if (size < 24) return fail(&c, "file too small to be GGUF");
    if (memcmp(data, "GGUF", 4) != 0) return fail(&c, "not a GGUF file (bad magic)");
    c.pos = 4;
    g->version = rd_u32(&c);
    if (g->version < 2 || g->version > 3) return fail(&c, "unsupported GGUF version");
    uint64_t nt = rd_u64(&c), nkv = rd_u64(&c);
    if (nt > size / 33 || nkv > size / 14) return fail(&c, "tensor or metadata count larger than the file allows");
    g->n_tensors = (int64_t)nt;
    g->n_kv = (int64_t)nkv;
    g->kv = calloc(nkv ? nkv : 1, sizeof(gguf_kv));
    g->tensors = calloc(nt ? nt : 1, sizeof(gguf_tensor));
    if (!g->kv || !g->tensors) { gguf_free(g); return fail(&c, "out of memory"); }

    for (uint64_t i = 0; i < nkv && !c.failed; i++) {
        gguf_kv *kv = &g->kv[i];
        uint64_t kl = rd_u64(&c);
        if (need(&c, kl)) break;
        if (kl == 0) { fail(&c, "empty metadata key"); break; }
        kv->key = (const char *)data + c.pos;
        kv->key_len = kl;
        c.pos += kl;
        kv->type = (int)rd_u32(&c);
        if (kv->type == GGUF_ARR) {
            kv->arr_type = (int)rd_u32(&c);
            kv->arr_n = rd_u64(&c);
            if (kv->arr_type == GGUF_ARR) { fail(&c, "nested arrays are not supported"); break; }
            size_t es = kv->arr_type == GGUF_STR ? 8 : scalar_size(kv->arr_type);
            if (!es) { fail(&c, "invalid array element type"); break; }
            if (kv->arr_n > (size - c.pos) / es) { fail(&c, "array longer than the file"); break; }
            kv->val = data + c.pos;
            if (kv->arr_type == GGUF_STR) {
                for (uint64_t j = 0; j < kv->arr_n && !c.failed; j++) skip_scalar(&c, GGUF_STR);
            } else {
                c.pos += kv->arr_n * es;
            }
        } else {
            kv->val = data + c.pos;
            skip_scalar(&c, kv->type);
        }
    }
    if (c.failed) { gguf_free(g); return -1; }

    g->alignment = 32;
    const gguf_kv *al = gguf_find(g, "general.alignment");
    if (al) {
        uint32_t a;
        if (al->type != GGUF_U32) { gguf_free(g); return fail(&c, "general.alignment is not u32"); }
        memcpy(&a, al->val, 4);
        if (a == 0 || (a & (a - 1))) { gguf_free(g); return fail(&c, "general.alignment is not a power of two"); }
        g->alignment = a;
    }

    for (uint64_t i = 0; i < nt && !c.failed; i++) {
        gguf_tensor *t = &g->tensors[i];
        uint64_t nl = rd_u64(&c);
        if (need(&c, nl)) break;
        if (nl == 0 || nl >= sizeof(t->name)) { fail(&c, "tensor name length out of range"); break; }
        memcpy(t->name, data + c.pos, nl);
        t->name[nl] = 0;
        c.pos += nl;
        uint32_t nd = rd_u32(&c);
        if (nd < 1 || nd > 4) { fail(&c, "tensor has more than 4 dimensions"); break; }
        t->n_dims = (int)nd;
        for (int d = 0; d < 4; d++) t->ne[d] = 1;
        uint64_t nel = 1;
        for (uint32_t d = 0; d < nd; d++) {
            uint64_t v = rd_u64(&c);
            if (v > size * 8ull) { fail(&c, "tensor dimension larger than the file"); break; }
            t->ne[d] = (int64_t)v;
            if (v && nel > (size * 8ull) / v) { fail(&c, "tensor element count overflows"); break; }
            nel *= v;
        }
        if (c.failed) break;
        t->type = (int)rd_u32(&c);
        uint64_t off = rd_u64(&c);
        if (c.failed) break;
        size_t bs = ggml_type_block(t->type), ts = ggml_type_bytes(t->type);
        if (!bs || !ts) { fail(&c, "unknown ggml tensor type"); break; }
        if (t->ne[0] % (int64_t)bs) { fail(&c, "tensor row length is not a multiple of its block size"); break; }
        if (off % g->alignment) { fail(&c, "tensor offset not aligned"); break; }
        t->nbytes = nel / bs * ts;
        t->offset = off; /* relative for now */
    }
    if (c.failed) { gguf_free(g); return -1; }
    uint64_t data_start = (c.pos + g->alignment - 1) / g->alignment * g->alignment;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        gguf_tensor *t = &g->tensors[i];
        if (t->offset > size || data_start > size - t->offset || t->nbytes > size - data_start - t->offset) {
            snprintf(err, err_len, "truncated file: tensor '%s' extends past the end (%zu bytes)", t->name, size);
            gguf_free(g);
            return -1;
        }
        t->offset += data_start;
    }
    return 0;
}

void gguf_free(gguf_file *g) {
    free(g->kv);
    free(g->tensors);
    g->kv = NULL;
    g->tensors = NULL;
}

const gguf_kv *gguf_find(const gguf_file *g, const char *key) {
    size_t kl = strlen(key);
    for (int64_t i = 0; i < g->n_kv; i++)
        if (g->kv[i].key_len == kl && memcmp(g->kv[i].key, key, kl) == 0) return &g->kv[i];
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name) {
    for (int64_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0) return &g->tensors[i];
    return NULL;
}

int gguf_get_u32(const gguf_file *g, const char *key, uint32_t *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return 0;
    switch (kv->type) {
    case GGUF_U32: case GGUF_I32: { uint32_t v; memcpy(&v, kv->val, 4); *out = v; return 1; }
    case GGUF_U64: case GGUF_I64: { uint64_t v; memcpy(&v, kv->val, 8); if (v > 0xffffffffu) return 0; *out = (uint32_t)v; return 1; }
    case GGUF_U16: { uint16_t v; memcpy(&v, kv->val, 2); *out = v; return 1; }
    case GGUF_U8: *out = kv->val[0]; return 1;
    default: return 0;
    }
}

int gguf_get_f32(const gguf_file *g, const char *key, float *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return 0;
    if (kv->type == GGUF_F32) { memcpy(out, kv->val, 4); return 1; }
    if (kv->type == GGUF_F64) { double d; memcpy(&d, kv->val, 8); *out = (float)d; return 1; }
    return 0;
}

int gguf_get_bool(const gguf_file *g, const char *key, int *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv || kv->type != GGUF_BOOL) return 0;
    *out = kv->val[0] != 0;
    return 1;
}

int gguf_get_str(const gguf_file *g, const char *key, const char **s, size_t *len) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv || kv->type != GGUF_STR) return 0;
    uint64_t n;
    memcpy(&n, kv->val, 8);
    *s = (const char *)kv->val + 8;
    *len = (size_t)n;
    return 1;
}

int gguf_get_f32_arr(const gguf_file *g, const char *key, float *out, int n) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv || kv->type != GGUF_ARR || kv->arr_type != GGUF_F32 || kv->arr_n != (uint64_t)n) return 0;
    memcpy(out, kv->val, (size_t)n * 4);
    return 1;
}

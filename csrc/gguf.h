/* csrc/gguf.h — a bounds-checked GGUF v2/v3 parser over an mmapped file (metadata + tensor infos). */
#ifndef FH1_GGUF_H
#define FH1_GGUF_H

#include <stddef.h>
#include <stdint.h>

enum gguf_vtype {
    GGUF_U8 = 0, GGUF_I8, GGUF_U16, GGUF_I16, GGUF_U32, GGUF_I32, GGUF_F32, GGUF_BOOL,
    GGUF_STR, GGUF_ARR, GGUF_U64, GGUF_I64, GGUF_F64,
};

typedef struct {
    const char *key;   /* points into the mapping, NOT NUL-terminated; use key_len */
    size_t key_len;
    int type;
    int arr_type;      /* element type if type == GGUF_ARR */
    uint64_t arr_n;
    const uint8_t *val; /* start of the value (for arrays: first element) */
} gguf_kv;

typedef struct {
    char name[64];
    int n_dims;
    int64_t ne[4];
    int type;
    uint64_t offset; /* absolute offset in the file */
    uint64_t nbytes;
} gguf_tensor;

typedef struct {
    const uint8_t *data;
    size_t size;
    uint32_t version;
    uint32_t alignment;
    int64_t n_kv, n_tensors;
    gguf_kv *kv;
    gguf_tensor *tensors;
} gguf_file;

/* Parses data[0..size). Returns 0 on success; on failure writes a message into err. */
int gguf_parse(gguf_file *g, const uint8_t *data, size_t size, char *err, size_t err_len);
void gguf_free(gguf_file *g);

const gguf_kv *gguf_find(const gguf_file *g, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name);
/* Typed getters: return 1 if found with a compatible type. */
int gguf_get_u32(const gguf_file *g, const char *key, uint32_t *out);
int gguf_get_f32(const gguf_file *g, const char *key, float *out);
int gguf_get_bool(const gguf_file *g, const char *key, int *out);
int gguf_get_str(const gguf_file *g, const char *key, const char **s, size_t *len);
/* Float array of exactly n elements (F32). */
int gguf_get_f32_arr(const gguf_file *g, const char *key, float *out, int n);

#endif

// csrc/cuda/backend.cu — the Falcon-H1 forward pass on NVIDIA GPUs, in reading order (see
// fh1_cuda_forward): embed → per layer [attn_norm → (Mamba-2 ‖ attention) → add → ffn_norm →
// SwiGLU → add] → final norm → head. Weights are uploaded once in their file format and
// dequantized inside the matmul kernels; accumulation is f32 everywhere (no TF32, no fast math),
// so results match the CPU engine and HF transformers to f32 rounding.
//
// Decode: warp-per-row GEMVs, a warp-per-(head, p) scan step, split-K attention, all captured once
// into a CUDA graph and replayed per token. Prefill: GEMMs on tensor cores (warpgroup MMAs on
// Hopper, mma.sync elsewhere) with split-bf16 operands (f32-grade results), a shared-memory tiled
// scan run in chunks side by side, and a tiled online-softmax attention on CUDA cores.

#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <mma.h>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

extern "C" {
#include "../model.h"
#include "../../quant/blocks.h"
#include "backend.h"
}

#define CK(x)                                                                                           \
    do {                                                                                                \
        cudaError_t e_ = (x);                                                                           \
        if (e_ != cudaSuccess) {                                                                        \
            snprintf(err, err_len, "CUDA: %s (%s:%d)", cudaGetErrorString(e_), __FILE__, __LINE__);     \
            return 0;                                                                                   \
        }                                                                                               \
    } while (0)

struct dmat {
    const uint8_t *data;
    int type, rows, cols;
    size_t rb;
};

struct dlayer {
    const float *attn_norm, *ffn_norm, *ssm_norm;
    dmat wq, wk, wv, wo, ssm_in, ssm_out, gate, up, down;
    const float *bq, *bk, *bv, *bo, *ssm_in_b, *mup, *conv_w, *conv_b, *dt_bias, *A, *D, *ssm_out_b, *gate_b, *up_b, *down_b;
};

// One GPU's part of the model: layers [l0, l1) with their weights, caches and scratch, plus the
// embedding (first part, when no layer runs on the CPU) and the head (last part).
struct shard {
    const fh1_model *m;
    int dev, l0, l1;
    bool embed_here, head_here;
    int n_ctx, n_batch, kv_f16;
    char name[256];
    std::vector<void *> allocs;
    dmat embd, head;
    const float *out_norm;
    std::vector<dlayer> L; // L[il - l0]
    // state of this part's layers
    void *k_cache, *v_cache; // [layer - l0][n_ctx][kvd]
    float *conv_state, *ssm_state;
    // scratch [B][...]
    int32_t *tok; // = io + 1
    float *x, *u, *us, *ua, *zx, *xbc, *dt, *y, *q, *k, *v, *att, *so, *ao, *g, *up, *fo, *hin, *logits;
    float *att_part; // split-K decode attention: per (head, split) partial max, sum and output row
    // prefill on tensor cores (TC_*): activations, and weights that are not BF16, are split
    // into bf16 hi (+ lo) here first
    float *scan_cs, *scan_decay; // chunked prefill scans: [chunks][H·P·N] states, [chunks][H] decays
    float *scan_cb;              // SSD form: [chunks][G][SSD_Q][SSD_Q] products C_l·B_s; null: the chunked recurrence only
                                 // (FALCON_H1_CUDA_SSD=0, or batches too short for it)
    int tc_mode;
    bool wgmma; // Hopper: the warpgroup-MMA kernel for T >= 64
    __nv_bfloat16 *x_hi, *x_lo; // a GEMM group's distinct inputs one after the other (tc_scratch)
    bool group_gemms, splitk; // FALCON_H1_CUDA_GROUP / _SPLITK (on by default): see gemm_group, plan_slices
    int wg_ctas;              // bf16-mode warpgroup GEMM blocks resident an SM: 2, or 1 with FALCON_H1_CUDA_WG_CTAS=1
    float *kpart;             // split-K slices 1.. of a group's outputs
    size_t kpart_floats;
    int n_sm;
    size_t smem_optin; // shared memory one block may use: 99 KiB on Ampere/Ada GeForce, L4, A10; 163-227 KiB on A100/H100 (FALCON_H1_CUDA_SMEM lowers it, for tests)
    // every launch goes to this stream; decode of one token (T == 1) is captured once into a graph
    // and replayed, with the position and token read from `io` on the device
    cudaStream_t stream;
    cudaEvent_t done; // the next part's stream waits on it before copying x
    int32_t *io, *h_io; // [pos0, tokens...] on the device and its pinned staging copy
    cudaGraphExec_t decode_graph, sample_graph;
    bool graphs, fused_decode, att_tiled, att_mma; // FALCON_H1_CUDA_GRAPH / _FUSED / _ATT_TILED / _ATT_MMA (all on by default)
    // programmatic dependent launch in decode (Hopper, FALCON_H1_PDL): pdl = allowed here; pdl_on
    // while enqueue_decode runs; pdl_next = the next launch may start during this one's tail
    bool pdl, pdl_on, pdl_next;
    bool fuse_mixer; // FALCON_H1_CUDA_FUSE_MIXER=0: decode's scan/attention and gate/merge as separate launches
    bool att_gqa;    // FALCON_H1_CUDA_ATT_GQA=0: decode attention per query head (attn_body) at every depth, never per KV head (attn_gqa_body)
    int gqa_from;    // keys from which decode attention goes per KV head (FALCON_H1_CUDA_GQA_FROM, default GQA_MIN_KEYS)
    bool fuse_norm;  // FALCON_H1_CUDA_FUSE_NORM=0: decode's residual adds and RMSNorms as their own launches (see norm_fusable)
    int8_t *aq8; // FALCON_H1_CUDA_INT8: x of the quantized decode GEMVs in int8 (4 slots of aq_cols), scales in as
    struct act_scale *as;
    int aq_cols;
    // FALCON_H1_CUDA_FUSE_QUANT (on by default): the kernel before a decode GEMV group already wrote
    // the int8 form of preq[j] into slot j, so the group launches no k_quant_act for it
    bool fuse_quant;
    const float *preq[4];
    int npreq;
    int gemv_r, gemv_w, gemv_bps, gemv_u, gemv_swiglu; // decode GEMV shape: 16-bit rows per block, warps per block, resident blocks per SM (0: one block per row group), loads in flight per row
    int dec_shape[4]; // the fused decode path's launch shapes: in-projections, out pair, gate/up, down (indices into the DEC_* tables)
    __nv_bfloat16 *w_hi, *w_lo;
    // GPU sampling (head part): arguments in, token out, a penalised copy of the logits row
    fh1_gpu_sample *s_in, *h_s_in;
    int32_t *s_out, *h_s_out;
    float *s_work;
    // FALCON_H1_CUDA_PROFILE: timed spans of the last forward (kind 0 operand splits, 1 GEMMs, 2 all,
    // 3 attention, 4 scan)
    struct mark {
        cudaEvent_t a, b;
        int kind;
        double flops;
    };
    std::vector<mark> prof;
};

static void dec_shapes_from_env(int *shape); // FALCON_H1_CUDA_DEC_SHAPE, see DEC_IN

struct fh1_cuda {
    const fh1_model *m;
    int first_layer;
    bool head;
    std::vector<shard *> parts;
    char name[320];
};

// ---- weight element access (mirrors quant/quants.c fh1_dequantize_row) --------------------------

// f32/f16/bf16 rows (the 16-byte vector GEMV) as opposed to block-quantized ones
__host__ __device__ __forceinline__ bool is16(int type) { return type == GGML_TYPE_F32 || type == GGML_TYPE_F16 || type == GGML_TYPE_BF16; }

// Programmatic dependent launch (sm_90): every kernel the decode launches starts with this. It
// lets the next kernel launch at once, then waits until the kernel before has finished and its
// writes are visible, so a launch's latency overlaps the tail of the kernel before (7B BF16 decode
// on an H200: 7.05 -> 6.70 ms a token). No-op for a normal launch and on sm_80. Pulling the
// GEMVs' first weight rows into L2 before the wait measured 6% slower, so nothing runs before it.
__device__ __forceinline__ void pdl_start() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ float h2f(uint16_t h) { return __half2float(__ushort_as_half(h)); }

__device__ __forceinline__ void k4sc(const uint8_t *q, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

__device__ float wget(const uint8_t *row, int type, int k) {
    switch (type) {
    case GGML_TYPE_F32: return ((const float *)row)[k];
    case GGML_TYPE_F16: return h2f(((const uint16_t *)row)[k]);
    case GGML_TYPE_BF16: return __uint_as_float((uint32_t)((const uint16_t *)row)[k] << 16);
    case GGML_TYPE_Q8_0: {
        const block_q8_0 *b = (const block_q8_0 *)row + k / 32;
        return (float)b->qs[k % 32] * h2f(b->d);
    }
    case GGML_TYPE_Q4_0: {
        const block_q4_0 *b = (const block_q4_0 *)row + k / 32;
        const int j = k % 32;
        return (float)((j < 16 ? (b->qs[j] & 0xF) : (b->qs[j - 16] >> 4)) - 8) * h2f(b->d);
    }
    case GGML_TYPE_Q4_1: {
        const block_q4_1 *b = (const block_q4_1 *)row + k / 32;
        const int j = k % 32;
        return (float)(j < 16 ? (b->qs[j] & 0xF) : (b->qs[j - 16] >> 4)) * h2f(b->d) + h2f(b->m);
    }
    case GGML_TYPE_Q5_0:
    case GGML_TYPE_Q5_1: {
        const bool one = type == GGML_TYPE_Q5_1;
        const uint8_t *blk = row + (size_t)(k / 32) * (one ? 24 : 22);
        const int j = k % 32;
        uint32_t qh;
        memcpy(&qh, blk + (one ? 4 : 2), 4);
        const uint8_t *qs = blk + (one ? 8 : 6);
        const int lo = j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
        const int q = lo | (((qh >> j) & 1) << 4);
        const float d = h2f(*(const uint16_t *)blk);
        return one ? (float)q * d + h2f(*(const uint16_t *)(blk + 2)) : (float)(q - 16) * d;
    }
    case GGML_TYPE_Q4_K: {
        const block_q4_K *b = (const block_q4_K *)row + k / 256;
        const int j = k % 256, c = j / 64, l = j % 64;
        int sc, m;
        k4sc(b->scales, 2 * c + (l >= 32), &sc, &m);
        const int q = l < 32 ? (b->qs[32 * c + l] & 0xF) : (b->qs[32 * c + l - 32] >> 4);
        return h2f(b->d) * sc * q - h2f(b->dmin) * m;
    }
    case GGML_TYPE_Q5_K: {
        const block_q5_K *b = (const block_q5_K *)row + k / 256;
        const int j = k % 256, c = j / 64, l = j % 64;
        int sc, m;
        k4sc(b->scales, 2 * c + (l >= 32), &sc, &m);
        const int ll = l % 32;
        const int lo = l < 32 ? (b->qs[32 * c + ll] & 0xF) : (b->qs[32 * c + ll] >> 4);
        const int hb = (b->qh[ll] >> (2 * c + (l >= 32))) & 1;
        return h2f(b->d) * sc * (lo + 16 * hb) - h2f(b->dmin) * m;
    }
    case GGML_TYPE_Q6_K: {
        const block_q6_K *b = (const block_q6_K *)row + k / 256;
        const int j = k % 256, h = j / 128, r = j % 128, g = r / 32, l = r % 32;
        const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
        const int low = g == 0 ? (ql[l] & 0xF) : g == 1 ? (ql[l + 32] & 0xF) : g == 2 ? (ql[l] >> 4) : (ql[l + 32] >> 4);
        const int q = (low | (((qh[l] >> (2 * g)) & 3) << 4)) - 32;
        return h2f(b->d) * b->scales[8 * h + 2 * g + l / 16] * q;
    }
    default: return 0.0f;
    }
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
    return v;
}

// ---- kernels -------------------------------------------------------------------------------

#define MM_T 8
// y[t][r] = W[r,:]·x[t,:] — one warp per weight row, MM_T tokens per warp
__global__ void k_matmul(dmat W, const float *x, int T, float *y) {
    pdl_start();
    const int r = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    const int t0 = blockIdx.y * MM_T;
    if (r >= W.rows) return;
    const uint8_t *row = W.data + (size_t)r * W.rb;
    float acc[MM_T];
    for (int j = 0; j < MM_T; j++) acc[j] = 0.0f;
    const int nt = min(MM_T, T - t0);
    for (int k = lane; k < W.cols; k += 32) {
        const float w = wget(row, W.type, k);
        for (int j = 0; j < nt; j++) acc[j] = fmaf(w, x[(size_t)(t0 + j) * W.cols + k], acc[j]);
    }
    for (int j = 0; j < nt; j++) {
        const float s = warp_sum(acc[j]);
        if (lane == 0) y[(size_t)(t0 + j) * W.rows + r] = s;
    }
}

// T == 1 with f32/f16/bf16 weights (memory-bound GEMV): a block of GEMV_WARPS warps takes
// GEMV_ROWS rows and splits K between its warps (so small matrices still fill the GPU), each lane
// reads 16 bytes of weights per row at a time with several loads in flight; the warps' partial
// sums meet in shared memory.
#define GEMV_ROWS 2
#define GEMV_WARPS 4
// rows r0.. of W (block-uniform), R rows per block, NW warps splitting K.
// Each step issues U vectors of every row (R·U 16-byte loads in flight per lane) before any
// arithmetic: decode is bound by how many bytes are in flight, not by the FMAs. The per-row sum
// visits k in the same order for every U. W2 (optional, R == 2): row 1 comes from W2's row r0
// instead of W's row r0 + 1 (gate and up rows side by side for the fused SwiGLU).
// NORM (decode with FALCON_H1_CUDA_FUSE_NORM): x is the raw residual stream and the RMSNorm in
// front of the matrix is folded in: the block sums x² while it streams x for the dot (its warps
// see every element once) and scales each row's sum at the end,
//   y[r] = (Σ_k W[r,k]·(g[k]·x[k])) · rsqrt(Σ_k x[k]² / K + eps) · m.
// ad (y mode, when ad.m != 0): y[r] ← y[r] + (sum + b[r])·m, the residual add of the matrix's output.
struct row_norm {
    const float *g;
    float eps, m;
};
struct row_add {
    const float *b;
    float m;
};
// 4 (f32 rows: one 16-byte vector of weights) or 8 consecutive floats at p into out
__device__ __forceinline__ void load_x16(const float *p, bool f32, float (&out)[8]) {
    const float4 a = ((const float4 *)p)[0];
    out[0] = a.x, out[1] = a.y, out[2] = a.z, out[3] = a.w;
    if (!f32) {
        const float4 b = ((const float4 *)p)[1];
        out[4] = b.x, out[5] = b.y, out[6] = b.z, out[7] = b.w;
    }
}
template <int R, int NW, int U, bool NORM = false>
__device__ void gemv16_rows(const dmat &W, const float *x, float *y, int r0, float (*sums)[R] = nullptr, const dmat *W2 = nullptr, row_norm nm = {}, row_add ad = {}) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int nr = W2 ? 2 : min(R, W.rows - r0);
    const bool f32 = W.type == GGML_TYPE_F32, bf16 = W.type == GGML_TYPE_BF16;
    const int per16 = f32 ? 4 : 8, nvec = W.cols / per16;
    const uint8_t *rows[R];
    for (int r = 0; r < R; r++) rows[r] = (W2 && r == 1) ? W2->data + (size_t)r0 * W2->rb : W.data + (size_t)(r0 + r) * W.rb;
    float acc[R];
    for (int r = 0; r < R; r++) acc[r] = 0.0f;
    float ss = 0.0f; // NORM: this lane's share of Σ x²
    for (int v0 = warp * 32 + lane; v0 < nvec; v0 += 32 * NW * U) {
        uint4 raw[U][R];
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int v = v0 + u * 32 * NW;
#pragma unroll
            for (int r = 0; r < R; r++)
                if (r < nr && v < nvec) raw[u][r] = ((const uint4 *)rows[r])[v];
        }
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int v = v0 + u * 32 * NW;
            if (v >= nvec) break;
            float xv[8];
            load_x16(x + (size_t)v * per16, f32, xv);
            if constexpr (NORM) {
                float gv[8];
                load_x16(nm.g + (size_t)v * per16, f32, gv);
#pragma unroll
                for (int i = 0; i < 8; i++) // constant indices keep xv/gv in registers
                    if (i < per16) {
                        ss = fmaf(xv[i], xv[i], ss);
                        xv[i] *= gv[i];
                    }
            }
#pragma unroll
            for (int r = 0; r < R; r++) {
                if (r >= nr) break;
                float a = acc[r];
                if (f32) {
                    const float *f = (const float *)&raw[u][r];
                    for (int i = 0; i < 4; i++) a = fmaf(f[i], xv[i], a);
                } else {
                    const uint16_t *h = (const uint16_t *)&raw[u][r];
                    for (int i = 0; i < 8; i++) a = fmaf(bf16 ? __uint_as_float((uint32_t)h[i] << 16) : h2f(h[i]), xv[i], a);
                }
                acc[r] = a;
            }
        }
    }
    __shared__ float part[NW][R], part_ss[NW];
    for (int r = 0; r < nr; r++) {
        float a = acc[r];
        if (warp == 0)
            for (int k = nvec * per16 + lane; k < W.cols; k += 32) {
                float xk = x[k];
                if constexpr (NORM) {
                    if (r == 0) ss = fmaf(xk, xk, ss);
                    xk *= nm.g[k];
                }
                a = fmaf(wget(rows[r], W.type, k), xk, a);
            }
        a = warp_sum(a);
        if (lane == 0) part[warp][r] = a;
    }
    if constexpr (NORM) {
        ss = warp_sum(ss);
        if (lane == 0) part_ss[warp] = ss;
    }
    __syncthreads();
    if (threadIdx.x < nr) {
        float s = 0.0f;
        for (int w = 0; w < NW; w++) s += part[w][threadIdx.x];
        if constexpr (NORM) {
            float t = 0.0f;
            for (int w = 0; w < NW; w++) t += part_ss[w];
            s *= (1.0f / sqrtf(t / W.cols + nm.eps)) * nm.m;
        }
        const int r = r0 + threadIdx.x;
        if (sums) (*sums)[threadIdx.x] = s;
        else if (ad.m != 0.0f) y[r] = y[r] + (s + (ad.b ? ad.b[r] : 0.0f)) * ad.m;
        else y[r] = s;
    }
    __syncthreads(); // part[] (and sums) are reused by the block's next rows
}

__global__ void __launch_bounds__(32 * GEMV_WARPS) k_gemv16(dmat W, const float *x, float *y) {
    pdl_start();
    gemv16_rows<GEMV_ROWS, GEMV_WARPS, 1>(W, x, y, blockIdx.x * GEMV_ROWS);
}

// 16 consecutive weights k0..k0+15 (k0 % 16 == 0) of a quantized row: the block header is read
// once per 16 elements instead of once per element as in wget. Two builds of one body: deq16 for
// the decode GEMV, deq16_unrolled (every 16-loop unrolled, out[] in registers) for the prefill
// weight split. Measured on an H100 (bench/gpu/ab.sh): the unrolled form gives pp512 +6-7% (7B
// Q4_K/Q8_0) through the split, but in the GEMV it cost 7B Q4_K decode 14% (87.6 -> 75.8 t/s)
// while Q8_0 gained 8%, so the GEMV keeps the plain loops.
#define DEFINE_DEQ16(NAME, LOOP_PRAGMA) \
__device__ __forceinline__ float NAME(const uint8_t *row, int type, int k0, float out[16]) {                           \
    switch (type) {                                                                                                    \
    case GGML_TYPE_Q8_0: {                                                                                             \
        const block_q8_0 *b = (const block_q8_0 *)row + k0 / 32;                                                       \
        const float d = h2f(b->d);                                                                                     \
        LOOP_PRAGMA                                                                                                    \
        for (int i = 0; i < 16; i++) out[i] = (float)b->qs[k0 % 32 + i] * d;                                           \
        return 0.0f;                                                                                                   \
    }                                                                                                                  \
    case GGML_TYPE_Q4_0:                                                                                               \
    case GGML_TYPE_Q4_1: {                                                                                             \
        const bool one = type == GGML_TYPE_Q4_1;                                                                       \
        const uint8_t *blk = row + (size_t)(k0 / 32) * (one ? 20 : 18);                                                \
        const uint8_t *qs = blk + (one ? 4 : 2);                                                                       \
        const float d = h2f(*(const uint16_t *)blk), m = one ? h2f(*(const uint16_t *)(blk + 2)) : -8.0f * d;          \
        const int hi = k0 % 32 >= 16;                                                                                  \
        LOOP_PRAGMA                                                                                                    \
        for (int i = 0; i < 16; i++) out[i] = (float)(hi ? qs[i] >> 4 : qs[i] & 0xF) * d + m;                          \
        return 0.0f;                                                                                                   \
    }                                                                                                                  \
    case GGML_TYPE_Q5_0:                                                                                               \
    case GGML_TYPE_Q5_1: {                                                                                             \
        const bool one = type == GGML_TYPE_Q5_1;                                                                       \
        const uint8_t *blk = row + (size_t)(k0 / 32) * (one ? 24 : 22);                                                \
        uint32_t qh;                                                                                                   \
        memcpy(&qh, blk + (one ? 4 : 2), 4);                                                                           \
        const uint8_t *qs = blk + (one ? 8 : 6);                                                                       \
        const float d = h2f(*(const uint16_t *)blk), m = one ? h2f(*(const uint16_t *)(blk + 2)) : -16.0f * d;         \
        const int j0 = k0 % 32;                                                                                        \
        LOOP_PRAGMA                                                                                                    \
        for (int i = 0; i < 16; i++) {                                                                                 \
            const int lo = j0 ? qs[i] >> 4 : qs[i] & 0xF;                                                              \
            out[i] = (float)(lo | (((qh >> (j0 + i)) & 1) << 4)) * d + m;                                              \
        }                                                                                                              \
        return 0.0f;                                                                                                   \
    }                                                                                                                  \
    case GGML_TYPE_Q4_K:                                                                                               \
    case GGML_TYPE_Q5_K: {                                                                                             \
        const bool five = type == GGML_TYPE_Q5_K;                                                                      \
        const uint8_t *blk = row + (size_t)(k0 / 256) * (five ? sizeof(block_q5_K) : sizeof(block_q4_K));              \
        const uint16_t dd = *(const uint16_t *)blk, dm = *(const uint16_t *)(blk + 2);                                 \
        const uint8_t *scales = blk + 4, *qh = five ? blk + 16 : nullptr, *qs = blk + (five ? 48 : 16);                \
        const int j = k0 % 256, c = j / 64, l = j % 64, hi = l >= 32, ll = l % 32;                                     \
        int sc, m;                                                                                                     \
        k4sc(scales, 2 * c + hi, &sc, &m);                                                                             \
        const float d = h2f(dd) * sc, mn = h2f(dm) * m;                                                                \
        /* blocks are 144 (Q4_K) or 176 (Q5_K) bytes, qs/qh 16-byte aligned: one vector load each */                   \
        uint4 qv = *(const uint4 *)(qs + 32 * c + ll), hv = five ? *(const uint4 *)(qh + ll) : make_uint4(0, 0, 0, 0); \
        const uint8_t *q = (const uint8_t *)&qv, *h = (const uint8_t *)&hv;                                            \
        _Pragma("unroll")                                                                                              \
        for (int i = 0; i < 16; i++) {                                                                                 \
            int v = hi ? q[i] >> 4 : q[i] & 0xF;                                                                       \
            if (five) v += 16 * ((h[i] >> (2 * c + hi)) & 1);                                                          \
            out[i] = d * v - mn;                                                                                       \
        }                                                                                                              \
        return 0.0f;                                                                                                   \
    }                                                                                                                  \
    case GGML_TYPE_Q6_K: {                                                                                             \
        const block_q6_K *b = (const block_q6_K *)row + k0 / 256;                                                      \
        const int j = k0 % 256, h = j / 128, r = j % 128, g = r / 32, l = r % 32;                                      \
        const uint8_t *ql = b->ql + 64 * h + (g & 1) * 32 + l, *qh = b->qh + 32 * h + l;                               \
        const float d = h2f(b->d) * b->scales[8 * h + 2 * g + l / 16];                                                 \
        LOOP_PRAGMA                                                                                                    \
        for (int i = 0; i < 16; i++) {                                                                                 \
            const int low = g >= 2 ? ql[i] >> 4 : ql[i] & 0xF;                                                         \
            out[i] = d * (float)((low | (((qh[i] >> (2 * g)) & 3) << 4)) - 32);                                        \
        }                                                                                                              \
        return 0.0f;                                                                                                   \
    }                                                                                                                  \
    default:                                                                                                           \
        LOOP_PRAGMA                                                                                                    \
        for (int i = 0; i < 16; i++) out[i] = wget(row, type, k0 + i);                                                 \
        return 0.0f;                                                                                                   \
    }                                                                                                                  \
}
DEFINE_DEQ16(deq16, )
DEFINE_DEQ16(deq16_unrolled, _Pragma("unroll"))
#undef DEFINE_DEQ16

// T == 1 with block-quantized weights: a warp per row, each lane 16 consecutive weights at a time
// (dequantized with one header read) against 4 float4 loads of x
#define QGEMV_WARPS 4
// one warp per row
__device__ void gemvq_row(const dmat &W, const float *x, float *y, int r) {
    const int lane = threadIdx.x % 32;
    if (r >= W.rows) return;
    const uint8_t *row = W.data + (size_t)r * W.rb;
    float acc = 0.0f;
#pragma unroll 4
    for (int k0 = 16 * lane; k0 < W.cols; k0 += 16 * 32) {
        float w[16];
        deq16(row, W.type, k0, w);
        const float4 *xp = (const float4 *)(x + k0);
#pragma unroll
        for (int q = 0; q < 4; q++) {
            const float4 xv = xp[q];
            acc = fmaf(w[4 * q], xv.x, acc);
            acc = fmaf(w[4 * q + 1], xv.y, acc);
            acc = fmaf(w[4 * q + 2], xv.z, acc);
            acc = fmaf(w[4 * q + 3], xv.w, acc);
        }
    }
    acc = warp_sum(acc);
    if (lane == 0) y[r] = acc;
}

__global__ void __launch_bounds__(32 * QGEMV_WARPS) k_gemv_quant(dmat W, const float *x, float *y) {
    pdl_start();
    gemvq_row(W, x, y, blockIdx.x * QGEMV_WARPS + threadIdx.x / 32);
}

// ---- decode GEMV on 8-bit activations (dp4a) -------------------------------------------------
// Quantized weights in decode: x is first rounded to int8 per 32 values (scale d = max|x| / 127,
// round to nearest even, as the CPU decode does) with ds = d · Σq kept for the weights' offsets
// and minimums. Each lane then takes whole weight blocks and sums code × code products in int32
// with __dp4a (4 products an instruction), scaling once per block in f32: about one instruction
// per weight pair fewer than dequantizing to f32. FALCON_H1_CUDA_INT8=0 keeps the f32 path.
struct act_scale {
    float d, ds;
};

// one warp per 32-value block: x[32b..] -> q[32b..], s[b] (lane l holds element 32·b + l; all 32
// lanes of the warp call it). Also the
// epilogue of decode kernels whose output feeds an int8 GEMV (FALCON_H1_CUDA_FUSE_QUANT): the same
// values rounded the same way as a k_quant_act launch after them would
__device__ __forceinline__ void quant32(float v, int b, int lane, int8_t *q, act_scale *s) {
    float amax = fabsf(v);
    for (int o = 16; o; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffff, amax, o));
    const int qv = __float2int_rn(v * (amax != 0.0f ? 127.0f / amax : 0.0f));
    q[32 * b + lane] = (int8_t)qv;
    int sum = qv;
    for (int o = 16; o; o >>= 1) sum += __shfl_xor_sync(0xffffffff, sum, o);
    if (lane == 0) s[b] = act_scale{amax / 127.0f, amax / 127.0f * (float)sum};
}
__global__ void k_quant_act(const float *x, int K, int8_t *q, act_scale *s) {
    pdl_start();
    const int b = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (b >= K / 32) return;
    quant32(x[32 * b + lane], b, lane, q, s);
}

// 4 bytes at a 2-byte aligned address (blocks of 18, 22, 34 or 210 bytes)
__device__ __forceinline__ int ld_i32_a2(const uint8_t *p) {
    const uint16_t *h = (const uint16_t *)p;
    return (int)((uint32_t)h[0] | ((uint32_t)h[1] << 16));
}
// bits j..j+3 of qh as 0x10 in bytes 0..3 (the fifth bit of 4 codes)
__device__ __forceinline__ int fifth4(uint32_t qh, int j) {
    const uint32_t b = qh >> j;
    return (int)(((b & 1) << 4) | ((b & 2) << 11) | ((b & 4) << 18) | ((b & 8) << 25));
}

// Σ over one 32-weight block of a Q8_0/Q4_0/Q4_1/Q5_0/Q5_1 row against activation block i
template <int TYPE>
__device__ __forceinline__ float dot_block32(const uint8_t *row, int i, const int *aq, const act_scale &as) {
    int sumi = 0;
    if constexpr (TYPE == GGML_TYPE_Q8_0) {
        const uint8_t *blk = row + (size_t)i * 34;
#pragma unroll
        for (int k = 0; k < 8; k++) sumi = __dp4a(ld_i32_a2(blk + 2 + 4 * k), aq[k], sumi);
        return h2f(*(const uint16_t *)blk) * as.d * (float)sumi;
    } else {
        constexpr bool one = TYPE == GGML_TYPE_Q4_1 || TYPE == GGML_TYPE_Q5_1, five = TYPE == GGML_TYPE_Q5_0 || TYPE == GGML_TYPE_Q5_1;
        constexpr int size = five ? (one ? 24 : 22) : (one ? 20 : 18), qs_at = (one ? 4 : 2) + (five ? 4 : 0);
        const uint8_t *blk = row + (size_t)i * size;
        const uint32_t qh = five ? (uint32_t)ld_i32_a2(blk + (one ? 4 : 2)) : 0u;
#pragma unroll
        for (int k = 0; k < 4; k++) {
            const int w = ld_i32_a2(blk + qs_at + 4 * k);
            int lo = w & 0x0F0F0F0F, hi = (w >> 4) & 0x0F0F0F0F;
            if (five) lo |= fifth4(qh, 4 * k), hi |= fifth4(qh, 16 + 4 * k);
            sumi = __dp4a(lo, aq[k], sumi);
            sumi = __dp4a(hi, aq[4 + k], sumi);
        }
        const float d = h2f(*(const uint16_t *)blk);
        // codes are unsigned: Q4_0/Q5_0 subtract 8/16 (times Σq of the activations), Q4_1/Q5_1 add m
        const float off = one ? h2f(*(const uint16_t *)(blk + 2)) : -(five ? 16.0f : 8.0f) * d;
        return d * as.d * (float)sumi + off * as.ds;
    }
}

// Q4_K/Q5_K: unit c (0..3) of super-block sb is 64 weights, the low and high nibbles of 32 bytes
template <bool FIVE>
__device__ __forceinline__ float dot_k45_unit(const uint8_t *row, int sb, int c, const int8_t *aq8, const act_scale *as) {
    const uint8_t *blk = row + (size_t)sb * (FIVE ? 176 : 144);
    const uint8_t *qs = blk + (FIVE ? 48 : 16) + 32 * c;
    const int4 q0 = ((const int4 *)qs)[0], q1 = ((const int4 *)qs)[1];
    const int qv[8] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w};
    int hv[8];
    if (FIVE) {
        const int4 h0 = ((const int4 *)(blk + 16))[0], h1 = ((const int4 *)(blk + 16))[1];
        hv[0] = h0.x, hv[1] = h0.y, hv[2] = h0.z, hv[3] = h0.w, hv[4] = h1.x, hv[5] = h1.y, hv[6] = h1.z, hv[7] = h1.w;
    }
    const int4 *a = (const int4 *)(aq8 + (size_t)256 * sb + 64 * c);
    const int4 a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    const int av[16] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w, a2.x, a2.y, a2.z, a2.w, a3.x, a3.y, a3.z, a3.w};
    int slo = 0, shi = 0;
#pragma unroll
    for (int k = 0; k < 8; k++) {
        int lo = qv[k] & 0x0F0F0F0F, hi = (qv[k] >> 4) & 0x0F0F0F0F;
        if (FIVE) lo |= ((hv[k] >> (2 * c)) & 0x01010101) << 4, hi |= ((hv[k] >> (2 * c + 1)) & 0x01010101) << 4;
        slo = __dp4a(lo, av[k], slo);
        shi = __dp4a(hi, av[8 + k], shi);
    }
    int sc0, m0, sc1, m1;
    k4sc(blk + 4, 2 * c, &sc0, &m0);
    k4sc(blk + 4, 2 * c + 1, &sc1, &m1);
    const act_scale s0 = as[8 * sb + 2 * c], s1 = as[8 * sb + 2 * c + 1];
    const float d = h2f(*(const uint16_t *)blk), dmin = h2f(*(const uint16_t *)(blk + 2));
    return d * ((float)(sc0 * slo) * s0.d + (float)(sc1 * shi) * s1.d) - dmin * ((float)m0 * s0.ds + (float)m1 * s1.ds);
}

// Q6_K: unit u (0..3) of super-block sb is half h = u / 2, positions l = 16·(u % 2) .. +15 of
// each of the 4 groups: every group's 16 weights share one scale. Codes - 32 are signed bytes.
__device__ __forceinline__ float dot_q6k_unit(const uint8_t *row, int sb, int u, const int8_t *aq8, const act_scale *as) {
    const uint8_t *blk = row + (size_t)sb * 210; // 2-byte aligned
    const int h = u / 2, l0 = 16 * (u % 2);
    const uint8_t *qla = blk + 64 * h + l0, *qlb = qla + 32, *qh = blk + 128 + 32 * h + l0;
    const int8_t *sc = (const int8_t *)(blk + 192) + 8 * h + u % 2;
    float acc = 0.0f;
    int la[4], lb[4], hb[4];
#pragma unroll
    for (int k = 0; k < 4; k++) la[k] = ld_i32_a2(qla + 4 * k), lb[k] = ld_i32_a2(qlb + 4 * k), hb[k] = ld_i32_a2(qh + 4 * k);
#pragma unroll
    for (int g = 0; g < 4; g++) {
        const int4 a = *(const int4 *)(aq8 + (size_t)256 * sb + 128 * h + 32 * g + l0);
        const int av[4] = {a.x, a.y, a.z, a.w};
        int sumi = 0;
#pragma unroll
        for (int k = 0; k < 4; k++) {
            const int src = g & 1 ? lb[k] : la[k];
            const int low = (g >= 2 ? src >> 4 : src) & 0x0F0F0F0F;
            const int w = __vsub4(low | (((hb[k] >> (2 * g)) & 0x03030303) << 4), 0x20202020);
            sumi = __dp4a(w, av[k], sumi);
        }
        acc += (float)(sc[2 * g] * sumi) * as[8 * sb + 4 * h + g].d;
    }
    return h2f(*(const uint16_t *)(blk + 208)) * acc;
}

// one warp per row r: y[r] = W[r,:]·x with x as (aq8, as)
template <int TYPE>
__device__ float gemv_i8_sum(const uint8_t *row, int cols, const int8_t *aq8, const act_scale *as) {
    const int lane = threadIdx.x % 32;
    float acc = 0.0f;
    if constexpr (TYPE == GGML_TYPE_Q4_K || TYPE == GGML_TYPE_Q5_K || TYPE == GGML_TYPE_Q6_K) {
        const int units = cols / 64;
#pragma unroll 2
        for (int u = lane; u < units; u += 32) {
            if constexpr (TYPE == GGML_TYPE_Q6_K) acc += dot_q6k_unit(row, u / 4, u % 4, aq8, as);
            else acc += dot_k45_unit<TYPE == GGML_TYPE_Q5_K>(row, u / 4, u % 4, aq8, as);
        }
    } else {
        const int nb = cols / 32;
#pragma unroll 2
        for (int i = lane; i < nb; i += 32) {
            const int4 a0 = ((const int4 *)(aq8 + 32 * i))[0], a1 = ((const int4 *)(aq8 + 32 * i))[1];
            const int aq[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
            acc += dot_block32<TYPE>(row, i, aq, as[i]);
        }
    }
    return warp_sum(acc);
}

// whether gemvq8_row takes this type (the rest keep the f32 path)
__host__ __device__ __forceinline__ bool int8_type(int t) {
    return t == GGML_TYPE_Q8_0 || t == GGML_TYPE_Q4_0 || t == GGML_TYPE_Q4_1 || t == GGML_TYPE_Q5_0 || t == GGML_TYPE_Q5_1 || t == GGML_TYPE_Q4_K ||
           t == GGML_TYPE_Q5_K || t == GGML_TYPE_Q6_K;
}

__device__ void gemvq8_row(const dmat &W, const int8_t *aq8, const act_scale *as, float *y, int r) {
    if (r >= W.rows) return;
    const uint8_t *row = W.data + (size_t)r * W.rb;
    float s = 0.0f;
    switch (W.type) {
    case GGML_TYPE_Q8_0: s = gemv_i8_sum<GGML_TYPE_Q8_0>(row, W.cols, aq8, as); break;
    case GGML_TYPE_Q4_0: s = gemv_i8_sum<GGML_TYPE_Q4_0>(row, W.cols, aq8, as); break;
    case GGML_TYPE_Q4_1: s = gemv_i8_sum<GGML_TYPE_Q4_1>(row, W.cols, aq8, as); break;
    case GGML_TYPE_Q5_0: s = gemv_i8_sum<GGML_TYPE_Q5_0>(row, W.cols, aq8, as); break;
    case GGML_TYPE_Q5_1: s = gemv_i8_sum<GGML_TYPE_Q5_1>(row, W.cols, aq8, as); break;
    case GGML_TYPE_Q4_K: s = gemv_i8_sum<GGML_TYPE_Q4_K>(row, W.cols, aq8, as); break;
    case GGML_TYPE_Q5_K: s = gemv_i8_sum<GGML_TYPE_Q5_K>(row, W.cols, aq8, as); break;
    case GGML_TYPE_Q6_K: s = gemv_i8_sum<GGML_TYPE_Q6_K>(row, W.cols, aq8, as); break;
    default: break;
    }
    if (threadIdx.x % 32 == 0) y[r] = s;
}

__global__ void k_embed(dmat E, const int32_t *tok, float mult, float *x, int D) {
    pdl_start();
    const int t = blockIdx.x;
    const uint8_t *row = E.data + (size_t)tok[t] * E.rb;
    for (int i = threadIdx.x; i < D; i += blockDim.x) {
        const float v = wget(row, E.type, i);
        x[(size_t)t * D + i] = mult != 1.0f ? v * mult : v;
    }
}

// Σ v over the block (double, like the CPU norms); every thread gets the result
__device__ double block_sum(double v) {
    __shared__ double part[32];
    for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
    __syncthreads();
    if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = v;
    __syncthreads();
    if (threadIdx.x == 0) {
        double s = 0.0;
        for (int i = 0; i < (int)(blockDim.x / 32); i++) s += part[i];
        part[0] = s;
    }
    __syncthreads();
    return part[0];
}

// out = w ⊙ (x / sqrt(mean(x²) + eps)) per row; optional scaled copies (µP input multipliers)
__global__ void k_rmsnorm(const float *x, const float *w, float *out, int n, float eps, float *out2, float m2, float *out3, float m3) {
    pdl_start();
    const size_t row = blockIdx.x;
    const float *xr = x + row * n;
    double ss = 0.0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) ss += (double)xr[i] * xr[i];
    const float r = 1.0f / sqrtf((float)(block_sum(ss) / n) + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const float v = w[i] * (xr[i] * r);
        out[row * n + i] = v;
        if (out2) out2[row * n + i] = v * m2;
        if (out3) out3[row * n + i] = v * m3;
    }
}

struct post_args {
    float *zx, *q, *k, *v, *dt;
    const float *in_b, *mup, *dt_bias, *bq, *bk, *bv;
    void *kc, *vc;
    const int *pos; // position of the first token, on the device (a decode graph replays with new values)
    int Din, E, Cd, H, qd, kvd, dh, nh, nkv, n_ctx, layer, kv_f16;
    float key_mult, theta, dt_min, dt_max;
};

__device__ __forceinline__ float softplus(float v) { return v > 20.0f ? v : log1pf(expf(v)); }

// per token: in_proj bias + µP vector, Δ, q/k/v biases, key multiplier, RoPE (NEOX), KV write
// Mamba input projection epilogue, one thread per element of zx: bias, µP vector, and dt =
// clamp(softplus(dt_raw + dt_bias)) for the last H columns
__device__ __forceinline__ float ssm_in_epilogue(const post_args &a, int t, int i) {
    const size_t e = (size_t)t * a.Din + i;
    float v = a.zx[e];
    if (a.in_b) v += a.in_b[i];
    if (a.mup) v *= a.mup[i];
    a.zx[e] = v;
    const int h = i - (a.E + a.Cd);
    if (h >= 0 && h < a.H) {
        float d = softplus(v + a.dt_bias[h]);
        d = d < a.dt_min ? a.dt_min : d > a.dt_max ? a.dt_max : d;
        a.dt[(size_t)t * a.H + h] = d;
    }
    return v;
}
__global__ void k_post_ssm(post_args a, int T) {
    const size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (e >= (size_t)T * a.Din) return;
    ssm_in_epilogue(a, (int)(e / a.Din), (int)(e % a.Din));
}

// attention epilogue, one block per (token, q or kv head): biases, key multiplier, NEOX RoPE at
// the position read from the device, then K and V into the cache
__device__ void attn_head_epilogue(const post_args &a, int t, int head) {
    const int half = a.dh / 2;
    const bool is_q = head < a.nh;
    const int kvh = head - a.nh;
    float *p = is_q ? a.q + (size_t)t * a.qd + head * a.dh : a.k + (size_t)t * a.kvd + kvh * a.dh;
    float *vp = is_q ? nullptr : a.v + (size_t)t * a.kvd + kvh * a.dh;
    for (int d = threadIdx.x; d < a.dh; d += blockDim.x) {
        if (is_q) {
            if (a.bq) p[d] += a.bq[head * a.dh + d];
        } else {
            float kv = p[d];
            if (a.bk) kv += a.bk[kvh * a.dh + d];
            if (a.key_mult != 1.0f) kv *= a.key_mult;
            p[d] = kv;
            if (a.bv) vp[d] += a.bv[kvh * a.dh + d];
        }
    }
    __syncthreads();
    const int pos0 = *a.pos;
    const float pos = (float)(pos0 + t);
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        const float inv = 1.0f / powf(a.theta, (float)(2 * i) / (float)a.dh);
        const float ang = pos * inv;
        const float cs = cosf(ang), sn = sinf(ang);
        const float x0 = p[i], x1 = p[i + half];
        p[i] = x0 * cs - x1 * sn;
        p[i + half] = x1 * cs + x0 * sn;
    }
    if (is_q) return;
    __syncthreads();
    const size_t slot = ((size_t)a.layer * a.n_ctx + (size_t)(pos0 + t)) * a.kvd + (size_t)kvh * a.dh;
    for (int d = threadIdx.x; d < a.dh; d += blockDim.x) {
        if (a.kv_f16) {
            ((__half *)a.kc)[slot + d] = __float2half_rn(p[d]);
            ((__half *)a.vc)[slot + d] = __float2half_rn(vp[d]);
        } else {
            ((float *)a.kc)[slot + d] = p[d];
            ((float *)a.vc)[slot + d] = vp[d];
        }
    }
}
__global__ void k_post_attn(post_args a) { attn_head_epilogue(a, blockIdx.x / (a.nh + a.nkv), blockIdx.x % (a.nh + a.nkv)); }

// causal depthwise conv with carried state, then SiLU; one thread per (token, channel): input
// τ < 0 comes from the state (its K-1 rows, oldest first), τ ≥ 0 from this ubatch
__device__ __forceinline__ float conv_in(const float *zx, int Din, int E, int Cd, int K, const float *state, int tau, int ch) {
    return tau >= 0 ? zx[(size_t)tau * Din + E + ch] : state[(size_t)(tau + K - 1) * Cd + ch];
}
__global__ void k_conv(const float *zx, int Din, int E, int Cd, int K, int T, const float *w, const float *b, const float *state, float *xbc) {
    const size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= (size_t)T * Cd) return;
    const int t = (int)(i / Cd), ch = (int)(i % Cd);
    float s = w[(size_t)ch * K] * conv_in(zx, Din, E, Cd, K, state, t - (K - 1), ch);
    for (int k = 1; k < K; k++) s += w[(size_t)ch * K + k] * conv_in(zx, Din, E, Cd, K, state, t - (K - 1) + k, ch);
    if (b) s += b[ch];
    xbc[i] = s / (1.0f + expf(-s));
}
// after k_conv: the state becomes the last K-1 inputs (one thread per channel reads before writing)
__global__ void k_conv_state(const float *zx, int Din, int E, int Cd, int K, int T, float *state) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= Cd) return;
    float last[8];
    for (int r = 0; r < K - 1; r++) last[r] = conv_in(zx, Din, E, Cd, K, state, T - (K - 1) + r, ch);
    for (int r = 0; r < K - 1; r++) state[(size_t)r * Cd + ch] = last[r];
}

// Mamba-2 recurrence: one warp per (head h, channel p); lanes hold N/32 state entries each.
// PER = ceil(N / 32) when known at compile time (the loops unroll and s stays in registers: with a
// runtime count it went to local memory, 12 µs per decode step on the 7B), 0 for any N ≤ 256.
template <int PER>
__device__ __forceinline__ void scan_body(int bid, const float *xbc, const float *dt, const float *A, const float *Dd, float *state, float *y, int T, int H, int P, int N, int G, int E, int Cd) {
    constexpr int MAXP = PER > 0 ? PER : 8;
    const int wid = (bid * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (wid >= H * P) return;
    const int h = wid / P, p = wid % P, g = h / (H / G);
    float *S = state + ((size_t)h * P + p) * N;
    float s[MAXP];
    const int per = PER > 0 ? PER : (N + 31) / 32;
#pragma unroll
    for (int i = 0; i < MAXP; i++) s[i] = i < per && lane + 32 * i < N ? S[lane + 32 * i] : 0.0f;
    for (int t = 0; t < T; t++) {
        const float *xt = xbc + (size_t)t * Cd;
        const float delta = dt[(size_t)t * H + h];
        const float dA = expf(delta * A[h]);
        const float x = xt[h * P + p];
        float acc = 0.0f;
#pragma unroll
        for (int i = 0; i < MAXP; i++) {
            const int n = lane + 32 * i;
            if (i >= per || n >= N) break;
            s[i] = s[i] * dA + (delta * xt[E + g * N + n]) * x;
            acc += s[i] * xt[E + G * N + g * N + n];
        }
        acc = warp_sum(acc);
        if (lane == 0) y[(size_t)t * E + h * P + p] = acc + Dd[h] * x;
    }
#pragma unroll
    for (int i = 0; i < MAXP; i++)
        if (i < per && lane + 32 * i < N) S[lane + 32 * i] = s[i];
}

template <int PER>
__global__ void k_scan(const float *xbc, const float *dt, const float *A, const float *Dd, float *state, float *y, int T, int H, int P, int N, int G, int E, int Cd) {
    pdl_start();
    scan_body<PER>(blockIdx.x, xbc, dt, A, Dd, state, y, T, H, P, N, G, E, Cd);
}

// The same recurrence for prefill, with more parallelism and no global loads on the critical
// path: a block of 64 threads takes 16 channels p of one head; 4 lanes share a channel, each
// holding the states n ≡ lane (mod 4), so y needs 2 shuffles per token. B, C, x and dt of
// SCAN_TW tokens are staged in shared memory (B/C layout keeps the 4 lanes on distinct banks).
// Long prompts also split the tokens into chunks of L (blockIdx.y), run as three passes so that
// the chunks run side by side:
//   1. each chunk from a zero state (chunk 0 from the cache's), no y: its end state into
//      fin[c] and its decay Π exp(Δ·A) into decay[c][h];
//   2. k_scan_carry: start(c) = end(c-1) chained through the decays, the cache's final state;
//   3. each chunk again from its true start init[c], writing y.
// One chunk (L >= T) is the plain recurrence: init = fin = the cache's state.
#define SCAN_TW 16
#define SCAN_P 16
#define SCAN_CHUNKS 16 // most chunks a prefill scan is split into
template <int NQ> // NQ = N / 4 states per lane
__global__ void __launch_bounds__(64) k_scan_tiled(const float *xbc, const float *dt, const float *A, const float *Dd, float *state, float *y, int T, int H, int P, int G, int E, int Cd,
                                                  int L, const float *init, float *fin, float *decay) {
    constexpr int N = 4 * NQ;
    __shared__ float sB[SCAN_TW][N], sC[SCAN_TW][N], sx[SCAN_TW][SCAN_P], sdt[SCAN_TW];
    const int pblocks = (P + SCAN_P - 1) / SCAN_P;
    const int h = blockIdx.x / pblocks, p0 = (blockIdx.x % pblocks) * SCAN_P, g = h / (H / G);
    const int pl = threadIdx.x / 4, nq = threadIdx.x % 4, p = p0 + pl;
    const int c = blockIdx.y, tb = c * L, te = min(T, tb + L);
    const size_t hpn = (size_t)H * P * N, at = ((size_t)h * P + (p < P ? p : 0)) * N;
    const bool live = p < P;
    float s[NQ];
    const float *S0 = init ? init + c * hpn : (c == 0 ? state : nullptr);
#pragma unroll
    for (int j = 0; j < NQ; j++) s[j] = live && S0 ? S0[at + 4 * j + nq] : 0.0f;
    const float Ah = A[h], Dh = Dd[h];
    float dprod = 1.0f;
    for (int w0 = tb; w0 < te; w0 += SCAN_TW) {
        const int tw = min(SCAN_TW, te - w0);
        __syncthreads();
        for (int i = threadIdx.x; i < tw * N; i += blockDim.x) {
            const int t = i / N, n = i % N;
            const float *xt = xbc + (size_t)(w0 + t) * Cd;
            sB[t][n] = xt[E + g * N + n];
            sC[t][n] = xt[E + G * N + g * N + n];
        }
        for (int i = threadIdx.x; i < tw * SCAN_P; i += blockDim.x) {
            const int t = i / SCAN_P, q = i % SCAN_P;
            sx[t][q] = p0 + q < P ? xbc[(size_t)(w0 + t) * Cd + h * P + p0 + q] : 0.0f;
        }
        if (threadIdx.x < tw) sdt[threadIdx.x] = dt[(size_t)(w0 + threadIdx.x) * H + h];
        __syncthreads();
        for (int t = 0; t < tw; t++) {
            const float delta = sdt[t], dA = expf(delta * Ah), x = sx[t][pl];
            dprod *= dA;
            float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f}; // 4 partial sums: a short dependent chain per token
#pragma unroll
            for (int j = 0; j < NQ; j++) {
                s[j] = s[j] * dA + (delta * sB[t][4 * j + nq]) * x;
                acc[j % 4] += s[j] * sC[t][4 * j + nq];
            }
            if (!y) continue;
            float a = (acc[0] + acc[1]) + (acc[2] + acc[3]);
            a += __shfl_xor_sync(0xffffffff, a, 1);
            a += __shfl_xor_sync(0xffffffff, a, 2);
            if (live && nq == 0) y[(size_t)(w0 + t) * E + h * P + p] = a + Dh * x;
        }
    }
    if (fin && live)
#pragma unroll
        for (int j = 0; j < NQ; j++) fin[c * hpn + at + 4 * j + nq] = s[j];
    if (decay && threadIdx.x == 0 && p0 == 0) decay[(size_t)c * H + h] = dprod;
}

// pass 2 of the chunked scan, one thread per state element: walks the chunks in order, leaving
// each chunk's true start state in cs[c] (chunk 0's is the cache's) and the final state in state
__global__ void k_scan_carry(float *__restrict__ cs, const float *__restrict__ decay, float *__restrict__ state, int C, int H, size_t per_head) {
    const size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x, hpn = per_head * H;
    if (i >= hpn) return;
    const int h = (int)(i / per_head);
    float S = cs[i]; // end of chunk 0, which started from the cache's state
    cs[i] = state[i];
    float next = C > 1 ? cs[hpn + i] : 0.0f; // one chunk ahead: the loads do not wait on the chain
    for (int c = 1; c < C; c++) {
        const float local = next;
        if (c + 1 < C) next = cs[(c + 1) * hpn + i];
        cs[c * hpn + i] = S;
        S = local + decay[(size_t)c * H + h] * S;
    }
    state[i] = S;
}

// Prefill scan in the chunked SSD form (spec §4.7), the default for T >= SSD_MIN_T: per chunk c of
// SSD_Q tokens the recurrence becomes small matrix products, each run as 64×64 f32 tiles on CUDA
// cores (the state math stays f32 in every mode):
//   k_ssd_cb:     CB[c][g][l][s] = C_l · B_s                         (shared by the heads of group g)
//   k_ssd_state:  S_c[p][n] = Σ_s exp(α_end − α_s)·Δ_s·x_s[p]·B_s[n], plus exp(α_end)·(cache state)
//                 for chunk 0; decay_c = exp(α_end)
//   k_scan_carry: chains the chunks: S_c becomes chunk c's start state, the last end state the cache's
//   k_ssd_out:    y_l[p] = Σ_{s≤l} CB[l][s]·exp(α_l − α_s)·Δ_s·x_s[p] + exp(α_l)·C_l·S_c[p] + D·x_l[p]
// where α_l = Σ_{k≤l} Δ_k·A inside the chunk. The chunked recurrence (k_scan_tiled) runs each chunk
// twice, once for its end state and again for y, at two shared-memory loads per state update; this
// does the work once, as matrix products (H200, 7B at 4096 tokens: 41 ms a prefill instead of 172).
#define SSD_Q 64
#define SSD_MIN_T 128
#define SSD_CHUNKS 32 // chunks per launch group: longer prompts run in segments of SSD_CHUNKS·SSD_Q tokens

// A 64×64 output tile of Σ_k a(m, k)·b(k, n) for k in [0, K), by 256 threads holding 4×4 each; k
// goes through shared memory 16 at a time, the next 16 loaded into registers while these are used.
// An operand is two functions: ld(m, k), its element in memory (0 outside the operand), and
// sc(m, k, v), the factor applied on the way into shared memory (split so the load's wait falls
// after the multiply-adds). kfast says whether consecutive k (rather than m / n) are adjacent in
// memory, so the loads coalesce.
struct __align__(16) ssd_tile { // 16-byte aligned: the tiles are read as float4
    float a[16][68], b[16][68]; // rows padded by 4: the k-fast stores spread over the banks
};
template <typename LA, typename SA, typename LB, typename SB>
__device__ __forceinline__ void ssd_tile_mma(ssd_tile &sm, float (&acc)[4][4], int K, LA lda, SA sca, bool a_kfast, LB ldb, SB scb, bool b_kfast) {
    const int tm = threadIdx.x / 16, tn = threadIdx.x % 16;
    float ra[4], rb[4];
    auto fetch = [&](int k0) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int i = threadIdx.x + 256 * j;
            const int am = a_kfast ? i / 16 : i % 64, ak = k0 + (a_kfast ? i % 16 : i / 64);
            const int bn = b_kfast ? i / 16 : i % 64, bk = k0 + (b_kfast ? i % 16 : i / 64);
            ra[j] = ak < K ? lda(am, ak) : 0.0f;
            rb[j] = bk < K ? ldb(bk, bn) : 0.0f;
        }
    };
    fetch(0);
    for (int k0 = 0; k0 < K; k0 += 16) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int i = threadIdx.x + 256 * j;
            const int am = a_kfast ? i / 16 : i % 64, ak = a_kfast ? i % 16 : i / 64;
            const int bn = b_kfast ? i / 16 : i % 64, bk = b_kfast ? i % 16 : i / 64;
            sm.a[ak][am] = k0 + ak < K ? sca(am, k0 + ak, ra[j]) : 0.0f;
            sm.b[bk][bn] = k0 + bk < K ? scb(k0 + bk, bn, rb[j]) : 0.0f;
        }
        __syncthreads();
        if (k0 + 16 < K) fetch(k0 + 16);
#pragma unroll
        for (int k = 0; k < 16; k++) {
            const float4 av = *(const float4 *)&sm.a[k][4 * tm], bv = *(const float4 *)&sm.b[k][4 * tn];
            const float ar[4] = {av.x, av.y, av.z, av.w}, br[4] = {bv.x, bv.y, bv.z, bv.w};
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(ar[i], br[j], acc[i][j]);
        }
        __syncthreads();
    }
}
struct ssd_as_is { // the scale of an operand used as it is in memory
    __device__ float operator()(int, int, float v) const { return v; }
};

// α and Δ of chunk c's q tokens for head h into shared memory: warp 0 scans Δ·A (lane i sums
// tokens 2i and 2i+1, then a shuffle scan over the lanes), so every SSD kernel sees the same α
__device__ __forceinline__ int ssd_chunk_alpha(float *alpha, float *delta, const float *dt, int c, int T, int H, int h, float Ah) {
    static_assert(SSD_Q == 64, "two tokens a lane");
    const int t0 = c * SSD_Q, q = min(SSD_Q, T - t0);
    if (threadIdx.x < 32) {
        const int lane = threadIdx.x, i0 = 2 * lane;
        const float d0 = i0 < q ? dt[(size_t)(t0 + i0) * H + h] : 0.0f, d1 = i0 + 1 < q ? dt[(size_t)(t0 + i0 + 1) * H + h] : 0.0f;
        const float a0 = d0 * Ah, a1 = a0 + d1 * Ah;
        float run = a1; // inclusive scan of the pair sums
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const float v = __shfl_up_sync(0xffffffffu, run, o);
            if (lane >= o) run += v;
        }
        float before = __shfl_up_sync(0xffffffffu, run, 1);
        if (lane == 0) before = 0.0f;
        alpha[i0] = before + a0, alpha[i0 + 1] = before + a1;
        delta[i0] = d0, delta[i0 + 1] = d1;
    }
    __syncthreads();
    return q;
}

// grid (chunks, G)
__global__ void __launch_bounds__(256) k_ssd_cb(const float *xbc, float *cb, int T, int N, int G, int E, int Cd) {
    __shared__ ssd_tile sm;
    const int c = blockIdx.x, g = blockIdx.y, t0 = c * SSD_Q, q = min(SSD_Q, T - t0);
    const float *Bm = xbc + (size_t)t0 * Cd + E + g * N, *Cm = Bm + G * N;
    float acc[4][4] = {};
    ssd_tile_mma(
        sm, acc, N, [&](int l, int n) { return l < q ? Cm[(size_t)l * Cd + n] : 0.0f; }, ssd_as_is{}, true, [&](int n, int s) { return s < q ? Bm[(size_t)s * Cd + n] : 0.0f; },
        ssd_as_is{}, true);
    float *out = cb + ((size_t)c * G + g) * SSD_Q * SSD_Q;
    const int tm = threadIdx.x / 16, tn = threadIdx.x % 16;
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) out[(4 * tm + i) * SSD_Q + 4 * tn + j] = acc[i][j];
}

// grid (P tiles × N tiles, H, chunks): chunk c's own contribution to the state, into cs[c]
__global__ void __launch_bounds__(256) k_ssd_state(const float *xbc, const float *dt, const float *A, const float *state, float *cs, float *decay, int T, int H, int P, int N,
                                                   int G, int E, int Cd) {
    __shared__ ssd_tile sm;
    __shared__ float alpha[SSD_Q], delta[SSD_Q], w[SSD_Q];
    const int nt = (N + 63) / 64, p0 = blockIdx.x / nt * 64, n0 = blockIdx.x % nt * 64, h = blockIdx.y, c = blockIdx.z, g = h / (H / G);
    const int q = ssd_chunk_alpha(alpha, delta, dt, c, T, H, h, A[h]);
    const float aend = alpha[q - 1];
    if (threadIdx.x < SSD_Q) w[threadIdx.x] = threadIdx.x < q ? expf(aend - alpha[threadIdx.x]) * delta[threadIdx.x] : 0.0f;
    __syncthreads();
    const float *xs = xbc + (size_t)c * SSD_Q * Cd;
    float acc[4][4] = {};
    ssd_tile_mma(
        sm, acc, q, [&](int p, int s) { return p0 + p < P ? xs[(size_t)s * Cd + h * P + p0 + p] : 0.0f; }, [&](int, int s, float v) { return w[s] * v; }, false,
        [&](int s, int n) { return n0 + n < N ? xs[(size_t)s * Cd + E + g * N + n0 + n] : 0.0f; }, ssd_as_is{}, false);
    const size_t hpn = (size_t)H * P * N;
    const float dend = expf(aend);
    const int tm = threadIdx.x / 16, tn = threadIdx.x % 16;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int p = p0 + 4 * tm + i;
        if (p >= P) break;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int n = n0 + 4 * tn + j;
            if (n >= N) break;
            const size_t at = ((size_t)h * P + p) * N + n;
            cs[c * hpn + at] = c == 0 ? acc[i][j] + dend * state[at] : acc[i][j];
        }
    }
    if (blockIdx.x == 0 && threadIdx.x == 0) decay[(size_t)c * H + h] = dend;
}

// grid (P tiles, H, chunks): y of chunk c, head h, 64 channels; cs[c] holds the chunk's start state
__global__ void __launch_bounds__(256) k_ssd_out(const float *xbc, const float *dt, const float *A, const float *Dd, const float *cb, const float *cs, float *y, int T, int H, int P,
                                                 int N, int G, int E, int Cd) {
    __shared__ ssd_tile sm;
    __shared__ float alpha[SSD_Q], delta[SSD_Q], ea[SSD_Q];
    const int p0 = blockIdx.x * 64, h = blockIdx.y, c = blockIdx.z, g = h / (H / G);
    const int q = ssd_chunk_alpha(alpha, delta, dt, c, T, H, h, A[h]);
    if (threadIdx.x < SSD_Q) ea[threadIdx.x] = threadIdx.x < q ? expf(alpha[threadIdx.x]) : 0.0f;
    __syncthreads();
    const float *xs = xbc + (size_t)c * SSD_Q * Cd, *CB = cb + ((size_t)c * G + g) * SSD_Q * SSD_Q;
    const float *S = cs + (size_t)c * H * P * N + (size_t)h * P * N;
    float acc[4][4] = {};
    // inside the chunk: (L ∘ CB)·(Δ·x)
    ssd_tile_mma(
        sm, acc, q, [&](int l, int s) { return s <= l && l < q ? CB[l * SSD_Q + s] : 0.0f; }, [&](int l, int s, float v) { return s <= l ? v * expf(alpha[l] - alpha[s]) * delta[s] : 0.0f; }, true,
        [&](int s, int p) { return p0 + p < P ? xs[(size_t)s * Cd + h * P + p0 + p] : 0.0f; }, ssd_as_is{}, false);
    // the state entering the chunk: exp(α_l)·C_l·S
    ssd_tile_mma(
        sm, acc, N, [&](int l, int n) { return l < q ? xs[(size_t)l * Cd + E + G * N + g * N + n] : 0.0f; }, [&](int l, int, float v) { return ea[l] * v; }, true,
        [&](int n, int p) { return p0 + p < P ? S[(size_t)(p0 + p) * N + n] : 0.0f; }, ssd_as_is{}, true);
    const float Dh = Dd[h];
    const int tm = threadIdx.x / 16, tn = threadIdx.x % 16;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int l = 4 * tm + i;
        if (l >= q) break;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int p = p0 + 4 * tn + j;
            if (p >= P) break;
            y[(size_t)(c * SSD_Q + l) * E + h * P + p] = acc[i][j] + Dh * xs[(size_t)l * Cd + h * P + p];
        }
    }
}

// gate y with silu(z), with or without the grouped RMSNorm; one block per (token, group)
// Gated group RMSNorm, one block per (token, group). PER > 0: each thread keeps its PER elements in
// registers, so every load is issued before the first store (the strided in-place loop below
// waits one memory round trip per element: 20 µs per decode step on the 7B); PER = 0 is that
// loop, for groups larger than PER_MAX · blockDim.
template <int PER>
__device__ __forceinline__ void gate_body(int bid, float *y, const float *zx, int Din, int E, int G, const float *w, int rms, int before, float eps, int8_t *q8 = nullptr,
                                          act_scale *qs = nullptr) {
    const int t = bid / G, g = bid % G, gs = E / G;
    float *yr = y + (size_t)t * E + g * gs;
    const float *z = zx + (size_t)t * Din + g * gs;
    auto silu = [](float v) { return v / (1.0f + expf(-v)); };
    if constexpr (PER > 0) {
        float yv[PER > 0 ? PER : 1], zv[PER > 0 ? PER : 1];
#pragma unroll
        for (int k = 0; k < PER; k++) {
            const int i = threadIdx.x + k * blockDim.x;
            yv[k] = i < gs ? yr[i] : 0.0f, zv[k] = i < gs ? z[i] : 0.0f;
        }
        double ss = 0.0;
#pragma unroll
        for (int k = 0; k < PER; k++) {
            if (!rms || !before) yv[k] *= silu(zv[k]);
            ss += (double)yv[k] * yv[k];
        }
        const float r = rms ? 1.0f / sqrtf((float)(block_sum(ss) / gs) + eps) : 1.0f;
#pragma unroll
        for (int k = 0; k < PER; k++) {
            const int i = threadIdx.x + k * blockDim.x;
            if (i >= gs) break;
            float v = yv[k];
            if (rms) {
                v = w[g * gs + i] * (v * r);
                if (before) v *= silu(zv[k]);
            }
            yr[i] = v;
            if (q8) quant32(v, (g * gs + i) / 32, threadIdx.x % 32, q8, qs); // T == 1, gs % 32 == 0: whole warps
        }
    } else {
        if (!rms || !before)
            for (int i = threadIdx.x; i < gs; i += blockDim.x) yr[i] *= silu(z[i]);
        if (!rms) return;
        __syncthreads();
        double ss = 0.0;
        for (int i = threadIdx.x; i < gs; i += blockDim.x) ss += (double)yr[i] * yr[i];
        const float r = 1.0f / sqrtf((float)(block_sum(ss) / gs) + eps);
        for (int i = threadIdx.x; i < gs; i += blockDim.x) {
            float v = w[g * gs + i] * (yr[i] * r);
            if (before) v *= silu(z[i]);
            yr[i] = v;
        }
    }
}

template <int PER>
__global__ void __launch_bounds__(1024) k_gate(float *y, const float *zx, int Din, int E, int G, const float *w, int rms, int before, float eps) {
    pdl_start();
    gate_body<PER>(blockIdx.x, y, zx, Din, E, G, w, rms, before, eps);
}

// causal attention against the KV cache, online softmax. One block per (token, query head):
// its 8 warps take interleaved groups of 4 keys (4 loads in flight per warp), lanes split the head
// dimension, and the 8 partial softmax states are merged at the end (flash-decoding style).
#define ATT_WARPS 8
#define ATT_SPLIT_KEYS 128 // keys per split block in decode from 4096 keys on
#define ATT_MAX_SPLITS 64
#define ATT_FINE_KEYS 32   // keys per split block up to ATT_FINE_SPLITS splits (see att_split_want)
#define ATT_FINE_SPLITS 32
__device__ __forceinline__ float kvload(const void *p, size_t i, int f16) { return f16 ? __half2float(((const __half *)p)[i]) : ((const float *)p)[i]; }

// With nsplit > 1 (decode, T == 1) block (j, split) takes only keys [split·chunk, (split+1)·chunk) and
// writes its partial (max, sum, unnormalised output) to part; k_attn_merge then combines the splits,
// so a long context spreads over the whole GPU instead of one block per head.
// Splits a decode attention over n keys wants: 32 keys a split (one step of 4 keys for each of
// a block's 8 warps) up to 32 splits, then 32 splits up to 4096 keys, then ATT_SPLIT_KEYS keys a
// split up to ATT_MAX_SPLITS. H200, BF16 decode (bench/README.md): 32 keys a split at every depth
// against 128: tg128 (depth 512) 7B 161.2 -> 172.6 t/s, 0.5B 588 -> 698 (the attention had been a
// chain of 4 dependent K/V round trips a warp); at depth 4096 (64 splits of 64 keys against 32 of
// 128) the 7B lost 156.2 -> 148.2, hence 128 keys a split from there on, as before.
__host__ __device__ __forceinline__ int att_split_want(int n) {
    const int fine = (n + ATT_FINE_KEYS - 1) / ATT_FINE_KEYS, coarse = (n + ATT_SPLIT_KEYS - 1) / ATT_SPLIT_KEYS;
    return min(ATT_MAX_SPLITS, max(coarse, min(ATT_FINE_SPLITS, fine)));
}
// splits used for n_all keys when the grid has room for `cap` (the rest of the grid returns)
__device__ __forceinline__ int att_splits(int n_all, int cap) { return cap > 1 ? min(cap, att_split_want(n_all)) : 1; }

template <int PER>
__device__ __forceinline__ void attn_body(int bid, const float *q, const void *kc, const void *vc, float *out, int T, const int *dpos, int nh, int nkv, int dh, int n_ctx, int layer, int kv_f16, int nsplit, float *part) {
    const int split = bid % nsplit, bt = bid / nsplit;
    const int t = bt / nh, j = bt % nh, w = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int kvh = j / (nh / nkv), kvd = nkv * dh, n_all = *dpos + t + 1, per = PER > 0 ? PER : (dh + 31) / 32;
    const int used = att_splits(n_all, nsplit);
    if (split >= used) return;
    const int chunk = (n_all + used - 1) / used, k0 = split * chunk, n = min(n_all, k0 + chunk);
    const float scale = (float)(1.0 / sqrt((double)dh));
    const float *qt = q + (size_t)t * nh * dh + j * dh;
    constexpr int MAXP = PER > 0 ? PER : 8; // PER = dh / 32 at compile time keeps q and acc in registers
    float qv[MAXP], acc[MAXP];
#pragma unroll
    for (int i = 0; i < MAXP; i++) {
        if (i >= per) break;
        const int d = lane + 32 * i;
        qv[i] = d < dh ? qt[d] : 0.0f;
        acc[i] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    const size_t base = (size_t)layer * n_ctx * kvd + (size_t)kvh * dh;
    for (int s0 = k0 + 4 * w; s0 < n; s0 += 4 * ATT_WARPS) {
        float sc[4];
#pragma unroll
        for (int u = 0; u < 4; u++) {
            const int s = s0 + u;
            float part = 0.0f;
            if (s < n)
#pragma unroll
                for (int i = 0; i < MAXP; i++) {
                    const int d = lane + 32 * i;
                    if (i >= per) break;
                    if (d < dh) part += kvload(kc, base + (size_t)s * kvd + d, kv_f16) * qv[i];
                }
            sc[u] = s < n ? warp_sum(part) * scale : -INFINITY;
        }
        const float mn = fmaxf(fmaxf(fmaxf(m, sc[0]), fmaxf(sc[1], sc[2])), sc[3]);
        const float corr = expf(m - mn);
        float ps[4];
        for (int u = 0; u < 4; u++) ps[u] = s0 + u < n ? expf(sc[u] - mn) : 0.0f;
        l = l * corr + ps[0] + ps[1] + ps[2] + ps[3];
#pragma unroll
        for (int i = 0; i < MAXP; i++) {
            const int d = lane + 32 * i;
            if (i >= per) break;
            float a = acc[i] * corr;
            if (d < dh)
#pragma unroll
                for (int u = 0; u < 4; u++)
                    if (s0 + u < n) a += ps[u] * kvload(vc, base + (size_t)(s0 + u) * kvd + d, kv_f16);
            acc[i] = a;
        }
        m = mn;
    }
    // merge the warps' partial states
    __shared__ float sm[ATT_WARPS], sl[ATT_WARPS], sacc[ATT_WARPS][256];
    if (lane == 0) {
        sm[w] = m;
        sl[w] = l;
    }
#pragma unroll
    for (int i = 0; i < MAXP; i++) {
        const int d = lane + 32 * i;
        if (i < per && d < dh) sacc[w][d] = acc[i];
    }
    __syncthreads();
    if (w == 0) {
        float M = -INFINITY;
        for (int k = 0; k < ATT_WARPS; k++) M = fmaxf(M, sm[k]);
        float L = 0.0f;
        for (int k = 0; k < ATT_WARPS; k++) L += sm[k] == -INFINITY ? 0.0f : sl[k] * expf(sm[k] - M);
        float *o = nsplit > 1 ? part + ((size_t)j * nsplit + split) * (dh + 2) : out + (size_t)t * nh * dh + j * dh;
        for (int i = 0; i < per; i++) {
            const int d = lane + 32 * i;
            if (d >= dh) continue;
            float a = 0.0f;
            for (int k = 0; k < ATT_WARPS; k++)
                if (sm[k] != -INFINITY) a += sacc[k][d] * expf(sm[k] - M);
            o[d] = nsplit > 1 ? a : a / L;
        }
        if (nsplit > 1 && lane == 0) {
            o[dh] = M;
            o[dh + 1] = L;
        }
    }
}

// Decode attention over an f16 KV cache for one KV head and the nq = nh / nkv query heads that
// share it (GQA): each K and V row is read once for the group instead of once per query head
// (attn_body's blocks are per query head: the 7B's 6 heads of a group read its keys 6 times).
// Block (kvh, split) takes the split's keys (att_splits, as attn_body) in tiles of 32 per warp:
// lane = key for the scores (its K row in 16-byte loads, against the group's q in shared
// memory), lane = dimensions for P·V. Writes attn_body's partials, which merge_body combines
// (or, unsplit, the output). FALCON_H1_CUDA_ATT_GQA=0: attn_body.
#define GQA_MAX 8
// NH (2, 4 or 8) halves at p (aligned to their size) widened to f32, from one 4-, 8- or 16-byte load
template <int NH>
__device__ __forceinline__ void halves_to_f32(const __half *p, float (&out)[NH]) {
    using vec = std::conditional_t<NH == 2, unsigned, std::conditional_t<NH == 4, uint2, uint4>>;
    const vec raw = *(const vec *)p;
    const __half2 *h2 = (const __half2 *)&raw;
#pragma unroll
    for (int i = 0; i < NH / 2; i++) {
        const float2 f = __half22float2(h2[i]);
        out[2 * i] = f.x, out[2 * i + 1] = f.y;
    }
}
template <int DH>
__device__ __forceinline__ void attn_gqa_body(int bid, const float *q, const __half *kc, const __half *vc, float *out, const int *dpos, int nh, int nkv, int n_ctx, int layer,
                                              int nsplit, float *part) {
    constexpr int DPL = DH / 32; // dimensions per lane in P·V
    __shared__ __align__(16) float qs[GQA_MAX][DH];
    __shared__ float ps[ATT_WARPS][GQA_MAX][32];
    __shared__ float mw[ATT_WARPS][GQA_MAX], lw[ATT_WARPS][GQA_MAX], aw[ATT_WARPS][DH];
    const int split = bid % nsplit, kvh = bid / nsplit, nq = nh / nkv;
    const int w = threadIdx.x / 32, lane = threadIdx.x % 32, kvd = nkv * DH, n_all = *dpos + 1;
    const int used = att_splits(n_all, nsplit);
    if (split >= used) return; // the whole block
    const int chunk = (n_all + used - 1) / used, k0 = split * chunk, n = min(n_all, k0 + chunk);
    const float scale = (float)(1.0 / sqrt((double)DH));
    for (int i = threadIdx.x; i < nq * DH; i += blockDim.x) qs[i / DH][i % DH] = q[(size_t)kvh * nq * DH + i];
    __syncthreads();
    const size_t base = (size_t)layer * n_ctx * kvd + (size_t)kvh * DH;
    float m[GQA_MAX], l[GQA_MAX], acc[GQA_MAX][DPL];
#pragma unroll
    for (int h = 0; h < GQA_MAX; h++) {
        m[h] = -INFINITY, l[h] = 0.0f;
#pragma unroll
        for (int i = 0; i < DPL; i++) acc[h][i] = 0.0f;
    }
    for (int s0 = k0 + 32 * w; s0 < n; s0 += 32 * ATT_WARPS) {
        const int s = s0 + lane;
        float sc[GQA_MAX];
#pragma unroll
        for (int h = 0; h < GQA_MAX; h++) sc[h] = 0.0f;
        if (s < n) {
            const uint4 *kr = (const uint4 *)(kc + base + (size_t)s * kvd);
#pragma unroll 4
            for (int c = 0; c < DH / 8; c++) {
                float kf[8];
                halves_to_f32<8>((const __half *)(kr + c), kf);
#pragma unroll
                for (int h = 0; h < GQA_MAX; h++) {
                    if (h >= nq) break;
                    const float4 qa = *(const float4 *)&qs[h][8 * c], qb = *(const float4 *)&qs[h][8 * c + 4];
                    float a = sc[h];
                    a = fmaf(kf[0], qa.x, a), a = fmaf(kf[1], qa.y, a), a = fmaf(kf[2], qa.z, a), a = fmaf(kf[3], qa.w, a);
                    a = fmaf(kf[4], qb.x, a), a = fmaf(kf[5], qb.y, a), a = fmaf(kf[6], qb.z, a), a = fmaf(kf[7], qb.w, a);
                    sc[h] = a;
                }
            }
        }
#pragma unroll
        for (int h = 0; h < GQA_MAX; h++) {
            if (h >= nq) break;
            const float v = s < n ? sc[h] * scale : -INFINITY;
            float tm = v;
            for (int o = 16; o; o >>= 1) tm = fmaxf(tm, __shfl_xor_sync(0xffffffff, tm, o));
            const float mn = fmaxf(m[h], tm); // finite: lane 0's key is in range
            const float corr = expf(m[h] - mn);
            const float p = s < n ? expf(v - mn) : 0.0f;
            l[h] = l[h] * corr + p; // this lane's share; summed over the warp at the end
#pragma unroll
            for (int i = 0; i < DPL; i++) acc[h][i] *= corr;
            m[h] = mn;
            ps[w][h][lane] = p;
        }
        __syncwarp();
        const int nk = min(32, n - s0);
#pragma unroll 4
        for (int k = 0; k < nk; k++) {
            const __half *vr = vc + base + (size_t)(s0 + k) * kvd + lane * DPL;
            float vf[DPL];
            halves_to_f32<DPL>(vr, vf);
#pragma unroll
            for (int h = 0; h < GQA_MAX; h++) {
                if (h >= nq) break;
                const float p = ps[w][h][k];
#pragma unroll
                for (int i = 0; i < DPL; i++) acc[h][i] = fmaf(p, vf[i], acc[h][i]);
            }
        }
        __syncwarp(); // ps is rewritten by the next tile
    }
#pragma unroll
    for (int h = 0; h < GQA_MAX; h++) {
        if (h >= nq) break;
        const float lt = warp_sum(l[h]);
        if (lane == 0) mw[w][h] = m[h], lw[w][h] = lt;
    }
    // the warps' states, one query head at a time (as attn_body merges its warps)
#pragma unroll
    for (int h = 0; h < GQA_MAX; h++) {
        if (h >= nq) break;
#pragma unroll
        for (int i = 0; i < DPL; i++) aw[w][lane * DPL + i] = acc[h][i];
        __syncthreads();
        if (w == 0) {
            float M = -INFINITY;
            for (int k = 0; k < ATT_WARPS; k++) M = fmaxf(M, mw[k][h]);
            float L = 0.0f;
            for (int k = 0; k < ATT_WARPS; k++) L += mw[k][h] == -INFINITY ? 0.0f : lw[k][h] * expf(mw[k][h] - M);
            const int j = kvh * nq + h;
            float *o = nsplit > 1 ? part + ((size_t)j * nsplit + split) * (DH + 2) : out + (size_t)j * DH;
#pragma unroll
            for (int i = 0; i < DPL; i++) {
                const int d = lane * DPL + i;
                float a = 0.0f;
                for (int k = 0; k < ATT_WARPS; k++)
                    if (mw[k][h] != -INFINITY) a += aw[k][d] * expf(mw[k][h] - M);
                o[d] = nsplit > 1 ? a : a / L;
            }
            if (nsplit > 1 && lane == 0) o[DH] = M, o[DH + 1] = L;
        }
        __syncthreads();
    }
}

// Per query head is faster for short contexts (more blocks for few keys), per KV head for long
// ones. 7B BF16 decode on an H200, per query head → per KV head: depth 512 161.6 → 134.8 t/s,
// 4096 155.9 → 130.3, 32768 87.4 → 110.3. Decode switches at gqa_from keys, on the device, so one
// graph serves both: GQA_MIN_KEYS by default (about where the two cost the same, interpolated
// from those depths), FALCON_H1_CUDA_GQA_FROM to move it.
#define GQA_MIN_KEYS 16384
template <int DH>
__global__ void __launch_bounds__(32 * ATT_WARPS) k_attn_gqa(const float *q, const __half *kc, const __half *vc, float *out, const int *dpos, int nh, int nkv, int n_ctx,
                                                             int layer, int nsplit, float *part, int gqa_from) {
    pdl_start();
    if (*dpos + 1 < gqa_from) return;
    attn_gqa_body<DH>(blockIdx.x, q, kc, vc, out, dpos, nh, nkv, n_ctx, layer, nsplit, part);
}

template <int PER>
__global__ void k_attn(const float *q, const void *kc, const void *vc, float *out, int T, const int *dpos, int nh, int nkv, int dh, int n_ctx, int layer, int kv_f16, int nsplit, float *part) {
    pdl_start();
    attn_body<PER>(blockIdx.x, q, kc, vc, out, T, dpos, nh, nkv, dh, n_ctx, layer, kv_f16, nsplit, part);
}

// Prefill attention in tiles (flash style, f32 on CUDA cores): a block of 256 threads takes 64
// query tokens of one head; keys and values come through shared memory in blocks of 32 and serve
// all 64 queries, instead of each (token, head) reading its keys from L2 on its own. Thread (ty, tx)
// of a 16×16 grid holds rows 4ty..4ty+3: scores for keys 2tx, 2tx+1, and output columns in 4-wide
// chunks tx, tx+16, ... (MC chunks). Online softmax per row; the 16 threads of a row meet through
// shuffles for the maximum, and their partial sums meet once at the end.
#define ATQ 64 // queries per block
#define ATK 32 // keys per step
__host__ __device__ constexpr int att_tiled_smem(int dh) { return (dh * (ATQ + 4) + dh * (ATK + 4) + ATK * dh + ATK * (ATQ + 4)) * 4; }
template <int MC>
__global__ void __launch_bounds__(256) k_attn_tiled(const float *q, const void *kc, const void *vc, float *out, int T, const int *dpos, int nh, int nkv, int dh, int n_ctx,
                                                     int layer, int kv_f16) {
    extern __shared__ __align__(16) float at_sm[];
    float *Qt = at_sm, *Kt = Qt + dh * (ATQ + 4), *Vs = Kt + dh * (ATK + 4), *Pt = Vs + ATK * dh; // Qt[d][row], Kt[d][key], Vs[key][d], Pt[key][row]
    const int ntiles = (T + ATQ - 1) / ATQ, tile = ntiles - 1 - (int)blockIdx.x; // longest tiles first
    const int h = blockIdx.y, kvh = h / (nh / nkv), kvd = nkv * dh, t0 = tile * ATQ, pos0 = *dpos;
    const int ty = threadIdx.x / 16, tx = threadIdx.x % 16, nch = dh / 4;
    const float scale = (float)(1.0 / sqrt((double)dh));
    for (int i = threadIdx.x; i < ATQ * dh; i += 256) {
        const int r = i / dh, d = i % dh, t = min(t0 + r, T - 1);
        Qt[d * (ATQ + 4) + r] = q[(size_t)t * nh * dh + h * dh + d];
    }
    float o[4][MC][4] = {}, m[4], l[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    int qp[4]; // each row's last key (rows past T repeat the last token)
    for (int r = 0; r < 4; r++) {
        m[r] = -INFINITY;
        qp[r] = pos0 + min(t0 + 4 * ty + r, T - 1);
    }
    const int n_keys = pos0 + min(t0 + ATQ, T); // keys 0 .. n_keys-1 serve this tile
    const size_t base = (size_t)layer * n_ctx * kvd + (size_t)kvh * dh;
    for (int k0 = 0; k0 < n_keys; k0 += ATK) {
        __syncthreads(); // the previous step's Kt, Vs, Pt are used up
        for (int i = threadIdx.x; i < ATK * dh; i += 256) {
            const int j = i / dh, d = i % dh;
            const bool in = k0 + j < n_keys;
            const size_t at = base + (size_t)(k0 + j) * kvd + d;
            Kt[d * (ATK + 4) + j] = in ? kvload(kc, at, kv_f16) : 0.0f;
            Vs[j * dh + d] = in ? kvload(vc, at, kv_f16) : 0.0f;
        }
        __syncthreads();
        float sc[4][2] = {};
        for (int d = 0; d < dh; d++) {
            const float4 qv = *reinterpret_cast<const float4 *>(&Qt[d * (ATQ + 4) + 4 * ty]);
            const float2 kv = *reinterpret_cast<const float2 *>(&Kt[d * (ATK + 4) + 2 * tx]);
            sc[0][0] += qv.x * kv.x, sc[0][1] += qv.x * kv.y;
            sc[1][0] += qv.y * kv.x, sc[1][1] += qv.y * kv.y;
            sc[2][0] += qv.z * kv.x, sc[2][1] += qv.z * kv.y;
            sc[3][0] += qv.w * kv.x, sc[3][1] += qv.w * kv.y;
        }
        for (int r = 0; r < 4; r++) {
            float mx = -INFINITY;
            for (int u = 0; u < 2; u++) {
                const int kj = k0 + 2 * tx + u;
                sc[r][u] = kj <= qp[r] ? sc[r][u] * scale : -INFINITY;
                mx = fmaxf(mx, sc[r][u]);
            }
            for (int o2 = 1; o2 < 16; o2 *= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, o2));
            const float mn = fmaxf(m[r], mx); // finite: key 0 is in every row's first step
            const float corr = expf(m[r] - mn);
            m[r] = mn;
            float ps = 0.0f;
            for (int u = 0; u < 2; u++) {
                const float pv = expf(sc[r][u] - mn);
                Pt[(2 * tx + u) * (ATQ + 4) + 4 * ty + r] = pv;
                ps += pv;
            }
            l[r] = l[r] * corr + ps;
            for (int c = 0; c < MC; c++)
                for (int e = 0; e < 4; e++) o[r][c][e] *= corr;
        }
        __syncthreads();
        const int kn = min(ATK, n_keys - k0);
        for (int j = 0; j < kn; j++) {
            const float4 pv = *reinterpret_cast<const float4 *>(&Pt[j * (ATQ + 4) + 4 * ty]);
            const float pr[4] = {pv.x, pv.y, pv.z, pv.w};
#pragma unroll
            for (int c = 0; c < MC; c++) {
                const int ch = tx + 16 * c;
                if (ch >= nch) break;
                const float4 vv = *reinterpret_cast<const float4 *>(&Vs[j * dh + 4 * ch]);
#pragma unroll
                for (int r = 0; r < 4; r++) o[r][c][0] += pr[r] * vv.x, o[r][c][1] += pr[r] * vv.y, o[r][c][2] += pr[r] * vv.z, o[r][c][3] += pr[r] * vv.w;
            }
        }
    }
    for (int r = 0; r < 4; r++) {
        float L = l[r];
        for (int o2 = 1; o2 < 16; o2 *= 2) L += __shfl_xor_sync(0xffffffff, L, o2);
        const int t = t0 + 4 * ty + r;
        if (t >= T) continue;
        float *dst = out + (size_t)t * nh * dh + h * dh;
        for (int c = 0; c < MC; c++) {
            const int ch = tx + 16 * c;
            if (ch < nch) *reinterpret_cast<float4 *>(&dst[4 * ch]) = make_float4(o[r][c][0] / L, o[r][c][1] / L, o[r][c][2] / L, o[r][c][3] / L);
        }
    }
}

// combine the splits of one decode token: out[j] = Σ_s e^(M_s − M)·acc_s / Σ_s e^(M_s − M)·L_s
__device__ __forceinline__ void merge_body(int bid, const float *part, float *out, int nsplit_grid, const int *dpos, int dh, int8_t *q8 = nullptr, act_scale *qs = nullptr) {
    const int j = bid, nsplit = att_splits(*dpos + 1, nsplit_grid);
    const float *pj = part + (size_t)j * nsplit_grid * (dh + 2);
    float M = -INFINITY;
    for (int s = 0; s < nsplit; s++) M = fmaxf(M, pj[(size_t)s * (dh + 2) + dh]);
    float L = 0.0f;
    for (int s = 0; s < nsplit; s++) {
        const float ms = pj[(size_t)s * (dh + 2) + dh];
        if (ms != -INFINITY) L += pj[(size_t)s * (dh + 2) + dh + 1] * expf(ms - M);
    }
    for (int d = threadIdx.x; d < dh; d += blockDim.x) {
        float a = 0.0f;
        for (int s = 0; s < nsplit; s++) {
            const float ms = pj[(size_t)s * (dh + 2) + dh];
            if (ms != -INFINITY) a += pj[(size_t)s * (dh + 2) + d] * expf(ms - M);
        }
        const float o = a / L;
        out[(size_t)j * dh + d] = o;
        if (q8) quant32(o, (j * dh + d) / 32, threadIdx.x % 32, q8, qs); // dh % 32 == 0, dh <= blockDim: whole warps
    }
}

__global__ void k_attn_merge(const float *part, float *out, int nsplit_grid, const int *dpos, int dh) {
    pdl_start();
    merge_body(blockIdx.x, part, out, nsplit_grid, dpos, dh);
}

// Decode, one token: the scan and the attention share no data, nor do the gated norm and the
// attention merge, so each pair is one launch whose blocks split between the two bodies (attention
// blocks first: with a long context they are the slower ones) instead of two launches in a row.
// (its attention blocks stand aside from gqa_from keys on, where k_attn_gqa takes over)
template <int SPER, int APER>
__global__ void __launch_bounds__(256) k_dec_scan_attn(int natt, const float *q, const void *kc, const void *vc, float *att, const int *dpos, int nh, int nkv, int dh, int n_ctx,
                                                       int layer, int kv_f16, int nsplit, float *part, const float *xbc, const float *dt, const float *A, const float *Dd,
                                                       float *state, float *y, int H, int P, int N, int G, int E, int Cd, int gqa_from) {
    pdl_start();
    if ((int)blockIdx.x < natt) {
        if (*dpos + 1 < gqa_from) attn_body<APER>(blockIdx.x, q, kc, vc, att, 1, dpos, nh, nkv, dh, n_ctx, layer, kv_f16, nsplit, part);
    }
    else scan_body<SPER>(blockIdx.x - natt, xbc, dt, A, Dd, state, y, 1, H, P, N, G, E, Cd);
}
template <int GPER>
__global__ void __launch_bounds__(1024) k_dec_gate_merge(int nmerge, const float *part, float *att, int nsplit_grid, const int *dpos, int dh, float *y, const float *zx, int Din,
                                                         int E, int G, const float *w, int rms, int before, float eps, int8_t *qa, act_scale *sa, int8_t *qy,
                                                         act_scale *sy) {
    pdl_start();
    if ((int)blockIdx.x < nmerge) merge_body(blockIdx.x, part, att, nsplit_grid, dpos, dh, qa, sa);
    else gate_body<GPER>(blockIdx.x - nmerge, y, zx, Din, E, G, w, rms, before, eps, qy, sy);
}

// a prefill GEMM output split along k (gemm_group): y[i] plus slices 1..n-1 at rest[(j-1)·stride + i], in order
__device__ inline float k_slices(const float *y, const float *rest, int n, size_t stride, size_t i) {
    float v = y[i];
    for (int j = 1; j < n; j++) v += rest[(j - 1) * stride + i];
    return v;
}

// x' = x + ((s + b_s)·m_s + (a + b_a)·m_a), s and a in ns / na k slices
__global__ void k_residual2(float *x, const float *s, const float *s_rest, int ns, const float *bs, float ms, const float *a, const float *a_rest, int na,
                            const float *ba, float ma, int D, int T) {
    const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (size_t)D * T) return;
    const int c = i % D;
    const float sv = (k_slices(s, s_rest, ns, (size_t)D * T, i) + (bs ? bs[c] : 0.0f)) * ms;
    const float av = (k_slices(a, a_rest, na, (size_t)D * T, i) + (ba ? ba[c] : 0.0f)) * ma;
    x[i] = x[i] + (sv + av);
}

// h = (up + b_up) ⊙ silu((gate + b_gate)·m_gate), written into up
// q8 (decode, F % 32 == 0): also the int8 form of the output, see quant32
__global__ void k_swiglu(const float *g, float *u, const float *gb, const float *ub, float gm, int F, int T, int8_t *q8, act_scale *qs) {
    pdl_start();
    const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (size_t)F * T) return;
    const int c = i % F;
    float gv = g[i] + (gb ? gb[c] : 0.0f);
    if (gm != 1.0f) gv *= gm;
    const float uv = u[i] + (ub ? ub[c] : 0.0f);
    const float h = uv * (gv / (1.0f + expf(-gv)));
    u[i] = h;
    if (q8) quant32(h, (int)(i / 32), threadIdx.x % 32, q8, qs);
}

// x' = x + (f + b)·m, f in nf k slices
__global__ void k_residual1(float *x, const float *f, const float *f_rest, int nf, const float *b, float m, int D, int T) {
    const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (size_t)D * T) return;
    x[i] += (k_slices(f, f_rest, nf, (size_t)D * T, i) + (b ? b[i % D] : 0.0f)) * m;
}

__global__ void k_scale(float *x, float m, size_t n) {
    pdl_start();
    const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= m;
}


// ---- decode (T == 1): fewer, fused kernels ---------------------------------------------------
// A decode step is latency-bound: each kernel boundary costs a few µs of drain and ramp-up,
// as much as a small GEMV's work. So for one token: the GEMVs sharing a step run as one launch
// (in-projections of both branches; out-projections; gate and up), the input epilogues and the
// conv step are one kernel, and each residual add carries the next RMSNorm. Same arithmetic, in
// the same order, as the prefill kernels above.

// up to 4 matrices in one launch; blocks [first[i], first[i+1]) belong to matrix i
struct gemv_set {
    dmat W[4];
    const float *x[4];
    float *y[4];
    int first[5];
    int n;
    // k_gemv_set<..., NORM = true> (16-bit rows only): x[i] is the raw residual stream, norm[i]
    // its RMSNorm (weight, eps, the item's input multiplier); add[i].m != 0: y[i] gets the residual add
    row_norm norm[4];
    row_add add[4];
};

// the same for rows of int8_type() weights on int8 activations (one warp a row)
struct gemv_set_i8 {
    dmat W[4];
    const int8_t *aq8[4];
    const act_scale *as[4];
    float *y[4];
    int first[5];
    int n;
};
__global__ void __launch_bounds__(32 * QGEMV_WARPS) k_gemv_set_i8(gemv_set_i8 s) {
    pdl_start();
    const int total = s.first[s.n];
    for (int b = blockIdx.x; b < total; b += gridDim.x) {
        int i = 0;
        while (b >= s.first[i + 1]) i++;
        gemvq8_row(s.W[i], s.aq8[i], s.as[i], s.y[i], (b - s.first[i]) * QGEMV_WARPS + threadIdx.x / 32);
    }
}


// gate and up rows r side by side, then h = (up + b_up) ⊙ silu((gate + b_gate)·m_gate) into
// up[r] (k_swiglu's arithmetic); 16-bit gate/up of the same type only
// (NORM: x is the raw residual stream and nm its RMSNorm, see gemv16_rows)
template <int NW, int U, bool NORM = false>
__global__ void __launch_bounds__(32 * NW) k_gemv_swiglu(dmat G, dmat Up, const float *x, float *h, const float *gb, const float *ub, float gm, row_norm nm) {
    __shared__ float sums[2];
    const int r = blockIdx.x;
    pdl_start();
    gemv16_rows<2, NW, U, NORM>(G, x, nullptr, r, (float (*)[2])sums, &Up, nm);
    if (threadIdx.x == 0) {
        float gv = sums[0] + (gb ? gb[r] : 0.0f);
        if (gm != 1.0f) gv *= gm;
        const float uv = sums[1] + (ub ? ub[r] : 0.0f);
        h[r] = uv * (gv / (1.0f + expf(-gv)));
    }
}

// grid-stride over the set's row blocks, so one wave of resident blocks streams every matrix.
// 16-bit rows: R per block; quantized rows: one per warp (NW per block)
template <int R, int NW, int U, bool NORM = false>
__global__ void __launch_bounds__(32 * NW) k_gemv_set(gemv_set s) {
    const int total = s.first[s.n];
    pdl_start();
    for (int b = blockIdx.x; b < total; b += gridDim.x) {
        int i = 0;
        while (b >= s.first[i + 1]) i++;
        const dmat &W = s.W[i];
        const int lb = b - s.first[i];
        if constexpr (NORM) gemv16_rows<R, NW, U, true>(W, s.x[i], s.y[i], lb * R, nullptr, nullptr, s.norm[i], s.add[i]);
        else if (is16(W.type)) gemv16_rows<R, NW, U>(W, s.x[i], s.y[i], lb * R, nullptr, nullptr, {}, s.add[i]);
        else gemvq_row(W, s.x[i], s.y[i], lb * NW + threadIdx.x / 32);
    }
}

// decode with FALCON_H1_CUDA_FUSE_NORM: out_proj row r (on the gated SSM output) and o_proj row r
// (on the attention output) in one block, summed into the residual stream with k_dec_residual2's
// arithmetic: x[r] += (s + bs)·ms + (a + ba)·ma
template <int NW, int U = 1>
__global__ void __launch_bounds__(32 * NW) k_gemv_out_pair(dmat Ws, const float *ys, const float *bs, float ms, dmat Wa, const float *ya, const float *ba, float ma, float *x) {
    __shared__ float s1[GEMV_ROWS], s2[GEMV_ROWS];
    const int r0 = blockIdx.x * GEMV_ROWS;
    pdl_start();
    gemv16_rows<GEMV_ROWS, NW, U>(Ws, ys, nullptr, r0, &s1);
    gemv16_rows<GEMV_ROWS, NW, U>(Wa, ya, nullptr, r0, &s2);
    if ((int)threadIdx.x < min(GEMV_ROWS, Ws.rows - r0)) {
        const int r = r0 + threadIdx.x;
        const float sv = (s1[threadIdx.x] + (bs ? bs[r] : 0.0f)) * ms;
        const float av = (s2[threadIdx.x] + (ba ? ba[r] : 0.0f)) * ma;
        x[r] = x[r] + (sv + av);
    }
}

// x ← x + add (add computed per element by the caller's functor), then the RMSNorm of the new x
// with optional scaled copies; one block (T == 1)
template <int PER, typename F>
__device__ void residual_norm(float *x, int D, F add, const float *w, float eps, float *out, float *out2, float m2, float *out3, float m3, int8_t *q8 = nullptr,
                              act_scale *qs = nullptr) {
    double ss = 0.0;
    if constexpr (PER > 0) { // every load first, then the stores (see k_gate)
        float v[PER];
#pragma unroll
        for (int k = 0; k < PER; k++) {
            const int i = threadIdx.x + k * blockDim.x;
            v[k] = i < D ? add(i, x[i]) : 0.0f;
            ss += (double)v[k] * v[k];
        }
#pragma unroll
        for (int k = 0; k < PER; k++)
            if (threadIdx.x + k * blockDim.x < D) x[threadIdx.x + k * blockDim.x] = v[k];
        if (!w) return;
        const float r = 1.0f / sqrtf((float)(block_sum(ss) / D) + eps);
#pragma unroll
        for (int k = 0; k < PER; k++) {
            const int i = threadIdx.x + k * blockDim.x;
            if (i >= D) break;
            const float o = w[i] * (v[k] * r);
            out[i] = o;
            if (out2) out2[i] = o * m2;
            if (out3) out3[i] = o * m3;
            if (q8) quant32(o, i / 32, threadIdx.x % 32, q8, qs); // D % 32 == 0: whole warps
        }
    } else {
        for (int i = threadIdx.x; i < D; i += blockDim.x) {
            const float xv = add(i, x[i]);
            x[i] = xv;
            ss += (double)xv * xv;
        }
        if (!w) return;
        const float r = 1.0f / sqrtf((float)(block_sum(ss) / D) + eps);
        for (int i = threadIdx.x; i < D; i += blockDim.x) {
            const float o = w[i] * (x[i] * r);
            out[i] = o;
            if (out2) out2[i] = o * m2;
            if (out3) out3[i] = o * m3;
        }
    }
}

struct norm_out {
    const float *w; // NULL: no norm after the add
    float *out, *out2, *out3;
    float m2, m3, eps;
    int8_t *q8 = nullptr; // PER > 0: out in int8 too (quant32)
    act_scale *qs = nullptr;
};

// x += (s + bs)·ms + (a + ba)·ma, then norm (k_residual2 + k_rmsnorm)
template <int PER>
__global__ void __launch_bounds__(1024) k_dec_residual2(float *x, const float *s, const float *bs, float ms, const float *a, const float *ba, float ma, int D, norm_out n) {
    pdl_start();
    residual_norm<PER>(x, D, [&](int i, float xv) {
        const float sv = (s[i] + (bs ? bs[i] : 0.0f)) * ms;
        const float av = (a[i] + (ba ? ba[i] : 0.0f)) * ma;
        return xv + (sv + av);
    }, n.w, n.eps, n.out, n.out2, n.m2, n.out3, n.m3, n.q8, n.qs);
}

// x += (f + b)·m, then the next norm (k_residual1 + the next layer's attn_norm, or the final norm)
template <int PER>
__global__ void __launch_bounds__(1024) k_dec_residual1(float *x, const float *f, const float *b, float m, int D, norm_out n) {
    pdl_start();
    residual_norm<PER>(x, D, [&](int i, float xv) { return xv + (f[i] + (b ? b[i] : 0.0f)) * m; }, n.w, n.eps, n.out, n.out2, n.m2, n.out3, n.m3, n.q8, n.qs);
}

// k_post_ssm + k_conv + k_conv_state for one token, and k_post_attn, in one grid: blocks
// [0, nssm) take zx elements (the conv and its state shift for the xBC channels are per channel,
// so one thread can read the state, use it and shift it), the rest one q or kv head each
__global__ void k_dec_pre(post_args a, int nssm, int K, const float *cw, const float *cb, float *state, float *xbc) {
    pdl_start();
    if ((int)blockIdx.x >= nssm) {
        attn_head_epilogue(a, 0, blockIdx.x - nssm);
        return;
    }
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= a.Din) return;
    const float v = ssm_in_epilogue(a, 0, i);
    const int ch = i - a.E;
    if (ch < 0 || ch >= a.Cd) return;
    // k_conv's sum for t = 0 (state rows oldest first, then this token), then k_conv_state's shift
    float s = cw[(size_t)ch * K] * (K > 1 ? state[ch] : v);
    for (int k = 1; k < K; k++) s += cw[(size_t)ch * K + k] * (k < K - 1 ? state[(size_t)k * a.Cd + ch] : v);
    if (cb) s += cb[ch];
    xbc[ch] = s / (1.0f + expf(-s));
    for (int r = 0; r + 1 < K - 1; r++) state[(size_t)r * a.Cd + ch] = state[(size_t)(r + 1) * a.Cd + ch];
    if (K > 1) state[(size_t)(K - 2) * a.Cd + ch] = v;
}

// ---- sampling on the GPU ---------------------------------------------------------------------
// One block of SAMP_THREADS walks the whole row. The chain and its arithmetic follow
// fh1_sampler_sample exactly (csrc/sample.c): penalties → top-k → softmax → top-p → min-p →
// temperature → draw in sorted order with the host's uniform u. Candidates are found by radix
// selection on order-preserving 32-bit keys, the best SAMP_CAND are sorted (logit desc, id asc, the
// CPU's order) in shared memory, and one thread then runs the short sequential tail in double.
// When the cut cannot be decided inside those SAMP_CAND (top-k off or above SAMP_CAND and a flat
// distribution) the kernel answers -1 and the host samples the row itself.
#define SAMP_THREADS 1024
#define SAMP_CAND 1024

__device__ __forceinline__ uint32_t order_key(float f) {
    const uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float key_value(uint32_t k) { return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k); }

// key of the k-th largest of w[0..V) (1-based k), by four 8-bit radix passes
__device__ uint32_t kth_largest_key(const float *w, int V, int k) {
    __shared__ int hist[256];
    __shared__ int s_bin, s_k;
    uint32_t prefix = 0, mask = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int i = threadIdx.x; i < 256; i += blockDim.x) hist[i] = 0;
        __syncthreads();
        // logits of one row crowd into a few bins: lanes with the same bin add once (warp-aggregated)
        const int Vr = (V + blockDim.x - 1) / blockDim.x * blockDim.x;
        for (int i = threadIdx.x; i < Vr; i += blockDim.x) {
            const uint32_t u = i < V ? order_key(w[i]) : 0u;
            const bool in = i < V && (u & mask) == prefix;
            const int bin = in ? (int)((u >> shift) & 255) : -1;
            const unsigned peers = __match_any_sync(0xffffffffu, bin);
            if (in && (int)(threadIdx.x % 32) == __ffs(peers) - 1) atomicAdd(&hist[bin], __popc(peers));
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            int acc = 0, b = 255;
            for (; b > 0 && acc + hist[b] < k; b--) acc += hist[b];
            s_bin = b;
            s_k = k - acc;
        }
        __syncthreads();
        prefix |= (uint32_t)s_bin << shift;
        mask |= 255u << shift;
        k = s_k;
        __syncthreads();
    }
    return prefix;
}

template <typename Tv> __device__ Tv block_reduce(Tv v, bool is_max) {
    __shared__ Tv part[32];
    for (int o = 16; o; o >>= 1) {
        const Tv other = __shfl_xor_sync(0xffffffff, v, o);
        v = is_max ? (other > v ? other : v) : v + other;
    }
    __syncthreads();
    if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = v;
    __syncthreads();
    if (threadIdx.x < 32) {
        v = threadIdx.x < blockDim.x / 32 ? part[threadIdx.x] : (is_max ? part[0] : (Tv)0);
        for (int o = 16; o; o >>= 1) {
            const Tv other = __shfl_xor_sync(0xffffffff, v, o);
            v = is_max ? (other > v ? other : v) : v + other;
        }
        if (threadIdx.x == 0) part[0] = v;
    }
    __syncthreads();
    const Tv r = part[0];
    __syncthreads();
    return r;
}

__global__ void __launch_bounds__(SAMP_THREADS) k_sample(const float *logits, float *w, int V, const fh1_gpu_sample *in, int32_t *out) {
    pdl_start();
    const int tid = threadIdx.x;
    for (int i = tid; i < V; i += blockDim.x) w[i] = logits[i];
    __syncthreads();
    // penalties: one thread per (unique) token of the window, float arithmetic as on the CPU
    for (int i = tid; i < in->n_pairs; i += blockDim.x) {
        const int t = in->token[i];
        const float c = (float)in->count[i];
        float v = w[t];
        if (in->repeat_penalty != 1.0f) v = v > 0 ? __fdiv_rn(v, in->repeat_penalty) : __fmul_rn(v, in->repeat_penalty);
        w[t] = __fsub_rn(v, __fadd_rn(__fmul_rn(c, in->frequency_penalty), in->presence_penalty));
    }
    __syncthreads();

    if (in->temp <= 0.0f) { // greedy: the first index of the maximum
        __shared__ float bv[32];
        __shared__ int bi[32];
        float best = -INFINITY;
        int idx = V;
        for (int i = tid; i < V; i += blockDim.x)
            if (w[i] > best || idx == V) best = w[i], idx = i;
        for (int o = 16; o; o >>= 1) {
            const float ov = __shfl_xor_sync(0xffffffff, best, o);
            const int oi = __shfl_xor_sync(0xffffffff, idx, o);
            if (ov > best || (ov == best && oi < idx)) best = ov, idx = oi;
        }
        if (tid % 32 == 0) bv[tid / 32] = best, bi[tid / 32] = idx;
        __syncthreads();
        if (tid == 0) {
            for (int k = 1; k < (int)blockDim.x / 32; k++)
                if (bv[k] > best || (bv[k] == best && bi[k] < idx)) best = bv[k], idx = bi[k];
            *out = idx;
        }
        return;
    }

    const int n_cand = in->top_k > 0 && in->top_k < V ? in->top_k : V;
    const int C = min(n_cand, SAMP_CAND);
    float local_max = -INFINITY;
    for (int i = tid; i < V; i += blockDim.x) local_max = fmaxf(local_max, w[i]);
    const float mx = block_reduce<float>(local_max, true);
    // Σ exp(w − mx) over the n_cand candidates, needed only when they do not all fit in shared memory
    double sum_all = 0.0;
    if (n_cand > C) {
        const uint32_t kn = n_cand < V ? kth_largest_key(w, V, n_cand) : 0u;
        double part = 0.0;
        int above = 0;
        for (int i = tid; i < V; i += blockDim.x) {
            const uint32_t u = order_key(w[i]);
            if (u > kn || n_cand == V) part += exp((double)w[i] - mx), above++;
        }
        sum_all = block_reduce<double>(part, false);
        const int n_above = (int)block_reduce<double>((double)above, false);
        if (n_cand < V) sum_all += (double)(n_cand - n_above) * exp((double)key_value(kn) - mx);
    }

    // the best C: all keys above the C-th key, then ties at it by ascending id
    __shared__ float ck[SAMP_CAND];
    __shared__ int ci[SAMP_CAND];
    __shared__ int n_got, tie_base;
    __shared__ double e1[SAMP_CAND];
    const uint32_t kc = C < V ? kth_largest_key(w, V, C) : 0u;
    __shared__ int n_ties;
    if (tid == 0) n_got = 0, n_ties = 0;
    __syncthreads();
    for (int i = tid; i < V; i += blockDim.x) {
        const uint32_t u = order_key(w[i]);
        if (u > kc || C == V) {
            const int slot = atomicAdd(&n_got, 1);
            ck[slot] = w[i], ci[slot] = i;
        } else if (u == kc) {
            atomicAdd(&n_ties, 1);
        }
    }
    __syncthreads();
    if (n_got + n_ties <= C) { // every tie fits (the usual case): order does not matter, the sort follows
        for (int i = tid; i < V; i += blockDim.x)
            if (C < V && order_key(w[i]) == kc) {
                const int slot = atomicAdd(&n_got, 1);
                ck[slot] = w[i], ci[slot] = i;
            }
        __syncthreads();
    }
    for (int base = 0; base < V && n_got < C; base += blockDim.x) { // more ties than room: lowest ids first
        const int i = base + tid;
        const bool tie = i < V && order_key(w[i]) == kc;
        const unsigned ballot = __ballot_sync(0xffffffff, tie);
        __shared__ int warp_n[32];
        if (tid % 32 == 0) warp_n[tid / 32] = __popc(ballot);
        if (tid == 0) tie_base = n_got;
        __syncthreads();
        int before = 0;
        for (int k = 0; k < tid / 32; k++) before += warp_n[k];
        const int slot = tie_base + before + __popc(ballot & ((1u << (tid % 32)) - 1));
        if (tie && slot < C) ck[slot] = w[i], ci[slot] = i;
        __syncthreads();
        if (tid == 0) {
            int tot = 0;
            for (int k = 0; k < (int)blockDim.x / 32; k++) tot += warp_n[k];
            n_got = min(C, tie_base + tot);
        }
        __syncthreads();
    }
    // bitonic sort of the C candidates: logit descending, id ascending (padding sorts last)
    int P2 = 1;
    while (P2 < C) P2 <<= 1;
    for (int i = tid; i < P2; i += blockDim.x)
        if (i >= C) ck[i] = -INFINITY, ci[i] = INT_MAX;
    __syncthreads();
    for (int size = 2; size <= P2; size <<= 1)
        for (int stride = size / 2; stride > 0; stride >>= 1) {
            for (int i = tid; i < P2; i += blockDim.x) {
                const int j = i ^ stride;
                if (j > i) {
                    const bool first_better = ck[i] > ck[j] || (ck[i] == ck[j] && ci[i] < ci[j]);
                    const bool ascending = (i & size) == 0; // "ascending" = best first in this run
                    if (first_better != ascending) {
                        const float tk = ck[i];
                        const int ti = ci[i];
                        ck[i] = ck[j], ci[i] = ci[j], ck[j] = tk, ci[j] = ti;
                    }
                }
            }
            __syncthreads();
        }
    for (int i = tid; i < C; i += blockDim.x) e1[i] = exp((double)ck[i] - mx);
    __syncthreads();
    if (tid != 0) return;
    double sum = 0.0;
    if (n_cand <= C)
        for (int i = 0; i < C; i++) sum += e1[i];
    else
        sum = sum_all;
    int n = n_cand;
    if (in->top_p < 1.0f) {
        double cum = 0.0;
        int keep = -1;
        for (int i = 0; i < C; i++) {
            cum += e1[i] / sum;
            if (cum >= in->top_p) {
                keep = i + 1;
                break;
            }
        }
        if (keep < 0 && n_cand > C) { // the cut lies beyond what was sorted
            *out = -1;
            return;
        }
        n = keep < 0 ? n_cand : keep;
    }
    if (in->min_p > 0.0f) {
        const double thresh = log((double)in->min_p) + mx;
        int keep = 0;
        while (keep < n && keep < C && (double)ck[keep] >= thresh) keep++;
        if (keep == C && n > C) { // still above the threshold at the end of the sorted part
            *out = -1;
            return;
        }
        n = keep < 1 ? 1 : keep;
    }
    if (n > C) {
        *out = -1;
        return;
    }
    double tot = 0.0;
    for (int i = 0; i < n; i++) tot += exp(((double)ck[i] - mx) / in->temp);
    const double r = in->u * tot;
    double acc = 0.0;
    for (int i = 0; i < n; i++) {
        acc += exp(((double)ck[i] - mx) / in->temp);
        if (r < acc) {
            *out = ci[i];
            return;
        }
    }
    *out = ci[n - 1];
}

// ---- prefill GEMM on tensor cores ------------------------------------------------------------
// y[t][r] = Σ_k x[t][k]·W[r][k] with bf16 MMAs (mma.sync m16n8k16) and f32 accumulation. By
// default the activations are rounded to bf16 (1 product per MAC, as cuBLAS-based engines do:
// ≈ 2^-9 relative error per activation). In split mode (FALCON_H1_CUDA_TC=split) they keep f32
// precision: x = x_hi + x_lo, two bf16 with 16 mantissa bits between them, and weights that are
// not exact in bf16 are split the same way: y = x_lo·W_hi (+ x_hi·W_lo) + x_hi·W_hi. The dropped
// x_lo·W_lo term and the rounding of x_lo are ≈ 2^-16 relative; BF16 weights feed the MMAs
// straight from the upload (2 products per MAC, half the speed).
// Tiles: BM tokens × 128 weight rows × 32 k per stage, cp.async into a 4-stage ring (3 with W_lo),
// 8 warps of (BM/2 tokens × 32 rows), fragments through ldmatrix.
#define TC_BN 128
#define TC_BK 32
#define TC_LD (TC_BK + 8) // bf16 row pitch in shared memory: 80 bytes keep ldmatrix conflict-free
#define TC_MIN_T 16
enum { TC_OFF = 0, TC_SPLIT = 1, TC_BF16 = 2 };
// split-K of the prefill GEMM groups (see gemm_group): slices of one product at most, tokens up to
// which products may be split, rows of n_embd floats in the workspace for slices 1..
#define SPLIT_MAX 8
#define SPLIT_T_MAX 1024
#define KPART_ROWS(B) (4 * (size_t)std::min((B), (size_t)SPLIT_T_MAX))

static __host__ __device__ inline int pad8(int k) { return (k + 7) & ~7; }

// hi/lo bf16 split of every weight element (dequantized from its file format), rows of pad8(K)
// with zeros past K; lo == nullptr keeps only hi
__global__ void k_split_weights(dmat W, __nv_bfloat16 *hi, __nv_bfloat16 *lo) {
    const int ld = pad8(W.cols);
    const size_t n = (size_t)W.rows * ld;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const int r = (int)(i / ld), k = (int)(i % ld);
        const float v = k < W.cols ? wget(W.data + (size_t)r * W.rb, W.type, k) : 0.0f;
        const __nv_bfloat16 h = __float2bfloat16_rn(v);
        hi[i] = h;
        if (lo) lo[i] = __float2bfloat16_rn(v - __bfloat162float(h));
    }
}

// The same for rows of a multiple of 16 weights, 16 per thread: a quantized block's header is read
// once per 16 weights (deq16) and the halves leave as 32-byte vector stores. Rows of K, no padding.
__global__ void k_split_weights16(dmat W, __nv_bfloat16 *hi, __nv_bfloat16 *lo) {
    const int gpr = W.cols / 16;
    const size_t n = (size_t)W.rows * gpr;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const int r = (int)(i / gpr), k0 = (int)(i % gpr) * 16;
        float v[16];
        deq16_unrolled(W.data + (size_t)r * W.rb, W.type, k0, v);
        __align__(16) __nv_bfloat16 h[16], l[16];
        for (int e = 0; e < 16; e++) {
            h[e] = __float2bfloat16_rn(v[e]);
            l[e] = __float2bfloat16_rn(v[e] - __bfloat162float(h[e]));
        }
        const size_t at = (size_t)r * W.cols + k0;
        reinterpret_cast<uint4 *>(hi + at)[0] = reinterpret_cast<const uint4 *>(h)[0];
        reinterpret_cast<uint4 *>(hi + at)[1] = reinterpret_cast<const uint4 *>(h)[1];
        if (lo) {
            reinterpret_cast<uint4 *>(lo + at)[0] = reinterpret_cast<const uint4 *>(l)[0];
            reinterpret_cast<uint4 *>(lo + at)[1] = reinterpret_cast<const uint4 *>(l)[1];
        }
    }
}

// the same split for the activations x[T][K] (lo == nullptr: bf16 mode)
__global__ void k_split_act(const float *x, int T, int K, __nv_bfloat16 *hi, __nv_bfloat16 *lo) {
    const int ld = pad8(K);
    const size_t n = (size_t)T * ld;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const int t = (int)(i / ld), k = (int)(i % ld);
        const float v = k < K ? x[(size_t)t * K + k] : 0.0f;
        const __nv_bfloat16 h = __float2bfloat16_rn(v);
        hi[i] = h;
        if (lo) lo[i] = __float2bfloat16_rn(v - __bfloat162float(h));
    }
}

__device__ inline void cp_async16(void *smem, const void *gmem, bool in) {
    const unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(in ? 16 : 0));
}
// four 8×8 b16 matrices from shared memory (TRANS: each transposed), and the m16n8k16 MMA on
// bf16 or f16 operands with f32 accumulators; one definition each for both forms
#define DEF_LDMATRIX_X4(NAME, TRANS)                                                                                                                 \
    __device__ inline void NAME(unsigned r[4], const void *smem) {                                                                                   \
        const unsigned s = (unsigned)__cvta_generic_to_shared(smem);                                                                                 \
        asm volatile("ldmatrix.sync.aligned.m8n8.x4" TRANS ".shared.b16 {%0,%1,%2,%3}, [%4];\n" : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(s)); \
    }
DEF_LDMATRIX_X4(ldmatrix_x4, "")
DEF_LDMATRIX_X4(ldmatrix_x4_trans, ".trans")
#define DEF_MMA_16816(NAME, T)                                                                                                                       \
    __device__ inline void NAME(float c[4], const unsigned a[4], unsigned b0, unsigned b1) {                                                          \
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32." T "." T ".f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"                  \
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])                                                                                \
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));                                                                \
    }
DEF_MMA_16816(mma_bf16, "bf16")
DEF_MMA_16816(mma_f16, "f16")
#undef DEF_LDMATRIX_X4
#undef DEF_MMA_16816

// ---- prefill attention on tensor cores ------------------------------------------------------
// With an f16 KV cache and head size DH = 16, 32, 64 or 128: FlashAttention-2's schedule on mma.sync
// m16n8k16 (f16 operands, f32 accumulators). A block of 4 warps takes AMQ = 64 queries of one head
// (16 a warp, Q kept in registers as A fragments); per step of AMK = 64 keys it stages the K and V
// rows in shared memory, computes S = Q·Kᵀ, runs the online softmax on the accumulators and feeds
// P back as A fragments of P·V (V's B fragments through ldmatrix.trans). Q is scaled by
// log2(e)/sqrt(dh) before it is rounded to f16, so the softmax is exp2; P is rounded to f16 as
// the keys and values already are. Default tensor-core mode only (TC_BF16, whose GEMMs round the
// activations to bf16, coarser than this); FALCON_H1_CUDA_ATT_MMA=0 keeps k_attn_tiled (f32 throughout).
#define AMQ 64
#define AMK 64
template <int DH> __host__ __device__ constexpr int att_mma_smem() { return 2 * AMK * (DH + 8) * 2; } // K and V tiles, rows padded by 16 bytes
__device__ inline unsigned pack_half2(float lo, float hi) {
    const __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const unsigned *>(&h);
}
template <int DH>
__global__ void __launch_bounds__(128) k_attn_mma(const float *q, const __half *kc, const __half *vc, float *out, int T, const int *dpos, int nh, int nkv, int n_ctx, int layer) {
    constexpr int LD = DH + 8; // row pitch in halves: 16-byte aligned rows, conflict-free fragment reads
    extern __shared__ __align__(16) __half am_sm[];
    __half *Ks = am_sm, *Vs = am_sm + AMK * LD;
    const int ntiles = (T + AMQ - 1) / AMQ, tile = ntiles - 1 - (int)blockIdx.x; // longest tiles first
    const int h = blockIdx.y, kvh = h / (nh / nkv), kvd = nkv * DH, t0 = tile * AMQ, pos0 = *dpos;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, tq = lane % 4;
    const float qscale = (float)(1.4426950408889634 / sqrt((double)DH));
    // this lane's rows g and g + 8 of the warp's 16 (rows past T repeat the last token; not written)
    int row_t[2], qp[2];
    for (int i = 0; i < 2; i++) row_t[i] = t0 + warp * 16 + g + 8 * i, qp[i] = pos0 + min(row_t[i], T - 1);
    unsigned qa[DH / 16][4];
    for (int kk = 0; kk < DH / 16; kk++)
        for (int i = 0; i < 4; i++) { // a0: row g, dims 2tq..; a1: row g+8; a2, a3: the same 8 dims further
            const float *src = q + (size_t)min(row_t[i & 1], T - 1) * nh * DH + (size_t)h * DH + kk * 16 + (i >> 1) * 8 + 2 * tq;
            const float2 v = *reinterpret_cast<const float2 *>(src);
            qa[kk][i] = pack_half2(v.x * qscale, v.y * qscale);
        }
    float o[DH / 8][4], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
    for (int j = 0; j < DH / 8; j++)
        for (int i = 0; i < 4; i++) o[j][i] = 0.0f;
    const int n_keys = pos0 + min(t0 + AMQ, T); // keys 0 .. n_keys-1 serve this tile
    const size_t base = (size_t)layer * n_ctx * kvd + (size_t)kvh * DH;
    for (int k0 = 0; k0 < n_keys; k0 += AMK) {
        __syncthreads(); // the previous step's tiles are used up
        for (int i = threadIdx.x; i < AMK * DH / 8; i += 128) {
            const int j = i / (DH / 8), ch = i % (DH / 8);
            uint4 kv = make_uint4(0, 0, 0, 0), vv = kv; // zeros past the last key: P is 0 there, and 0·V must not be NaN
            if (k0 + j < n_keys) {
                const size_t at = base + (size_t)(k0 + j) * kvd + ch * 8;
                kv = *reinterpret_cast<const uint4 *>(kc + at), vv = *reinterpret_cast<const uint4 *>(vc + at);
            }
            *reinterpret_cast<uint4 *>(Ks + j * LD + ch * 8) = kv;
            *reinterpret_cast<uint4 *>(Vs + j * LD + ch * 8) = vv;
        }
        __syncthreads();
        float s[AMK / 8][4];
        for (int nb = 0; nb < AMK / 8; nb++)
            for (int i = 0; i < 4; i++) s[nb][i] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < DH / 16; kk++)
#pragma unroll
            for (int nb = 0; nb < AMK / 8; nb++) { // B = Kᵀ: key nb·8 + g, dims 2tq.. and 2tq + 8..
                const __half *kp = Ks + (nb * 8 + g) * LD + kk * 16 + 2 * tq;
                mma_f16(s[nb], qa[kk], *reinterpret_cast<const unsigned *>(kp), *reinterpret_cast<const unsigned *>(kp + 8));
            }
        const bool edge = k0 + AMK - 1 > pos0 + t0; // some key of this step lies past some row's position
        for (int i = 0; i < 2; i++) {                // row g (accumulators 0, 1), row g + 8 (2, 3)
            float mx = -INFINITY;
#pragma unroll
            for (int nb = 0; nb < AMK / 8; nb++)
#pragma unroll
                for (int c = 0; c < 2; c++) {
                    float &v = s[nb][2 * i + c];
                    if (edge && k0 + nb * 8 + 2 * tq + c > qp[i]) v = -INFINITY;
                    mx = fmaxf(mx, v);
                }
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 2));
            const float mn = fmaxf(m[i], mx); // finite: key 0 is in every row's first step
            const float corr = exp2f(m[i] - mn);
            m[i] = mn;
            float ps = 0.0f;
#pragma unroll
            for (int nb = 0; nb < AMK / 8; nb++)
#pragma unroll
                for (int c = 0; c < 2; c++) {
                    const float p = exp2f(s[nb][2 * i + c] - mn);
                    s[nb][2 * i + c] = p;
                    ps += p;
                }
            l[i] = l[i] * corr + ps;
#pragma unroll
            for (int j = 0; j < DH / 8; j++) o[j][2 * i] *= corr, o[j][2 * i + 1] *= corr;
        }
#pragma unroll
        for (int kb = 0; kb < AMK / 16; kb++) { // keys kb·16 ..: P's accumulators of n-blocks 2kb, 2kb+1 are P·V's A fragment
            const unsigned pa[4] = {pack_half2(s[2 * kb][0], s[2 * kb][1]), pack_half2(s[2 * kb][2], s[2 * kb][3]), pack_half2(s[2 * kb + 1][0], s[2 * kb + 1][1]),
                                    pack_half2(s[2 * kb + 1][2], s[2 * kb + 1][3])};
            const int mi = lane / 8, key = kb * 16 + (mi & 1) * 8 + lane % 8;
#pragma unroll
            for (int db = 0; db < DH / 16; db++) { // dims db·16 ..: two n-blocks from one ldmatrix
                unsigned vb[4];
                ldmatrix_x4_trans(vb, Vs + key * LD + db * 16 + (mi >> 1) * 8);
                mma_f16(o[2 * db], pa, vb[0], vb[1]);
                mma_f16(o[2 * db + 1], pa, vb[2], vb[3]);
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        float L = l[i];
        L += __shfl_xor_sync(0xffffffff, L, 1);
        L += __shfl_xor_sync(0xffffffff, L, 2);
        if (row_t[i] >= T) continue;
        float *dst = out + (size_t)row_t[i] * nh * DH + (size_t)h * DH + 2 * tq;
        const float inv = 1.0f / L;
        for (int j = 0; j < DH / 8; j++) *reinterpret_cast<float2 *>(dst + j * 8) = make_float2(o[j][2 * i] * inv, o[j][2 * i + 1] * inv);
    }
}

// operands: xh/xl [T][ldx], wh/wl [N][ldw] (ld multiples of 8, zero past K); xl == nullptr in bf16
// mode, wl == nullptr when W is exact in bf16. Grid: (token tiles, row tiles), token tiles fastest
// so the blocks running together share one weight tile through L2.
template <int BM, bool XLO, bool WLO>
__global__ void __launch_bounds__(256, BM == 64 ? 2 : 1) k_gemm_tc(const __nv_bfloat16 *__restrict__ xh, const __nv_bfloat16 *__restrict__ xl, int ldx,
                                                    const __nv_bfloat16 *__restrict__ wh, const __nv_bfloat16 *__restrict__ wl, int ldw, int N, int K, int T,
                                                    float *__restrict__ y) {
    constexpr int STAGES = WLO ? 3 : 4;
    constexpr int MI = BM / 32, NI = 4;                                       // m16 tiles and n8 tiles per warp
    constexpr int A_TILE = BM * TC_LD, B_TILE = TC_BN * TC_LD;                // bf16 elements per stage
    constexpr int STAGE = A_TILE * (XLO ? 2 : 1) + B_TILE * (WLO ? 2 : 1);
    extern __shared__ __align__(16) __nv_bfloat16 sm[];
    const int t0 = blockIdx.x * BM, n0 = blockIdx.y * TC_BN;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int wm = warp / 4, wn = warp % 4; // warp tile: tokens wm·BM/2.., rows wn·32..
    float acc[MI][NI][4] = {};
    const int KT = (K + TC_BK - 1) / TC_BK;

    // rows [row0, row0 + rows) of an operand (hi, and lo lo_off further on) for k0..k0+31, in
    // 16-byte chunks (8 bf16); rows past limit and k past K are zero-filled
    auto copy_rows = [&](__nv_bfloat16 *dst, int lo_off, const __nv_bfloat16 *hi, const __nv_bfloat16 *lo, int rows, int row0, int limit, int ld, int k0) {
        for (int c = threadIdx.x; c < rows * 4; c += 256) {
            const int r = c / 4, k = k0 + (c % 4) * 8;
            const bool in = row0 + r < limit && k < K;
            const size_t off = in ? (size_t)(row0 + r) * ld + k : 0;
            cp_async16(dst + r * TC_LD + (c % 4) * 8, hi + off, in);
            if (lo) cp_async16(dst + lo_off + r * TC_LD + (c % 4) * 8, lo + off, in);
        }
    };
    // one stage: the A tile (tokens) and the B tile (weight rows)
    auto load = [&](int stage, int kt) {
        __nv_bfloat16 *s = sm + stage * STAGE;
        copy_rows(s, A_TILE, xh, XLO ? xl : nullptr, BM, t0, T, ldx, kt * TC_BK);
        copy_rows(s + A_TILE * (XLO ? 2 : 1), B_TILE, wh, WLO ? wl : nullptr, TC_BN, n0, N, ldw, kt * TC_BK);
    };
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < KT) load(s, s);
        asm volatile("cp.async.commit_group;\n");
    }
    for (int kt = 0; kt < KT; kt++) {
        asm volatile("cp.async.wait_group %0;\n" ::"n"(STAGES - 2));
        __syncthreads(); // stage kt landed for every thread; stage kt-1 is free to refill
        if (kt + STAGES - 1 < KT) load((kt + STAGES - 1) % STAGES, kt + STAGES - 1);
        asm volatile("cp.async.commit_group;\n");
        const __nv_bfloat16 *s = sm + (kt % STAGES) * STAGE;
        const __nv_bfloat16 *sa = s + (wm * (BM / 2)) * TC_LD, *sb = s + A_TILE * (XLO ? 2 : 1) + (wn * 32) * TC_LD;
        for (int kk = 0; kk < TC_BK; kk += 16) {
            unsigned ah[MI][4], al[MI][4], bh[NI][2], bl[NI][2];
            for (int i = 0; i < MI; i++) {
                const int off = (16 * i + lane % 16) * TC_LD + kk + (lane / 16) * 8;
                ldmatrix_x4(ah[i], sa + off);
                if (XLO) ldmatrix_x4(al[i], sa + A_TILE + off);
            }
            for (int j = 0; j < NI; j += 2) {
                const int off = (8 * j + lane % 8 + (lane / 16) * 8) * TC_LD + kk + ((lane / 8) % 2) * 8;
                unsigned r[4];
                ldmatrix_x4(r, sb + off);
                bh[j][0] = r[0], bh[j][1] = r[1], bh[j + 1][0] = r[2], bh[j + 1][1] = r[3];
                if (WLO) {
                    ldmatrix_x4(r, sb + B_TILE + off);
                    bl[j][0] = r[0], bl[j][1] = r[1], bl[j + 1][0] = r[2], bl[j + 1][1] = r[3];
                }
            }
            for (int i = 0; i < MI; i++)
                for (int j = 0; j < NI; j++) {
                    if (XLO) mma_bf16(acc[i][j], al[i], bh[j][0], bh[j][1]);
                    if (WLO) mma_bf16(acc[i][j], ah[i], bl[j][0], bl[j][1]);
                    mma_bf16(acc[i][j], ah[i], bh[j][0], bh[j][1]);
                }
        }
    }
    asm volatile("cp.async.wait_group 0;\n");
    // accumulator (i, j): tokens g and g+8 of the m16 tile, rows 2q and 2q+1 of the n8 tile
    const int g = lane / 4, q = lane % 4;
    for (int i = 0; i < MI; i++)
        for (int j = 0; j < NI; j++)
            for (int h = 0; h < 2; h++) {
                const int t = t0 + wm * (BM / 2) + 16 * i + g + 8 * h, n = n0 + wn * 32 + 8 * j + 2 * q;
                if (t >= T) continue;
                float *o = y + (size_t)t * N + n;
                if (n + 1 < N && (((size_t)t * N + n) % 2) == 0) *reinterpret_cast<float2 *>(o) = make_float2(acc[i][j][2 * h], acc[i][j][2 * h + 1]);
                else {
                    if (n < N) o[0] = acc[i][j][2 * h];
                    if (n + 1 < N) o[1] = acc[i][j][2 * h + 1];
                }
            }
}

static constexpr int tc_smem_bytes(int bm, bool xlo, bool wlo) { return (wlo ? 3 : 4) * (bm * TC_LD * (xlo ? 2 : 1) + TC_BN * TC_LD * (wlo ? 2 : 1)) * 2; }
template <int BM, bool XLO, bool WLO> static constexpr int tc_smem() { return tc_smem_bytes(BM, XLO, WLO); }

// ---- prefill GEMM with Hopper's warpgroup MMAs (sm_90a) ---------------------------------------
// The same products as k_gemm_tc, issued as wgmma.m64n128k16 by two warpgroups (64 tokens each)
// straight from shared memory: tiles of 128 tokens × 128 weight rows × 64 k, each row 128 bytes
// stored with the 128-byte swizzle (16-byte chunk c of row r at chunk c ^ (r % 8)) that the
// wgmma descriptors name, filled by cp.async 2-3 stages ahead. (Measured on an H100: keeping one
// MMA group in flight across the barrier, deeper rings and 256-row tiles were all slower.)
// Built only for sm_90a; the host calls it on compute capability 9.x alone.
#define WG_BM 128
#define WG_BN 128
#define WG_BK 64
#define WG_ROWS_BYTES(r) ((r) * WG_BK * 2) // bytes of an r-row operand tile
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define FH1_WGMMA_BODY 1
__device__ inline uint64_t wg_desc(const void *smem) { // K-major, 128-byte swizzle, 8-row groups 1024 bytes apart
    const uint64_t a = (unsigned)__cvta_generic_to_shared(smem);
    return ((a & 0x3FFFF) >> 4) | ((uint64_t)1 << 16) | ((uint64_t)(1024 >> 4) << 32) | ((uint64_t)1 << 62);
}
__device__ inline void wg_mma(float (&d)[64], uint64_t a, uint64_t b) {
    asm volatile("{\n"
                 ".reg .pred p;\n"
                 "setp.ne.b32 p, %66, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, %64, %65, p, 1, 1, 0, 0;\n"
                 "}\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
                 : "l"(a), "l"(b), "r"(1));
}
template <int R> __device__ inline void wg_fence_acc(float (&d)[R]) {
    for (int i = 0; i < R; i++) asm volatile("" : "+f"(d[i])::"memory");
}
#endif

// One launch computes a group of up to GEMM_SEGS products that may differ in input, weights, size
// and output (a layer's input projections; its two output projections; gate and up), and may cut
// each product along k into slices that the consuming kernel adds up (split-K: see plan_slices).
// Blocks of a product run token tiles fastest, then weight tiles, then k slices, so the blocks
// running together share one weight tile through L2.
#define GEMM_SEGS 4
struct wg_seg {
    const __nv_bfloat16 *xh, *xl, *wh, *wl; // operands as k_gemm_tc takes them
    float *y, *rest;                        // k slice 0 → y[T][N]; slice j ≥ 1 → rest + (j-1)·T·N
    int ldx, ldw, N, K;
    int tiles_t, tiles_n, ksteps; // token tiles, weight tiles, WG_BK steps per k slice
    int first;                    // index of this product's first block in the launch
};
struct wg_group {
    wg_seg s[GEMM_SEGS];
    int nseg, T;
};

// a stage holds x_hi, [x_lo] (128 rows each), w_hi, [w_lo] (128 rows each); S of them and 1 KiB of
// alignment must fit 227 KiB (see WG_INSTANCES)
template <bool XLO, bool WLO> __host__ __device__ constexpr int wg_stage_bytes() {
    return WG_ROWS_BYTES(WG_BM) * (1 + XLO) + WG_ROWS_BYTES(WG_BN) * (1 + WLO);
}
template <bool XLO, bool WLO, int S> static constexpr int wg_smem() { return S * wg_stage_bytes<XLO, WLO>() + 1024; }

// S: stages of the cp.async ring; MINB: blocks an SM keeps resident (2 with three 32 KiB stages
// in bf16 mode, so one block's MMAs run while the other waits at its barrier)
template <bool XLO, bool WLO, int S, int MINB>
__global__ void __launch_bounds__(256, MINB) k_gemm_wg(const __grid_constant__ wg_group g) {
#ifdef FH1_WGMMA_BODY
    constexpr int SB = wg_stage_bytes<XLO, WLO>(), XT = WG_ROWS_BYTES(WG_BM), WT = WG_ROWS_BYTES(WG_BN);
    static_assert(S >= 3, "two stages in flight while one is used");
    extern __shared__ unsigned char wg_raw[];
    unsigned char *sm = (unsigned char *)(((uintptr_t)wg_raw + 1023) & ~(uintptr_t)1023);
    int si = 0;
    for (int i = 1; i < g.nseg; i++)
        if ((int)blockIdx.x >= g.s[i].first) si = i;
    const wg_seg &sg = g.s[si];
    const int T = g.T, N = sg.N, K = sg.K;
    int b = (int)blockIdx.x - sg.first;
    const int t0 = (b % sg.tiles_t) * WG_BM;
    b /= sg.tiles_t;
    const int n0 = (b % sg.tiles_n) * WG_BN, slice = b / sg.tiles_n;
    const int kb = slice * sg.ksteps, nk = min(sg.ksteps, (K + WG_BK - 1) / WG_BK - kb);
    const __nv_bfloat16 *__restrict__ xh = sg.xh, *__restrict__ xl = sg.xl, *__restrict__ wh = sg.wh, *__restrict__ wl = sg.wl;
    float *__restrict__ y = slice ? sg.rest + (size_t)(slice - 1) * T * N : sg.y;
    const int wg = threadIdx.x / 128;
    float d[WG_BN / 2];
    for (int i = 0; i < WG_BN / 2; i++) d[i] = 0.0f;
    // Each thread copies the same 16-byte chunk column ch of rows r0 + 32i (i < 4) of every operand
    // tile, so its shared-memory offsets and row pointers are fixed: a stage costs 8-16 cp.async
    // and no address arithmetic (the loads are issued by the warps that issue the MMAs).
    // Stage layout: x_hi, [x_lo], w_hi, [w_lo]; row r at r·128 bytes, chunk ch at (ch ^ r % 8)·16.
    static_assert(WG_BN == 128 && WG_BM == 128, "4 rows of each tile per thread");
    const int r0 = threadIdx.x / 8, ch = threadIdx.x % 8, sw = r0 * 128 + ((ch ^ (r0 % 8)) * 16);
    size_t xo[4], wo[4];
    bool xin[4], win[4];
    for (int i = 0; i < 4; i++) {
        const int t = t0 + r0 + 32 * i, n = n0 + r0 + 32 * i;
        xin[i] = t < T, win[i] = n < N;
        xo[i] = xin[i] ? (size_t)t * sg.ldx + ch * 8 : 0;
        wo[i] = win[i] ? (size_t)n * sg.ldw + ch * 8 : 0;
    }
    auto load = [&](int stage, int kt) {
        unsigned char *s = sm + (size_t)stage * SB + sw;
        const int k0 = kt * WG_BK;
        const bool kin = k0 + ch * 8 < K;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const bool xi = kin && xin[i], wi = kin && win[i];
            cp_async16(s + 4096 * i, xh + (xi ? xo[i] + k0 : 0), xi);
            if (XLO) cp_async16(s + XT + 4096 * i, xl + (xi ? xo[i] + k0 : 0), xi);
            cp_async16(s + XT * (1 + XLO) + 4096 * i, wh + (wi ? wo[i] + k0 : 0), wi);
            if (WLO) cp_async16(s + XT * (1 + XLO) + WT + 4096 * i, wl + (wi ? wo[i] + k0 : 0), wi);
        }
    };
    for (int st = 0; st < S - 1; st++) {
        if (st < nk) load(st, kb + st);
        asm volatile("cp.async.commit_group;\n");
    }
    for (int i = 0; i < nk; i++) {
        asm volatile("cp.async.wait_group %0;\n" ::"n"(S - 2));
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); // cp.async wrote through the generic proxy; wgmma reads through the async one
        __syncthreads(); // step i's tile landed everywhere, and every warpgroup's MMAs of step i-1 are done
        if (i + S - 1 < nk) load((i + S - 1) % S, kb + i + S - 1);
        asm volatile("cp.async.commit_group;\n");
        const unsigned char *s = sm + (size_t)(i % S) * SB;
        const unsigned char *ah = s + wg * 64 * 128, *al = ah + XT, *bh = s + XT * (1 + XLO), *bl = bh + WT;
        wg_fence_acc(d);
        asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
        for (int kk = 0; kk < WG_BK / 16; kk++) { // +32 bytes per k16 step inside the swizzled rows
            const uint64_t dah = wg_desc(ah) + 2 * kk, dbh = wg_desc(bh) + 2 * kk;
            if (XLO) wg_mma(d, wg_desc(al) + 2 * kk, dbh);
            if (WLO) wg_mma(d, dah, wg_desc(bl) + 2 * kk);
            wg_mma(d, dah, dbh);
        }
        asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
        asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
        wg_fence_acc(d);
    }
    asm volatile("cp.async.wait_group 0;\n");
    // accumulators as in mma.sync, per n8 chunk j: tokens g and g+8 of this warp's 16, rows 2q, 2q+1
    const int warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32, gq = lane / 4, q = lane % 4;
    for (int j = 0; j < WG_BN / 8; j++)
        for (int h = 0; h < 2; h++) {
            const int t = t0 + wg * 64 + warp * 16 + gq + 8 * h, n = n0 + 8 * j + 2 * q;
            if (t >= T) continue;
            float *o = y + (size_t)t * N + n;
            const float v0 = d[4 * j + 2 * h], v1 = d[4 * j + 2 * h + 1];
            if (n + 1 < N && (((size_t)t * N + n) % 2) == 0) *reinterpret_cast<float2 *>(o) = make_float2(v0, v1);
            else {
                if (n < N) o[0] = v0;
                if (n + 1 < N) o[1] = v1;
            }
        }
#endif
}

// ---- host side ------------------------------------------------------------------------------

// an environment switch that is on unless set to 0 (FALCON_H1_CUDA_GRAPH, _FUSED, _ATT_TILED, ...)
static bool getenv_on(const char *name) {
    const char *e = getenv(name);
    return !(e && !strcmp(e, "0"));
}

static int tc_mode_from_env() {
    const char *e = getenv("FALCON_H1_CUDA_TC");
    if (e && !strcmp(e, "0")) return TC_OFF;
    if (e && (!strcmp(e, "split") || !strcmp(e, "1"))) return TC_SPLIT;
    return TC_BF16;
}

// BF16 rows whose length is a multiple of 8 go to the MMAs from the upload (16-byte chunks)
static bool direct_bf16(int type, int cols) { return type == GGML_TYPE_BF16 && cols % 8 == 0; }

// the GEMM instances take more than 48 KiB of shared memory: allowed once per device, for the
// instances that fit what a block may have here (gemm_tc picks among those)
template <int BM, bool XLO, bool WLO> static void tc_allow_smem(size_t limit) {
    if ((size_t)tc_smem<BM, XLO, WLO>() <= limit) cudaFuncSetAttribute(k_gemm_tc<BM, XLO, WLO>, cudaFuncAttributeMaxDynamicSharedMemorySize, tc_smem<BM, XLO, WLO>());
}
// the warpgroup-MMA instances: split mode with and without W_lo, bf16 mode with one or two blocks an SM
#define WG_INSTANCES(X) X(true, true, 3, 1) X(true, false, 4, 1) X(false, false, 4, 1) X(false, false, 3, 2)
#define WG_SMEM(xlo, wlo, s, b) wg_smem<xlo, wlo, s>(),
#define WG_ALLOW(xlo, wlo, s, b) cudaFuncSetAttribute(k_gemm_wg<xlo, wlo, s, b>, cudaFuncAttributeMaxDynamicSharedMemorySize, wg_smem<xlo, wlo, s>());
// whether k_gemm_wg has its body in the image the driver loaded for this device: the compute_90
// PTX (JIT-compiled when the driver does not take the sm_90a code, e.g. CUDA_FORCE_PTX_JIT=1)
// is built without it
__global__ void k_wg_probe(int *has_body) {
#ifdef FH1_WGMMA_BODY
    *has_body = 1;
#else
    *has_body = 0;
#endif
}
static bool wg_body_loaded() {
    int *d = nullptr, h = 0;
    if (cudaMalloc((void **)&d, sizeof(int)) != cudaSuccess) return false;
    k_wg_probe<<<1, 1>>>(d);
    const bool ok = cudaMemcpy(&h, d, sizeof(int), cudaMemcpyDeviceToHost) == cudaSuccess && h == 1;
    cudaFree(d);
    return ok;
}

// returns whether the warpgroup-MMA GEMM can run here: a Hopper GPU with the shared memory it
// takes and its sm_90a image in this build (FALCON_H1_WGMMA=0 keeps the mma.sync kernel)
static bool tc_kernels_setup(const cudaDeviceProp &prop, size_t smem_limit) {
    tc_allow_smem<64, true, false>(smem_limit), tc_allow_smem<64, true, true>(smem_limit), tc_allow_smem<64, false, false>(smem_limit);
    tc_allow_smem<128, true, false>(smem_limit), tc_allow_smem<128, true, true>(smem_limit), tc_allow_smem<128, false, false>(smem_limit);
    cudaFuncAttributes fa = {};
    const size_t wg_most = (size_t)std::max({WG_INSTANCES(WG_SMEM)});
    if (!getenv_on("FALCON_H1_WGMMA") || prop.major != 9 || wg_most > smem_limit || cudaFuncGetAttributes(&fa, k_gemm_wg<false, false, 4, 1>) != cudaSuccess ||
        fa.binaryVersion != 90 || !wg_body_loaded()) {
        cudaGetLastError();
        return false;
    }
    WG_INSTANCES(WG_ALLOW)
    cudaGetLastError();
    return true;
}
template <int BM, bool XLO, bool WLO>
static void launch_gemm_tc(cudaStream_t st, const __nv_bfloat16 *xh, const __nv_bfloat16 *xl, const __nv_bfloat16 *wh, const __nv_bfloat16 *wl, int ldw, int N, int K, int T, float *y) {
    const dim3 grid((T + BM - 1) / BM, (N + TC_BN - 1) / TC_BN);
    k_gemm_tc<BM, XLO, WLO><<<grid, 256, tc_smem<BM, XLO, WLO>(), st>>>(xh, xl, pad8(K), wh, wl, ldw, N, K, T, y);
}
template <int BM> static void launch_gemm_tc(cudaStream_t st, bool xlo, const __nv_bfloat16 *xh, const __nv_bfloat16 *xl, const __nv_bfloat16 *wh, const __nv_bfloat16 *wl, int ldw, int N, int K, int T, float *y) {
    if (!xlo) launch_gemm_tc<BM, false, false>(st, xh, nullptr, wh, nullptr, ldw, N, K, T, y);
    else if (wl) launch_gemm_tc<BM, true, true>(st, xh, xl, wh, wl, ldw, N, K, T, y);
    else launch_gemm_tc<BM, true, false>(st, xh, xl, wh, nullptr, ldw, N, K, T, y);
}

struct shard;
static void enqueue_sample(shard *c, const float *row);

static bool gpu_type_ok(int t) {
    switch (t) {
    case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_BF16: case GGML_TYPE_Q8_0: case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1:
    case GGML_TYPE_Q5_0: case GGML_TYPE_Q5_1: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K: case GGML_TYPE_Q6_K: return true;
    default: return false;
    }
}

extern "C" int fh1_cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return n;
}

template <typename Tp>
static int dalloc(shard *c, Tp **p, size_t n, char *err, size_t err_len) {
    void *q = nullptr;
    CK(cudaMalloc(&q, n ? n : 1));
    CK(cudaMemset(q, 0, n ? n : 1));
    c->allocs.push_back(q);
    *p = (Tp *)q;
    return 1;
}

static int upload(shard *c, const void *src, size_t n, const float **dst, char *err, size_t err_len) {
    if (!src) {
        *dst = nullptr;
        return 1;
    }
    float *p;
    if (!dalloc(c, &p, n, err, err_len)) return 0;
    CK(cudaMemcpy(p, src, n, cudaMemcpyHostToDevice));
    *dst = p;
    return 1;
}

static int upload_mat(shard *c, const fh1_matrix *w, dmat *d, char *err, size_t err_len) {
    if (!gpu_type_ok(w->type)) {
        snprintf(err, err_len, "a weight of ggml type %d is not supported by the CUDA backend yet (use --device cpu)", w->type);
        return 0;
    }
    const float *p;
    if (!upload(c, w->data, w->row_bytes * (size_t)w->rows, &p, err, err_len)) return 0;
    *d = dmat{(const uint8_t *)p, w->type, w->rows, w->cols, w->row_bytes};
    return 1;
}

static void shard_free(shard *c) {
    if (!c) return;
    cudaSetDevice(c->dev);
    if (c->decode_graph) cudaGraphExecDestroy(c->decode_graph);
    if (c->sample_graph) cudaGraphExecDestroy(c->sample_graph);
    if (c->done) cudaEventDestroy(c->done);
    if (c->stream) cudaStreamDestroy(c->stream);
    if (c->h_io) cudaFreeHost(c->h_io);
    if (c->h_s_in) cudaFreeHost(c->h_s_in);
    if (c->h_s_out) cudaFreeHost(c->h_s_out);
    for (void *p : c->allocs) cudaFree(p);
    delete c;
}

extern "C" void fh1_cuda_free(fh1_cuda *c) {
    if (!c) return;
    for (shard *s : c->parts) shard_free(s);
    delete c;
}

// the nine weight matrices of a layer (every loop over a layer's matrices)
struct layer_mats {
    const fh1_matrix *m[9];
    const fh1_matrix *const *begin() const { return m; }
    const fh1_matrix *const *end() const { return m + 9; }
};
static layer_mats mats_of(const fh1_layer *l) { return {{&l->wq, &l->wk, &l->wv, &l->wo, &l->ssm_in, &l->ssm_out, &l->ffn_gate, &l->ffn_up, &l->ffn_down}}; }

static size_t mat_bytes(const fh1_matrix &w) { return w.data ? w.row_bytes * (size_t)w.rows : 0; }

// bf16 operand scratch of the prefill GEMM groups (enqueue_forward: input projections, output
// projections, gate+up, down, head): x_cols = the most input columns one group splits a token
// (each distinct input once, pad8), w_elems = the most weight elements one group splits (those
// not fed as they are, see direct_bf16)
static void tc_scratch(const fh1_model *m, int l0, int l1, bool head, size_t *x_cols, size_t *w_elems) {
    auto cols = [](const fh1_matrix &w) { return (size_t)pad8(w.cols); };
    auto split = [](const fh1_matrix &w) { return direct_bf16(w.type, w.cols) ? 0 : (size_t)w.rows * pad8(w.cols); };
    *x_cols = head ? cols(m->output) : 0;
    *w_elems = head ? split(m->output) : 0;
    for (int i = l0; i < l1; i++) {
        const fh1_layer *l = &m->layers[i];
        // the SSM and attention inputs differ when their µP multipliers do
        *x_cols = std::max({*x_cols, cols(l->ssm_in) + cols(l->wq), cols(l->ssm_out) + cols(l->wo), cols(l->ffn_gate), cols(l->ffn_down)});
        *w_elems = std::max({*w_elems, split(l->ssm_in) + split(l->wq) + split(l->wk) + split(l->wv), split(l->ssm_out) + split(l->wo),
                             split(l->ffn_gate) + split(l->ffn_up), split(l->ffn_down)});
    }
}

// Device memory a part will take (weights, caches, scratch), to plan splits and refuse early
static size_t part_bytes(const fh1_model *m, int l0, int l1, bool embed, bool head, const fh1_cuda_params &p) {
    const fh1_hparams *hp = &m->hp;
    const size_t B = p.n_batch, D = hp->n_embd, kvd = (size_t)hp->n_head_kv * hp->head_dim, qd = (size_t)hp->n_head * hp->head_dim;
    size_t bytes = 0;
    auto mat = [&](const fh1_matrix &w) { bytes += mat_bytes(w); };
    if (embed) bytes += mat_bytes(m->tok_embd);
    if (head) {
        if (!(embed && m->output.data == m->tok_embd.data)) mat(m->output);
        bytes += D * 4 + B * (size_t)hp->n_vocab * 4 + (size_t)hp->n_vocab * 4;
    }
    for (int i = l0; i < l1; i++) {
        const fh1_layer *l = &m->layers[i];
        for (const fh1_matrix *w : mats_of(l)) mat(*w);
        bytes += ((size_t)3 * D + 2 * hp->in_proj_dim + (size_t)hp->conv_dim * (hp->d_conv + 2) + 4 * (size_t)hp->ssm_n_head + hp->d_inner + qd + 2 * kvd +
                  2 * (size_t)hp->n_ff) * 4;
        bytes += 2 * (size_t)p.n_ctx * kvd * (p.kv_f16 ? 2 : 4) + ((size_t)(hp->d_conv - 1) * hp->conv_dim + (size_t)hp->d_inner * hp->d_state) * 4;
    }
    bytes += B * (8 * D + hp->in_proj_dim + hp->conv_dim + hp->ssm_n_head + hp->d_inner + 2 * qd + 2 * kvd + 2 * (size_t)hp->n_ff) * 4;
    bytes += (size_t)hp->n_head * ATT_MAX_SPLITS * (hp->head_dim + 2) * 4;
    if (B >= TC_MIN_T) {
        size_t x_cols, w_elems;
        tc_scratch(m, l0, l1, head, &x_cols, &w_elems);
        bytes += 4 * w_elems + 4 * B * x_cols + KPART_ROWS(B) * D * 4;
    }
    if (B >= 128 && l1 > l0) bytes += (size_t)SCAN_CHUNKS * ((size_t)hp->d_inner * hp->d_state + hp->ssm_n_head) * 4;
    return bytes;
}

static shard *shard_new(const fh1_model *m, int dev, int l0, int l1, bool embed, bool head, const fh1_cuda_params &p, char *err, size_t err_len) {
    if (cudaSetDevice(dev) != cudaSuccess) {
        snprintf(err, err_len, "CUDA: cannot use device %d", dev);
        return nullptr;
    }
    shard *c = new shard();
    c->m = m;
    c->dev = dev;
    c->l0 = l0;
    c->l1 = l1;
    c->embed_here = embed;
    c->head_here = head;
    c->n_ctx = p.n_ctx;
    c->n_batch = p.n_batch;
    c->kv_f16 = p.kv_f16;
    cudaDeviceProp prop = {};
    if (cudaGetDeviceProperties(&prop, dev) == cudaSuccess) snprintf(c->name, sizeof c->name, "%s", prop.name);
    c->n_sm = prop.multiProcessorCount;
    c->smem_optin = prop.sharedMemPerBlockOptin;
    if (const char *e = getenv("FALCON_H1_CUDA_SMEM")) c->smem_optin = std::min(c->smem_optin, (size_t)strtoull(e, nullptr, 10));
    const fh1_hparams *hp = &m->hp;
    const size_t B = p.n_batch, D = hp->n_embd, kvd = (size_t)hp->n_head_kv * hp->head_dim, qd = (size_t)hp->n_head * hp->head_dim;
    const size_t nl = (size_t)(l1 - l0);
    bool ok = !embed || upload_mat(c, &m->tok_embd, &c->embd, err, err_len);
    if (ok && head) {
        if (embed && m->output.data == m->tok_embd.data) c->head = c->embd; // tied: one copy
        else ok = upload_mat(c, &m->output, &c->head, err, err_len);
        ok = ok && upload(c, m->output_norm, D * 4, &c->out_norm, err, err_len);
    }
    c->L.resize(nl);
    for (int i = l0; ok && i < l1; i++) {
        const fh1_layer *l = &m->layers[i];
        dlayer &d = c->L[i - l0];
        const size_t H = hp->ssm_n_head, E = hp->d_inner, Din = hp->in_proj_dim, Cd = hp->conv_dim, F = hp->n_ff;
        ok = upload(c, l->attn_norm, D * 4, &d.attn_norm, err, err_len) && upload(c, l->ffn_norm, D * 4, &d.ffn_norm, err, err_len) &&
             upload(c, l->ssm_norm, E * 4, &d.ssm_norm, err, err_len) && upload_mat(c, &l->wq, &d.wq, err, err_len) &&
             upload_mat(c, &l->wk, &d.wk, err, err_len) && upload_mat(c, &l->wv, &d.wv, err, err_len) && upload_mat(c, &l->wo, &d.wo, err, err_len) &&
             upload_mat(c, &l->ssm_in, &d.ssm_in, err, err_len) && upload_mat(c, &l->ssm_out, &d.ssm_out, err, err_len) &&
             upload_mat(c, &l->ffn_gate, &d.gate, err, err_len) && upload_mat(c, &l->ffn_up, &d.up, err, err_len) &&
             upload_mat(c, &l->ffn_down, &d.down, err, err_len) && upload(c, l->bq, qd * 4, &d.bq, err, err_len) &&
             upload(c, l->bk, kvd * 4, &d.bk, err, err_len) && upload(c, l->bv, kvd * 4, &d.bv, err, err_len) && upload(c, l->bo, D * 4, &d.bo, err, err_len) &&
             upload(c, l->ssm_in_b, Din * 4, &d.ssm_in_b, err, err_len) && upload(c, l->mup_vec, Din * 4, &d.mup, err, err_len) &&
             upload(c, l->conv_w, Cd * hp->d_conv * 4, &d.conv_w, err, err_len) && upload(c, l->conv_b, Cd * 4, &d.conv_b, err, err_len) &&
             upload(c, l->dt_bias, H * 4, &d.dt_bias, err, err_len) && upload(c, l->ssm_a, H * 4, &d.A, err, err_len) &&
             upload(c, l->ssm_d, H * 4, &d.D, err, err_len) && upload(c, l->ssm_out_b, D * 4, &d.ssm_out_b, err, err_len) &&
             upload(c, l->ffn_gate_b, F * 4, &d.gate_b, err, err_len) && upload(c, l->ffn_up_b, F * 4, &d.up_b, err, err_len) &&
             upload(c, l->ffn_down_b, D * 4, &d.down_b, err, err_len);
    }
    const size_t kvb = nl * p.n_ctx * kvd * (p.kv_f16 ? 2 : 4);
    ok = ok && dalloc(c, &c->k_cache, kvb, err, err_len) && dalloc(c, &c->v_cache, kvb, err, err_len) &&
         dalloc(c, &c->conv_state, nl * (hp->d_conv - 1) * hp->conv_dim * 4, err, err_len) &&
         dalloc(c, &c->ssm_state, nl * hp->d_inner * hp->d_state * 4, err, err_len) && dalloc(c, &c->io, (B + 1) * 4, err, err_len) &&
         dalloc(c, &c->x, B * D * 4, err, err_len) && dalloc(c, &c->u, B * D * 4, err, err_len) && dalloc(c, &c->us, B * D * 4, err, err_len) &&
         dalloc(c, &c->ua, B * D * 4, err, err_len) && dalloc(c, &c->zx, B * hp->in_proj_dim * 4, err, err_len) &&
         dalloc(c, &c->xbc, B * hp->conv_dim * 4, err, err_len) && dalloc(c, &c->dt, B * hp->ssm_n_head * 4, err, err_len) &&
         dalloc(c, &c->y, B * hp->d_inner * 4, err, err_len) && dalloc(c, &c->q, B * qd * 4, err, err_len) && dalloc(c, &c->k, B * kvd * 4, err, err_len) &&
         dalloc(c, &c->v, B * kvd * 4, err, err_len) && dalloc(c, &c->att, B * qd * 4, err, err_len) &&
         dalloc(c, &c->att_part, (size_t)hp->n_head * ATT_MAX_SPLITS * (hp->head_dim + 2) * 4, err, err_len) && dalloc(c, &c->so, B * D * 4, err, err_len) &&
         dalloc(c, &c->ao, B * D * 4, err, err_len) && dalloc(c, &c->g, B * hp->n_ff * 4, err, err_len) && dalloc(c, &c->up, B * hp->n_ff * 4, err, err_len) &&
         dalloc(c, &c->fo, B * D * 4, err, err_len) && dalloc(c, &c->hin, B * D * 4, err, err_len);
    if (ok && getenv_on("FALCON_H1_CUDA_INT8")) { // int8 activations of the quantized decode GEMVs: 4 inputs a step
        c->aq_cols = (int)((std::max({D, (size_t)hp->d_inner, (size_t)hp->n_ff, qd}) + 255) / 256 * 256);
        ok = dalloc(c, &c->aq8, 4 * (size_t)c->aq_cols, err, err_len) && dalloc(c, &c->as, 4 * (size_t)c->aq_cols / 32 * sizeof(act_scale), err, err_len);
    }
    if (ok && nl > 0 && B >= 128) { // the chunked prefill scans: end states of up to SSD_CHUNKS or SCAN_CHUNKS chunks
        const bool ssd = getenv_on("FALCON_H1_CUDA_SSD");
        const size_t nc = ssd ? std::min<size_t>(SSD_CHUNKS, (B + SSD_Q - 1) / SSD_Q) : SCAN_CHUNKS;
        ok = dalloc(c, &c->scan_cs, nc * hp->d_inner * hp->d_state * 4, err, err_len) && dalloc(c, &c->scan_decay, nc * hp->ssm_n_head * 4, err, err_len) &&
             (!ssd || dalloc(c, &c->scan_cb, nc * hp->n_group * SSD_Q * SSD_Q * 4, err, err_len));
    }
    if (ok && head)
        ok = dalloc(c, &c->logits, B * (size_t)hp->n_vocab * 4, err, err_len) && dalloc(c, &c->s_work, (size_t)hp->n_vocab * 4, err, err_len) &&
             dalloc(c, &c->s_in, sizeof(fh1_gpu_sample), err, err_len) && dalloc(c, &c->s_out, 4, err, err_len);
    if (ok) {
        c->tok = c->io + 1;
        c->graphs = getenv_on("FALCON_H1_CUDA_GRAPH");
        c->fused_decode = getenv_on("FALCON_H1_CUDA_FUSED");
        c->att_tiled = getenv_on("FALCON_H1_CUDA_ATT_TILED");
        c->att_mma = getenv_on("FALCON_H1_CUDA_ATT_MMA");
        c->pdl = prop.major >= 9 && getenv_on("FALCON_H1_PDL");
        c->fuse_mixer = getenv_on("FALCON_H1_CUDA_FUSE_MIXER");
        c->fuse_norm = getenv_on("FALCON_H1_CUDA_FUSE_NORM");
        c->att_gqa = getenv_on("FALCON_H1_CUDA_ATT_GQA");
        const char *gf = getenv("FALCON_H1_CUDA_GQA_FROM");
        c->gqa_from = gf && atoi(gf) > 0 ? atoi(gf) : GQA_MIN_KEYS;
        c->fuse_quant = getenv_on("FALCON_H1_CUDA_FUSE_QUANT");
        c->npreq = 0;
        c->pdl_on = c->pdl_next = false;
        // decode GEMV shape, FALCON_H1_GEMV="R,U,BPS,SWIGLU" (bench/gpu/gemv-shapes.sh): 2 rows per
        // block, 1 vector per row in flight per lane and step, one block per row group, SwiGLU
        // fused: the fastest measured on H100 and H200 (7B and 0.5B BF16)
        const char *gv = getenv("FALCON_H1_GEMV");
        c->gemv_r = 2, c->gemv_u = 1, c->gemv_w = 4, c->gemv_bps = 0, c->gemv_swiglu = 1;
        if (gv) sscanf(gv, "%d,%d,%d,%d", &c->gemv_r, &c->gemv_u, &c->gemv_bps, &c->gemv_swiglu);
        dec_shapes_from_env(c->dec_shape);
        cudaError_t e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking);
        if (e == cudaSuccess) e = cudaEventCreateWithFlags(&c->done, cudaEventDisableTiming);
        if (e == cudaSuccess) e = cudaMallocHost((void **)&c->h_io, (B + 1) * 4);
        if (e == cudaSuccess && head) e = cudaMallocHost((void **)&c->h_s_in, sizeof(fh1_gpu_sample));
        if (e == cudaSuccess && head) e = cudaMallocHost((void **)&c->h_s_out, 4);
        if (e != cudaSuccess) {
            snprintf(err, err_len, "CUDA: %s", cudaGetErrorString(e));
            ok = false;
        }
    }
    // tensor cores for prefill unless FALCON_H1_CUDA_TC=0; activations rounded to bf16 as
    // cuBLAS-based engines do, or with FALCON_H1_CUDA_TC=split in bf16 halves (f32-grade: the oracle
    // check and `falcon-h1 logits`)
    // the tiled prefill attention takes up to 152 KiB of shared memory (head_dim 256); a size the
    // card cannot give is not asked for (attention() then takes the untiled kernel), and a refused
    // request must not linger as the last error
    if ((size_t)att_tiled_smem(64) <= c->smem_optin) cudaFuncSetAttribute(k_attn_tiled<1>, cudaFuncAttributeMaxDynamicSharedMemorySize, att_tiled_smem(64));
    if ((size_t)att_tiled_smem(128) <= c->smem_optin) cudaFuncSetAttribute(k_attn_tiled<2>, cudaFuncAttributeMaxDynamicSharedMemorySize, att_tiled_smem(128));
    if ((size_t)att_tiled_smem(256) <= c->smem_optin) cudaFuncSetAttribute(k_attn_tiled<4>, cudaFuncAttributeMaxDynamicSharedMemorySize, att_tiled_smem(256));
    cudaGetLastError();
    c->tc_mode = prop.major >= 8 && p.n_batch >= TC_MIN_T ? tc_mode_from_env() : TC_OFF;
    const bool split_lo = c->tc_mode == TC_SPLIT; // the largest 64-token tile must fit, or CUDA cores it is
    if (c->tc_mode != TC_OFF && (size_t)tc_smem_bytes(64, split_lo, split_lo) > c->smem_optin) c->tc_mode = TC_OFF;
    if (ok && c->tc_mode != TC_OFF) {
        c->wgmma = tc_kernels_setup(prop, c->smem_optin);
        size_t x_cols, w_elems;
        tc_scratch(m, l0, l1, head, &x_cols, &w_elems);
        const bool split = c->tc_mode == TC_SPLIT;
        ok = dalloc(c, &c->x_hi, B * x_cols * 2, err, err_len) && (!split || dalloc(c, &c->x_lo, B * x_cols * 2, err, err_len));
        if (ok && w_elems) ok = dalloc(c, &c->w_hi, w_elems * 2, err, err_len) && (!split || dalloc(c, &c->w_lo, w_elems * 2, err, err_len));
        c->group_gemms = getenv_on("FALCON_H1_CUDA_GROUP"), c->splitk = getenv_on("FALCON_H1_CUDA_SPLITK");
        const char *ctas = getenv("FALCON_H1_CUDA_WG_CTAS");
        c->wg_ctas = ctas && !strcmp(ctas, "1") ? 1 : 2;
        c->kpart_floats = c->wgmma && B >= 64 ? KPART_ROWS(B) * D : 0;
        if (ok && c->kpart_floats) ok = dalloc(c, &c->kpart, c->kpart_floats * 4, err, err_len);
    }
    if (ok && cudaDeviceSynchronize() != cudaSuccess) { // uploads (legacy stream) done before our stream runs
        snprintf(err, err_len, "CUDA: %s", cudaGetErrorString(cudaGetLastError()));
        ok = false;
    }
    if (!ok) {
        shard_free(c);
        return nullptr;
    }
    return c;
}

static double gib(size_t b) { return (double)b / (1024.0 * 1024.0 * 1024.0); }

extern "C" fh1_cuda *fh1_cuda_new(const fh1_model *m, fh1_cuda_params p, char *err, size_t err_len) {
    const int n_dev = fh1_cuda_device_count();
    const fh1_hparams *hp = &m->hp;
    if (n_dev < 1) {
        snprintf(err, err_len, "no CUDA device available");
        return nullptr;
    }
    if (p.main_gpu < 0 || p.main_gpu >= n_dev) {
        snprintf(err, err_len, "--main-gpu %d: there %s %d CUDA device%s (0..%d)", p.main_gpu, n_dev == 1 ? "is" : "are", n_dev, n_dev == 1 ? "" : "s", n_dev - 1);
        return nullptr;
    }
    // the build has sm_80 and sm_90a code (and compute_90 PTX for newer cards): older GPUs have no
    // kernel image, so refuse them here (--device auto then stays on the CPU)
    cudaDeviceProp mp = {};
    if (cudaGetDeviceProperties(&mp, p.main_gpu) != cudaSuccess || mp.major < 8) {
        cudaGetLastError();
        snprintf(err, err_len, "GPU %d (%s) has compute capability %d.%d; the CUDA backend needs 8.0 or newer (Ampere and later)", p.main_gpu, mp.name, mp.major, mp.minor);
        return nullptr;
    }
    for (int i = 0; i < hp->n_layer; i++) {
        const fh1_layer *l = &m->layers[i];
        for (const fh1_matrix *w : mats_of(l))
            if (i >= p.first_layer && !gpu_type_ok(w->type)) {
                snprintf(err, err_len, "a weight of ggml type %d is not supported by the CUDA backend yet (use --device cpu)", w->type);
                return nullptr;
            }
    }
    if (hp->d_conv > 9 || hp->d_state > 256 || hp->head_dim > 256) {
        snprintf(err, err_len, "the CUDA backend supports d_conv <= 9, d_state <= 256, head_dim <= 256");
        return nullptr;
    }
    const int L = hp->n_layer, g0 = p.first_layer;
    const bool embed = g0 == 0;
    std::vector<size_t> free_b(n_dev, 0);
    for (int d = 0; d < n_dev; d++) {
        size_t fr = 0, tot = 0;
        cudaDeviceProp dp = {};
        const bool usable = cudaGetDeviceProperties(&dp, d) == cudaSuccess && dp.major >= 8; // a split leaves older GPUs out
        if (usable && cudaSetDevice(d) == cudaSuccess && cudaMemGetInfo(&fr, &tot) == cudaSuccess) free_b[d] = fr;
        cudaGetLastError();
    }
    const size_t whole = part_bytes(m, g0, L, embed, p.head, p);
    const size_t headroom = 256u << 20; // CUDA context, graphs, fragmentation
    int mode = p.split_mode;
    if (mode == FH1_SPLIT_AUTO) mode = n_dev > 1 && whole + headroom > free_b[p.main_gpu] ? FH1_SPLIT_LAYER : FH1_SPLIT_NONE;
    // devices and their runs of layers: [g0, L) in proportion to free memory (the head counts on the last)
    std::vector<int> devs;
    if (mode == FH1_SPLIT_LAYER && n_dev > 1)
        for (int d = 0; d < n_dev; d++)
            if (free_b[d] > 0) devs.push_back(d); // not the GPUs left out above
    if (devs.empty()) devs.push_back(p.main_gpu);
    double total_free = 0;
    for (int d : devs) total_free += (double)free_b[d];
    std::vector<int> bounds{g0};
    double cum = 0;
    for (size_t i = 0; i + 1 < devs.size(); i++) {
        cum += (double)free_b[devs[i]];
        int b = g0 + (int)((L - g0) * (total_free > 0 ? cum / total_free : (double)(i + 1) / devs.size()) + 0.5);
        b = std::max(b, bounds.back());
        bounds.push_back(std::min(b, L));
    }
    bounds.push_back(L);
    fh1_cuda *c = new fh1_cuda();
    c->m = m;
    c->first_layer = g0;
    c->head = p.head != 0;
    std::string desc;
    for (size_t i = 0; i < devs.size(); i++) {
        const int l0 = bounds[i], l1 = bounds[i + 1];
        const bool last = i + 1 == devs.size();
        if (l0 == l1 && !(last && c->head) && !(i == 0 && embed)) continue; // a device with nothing to do
        const bool e = embed && c->parts.empty(), h = last && c->head;
        const size_t need = part_bytes(m, l0, l1, e, h, p);
        if (need + headroom > free_b[devs[i]]) {
            snprintf(err, err_len, "not enough GPU memory on device %d: layers %d-%d%s need about %.1f GiB, %.1f GiB free (lower --gpu-layers or --ctx-size%s)",
                     devs[i], l0, l1 - 1, h ? " and the head" : "", gib(need + headroom), gib(free_b[devs[i]]), n_dev > 1 && mode != FH1_SPLIT_LAYER ? ", or use --split-mode layer" : "");
            fh1_cuda_free(c);
            return nullptr;
        }
        shard *s = shard_new(m, devs[i], l0, l1, e, h, p, err, err_len);
        if (!s) {
            fh1_cuda_free(c);
            return nullptr;
        }
        if (!c->parts.empty()) { // direct copies between neighbours where the hardware allows
            int can = 0;
            const int prev = c->parts.back()->dev;
            if (cudaDeviceCanAccessPeer(&can, s->dev, prev) == cudaSuccess && can) {
                cudaSetDevice(s->dev);
                cudaDeviceEnablePeerAccess(prev, 0);
                cudaGetLastError(); // already enabled is fine
            }
        }
        c->parts.push_back(s);
        char run[64];
        snprintf(run, sizeof run, "%s%d-%d", desc.empty() ? "" : " | ", l0, l1 - 1);
        desc += run;
    }
    if (c->parts.size() > 1) snprintf(c->name, sizeof c->name, "%zu × %s, layers %s", c->parts.size(), c->parts[0]->name, desc.c_str());
    else snprintf(c->name, sizeof c->name, "%s", c->parts[0]->name);
    return c;
}

static unsigned blocks(size_t n, unsigned t = 256);

// FALCON_H1_CUDA_PROFILE=1: events around the prefill GEMMs and their operand splits, summed and
// printed to stderr after each forward (bench/gpu/bench.sh reads the tensor-core rate from it)
static bool profiling() {
    static const bool on = getenv("FALCON_H1_CUDA_PROFILE") && getenv_on("FALCON_H1_CUDA_PROFILE");
    return on;
}
static int prof_open(shard *c, int kind, double flops) {
    if (!profiling()) return -1;
    shard::mark m = {{}, {}, kind, flops};
    cudaEventCreate(&m.a);
    cudaEventCreate(&m.b);
    cudaEventRecord(m.a, c->stream);
    c->prof.push_back(m);
    return (int)c->prof.size() - 1;
}
static void prof_close(shard *c, int i) {
    if (i >= 0) cudaEventRecord(c->prof[i].b, c->stream);
}
static void prof_report(shard *c, int T) {
    if (c->prof.empty()) return;
    double ms[5] = {0, 0, 0, 0, 0}, flops = 0;
    for (shard::mark &m : c->prof) {
        float t = 0;
        cudaEventElapsedTime(&t, m.a, m.b);
        ms[m.kind] += t;
        flops += m.flops;
        cudaEventDestroy(m.a);
        cudaEventDestroy(m.b);
    }
    c->prof.clear();
    if (ms[2] > 0)
        fprintf(stderr, "profile T=%d: forward %.2f ms, GEMMs %.2f ms (%.1f%%) = %.1f TFLOP/s useful, operand splits %.2f ms, attention %.2f ms, scan %.2f ms\n", T,
                ms[2], ms[1], 100.0 * ms[1] / ms[2], flops / (ms[1] * 1e9), ms[0], ms[3], ms[4]);
}

// ---- prefill GEMM groups ----------------------------------------------------------------------
// A group is products launched together (gemm_group). Split-K: a product whose tiles alone would
// leave SMs idle (a 3072-row output at 512 tokens is 96 tiles for 132 SMs) may be cut along k
// into up to SPLIT_MAX slices, added up in order by the kernel that reads the output (the
// residual adds), so results stay deterministic. Only for batches of up to SPLIT_T_MAX tokens;
// slices 1.. go to the workspace c->kpart (KPART_ROWS rows of n_embd floats).
#define WG_BLOCK_COST 4 // a block's pipeline fill and result store, in k-steps (for plan_slices)

struct gemm_job {
    const dmat *W;
    const float *x; // [T][W.cols]
    float *y;       // [T][W.rows], the first k slice
};

// When the blocks of a group run in launch order on `slots` resident block places, each taking
// its k-steps plus WG_BLOCK_COST, the time the last one ends (in k-steps)
static double dispatch_end(const int *tiles, const int *kt, const int *ks, int n, int slots) {
    std::vector<double> heap(slots, 0.0); // min-heap of the slots' free times
    double end = 0;
    for (int j = 0; j < n; j++)
        for (int k0 = 0; k0 < kt[j]; k0 += ks[j]) {
            const double len = std::min(ks[j], kt[j] - k0) + WG_BLOCK_COST;
            for (int b = 0; b < tiles[j]; b++) {
                std::pop_heap(heap.begin(), heap.end(), std::greater<double>());
                heap.back() += len;
                end = std::max(end, heap.back());
                std::push_heap(heap.begin(), heap.end(), std::greater<double>());
            }
        }
    return end;
}

// k-steps per slice for each product of a group whose outputs may be split (ks[j] = all its steps
// when not): the fastest by dispatch_end among one common slice length KT/d, d = 1..SPLIT_MAX,
// whose extra slices fit the workspace; a split must save 3% to be taken
static void plan_slices(const shard *c, const wg_group &g, int slots, size_t kpart_floats, int *ks) {
    int tiles[GEMM_SEGS], kt[GEMM_SEGS], most = 0, blocks = 0;
    for (int j = 0; j < g.nseg; j++) {
        tiles[j] = g.s[j].tiles_t * g.s[j].tiles_n;
        kt[j] = ks[j] = (g.s[j].K + WG_BK - 1) / WG_BK;
        most = std::max(most, kt[j]);
        blocks += tiles[j];
    }
    if (!c->splitk || !kpart_floats || g.T > SPLIT_T_MAX || blocks >= 4 * slots) return;
    double best = dispatch_end(tiles, kt, ks, g.nseg, slots);
    for (int d = 2; d <= SPLIT_MAX; d++) {
        const int len = (most + d - 1) / d;
        int cand[GEMM_SEGS];
        size_t extra = 0;
        bool fits = true;
        for (int j = 0; j < g.nseg; j++) {
            cand[j] = std::min(len, kt[j]);
            const int n = (kt[j] + cand[j] - 1) / cand[j];
            fits = fits && n <= SPLIT_MAX;
            extra += (size_t)(n - 1) * g.T * g.s[j].N;
        }
        if (!fits || extra > kpart_floats) continue;
        const double t = dispatch_end(tiles, kt, cand, g.nseg, slots);
        if (t < 0.97 * best) {
            best = t;
            std::copy(cand, cand + g.nseg, ks);
        }
    }
}

template <bool XLO, bool WLO, int S, int MINB> static void launch_gemm_wg(cudaStream_t st, const wg_group &g, int blocks) {
    k_gemm_wg<XLO, WLO, S, MINB><<<blocks, 256, wg_smem<XLO, WLO, S>(), st>>>(g);
}

// Lays the blocks of g out (product j in k slices of ks[j] steps, the slices past the first one
// after another in c->kpart) and launches the instance its operands and mode take. slices / rest:
// as gemm_group, written for the products cut in more than one slice.
static void launch_group(shard *c, wg_group &g, const int *ks, int *slices, float **rest) {
    int first = 0;
    float *part = c->kpart;
    for (int j = 0; j < g.nseg; j++) {
        wg_seg &s = g.s[j];
        const int ns = ((s.K + WG_BK - 1) / WG_BK + ks[j] - 1) / ks[j];
        s.ksteps = ks[j], s.first = first, s.rest = ns > 1 ? part : nullptr;
        first += s.tiles_t * s.tiles_n * ns;
        if (ns > 1) {
            part += (size_t)(ns - 1) * g.T * s.N;
            slices[j] = ns, rest[j] = s.rest;
        }
    }
    if (g.s[0].wl) launch_gemm_wg<true, true, 3, 1>(c->stream, g, first);
    else if (g.s[0].xl) launch_gemm_wg<true, false, 4, 1>(c->stream, g, first);
    else if (c->wg_ctas == 2) launch_gemm_wg<false, false, 3, 2>(c->stream, g, first);
    else launch_gemm_wg<false, false, 4, 1>(c->stream, g, first);
}

// The products of jobs[0..n) on tensor cores, as one launch where the warpgroup-MMA kernel runs:
// the operands are split to bf16 (each distinct input once; weights only when not BF16), then
// the MMAs. slices (optional): the consumer adds up k slices, so products may be split; on return
// slices[j] is job j's slice count and rest[j] where its slices 1.. are ([slice-1][T][N]).
static void gemm_group(shard *c, const gemm_job *jobs, int n, int T, int *slices = nullptr, float **rest = nullptr) {
    const bool xlo = c->tc_mode == TC_SPLIT, wg = c->wgmma && T >= 64;
    if (n > 1 && !c->group_gemms) { // FALCON_H1_CUDA_GROUP=0: one launch per product
        for (int j = 0; j < n; j++) gemm_group(c, jobs + j, 1, T, slices ? slices + j : nullptr, rest ? rest + j : nullptr);
        return;
    }
    int pm = prof_open(c, 0, 0);
    wg_group g = {};
    g.nseg = n, g.T = T;
    size_t xoff = 0, woff = 0;
    double flops = 0;
    bool mixed = false; // some products have W_lo and others not: one launch each
    for (int j = 0; j < n; j++) {
        const dmat &W = *jobs[j].W;
        const int N = W.rows, K = W.cols;
        wg_seg &s = g.s[j];
        s.N = N, s.K = K, s.ldx = pad8(K), s.y = jobs[j].y;
        int same = -1;
        for (int i = 0; i < j; i++)
            if (jobs[i].x == jobs[j].x && jobs[i].W->cols == K) same = i;
        if (same >= 0) s.xh = g.s[same].xh, s.xl = g.s[same].xl;
        else {
            s.xh = c->x_hi + xoff, s.xl = xlo ? c->x_lo + xoff : nullptr;
            k_split_act<<<std::min(blocks((size_t)T * pad8(K)), 65535u), 256, 0, c->stream>>>(jobs[j].x, T, K, (__nv_bfloat16 *)s.xh, (__nv_bfloat16 *)s.xl);
            xoff += (size_t)T * pad8(K);
        }
        s.wh = (const __nv_bfloat16 *)W.data, s.ldw = K;
        if (!direct_bf16(W.type, K)) {
            __nv_bfloat16 *hi = c->w_hi + woff, *lo = xlo && W.type != GGML_TYPE_BF16 ? c->w_lo + woff : nullptr;
            if (K % 16 == 0) k_split_weights16<<<std::min(blocks((size_t)N * (K / 16)), 65535u), 256, 0, c->stream>>>(W, hi, lo);
            else k_split_weights<<<std::min(blocks((size_t)N * pad8(K)), 65535u), 256, 0, c->stream>>>(W, hi, lo);
            s.wh = hi, s.wl = lo, s.ldw = pad8(K);
            woff += (size_t)N * pad8(K);
        }
        mixed = mixed || (s.wl != nullptr) != (g.s[0].wl != nullptr);
        s.tiles_t = (T + WG_BM - 1) / WG_BM, s.tiles_n = (N + WG_BN - 1) / WG_BN;
        flops += 2.0 * T * N * K;
        if (slices) slices[j] = 1, rest[j] = nullptr;
    }
    prof_close(c, pm);
    pm = prof_open(c, 1, flops);
    if (!wg) { // mma.sync kernel: one launch per product
        for (int j = 0; j < n; j++) {
            const wg_seg &s = g.s[j];
            const int n_sm = c->n_sm, nt = (s.N + TC_BN - 1) / TC_BN, b128 = (T + 127) / 128 * nt, b64 = (T + 63) / 64 * nt;
            // 128-token tiles need 120 KiB in split mode: more than Ampere/Ada GeForce cards give a block
            const bool fits128 = (size_t)tc_smem_bytes(128, xlo, s.wl != nullptr) <= c->smem_optin;
            const bool small = T <= 64 || !fits128 || 1.1 * ((b64 + 2 * n_sm - 1) / (2 * n_sm)) < (b128 + n_sm - 1) / n_sm;
            if (small) launch_gemm_tc<64>(c->stream, xlo, s.xh, s.xl, s.wh, s.wl, s.ldw, s.N, s.K, T, s.y);
            else launch_gemm_tc<128>(c->stream, xlo, s.xh, s.xl, s.wh, s.wl, s.ldw, s.N, s.K, T, s.y);
        }
    } else if (mixed) { // one launch per product, k whole
        for (int j = 0; j < n; j++) {
            wg_group one = {};
            one.nseg = 1, one.T = T, one.s[0] = g.s[j];
            const int all = (g.s[j].K + WG_BK - 1) / WG_BK;
            launch_group(c, one, &all, nullptr, nullptr);
        }
    } else {
        int ks[GEMM_SEGS];
        plan_slices(c, g, c->n_sm * (!xlo && c->wg_ctas == 2 ? 2 : 1), slices ? c->kpart_floats : 0, ks);
        launch_group(c, g, ks, slices, rest);
    }
    prof_close(c, pm);
}

// kern<<<grid, block, smem, c->stream>>>(args...), as a programmatic dependent launch when the
// kernel before it in the decode allows one (see pdl_start)
template <typename... KArgs, typename... Args>
static void launch(shard *c, void (*kern)(KArgs...), dim3 grid, dim3 block, size_t smem, Args &&...args) {
    cudaLaunchAttribute attr[1] = {};
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid, cfg.blockDim = block, cfg.dynamicSmemBytes = smem, cfg.stream = c->stream;
    cfg.attrs = attr, cfg.numAttrs = c->pdl_next ? 1 : 0;
    cudaLaunchKernelEx(&cfg, kern, std::forward<Args>(args)...);
    c->pdl_next = c->pdl_on;
}

// whether a ubatch of T tokens multiplies on tensor cores (gemm_group)
static bool on_tensor_cores(const shard *c, int T) { return T >= TC_MIN_T && c->tc_mode != TC_OFF; }

static void matmul(shard *c, const dmat &W, const float *x, int T, float *y) {
    if (on_tensor_cores(c, T)) {
        const gemm_job job = {&W, x, y};
        gemm_group(c, &job, 1, T);
        return;
    }
    if (T == 1 && is16(W.type) && W.rb % 16 == 0) {
        launch(c, k_gemv16, (W.rows + GEMV_ROWS - 1) / GEMV_ROWS, 32 * GEMV_WARPS, 0, W, x, y);
        return;
    }
    if (T == 1 && !is16(W.type) && W.cols % 16 == 0) {
        launch(c, k_gemv_quant, (W.rows + QGEMV_WARPS - 1) / QGEMV_WARPS, 32 * QGEMV_WARPS, 0, W, x, y);
        return;
    }
    dim3 grid((W.rows + 7) / 8, (T + MM_T - 1) / MM_T);
    launch(c, k_matmul, grid, 256, 0, W, x, T, y);
}

// jobs[0..n) of one ubatch: a GEMM group on tensor cores, else one matmul each. slices / rest: as
// gemm_group (every output in one slice off tensor cores)
static void matmuls(shard *c, const gemm_job *jobs, int n, int T, int *slices = nullptr, float **rest = nullptr) {
    if (on_tensor_cores(c, T)) {
        gemm_group(c, jobs, n, T, slices, rest);
        return;
    }
    for (int j = 0; j < n; j++) {
        matmul(c, *jobs[j].W, jobs[j].x, T, jobs[j].y);
        if (slices) slices[j] = 1, rest[j] = nullptr;
    }
}

static unsigned blocks(size_t n, unsigned t) { return (unsigned)((n + t - 1) / t); }

// prefill: the tiled scan where N has an instance, in chunks that run side by side when the
// prompt is long enough to fill more of the GPU than one pass per (head, 16 channels) would;
// decode (and other N): warp per (h, p)
template <int NQ> static void scan_tiled(shard *c, const dlayer &l, float *ssm_state, int T) {
    const fh1_hparams *hp = &c->m->hp;
    const int H = hp->ssm_n_head, P = hp->ssm_head_dim, G = hp->n_group, E = hp->d_inner, Cd = hp->conv_dim;
    const unsigned base = (unsigned)(H * ((P + SCAN_P - 1) / SCAN_P));
    int per_sm = 0;
    cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k_scan_tiled<NQ>, 64, 0);
    // chunks: about two waves of resident blocks, each at least 64 tokens, at most SCAN_CHUNKS
    int C = std::min({SCAN_CHUNKS, T / 64, (int)(2u * std::max(per_sm, 1) * c->n_sm / base)});
    if (C < 2 || !c->scan_cs) {
        k_scan_tiled<NQ><<<dim3(base, 1), 64, 0, c->stream>>>(c->xbc, c->dt, l.A, l.D, ssm_state, c->y, T, H, P, G, E, Cd, T, nullptr, ssm_state, nullptr);
        return;
    }
    const int L = (T + C - 1) / C;
    C = (T + L - 1) / L;
    k_scan_tiled<NQ><<<dim3(base, C), 64, 0, c->stream>>>(c->xbc, c->dt, l.A, l.D, ssm_state, nullptr, T, H, P, G, E, Cd, L, nullptr, c->scan_cs, c->scan_decay);
    const size_t per_head = (size_t)P * hp->d_state;
    k_scan_carry<<<blocks(per_head * H), 256, 0, c->stream>>>(c->scan_cs, c->scan_decay, ssm_state, C, H, per_head);
    k_scan_tiled<NQ><<<dim3(base, C), 64, 0, c->stream>>>(c->xbc, c->dt, l.A, l.D, ssm_state, c->y, T, H, P, G, E, Cd, L, c->scan_cs, nullptr, nullptr);
}

// prefill in the SSD form (see k_ssd_cb), in segments of up to SSD_CHUNKS chunks whose states fit
// scan_cs; each segment starts from the state the one before left in the cache
static void scan_ssd(shard *c, const dlayer &l, float *ssm_state, int T) {
    const fh1_hparams *hp = &c->m->hp;
    const int H = hp->ssm_n_head, P = hp->ssm_head_dim, N = hp->d_state, G = hp->n_group, E = hp->d_inner, Cd = hp->conv_dim;
    const int pt = (P + 63) / 64, nt = (N + 63) / 64;
    for (int t0 = 0; t0 < T; t0 += SSD_CHUNKS * SSD_Q) {
        const int Ts = std::min(T - t0, SSD_CHUNKS * SSD_Q), C = (Ts + SSD_Q - 1) / SSD_Q;
        const float *xbc = c->xbc + (size_t)t0 * Cd, *dt = c->dt + (size_t)t0 * H;
        k_ssd_cb<<<dim3(C, G), 256, 0, c->stream>>>(xbc, c->scan_cb, Ts, N, G, E, Cd);
        k_ssd_state<<<dim3(pt * nt, H, C), 256, 0, c->stream>>>(xbc, dt, l.A, ssm_state, c->scan_cs, c->scan_decay, Ts, H, P, N, G, E, Cd);
        const size_t per_head = (size_t)P * N;
        k_scan_carry<<<blocks(per_head * H), 256, 0, c->stream>>>(c->scan_cs, c->scan_decay, ssm_state, C, H, per_head);
        k_ssd_out<<<dim3(pt, H, C), 256, 0, c->stream>>>(xbc, dt, l.A, l.D, c->scan_cb, c->scan_cs, c->y + (size_t)t0 * E, Ts, H, P, N, G, E, Cd);
    }
}

// f(std::integral_constant<int, P>) for a per-thread element count P of 1, 2, 4, 8 or 16 (the
// kernels' unrolled instantiations), P = 0 (their generic loops) for any other count
template <typename F> static void with_per(int per, F &&f) {
    switch (per) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 4: f(std::integral_constant<int, 4>{}); break;
    case 8: f(std::integral_constant<int, 8>{}); break;
    case 16: f(std::integral_constant<int, 16>{}); break;
    default: f(std::integral_constant<int, 0>{}); break;
    }
}

static void scan(shard *c, float *ssm_state, int T, int li) {
    const fh1_hparams *hp = &c->m->hp;
    const dlayer &l = c->L[li];
    const int H = hp->ssm_n_head, P = hp->ssm_head_dim, N = hp->d_state, G = hp->n_group, E = hp->d_inner, Cd = hp->conv_dim;
    if (T >= SSD_MIN_T && c->scan_cb) {
        scan_ssd(c, l, ssm_state, T);
        return;
    }
    if (T > 1) switch (N) {
        case 16: scan_tiled<4>(c, l, ssm_state, T); return;
        case 32: scan_tiled<8>(c, l, ssm_state, T); return;
        case 64: scan_tiled<16>(c, l, ssm_state, T); return;
        case 128: scan_tiled<32>(c, l, ssm_state, T); return;
        case 256: scan_tiled<64>(c, l, ssm_state, T); return;
        default: break;
        }
    const unsigned nb = blocks((size_t)H * P * 32);
    with_per((N + 31) / 32, [&](auto per_c) {
        launch(c, k_scan<decltype(per_c)::value>, nb, 256, 0, c->xbc, c->dt, l.A, l.D, ssm_state, c->y, T, H, P, N, G, E, Cd);
    });
}

// per-thread register count for n elements over `threads` threads: 1, 2, 4, 8 or 16; 0 = too many
static int regs_per_thread(int n, int threads) {
    const int p = (n + threads - 1) / threads;
    return p <= 1 ? 1 : p <= 2 ? 2 : p <= 4 ? 4 : p <= 8 ? 8 : p <= 16 ? 16 : 0;
}

// gated group RMSNorm of T tokens: few blocks (decode) get 1024 threads each
static void gate(shard *c, const dlayer &l, int T) {
    const fh1_hparams *hp = &c->m->hp;
    const int G = hp->n_group, threads = T * G < 64 ? 1024 : 256;
    with_per(regs_per_thread(hp->d_inner / G, threads), [&](auto per_c) {
        launch(c, k_gate<decltype(per_c)::value>, T * G, threads, 0, c->y, c->zx, hp->in_proj_dim, hp->d_inner, G, l.ssm_norm, hp->ssm_rms_norm, hp->norm_before_gate,
                                                                        hp->rms_eps);
    });
}

// input epilogues' arguments for layer li of this part
static post_args post_args_for(shard *c, const dlayer &l, int li) {
    const fh1_hparams *hp = &c->m->hp;
    const int dh = hp->head_dim;
    return post_args{c->zx, c->q, c->k, c->v, c->dt, l.ssm_in_b, l.mup, l.dt_bias, l.bq, l.bk, l.bv, c->k_cache, c->v_cache, c->io,
                     hp->in_proj_dim, hp->d_inner, hp->conv_dim, hp->ssm_n_head, hp->n_head * dh, hp->n_head_kv * dh, dh, hp->n_head, hp->n_head_kv,
                     c->n_ctx, li, c->kv_f16, hp->key_mult, hp->rope_theta, hp->dt_min, hp->dt_max};
}

// attention of T tokens over layer li's KV cache. Decode at depth (or in the graph, which must
// not depend on the position) splits the keys so every SM gets work, then merges.
// k_attn for head size dh: unrolled for dh = 64, 128, 256
static decltype(&k_attn<0>) attn_kernel(int dh) {
    return dh == 64 ? k_attn<2> : dh == 128 ? k_attn<4> : dh == 256 ? k_attn<8> : k_attn<0>;
}
// splits of one decode token's keys (T == 1): 0 = one block per head, no merge
static int decode_attn_splits(const shard *c, int pos0, bool graph) {
    if (!graph && pos0 + 1 <= 2 * ATT_SPLIT_KEYS) return 0; // without a graph, up to 256 keys: one block a head, no merge launch
    return att_split_want(graph ? c->n_ctx : pos0 + 1); // the graph's grid: the most any depth of the context wants
}
static void attention(shard *c, int T, int pos0, bool graph, int li) {
    const fh1_hparams *hp = &c->m->hp;
    const int dh = hp->head_dim;
    if (const int nsplit = T == 1 ? decode_attn_splits(c, pos0, graph) : 0) {
        launch(c, attn_kernel(dh), hp->n_head * nsplit, 32 * ATT_WARPS, 0, c->q, c->k_cache, c->v_cache, c->att, 1, c->io, hp->n_head, hp->n_head_kv, dh, c->n_ctx, li, c->kv_f16, nsplit, c->att_part);
        launch(c, k_attn_merge, hp->n_head, 128, 0, c->att_part, c->att, nsplit, c->io, dh);
    } else if (T >= 16 && c->kv_f16 && c->att_mma && c->tc_mode == TC_BF16 && (dh == 16 || dh == 32 || dh == 64 || dh == 128)) {
        // only where the GEMMs already round activations to bf16: split mode (what `logits` uses) stays f32-grade
        const dim3 grid((T + AMQ - 1) / AMQ, hp->n_head);
        const __half *kc = (const __half *)c->k_cache, *vc = (const __half *)c->v_cache;
        const auto run = [&](auto kern, int smem) { kern<<<grid, 128, smem, c->stream>>>(c->q, kc, vc, c->att, T, c->io, hp->n_head, hp->n_head_kv, c->n_ctx, li); };
        if (dh == 16) run(k_attn_mma<16>, att_mma_smem<16>()); // the fixtures' head size
        else if (dh == 32) run(k_attn_mma<32>, att_mma_smem<32>());
        else if (dh == 64) run(k_attn_mma<64>, att_mma_smem<64>());
        else run(k_attn_mma<128>, att_mma_smem<128>());
    } else if (T >= 16 && dh % 4 == 0 && dh <= 256 && c->att_tiled && (size_t)att_tiled_smem(dh) <= c->smem_optin) {
        const dim3 grid((T + ATQ - 1) / ATQ, hp->n_head);
        if (dh <= 64) k_attn_tiled<1><<<grid, 256, att_tiled_smem(dh), c->stream>>>(c->q, c->k_cache, c->v_cache, c->att, T, c->io, hp->n_head, hp->n_head_kv, dh, c->n_ctx, li, c->kv_f16);
        else if (dh <= 128) k_attn_tiled<2><<<grid, 256, att_tiled_smem(dh), c->stream>>>(c->q, c->k_cache, c->v_cache, c->att, T, c->io, hp->n_head, hp->n_head_kv, dh, c->n_ctx, li, c->kv_f16);
        else k_attn_tiled<4><<<grid, 256, att_tiled_smem(dh), c->stream>>>(c->q, c->k_cache, c->v_cache, c->att, T, c->io, hp->n_head, hp->n_head_kv, dh, c->n_ctx, li, c->kv_f16);
    } else {
        launch(c, attn_kernel(dh), T * hp->n_head, 32 * ATT_WARPS, 0, c->q, c->k_cache, c->v_cache, c->att, T, c->io, hp->n_head, hp->n_head_kv, dh, c->n_ctx, li, c->kv_f16, 1, nullptr);
    }
}

// whether gemv_group runs W on int8 activations (its k_gemv_set_i8 rows)
static bool i8_input(const shard *c, const dmat &W) { return c->aq8 && !is16(W.type) && W.cols % 16 == 0 && int8_type(W.type) && W.cols <= c->aq_cols; }
// int8 slot j of c->aq8 / c->as, for a producer kernel (FALCON_H1_CUDA_FUSE_QUANT) to fill; the
// next gemv_group takes x from it
static int8_t *slot_q8(shard *c, int j) { return c->aq8 + (size_t)j * c->aq_cols; }
static act_scale *slot_qs(shard *c, int j) { return c->as + (size_t)j * (c->aq_cols / 32); }
static void mark_quantized(shard *c, const float *x) { c->preq[c->npreq++] = x; }

// decode's mixer middle: scan + attention, then gated norm (+ split merge), as the two fused
// launches above where their instantiations cover the shapes (state size 16-32, 128 or 256), else
// scan(), gate() and attention() one after the other
static void decode_mixer(shard *c, const dlayer &l, float *ssm_state, int li, int pos0, bool graph) {
    const fh1_hparams *hp = &c->m->hp;
    const int H = hp->ssm_n_head, P = hp->ssm_head_dim, N = hp->d_state, G = hp->n_group, E = hp->d_inner, Cd = hp->conv_dim, dh = hp->head_dim;
    const int sper = N <= 32 ? 1 : N == 128 ? 4 : N == 256 ? 8 : 0;
    if (!sper || !c->fuse_mixer) {
        scan(c, ssm_state, 1, li);
        gate(c, l, 1);
        attention(c, 1, pos0, graph, li);
        return;
    }
    const int splits = decode_attn_splits(c, pos0, graph);
    const bool split = splits > 0;
    const int nsplit = split ? splits : 1;
    // attention per KV head from c->gqa_from keys on (k_attn_gqa): possible at all when the graph's
    // context, or this step's keys without a graph, reach it
    const int nq = hp->n_head / hp->n_head_kv;
    const bool gqa = c->att_gqa && split && c->kv_f16 && hp->n_head % hp->n_head_kv == 0 && nq <= GQA_MAX && (dh == 64 || dh == 128 || dh == 256) &&
                     (graph ? c->n_ctx >= c->gqa_from : pos0 + 1 >= c->gqa_from);
    const int natt = gqa && !graph ? 0 : hp->n_head * nsplit, nscan = (int)blocks((size_t)H * P * 32);
    const int gqa_from = gqa ? c->gqa_from : INT_MAX;
    auto go = [&](auto sp, auto ap) {
        launch(c, k_dec_scan_attn<decltype(sp)::value, decltype(ap)::value>, natt + nscan, 32 * ATT_WARPS, 0, natt, c->q, c->k_cache, c->v_cache, c->att, c->io, hp->n_head,
               hp->n_head_kv, dh, c->n_ctx, li, c->kv_f16, nsplit, split ? c->att_part : nullptr, c->xbc, c->dt, l.A, l.D, ssm_state, c->y, H, P, N, G, E, Cd, gqa_from);
    };
    auto by_head = [&](auto sp) {
        if (dh == 64) go(sp, std::integral_constant<int, 2>{});
        else if (dh == 128) go(sp, std::integral_constant<int, 4>{});
        else if (dh == 256) go(sp, std::integral_constant<int, 8>{});
        else go(sp, std::integral_constant<int, 0>{});
    };
    if (sper == 1) by_head(std::integral_constant<int, 1>{});
    else if (sper == 4) by_head(std::integral_constant<int, 4>{});
    else by_head(std::integral_constant<int, 8>{});
    if (gqa) {
        auto kern = dh == 64 ? k_attn_gqa<64> : dh == 128 ? k_attn_gqa<128> : k_attn_gqa<256>;
        launch(c, kern, hp->n_head_kv * nsplit, 32 * ATT_WARPS, 0, c->q, (const __half *)c->k_cache, (const __half *)c->v_cache, c->att, c->io, hp->n_head, hp->n_head_kv,
               c->n_ctx, li, nsplit, c->att_part, gqa_from);
    }
    const int threads = G < 64 ? 1024 : 256, nmerge = split ? hp->n_head : 0, gper = regs_per_thread(E / G, threads);
    int8_t *qa = nullptr, *qy = nullptr; // the out-projections' int8 inputs, when they take them
    act_scale *sa = nullptr, *sy = nullptr;
    if (c->fuse_quant && gper > 0 && (E / G) % 32 == 0 && i8_input(c, l.ssm_out)) qy = slot_q8(c, c->npreq), sy = slot_qs(c, c->npreq), mark_quantized(c, c->y);
    if (c->fuse_quant && split && dh % 32 == 0 && i8_input(c, l.wo)) qa = slot_q8(c, c->npreq), sa = slot_qs(c, c->npreq), mark_quantized(c, c->att);
    with_per(gper, [&](auto per_c) {
        launch(c, k_dec_gate_merge<decltype(per_c)::value>, nmerge + G, threads, 0, nmerge, c->att_part, c->att, nsplit, c->io, dh, c->y, c->zx, hp->in_proj_dim, E, G, l.ssm_norm,
               hp->ssm_rms_norm, hp->norm_before_gate, hp->rms_eps, qa, sa, qy, sy);
    });
}

// The fused decode path's GEMV launches, one table of shapes per launch, each entry the kernel
// itself (R rows a block, NW warps a block, U loads in flight in its template arguments), so a
// shape and its kernel cannot drift apart. bench/gpu/gemv-bench.cu times each launch alone;
// FALCON_H1_CUDA_DEC_SHAPE="in,out,swiglu,down" picks entries by index for in-graph sweeps.
template <typename K> struct dec_launch {
    int r, nw; // rows a block (the grid follows from it), warps a block
    K kern;
};
using set_kernel = void (*)(gemv_set);
using out_kernel = void (*)(dmat, const float *, const float *, float, dmat, const float *, const float *, float, float *);
using swiglu_kernel = void (*)(dmat, dmat, const float *, float *, const float *, const float *, float, row_norm);
static const dec_launch<set_kernel> DEC_IN[] = {{2, 4, k_gemv_set<2, 4, 1, true>}, {2, 4, k_gemv_set<2, 4, 2, true>}, {2, 8, k_gemv_set<2, 8, 1, true>},
                                                {1, 8, k_gemv_set<1, 8, 2, true>}, {4, 4, k_gemv_set<4, 4, 1, true>}};
static const dec_launch<out_kernel> DEC_OUT[] = {{GEMV_ROWS, 4, k_gemv_out_pair<4, 1>}, {GEMV_ROWS, 4, k_gemv_out_pair<4, 2>}, {GEMV_ROWS, 8, k_gemv_out_pair<8, 1>},
                                                 {GEMV_ROWS, 8, k_gemv_out_pair<8, 2>}};
static const dec_launch<swiglu_kernel> DEC_SWIGLU[] = {{1, 4, k_gemv_swiglu<4, 1, true>}, {1, 4, k_gemv_swiglu<4, 2, true>}, {1, 2, k_gemv_swiglu<2, 2, true>},
                                                       {1, 8, k_gemv_swiglu<8, 1, true>}, {1, 2, k_gemv_swiglu<2, 1, true>}}; // one gate+up row pair a block
static const dec_launch<set_kernel> DEC_DOWN[] = {{2, 4, k_gemv_set<2, 4, 1>}, {2, 4, k_gemv_set<2, 4, 2>}, {2, 8, k_gemv_set<2, 8, 2>}, {1, 8, k_gemv_set<1, 8, 2>},
                                                  {4, 4, k_gemv_set<4, 4, 2>}, {2, 4, k_gemv_set<2, 4, 4>}, {2, 8, k_gemv_set<2, 8, 1>}};
// H200, 7B BF16 tg128: 173 -> 183 t/s (1.5B-Deep 292 -> 299, 0.5B unchanged); bench/README.md "Decode GEMV shapes per launch"
static const int DEC_DEFAULT[4] = {4, 1, 4, 1};
template <typename K, size_t N> static bool dec_shape_ok(const dec_launch<K> (&)[N], int i) { return i >= 0 && i < (int)N; }
static void dec_shapes_from_env(int *shape) {
    for (int i = 0; i < 4; i++) shape[i] = DEC_DEFAULT[i];
    const char *e = getenv("FALCON_H1_CUDA_DEC_SHAPE");
    int v[4];
    if (!e) return;
    if (sscanf(e, "%d,%d,%d,%d", &v[0], &v[1], &v[2], &v[3]) == 4 && dec_shape_ok(DEC_IN, v[0]) && dec_shape_ok(DEC_OUT, v[1]) && dec_shape_ok(DEC_SWIGLU, v[2]) &&
        dec_shape_ok(DEC_DOWN, v[3]))
        for (int i = 0; i < 4; i++) shape[i] = v[i];
    else fprintf(stderr, "falcon-h1: FALCON_H1_CUDA_DEC_SHAPE=%s ignored: four indices into the DEC_IN/OUT/SWIGLU/DOWN tables expected\n", e);
}

// Matrices that share a decode step as one k_gemv_set launch (a matrix the set kernels cannot
// take, with an odd row size, goes through matmul on its own)
struct gemv_item {
    const dmat *W;
    const float *x;
    float *y;
    float m = 1.0f; // with a norm: the item's input multiplier
    const float *add_b = nullptr;
    float add_m = 0.0f; // != 0: y += (W·x + add_b)·add_m (16-bit rows on the set kernel only; see norm_fusable)
};
// norm: the items read the raw residual stream x and fold this RMSNorm in (16-bit rows only)
// sh (the fused decode path): the 16-bit set launch takes this shape (DEC_IN with a norm, DEC_DOWN without)
static void gemv_group(shard *c, std::initializer_list<gemv_item> items, const float *norm_g = nullptr, const dec_launch<set_kernel> *sh = nullptr) {
    gemv_set s = {};
    gemv_set_i8 s8 = {};
    const float *qx[4]; // distinct inputs already in int8 (slot j of c->aq8)
    int nq = c->npreq;
    for (int j = 0; j < nq; j++) qx[j] = c->preq[j];
    c->npreq = 0;
    for (const gemv_item &it : items) {
        const dmat &W = *it.W;
        const bool w16 = is16(W.type);
        if (!norm_g && !it.add_m && i8_input(c, W)) {
            int j = 0;
            while (j < nq && qx[j] != it.x) j++;
            int8_t *q = slot_q8(c, j);
            act_scale *as = slot_qs(c, j);
            if (j == nq) {
                qx[nq++] = it.x;
                launch(c, k_quant_act, blocks((size_t)W.cols, 256), 256, 0, it.x, W.cols, q, as);
            }
            s8.W[s8.n] = W, s8.aq8[s8.n] = q, s8.as[s8.n] = as, s8.y[s8.n] = it.y;
            s8.first[s8.n + 1] = s8.first[s8.n] + (W.rows + QGEMV_WARPS - 1) / QGEMV_WARPS;
            s8.n++;
            continue;
        }
        if (!norm_g && !it.add_m && ((w16 && W.rb % 16) || (!w16 && W.cols % 16))) {
            matmul(c, W, it.x, 1, it.y);
            continue;
        }
        const int per = w16 ? (sh ? sh->r : c->gemv_r) : c->gemv_w;
        s.W[s.n] = W;
        s.x[s.n] = it.x;
        s.y[s.n] = it.y;
        if (norm_g) s.norm[s.n] = {norm_g, c->m->hp.rms_eps, it.m};
        s.add[s.n] = {it.add_b, it.add_m};
        s.first[s.n + 1] = s.first[s.n] + (W.rows + per - 1) / per;
        s.n++;
    }
    if (s8.n) launch(c, k_gemv_set_i8, s8.first[s8.n], 32 * QGEMV_WARPS, 0, s8);
    if (!s.n) return;
    if (norm_g || sh) { // the fused decode path; with a norm (norm_fusable) every item is 16-bit
        const dec_launch<set_kernel> &d = sh ? *sh : DEC_IN[0];
        launch(c, d.kern, s.first[s.n], 32 * d.nw, 0, s);
        return;
    }
    const int grid = c->gemv_bps > 0 ? std::min(s.first[s.n], c->n_sm * c->gemv_bps) : s.first[s.n];
    const unsigned th = 32 * c->gemv_w;
    if (c->gemv_r == 4 && c->gemv_u == 1) launch(c, k_gemv_set<4, 4, 1>, grid, th, 0, s);
    else if (c->gemv_r == 4 && c->gemv_u == 2) launch(c, k_gemv_set<4, 4, 2>, grid, th, 0, s);
    else if (c->gemv_u == 1) launch(c, k_gemv_set<2, 4, 1>, grid, th, 0, s);
    else if (c->gemv_u == 4) launch(c, k_gemv_set<2, 4, 4>, grid, th, 0, s);
    else launch(c, k_gemv_set<2, 4, 2>, grid, th, 0, s);
}

// FALCON_H1_CUDA_FUSE_NORM (on by default): decode folds each RMSNorm into the GEMVs that read
// its output and each residual add into the GEMV that produces it, 7 launches a layer instead of
// 9, when every layer matrix of this part takes the 16-bit set GEMV at its default shape
static bool norm_fusable(const shard *c) {
    if (!c->fuse_norm || c->gemv_r != 2 || c->gemv_u != 1 || c->gemv_w != GEMV_WARPS || c->gemv_bps || !c->gemv_swiglu) return false;
    for (const dlayer &l : c->L) {
        for (const dmat *w : {&l.ssm_in, &l.wq, &l.wk, &l.wv, &l.ssm_out, &l.wo, &l.gate, &l.up, &l.down})
            if (!is16(w->type) || w->rb % 16) return false;
        if (l.gate.type != l.up.type) return false;
    }
    return true;
}

// One token through this part's layers with the fused decode kernels (see "decode (T == 1)")
static void enqueue_decode(shard *c, bool graph, int pos0, int logit_rows, bool sample) {
    const fh1_hparams *hp = &c->m->hp;
    const int D = hp->n_embd, E = hp->d_inner, Din = hp->in_proj_dim, Cd = hp->conv_dim, F = hp->n_ff, K = hp->d_conv, N = hp->d_state;
    const bool ssm_scaled = hp->ssm_in_mult != 1.0f, attn_scaled = hp->attn_in_mult != 1.0f;
    float *us = ssm_scaled ? c->us : c->u, *ua = attn_scaled ? c->ua : c->u;
    c->pdl_on = c->pdl, c->pdl_next = false; // the first kernel follows copies: a plain launch
    const bool fn = norm_fusable(c);
    if (c->embed_here) launch(c, k_embed, 1, 256, 0, c->embd, c->tok, hp->embedding_mult, c->x, D);
    if (c->l1 > c->l0 && !fn)
        launch(c, k_rmsnorm, 1, 256, 0, c->x, c->L[0].attn_norm, c->u, D, hp->rms_eps, ssm_scaled ? c->us : nullptr, hp->ssm_in_mult,
                                            attn_scaled ? c->ua : nullptr, hp->attn_in_mult);
    const bool head = c->head_here && logit_rows;
    const int res_per = regs_per_thread(D, 1024);
    bool hin_ready = false;
    for (int il = c->l0; il < c->l1; il++) {
        const int li = il - c->l0;
        const dlayer &l = c->L[li];
        float *conv_state = c->conv_state + (size_t)li * (K - 1) * Cd;
        float *ssm_state = c->ssm_state + (size_t)li * E * N;
        if (fn)
            gemv_group(c, {{&l.ssm_in, c->x, c->zx, hp->ssm_in_mult}, {&l.wq, c->x, c->q, hp->attn_in_mult}, {&l.wk, c->x, c->k, hp->attn_in_mult}, {&l.wv, c->x, c->v, hp->attn_in_mult}},
                       l.attn_norm, &DEC_IN[c->dec_shape[0]]);
        else
            gemv_group(c, {{&l.ssm_in, us, c->zx}, {&l.wq, ua, c->q}, {&l.wk, ua, c->k}, {&l.wv, ua, c->v}});
        const post_args pa = post_args_for(c, l, li);
        const int nssm = (int)blocks(Din);
        launch(c, k_dec_pre, nssm + hp->n_head + hp->n_head_kv, 256, 0, pa, nssm, K, l.conv_w, l.conv_b, conv_state, c->xbc);
        decode_mixer(c, l, ssm_state, li, pos0, graph);
        if (fn) { // 7 launches a layer: the adds in the GEMV epilogues, the norms in the next GEMVs
            const dec_launch<out_kernel> &o = DEC_OUT[c->dec_shape[1]];
            launch(c, o.kern, (D + o.r - 1) / o.r, 32 * o.nw, 0, l.ssm_out, c->y, l.ssm_out_b, hp->ssm_out_mult, l.wo, c->att, l.bo, hp->attn_out_mult, c->x);
            const dec_launch<swiglu_kernel> &g = DEC_SWIGLU[c->dec_shape[2]];
            launch(c, g.kern, (F + g.r - 1) / g.r, 32 * g.nw, 0, l.gate, l.up, c->x, c->up, l.gate_b, l.up_b, hp->mlp_gate_mult, row_norm{l.ffn_norm, hp->rms_eps, 1.0f});
            gemv_group(c, {{&l.down, c->up, c->x, 1.0f, l.down_b, hp->mlp_down_mult}}, nullptr, &DEC_DOWN[c->dec_shape[3]]);
            continue;
        }
        gemv_group(c, {{&l.ssm_out, c->y, c->so}, {&l.wo, c->att, c->ao}});
        const bool pair16 = l.gate.type == l.up.type && is16(l.gate.type) && l.gate.rb % 16 == 0 && l.up.rb % 16 == 0;
        norm_out ffn_in = {l.ffn_norm, c->u, nullptr, nullptr, 1.0f, 1.0f, hp->rms_eps};
        if (c->fuse_quant && res_per > 0 && !(pair16 && c->gemv_swiglu) && (i8_input(c, l.gate) || i8_input(c, l.up)))
            ffn_in.q8 = slot_q8(c, 0), ffn_in.qs = slot_qs(c, 0), mark_quantized(c, c->u);
        with_per(res_per, [&](auto per_c) {
            launch(c, k_dec_residual2<decltype(per_c)::value>, 1, 1024, 0, c->x, c->so, l.ssm_out_b, hp->ssm_out_mult, c->ao, l.bo, hp->attn_out_mult, D, ffn_in);
        });
        if (pair16 && c->gemv_swiglu) { // gate and up rows in one block, SwiGLU in its epilogue
            if (c->gemv_u == 1) launch(c, k_gemv_swiglu<GEMV_WARPS, 1>, F, 32 * GEMV_WARPS, 0, l.gate, l.up, c->u, c->up, l.gate_b, l.up_b, hp->mlp_gate_mult, row_norm{});
            else if (c->gemv_u == 4) launch(c, k_gemv_swiglu<GEMV_WARPS, 4>, F, 32 * GEMV_WARPS, 0, l.gate, l.up, c->u, c->up, l.gate_b, l.up_b, hp->mlp_gate_mult, row_norm{});
            else launch(c, k_gemv_swiglu<GEMV_WARPS, 2>, F, 32 * GEMV_WARPS, 0, l.gate, l.up, c->u, c->up, l.gate_b, l.up_b, hp->mlp_gate_mult, row_norm{});
        } else {
            gemv_group(c, {{&l.gate, c->u, c->g}, {&l.up, c->u, c->up}});
            const bool q = c->fuse_quant && F % 32 == 0 && i8_input(c, l.down);
            launch(c, k_swiglu, blocks(F), 256, 0, c->g, c->up, l.gate_b, l.up_b, hp->mlp_gate_mult, F, 1, q ? slot_q8(c, 0) : nullptr, q ? slot_qs(c, 0) : nullptr);
            if (q) mark_quantized(c, c->up);
        }
        gemv_group(c, {{&l.down, c->up, c->fo}});
        // the add carries the next norm: the next layer's attn_norm, or the final norm before the head
        norm_out nx = {nullptr, nullptr, nullptr, nullptr, 1.0f, 1.0f, hp->rms_eps};
        const float *nx_x = nullptr; // the next GEMV group's input, which it may take in int8 from here
        if (il + 1 < c->l1) {
            nx = {c->L[li + 1].attn_norm, c->u, ssm_scaled ? c->us : nullptr, attn_scaled ? c->ua : nullptr, hp->ssm_in_mult, hp->attn_in_mult, hp->rms_eps};
            const dlayer &n = c->L[li + 1];
            if (!ssm_scaled && !attn_scaled && (i8_input(c, n.ssm_in) || i8_input(c, n.wq) || i8_input(c, n.wk) || i8_input(c, n.wv))) nx_x = c->u;
        } else if (head) {
            nx.w = c->out_norm, nx.out = c->hin, hin_ready = true;
            if (i8_input(c, c->head)) nx_x = c->hin;
        }
        if (nx_x && c->fuse_quant && res_per > 0) nx.q8 = slot_q8(c, 0), nx.qs = slot_qs(c, 0), mark_quantized(c, nx_x);
        with_per(res_per, [&](auto per_c) {
            launch(c, k_dec_residual1<decltype(per_c)::value>, 1, 1024, 0, c->x, c->fo, l.down_b, hp->mlp_down_mult, D, nx);
        });
    }
    if (head) {
        if (fn && is16(c->head.type) && c->head.rb % 16 == 0) gemv_group(c, {{&c->head, c->x, c->logits}}, c->out_norm);
        else {
            if (!hin_ready) launch(c, k_rmsnorm, 1, 256, 0, c->x, c->out_norm, c->hin, D, hp->rms_eps, nullptr, 1.0f, nullptr, 1.0f);
            gemv_group(c, {{&c->head, c->hin, c->logits}});
        }
        if (hp->lm_head_mult != 1.0f) launch(c, k_scale, blocks((size_t)hp->n_vocab), 256, 0, c->logits, hp->lm_head_mult, (size_t)hp->n_vocab);
        if (sample) enqueue_sample(c, c->logits);
    }
    c->pdl_on = c->pdl_next = false;
}

// The kernels of one ubatch (the host copies c->io first). graph: the decode sequence that gets
// captured, which must not depend on pos0 on the host (attention always takes the split path,
// sized for the whole context; the kernels read the position from c->io).
static void enqueue_sample(shard *c, const float *row);
static void enqueue_forward(shard *c, int T, int pos0, bool graph, int logit_rows, bool sample) {
    const fh1_hparams *hp = &c->m->hp;
    const int D = hp->n_embd, E = hp->d_inner, Din = hp->in_proj_dim, Cd = hp->conv_dim, F = hp->n_ff, K = hp->d_conv, N = hp->d_state;
    if (T == 1 && c->fused_decode) {
        enqueue_decode(c, graph, pos0, logit_rows, sample);
        return;
    }
    if (c->embed_here) launch(c, k_embed, T, 256, 0, c->embd, c->tok, hp->embedding_mult, c->x, D);
    const bool ssm_scaled = hp->ssm_in_mult != 1.0f, attn_scaled = hp->attn_in_mult != 1.0f;
    for (int il = c->l0; il < c->l1; il++) {
        const int li = il - c->l0; // this part's layer index (weights, caches)
        const dlayer &l = c->L[li];
        float *conv_state = c->conv_state + (size_t)li * (K - 1) * Cd;
        float *ssm_state = c->ssm_state + (size_t)li * E * N;
        // attn_norm: one normalised input for both branches (scaled copies for the µP multipliers)
        launch(c, k_rmsnorm, T, 256, 0, c->x, l.attn_norm, c->u, D, hp->rms_eps, ssm_scaled ? c->us : nullptr, hp->ssm_in_mult, attn_scaled ? c->ua : nullptr, hp->attn_in_mult);
        const float *us = ssm_scaled ? c->us : c->u, *ua = attn_scaled ? c->ua : c->u;
        // input projections of both branches
        const gemm_job in[] = {{&l.ssm_in, us, c->zx}, {&l.wq, ua, c->q}, {&l.wk, ua, c->k}, {&l.wv, ua, c->v}};
        matmuls(c, in, 4, T);
        const post_args pa = post_args_for(c, l, li);
        k_post_ssm<<<blocks((size_t)T * Din), 256, 0, c->stream>>>(pa, T);
        k_post_attn<<<T * (hp->n_head + hp->n_head_kv), 64, 0, c->stream>>>(pa);
        // Mamba-2: conv with state → scan → gate/norm
        k_conv<<<blocks((size_t)T * Cd), 256, 0, c->stream>>>(c->zx, Din, E, Cd, K, T, l.conv_w, l.conv_b, conv_state, c->xbc);
        k_conv_state<<<blocks(Cd), 256, 0, c->stream>>>(c->zx, Din, E, Cd, K, T, conv_state);
        int pm = T > 1 ? prof_open(c, 4, 0) : -1;
        scan(c, ssm_state, T, li);
        prof_close(c, pm);
        gate(c, l, T);
        // attention over the KV cache
        pm = T > 1 ? prof_open(c, 3, 0) : -1;
        attention(c, T, pos0, graph, li);
        prof_close(c, pm);
        // output projections, then x' = x + (s + a)
        const gemm_job out[] = {{&l.ssm_out, c->y, c->so}, {&l.wo, c->att, c->ao}};
        int ns[2];
        float *rest[2];
        matmuls(c, out, 2, T, ns, rest);
        k_residual2<<<blocks((size_t)D * T), 256, 0, c->stream>>>(c->x, c->so, rest[0], ns[0], l.ssm_out_b, hp->ssm_out_mult, c->ao, rest[1], ns[1], l.bo, hp->attn_out_mult,
                                                                 D, T);
        // SwiGLU
        launch(c, k_rmsnorm, T, 256, 0, c->x, l.ffn_norm, c->u, D, hp->rms_eps, nullptr, 1.0f, nullptr, 1.0f);
        const gemm_job ffn[] = {{&l.gate, c->u, c->g}, {&l.up, c->u, c->up}};
        matmuls(c, ffn, 2, T);
        launch(c, k_swiglu, blocks((size_t)F * T), 256, 0, c->g, c->up, l.gate_b, l.up_b, hp->mlp_gate_mult, F, T, (int8_t *)nullptr, (act_scale *)nullptr);
        const gemm_job down = {&l.down, c->up, c->fo};
        matmuls(c, &down, 1, T, ns, rest);
        k_residual1<<<blocks((size_t)D * T), 256, 0, c->stream>>>(c->x, c->fo, rest[0], ns[0], l.down_b, hp->mlp_down_mult, D, T);
    }
    if (c->head_here && logit_rows) {
        const int first = T - logit_rows;
        launch(c, k_rmsnorm, logit_rows, 256, 0, c->x + (size_t)first * D, c->out_norm, c->hin, D, hp->rms_eps, nullptr, 1.0f, nullptr, 1.0f);
        matmul(c, c->head, c->hin, logit_rows, c->logits);
        if (hp->lm_head_mult != 1.0f) launch(c, k_scale, blocks((size_t)logit_rows * hp->n_vocab), 256, 0, c->logits, hp->lm_head_mult, (size_t)logit_rows * hp->n_vocab);
        if (sample) enqueue_sample(c, c->logits + (size_t)(logit_rows - 1) * hp->n_vocab);
    }
}

static void enqueue_sample(shard *c, const float *row) {
    launch(c, k_sample, 1, SAMP_THREADS, 0, row, c->s_work, c->m->hp.n_vocab, c->s_in, c->s_out);
}

extern "C" int fh1_cuda_forward(fh1_cuda *cu, const int32_t *tokens, int T, int pos0, const float *x_in, float *out, int logits_all,
                                const fh1_gpu_sample *sample, int32_t *token, float *x_out, char *err, size_t err_len) {
    const fh1_hparams *hp = &cu->m->hp;
    const size_t xbytes = sizeof(float) * (size_t)T * hp->n_embd;
    if (!cu->head) sample = nullptr;
    const int rows = cu->head && (out || sample) ? (logits_all && !sample ? T : 1) : 0;
    shard *prev = nullptr;
    for (size_t i = 0; i < cu->parts.size(); i++) {
        shard *c = cu->parts[i];
        const bool last = i + 1 == cu->parts.size();
        CK(cudaSetDevice(c->dev));
        c->h_io[0] = pos0;
        memcpy(c->h_io + 1, tokens, sizeof(int32_t) * T);
        CK(cudaMemcpyAsync(c->io, c->h_io, sizeof(int32_t) * (T + 1), cudaMemcpyHostToDevice, c->stream));
        if (prev) { // the residual stream from the previous GPU
            CK(cudaStreamWaitEvent(c->stream, prev->done, 0));
            CK(cudaMemcpyPeerAsync(c->x, c->dev, prev->x, prev->dev, xbytes, c->stream));
        } else if (!c->embed_here) { // ... or from the CPU's layers
            CK(cudaMemcpyAsync(c->x, x_in, xbytes, cudaMemcpyHostToDevice, c->stream));
        }
        const int lr = last ? rows : 0;
        const bool smp = last && sample;
        if (smp) {
            *c->h_s_in = *sample;
            CK(cudaMemcpyAsync(c->s_in, c->h_s_in, sizeof(fh1_gpu_sample), cudaMemcpyHostToDevice, c->stream));
        }
        if (T == 1 && c->graphs && (c->head_here ? lr == 1 : true)) {
            cudaGraphExec_t &exec = smp ? c->sample_graph : c->decode_graph;
            if (!exec) {
                cudaGraph_t g = nullptr;
                CK(cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal));
                enqueue_forward(c, 1, pos0, true, c->head_here ? 1 : 0, smp);
                CK(cudaStreamEndCapture(c->stream, &g));
                const cudaError_t e = cudaGraphInstantiate(&exec, g, 0);
                cudaGraphDestroy(g);
                CK(e);
            }
            CK(cudaGraphLaunch(exec, c->stream));
        } else {
            const int pm = T > 1 ? prof_open(c, 2, 0) : -1;
            enqueue_forward(c, T, pos0, false, lr, smp);
            prof_close(c, pm);
        }
        if (!last) CK(cudaEventRecord(c->done, c->stream));
        prev = c;
    }
    shard *c = cu->parts.back();
    if (sample) {
        CK(cudaMemcpyAsync(c->h_s_out, c->s_out, 4, cudaMemcpyDeviceToHost, c->stream));
        CK(cudaStreamSynchronize(c->stream));
        *token = *c->h_s_out;
        if (*token < 0 && out) CK(cudaMemcpyAsync(out, c->logits, sizeof(float) * hp->n_vocab, cudaMemcpyDeviceToHost, c->stream));
    } else if (rows && out) {
        CK(cudaMemcpyAsync(out, c->logits, sizeof(float) * (size_t)rows * hp->n_vocab, cudaMemcpyDeviceToHost, c->stream));
    }
    if (!cu->head && x_out) CK(cudaMemcpyAsync(x_out, c->x, xbytes, cudaMemcpyDeviceToHost, c->stream));
    CK(cudaStreamSynchronize(c->stream));
    CK(cudaGetLastError());
    for (shard *p : cu->parts) prof_report(p, T);
    return 1;
}

extern "C" int fh1_cuda_gemv_check(int type, int rows, int cols, const void *w, size_t row_bytes, const float *x, float *y, int int8, char *err, size_t err_len) {
    if (int8 && (!int8_type(type) || cols % 32)) {
        snprintf(err, err_len, "type %d has no int8 decode path at %d columns", type, cols);
        return 0;
    }
    uint8_t *dw = nullptr;
    float *dx = nullptr, *dy = nullptr;
    int8_t *dq = nullptr;
    act_scale *ds = nullptr;
    const size_t wbytes = (size_t)rows * row_bytes;
    CK(cudaMalloc(&dw, wbytes));
    CK(cudaMalloc(&dx, (size_t)cols * 4));
    CK(cudaMalloc(&dy, (size_t)rows * 4));
    CK(cudaMalloc(&dq, (size_t)cols));
    CK(cudaMalloc(&ds, (size_t)cols / 32 * sizeof(act_scale) + sizeof(act_scale)));
    CK(cudaMemcpy(dw, w, wbytes, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dx, x, (size_t)cols * 4, cudaMemcpyHostToDevice));
    const dmat W = {dw, type, rows, cols, row_bytes};
    if (int8) {
        gemv_set_i8 s = {};
        s.W[0] = W, s.aq8[0] = dq, s.as[0] = ds, s.y[0] = dy, s.first[1] = (rows + QGEMV_WARPS - 1) / QGEMV_WARPS, s.n = 1;
        k_quant_act<<<blocks((size_t)cols, 256), 256>>>(dx, cols, dq, ds);
        k_gemv_set_i8<<<s.first[1], 32 * QGEMV_WARPS>>>(s);
    } else if (is16(type)) {
        k_gemv16<<<(rows + GEMV_ROWS - 1) / GEMV_ROWS, 32 * GEMV_WARPS>>>(W, dx, dy);
    } else {
        k_gemv_quant<<<(rows + QGEMV_WARPS - 1) / QGEMV_WARPS, 32 * QGEMV_WARPS>>>(W, dx, dy);
    }
    CK(cudaGetLastError());
    CK(cudaMemcpy(y, dy, (size_t)rows * 4, cudaMemcpyDeviceToHost));
    cudaFree(dw), cudaFree(dx), cudaFree(dy), cudaFree(dq), cudaFree(ds);
    return 1;
}

extern "C" int fh1_cuda_logits_row(fh1_cuda *cu, float *out, char *err, size_t err_len) {
    shard *c = cu->parts.back();
    if (!c->head_here) return 0;
    CK(cudaSetDevice(c->dev));
    CK(cudaMemcpyAsync(out, c->logits, sizeof(float) * cu->m->hp.n_vocab, cudaMemcpyDeviceToHost, c->stream));
    CK(cudaStreamSynchronize(c->stream));
    return 1;
}

extern "C" int fh1_cuda_sample_row(fh1_cuda *cu, const float *logits, const fh1_gpu_sample *sample, int32_t *token, char *err, size_t err_len) {
    shard *c = cu->parts.back();
    if (!c->head_here) {
        snprintf(err, err_len, "the head is not on the GPU");
        return 0;
    }
    CK(cudaSetDevice(c->dev));
    *c->h_s_in = *sample;
    CK(cudaMemcpyAsync(c->logits, logits, sizeof(float) * cu->m->hp.n_vocab, cudaMemcpyHostToDevice, c->stream));
    CK(cudaMemcpyAsync(c->s_in, c->h_s_in, sizeof(fh1_gpu_sample), cudaMemcpyHostToDevice, c->stream));
    enqueue_sample(c, c->logits);
    CK(cudaMemcpyAsync(c->h_s_out, c->s_out, 4, cudaMemcpyDeviceToHost, c->stream));
    CK(cudaStreamSynchronize(c->stream));
    CK(cudaGetLastError());
    *token = *c->h_s_out;
    return 1;
}

extern "C" void fh1_cuda_reset(fh1_cuda *cu) {
    const fh1_hparams *hp = &cu->m->hp;
    for (shard *c : cu->parts) {
        const size_t nl = (size_t)(c->l1 - c->l0);
        cudaSetDevice(c->dev);
        cudaMemsetAsync(c->conv_state, 0, nl * (hp->d_conv - 1) * hp->conv_dim * 4, c->stream);
        cudaMemsetAsync(c->ssm_state, 0, nl * hp->d_inner * hp->d_state * 4, c->stream);
        cudaStreamSynchronize(c->stream);
    }
}

// this part's layers between the device and the host arrays laid out for all layers
static int copy_state(shard *c, void *k_rows, void *v_rows, float *conv, float *ssm, int n_past, bool down) {
    const fh1_hparams *hp = &c->m->hp;
    const size_t es = c->kv_f16 ? 2 : 4, kvd = (size_t)hp->n_head_kv * hp->head_dim, row = (size_t)n_past * kvd * es;
    const cudaMemcpyKind kind = down ? cudaMemcpyDeviceToHost : cudaMemcpyHostToDevice;
    if (cudaSetDevice(c->dev) != cudaSuccess) return 0;
    for (int il = c->l0; il < c->l1; il++) {
        const size_t li = (size_t)(il - c->l0);
        uint8_t *dk = (uint8_t *)c->k_cache + li * c->n_ctx * kvd * es, *dv = (uint8_t *)c->v_cache + li * c->n_ctx * kvd * es;
        uint8_t *hk = (uint8_t *)k_rows + (size_t)il * c->n_ctx * kvd * es, *hv = (uint8_t *)v_rows + (size_t)il * c->n_ctx * kvd * es;
        if (cudaMemcpyAsync(down ? (void *)hk : (void *)dk, down ? (void *)dk : (void *)hk, row, kind, c->stream) != cudaSuccess) return 0;
        if (cudaMemcpyAsync(down ? (void *)hv : (void *)dv, down ? (void *)dv : (void *)hv, row, kind, c->stream) != cudaSuccess) return 0;
    }
    const size_t cl = (size_t)(hp->d_conv - 1) * hp->conv_dim, sl = (size_t)hp->d_inner * hp->d_state, nl = (size_t)(c->l1 - c->l0);
    float *hc = conv + (size_t)c->l0 * cl, *hs = ssm + (size_t)c->l0 * sl;
    if (cudaMemcpyAsync(down ? (void *)hc : (void *)c->conv_state, down ? (void *)c->conv_state : (void *)hc, nl * cl * 4, kind, c->stream) != cudaSuccess) return 0;
    if (cudaMemcpyAsync(down ? (void *)hs : (void *)c->ssm_state, down ? (void *)c->ssm_state : (void *)hs, nl * sl * 4, kind, c->stream) != cudaSuccess) return 0;
    return cudaStreamSynchronize(c->stream) == cudaSuccess;
}

extern "C" int fh1_cuda_get_state(fh1_cuda *cu, void *k_rows, void *v_rows, float *conv, float *ssm, int n_past) {
    for (shard *c : cu->parts)
        if (!copy_state(c, k_rows, v_rows, conv, ssm, n_past, true)) return 0;
    return 1;
}

extern "C" int fh1_cuda_set_state(fh1_cuda *cu, const void *k_rows, const void *v_rows, const float *conv, const float *ssm, int n_past) {
    for (shard *c : cu->parts)
        if (!copy_state(c, (void *)k_rows, (void *)v_rows, (float *)conv, (float *)ssm, n_past, false)) return 0;
    return 1;
}

extern "C" const char *fh1_cuda_device_name(fh1_cuda *c) { return c->name; }

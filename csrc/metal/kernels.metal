// csrc/metal/kernels.metal — the Falcon-H1 forward pass on Apple GPUs, kernel for kernel the
// CUDA backend's (csrc/cuda/backend.cu, same names, same order of operations): embed → per layer
// [attn_norm → (Mamba-2 ‖ attention) → add → ffn_norm → SwiGLU → add] → final norm → head.
// Weights stay in their file format (a no-copy buffer over the mmap) and are dequantized inside
// the matmuls; accumulation is f32 everywhere. Metal has no double, so the RMSNorm sums that CUDA
// and the CPU accumulate in double are f32 tree sums here (simd_sum, then across simdgroups).
//
// Launch shapes (backend.mm): one simdgroup (32 threads) per weight row for the GEMVs, one
// threadgroup per token for the norms, one per (token, head) for attention, one simdgroup per
// (head, p) for the scan; element-wise kernels one thread per element.

#include <metal_stdlib>
using namespace metal;

#include "args.h"

// ggml type ids (quant/blocks.h)
#define T_F32 0
#define T_F16 1
#define T_Q4_0 2
#define T_Q4_1 3
#define T_Q5_0 6
#define T_Q5_1 7
#define T_Q8_0 8
#define T_Q4_K 12
#define T_Q5_K 13
#define T_Q6_K 14
#define T_BF16 30

// ---- weight element access (mirrors quant/quants.c fh1_dequantize_row) --------------------------
// Blocks are read byte by byte where their fields are not naturally aligned (Q5_0's qh, ...).

static inline float ld_f16(device const uchar *p) { return float(as_type<half>(ushort(p[0] | (p[1] << 8)))); }
static inline uint ld_u32(device const uchar *p) { return uint(p[0]) | (uint(p[1]) << 8) | (uint(p[2]) << 16) | (uint(p[3]) << 24); }

static inline void k4sc(device const uchar *q, int j, thread int &sc, thread int &m) {
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

static float wget(device const uchar *row, int type, int k) {
    switch (type) {
    case T_F32: return ((device const float *)row)[k];
    case T_F16: return float(((device const half *)row)[k]);
    case T_BF16: return as_type<float>(uint(((device const ushort *)row)[k]) << 16);
    case T_Q8_0: {
        device const uchar *b = row + (k / 32) * 34;
        return float(as_type<char>(b[2 + k % 32])) * ld_f16(b);
    }
    case T_Q4_0:
    case T_Q4_1: {
        const bool one = type == T_Q4_1;
        device const uchar *b = row + (k / 32) * (one ? 20 : 18);
        device const uchar *qs = b + (one ? 4 : 2);
        const int j = k % 32;
        const int q = j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
        return one ? float(q) * ld_f16(b) + ld_f16(b + 2) : float(q - 8) * ld_f16(b);
    }
    case T_Q5_0:
    case T_Q5_1: {
        const bool one = type == T_Q5_1;
        device const uchar *b = row + (k / 32) * (one ? 24 : 22);
        const uint qh = ld_u32(b + (one ? 4 : 2));
        device const uchar *qs = b + (one ? 8 : 6);
        const int j = k % 32;
        const int lo = j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
        const int q = lo | int(((qh >> j) & 1) << 4);
        const float d = ld_f16(b);
        return one ? float(q) * d + ld_f16(b + 2) : float(q - 16) * d;
    }
    case T_Q4_K: {
        device const uchar *b = row + (k / 256) * 144;
        const int j = k % 256, c = j / 64, l = j % 64;
        int sc, m;
        k4sc(b + 4, 2 * c + (l >= 32), sc, m);
        device const uchar *qs = b + 16;
        const int q = l < 32 ? (qs[32 * c + l] & 0xF) : (qs[32 * c + l - 32] >> 4);
        return ld_f16(b) * sc * q - ld_f16(b + 2) * m;
    }
    case T_Q5_K: {
        device const uchar *b = row + (k / 256) * 176;
        const int j = k % 256, c = j / 64, l = j % 64;
        int sc, m;
        k4sc(b + 4, 2 * c + (l >= 32), sc, m);
        const int ll = l % 32;
        device const uchar *qh = b + 16, *qs = b + 48;
        const int lo = l < 32 ? (qs[32 * c + ll] & 0xF) : (qs[32 * c + ll] >> 4);
        const int hb = (qh[ll] >> (2 * c + (l >= 32))) & 1;
        return ld_f16(b) * sc * (lo + 16 * hb) - ld_f16(b + 2) * m;
    }
    case T_Q6_K: {
        device const uchar *b = row + (k / 256) * 210;
        const int j = k % 256, h = j / 128, r = j % 128, g = r / 32, l = r % 32;
        device const uchar *ql = b + 64 * h, *qh = b + 128 + 32 * h;
        device const char *scales = (device const char *)(b + 192);
        const int low = g == 0 ? (ql[l] & 0xF) : g == 1 ? (ql[l + 32] & 0xF) : g == 2 ? (ql[l] >> 4) : (ql[l + 32] >> 4);
        const int q = (low | (((qh[l] >> (2 * g)) & 3) << 4)) - 32;
        return ld_f16(b + 208) * scales[8 * h + 2 * g + l / 16] * q;
    }
    default: return 0.0f;
    }
}

// ---- kernels -------------------------------------------------------------------------------

#define MM_T 8
// y[t][r] = W[r,:]·x[t,:] — one simdgroup per weight row, MM_T tokens per simdgroup (prefill)
kernel void k_matmul(device const uchar *W [[buffer(0)]], device const float *x [[buffer(1)]], device float *y [[buffer(2)]],
                     constant mat_args &a [[buffer(3)]], uint2 tg [[threadgroup_position_in_grid]],
                     ushort sg [[simdgroup_index_in_threadgroup]], ushort lane [[thread_index_in_simdgroup]],
                     ushort nsg [[simdgroups_per_threadgroup]]) {
    const int r = int(tg.x) * nsg + sg, t0 = int(tg.y) * MM_T;
    if (r >= a.rows) return;
    device const uchar *row = W + ulong(r) * a.rb;
    float acc[MM_T];
    for (int j = 0; j < MM_T; j++) acc[j] = 0.0f;
    const int nt = min(MM_T, a.T - t0);
    for (int k = lane; k < a.cols; k += 32) {
        const float w = wget(row, a.type, k);
        for (int j = 0; j < nt; j++) acc[j] = fma(w, x[ulong(t0 + j) * a.cols + k], acc[j]);
    }
    for (int j = 0; j < nt; j++) {
        const float s = simd_sum(acc[j]);
        if (lane == 0) y[ulong(t0 + j) * a.rows + r] = s;
    }
}

// T == 1 with f32/f16/bf16 weights: one simdgroup per row, each lane 4 elements at a time
kernel void k_gemv16(device const uchar *W [[buffer(0)]], device const float *x [[buffer(1)]], device float *y [[buffer(2)]],
                     constant mat_args &a [[buffer(3)]], uint tg [[threadgroup_position_in_grid]],
                     ushort sg [[simdgroup_index_in_threadgroup]], ushort lane [[thread_index_in_simdgroup]],
                     ushort nsg [[simdgroups_per_threadgroup]]) {
    const int r = int(tg) * nsg + sg;
    if (r >= a.rows) return;
    device const uchar *row = W + ulong(r) * a.rb;
    const int n4 = a.cols / 4;
    float acc = 0.0f;
    for (int v = lane; v < n4; v += 32) {
        const float4 xv = ((device const float4 *)x)[v];
        float4 wv;
        if (a.type == T_F32) wv = ((device const float4 *)row)[v];
        else if (a.type == T_F16) wv = float4(((device const half4 *)row)[v]);
        else {
            const ushort4 h = ((device const ushort4 *)row)[v];
            wv = float4(as_type<float>(uint(h.x) << 16), as_type<float>(uint(h.y) << 16), as_type<float>(uint(h.z) << 16), as_type<float>(uint(h.w) << 16));
        }
        acc = fma(wv.x, xv.x, acc);
        acc = fma(wv.y, xv.y, acc);
        acc = fma(wv.z, xv.z, acc);
        acc = fma(wv.w, xv.w, acc);
    }
    for (int k = n4 * 4 + lane; k < a.cols; k += 32) acc = fma(wget(row, a.type, k), x[k], acc);
    acc = simd_sum(acc);
    if (lane == 0) y[r] = acc;
}

// T == 1 with block-quantized weights: one simdgroup per row, each lane 16 consecutive weights
// (one block header read) at a time
kernel void k_gemv_quant(device const uchar *W [[buffer(0)]], device const float *x [[buffer(1)]], device float *y [[buffer(2)]],
                         constant mat_args &a [[buffer(3)]], uint tg [[threadgroup_position_in_grid]],
                         ushort sg [[simdgroup_index_in_threadgroup]], ushort lane [[thread_index_in_simdgroup]],
                         ushort nsg [[simdgroups_per_threadgroup]]) {
    const int r = int(tg) * nsg + sg;
    if (r >= a.rows) return;
    device const uchar *row = W + ulong(r) * a.rb;
    float acc = 0.0f;
    for (int k0 = 16 * lane; k0 < a.cols; k0 += 16 * 32)
        for (int i = 0; i < 16; i++) acc = fma(wget(row, a.type, k0 + i), x[k0 + i], acc);
    acc = simd_sum(acc);
    if (lane == 0) y[r] = acc;
}

kernel void k_embed(device const uchar *E [[buffer(0)]], device const int *tok [[buffer(1)]], device float *x [[buffer(2)]],
                    constant mat_args &m [[buffer(3)]], constant embed_args &a [[buffer(4)]], uint t [[threadgroup_position_in_grid]],
                    ushort tid [[thread_position_in_threadgroup]], ushort nt [[threads_per_threadgroup]]) {
    device const uchar *row = E + ulong(tok[t]) * m.rb;
    for (int i = tid; i < a.D; i += nt) {
        const float v = wget(row, m.type, i);
        x[ulong(t) * a.D + i] = a.mult != 1.0f ? v * a.mult : v;
    }
}

// Σ v over the threadgroup (≤ 1024 threads); every thread gets the result
static float group_sum(float v, threadgroup float *part, ushort tid, ushort nt) {
    v = simd_sum(v);
    threadgroup_barrier(mem_flags::mem_threadgroup);
    if (tid % 32 == 0) part[tid / 32] = v;
    threadgroup_barrier(mem_flags::mem_threadgroup);
    float s = 0.0f;
    for (int i = 0; i < (nt + 31) / 32; i++) s += part[i];
    return s;
}

// out = w ⊙ (x / sqrt(mean(x²) + eps)) per row; optional scaled copies (µP input multipliers)
kernel void k_rmsnorm(device const float *x [[buffer(0)]], device const float *w [[buffer(1)]], device float *out [[buffer(2)]],
                      device float *out2 [[buffer(3)]], device float *out3 [[buffer(4)]], constant norm_args &a [[buffer(5)]],
                      uint row [[threadgroup_position_in_grid]], ushort tid [[thread_position_in_threadgroup]], ushort nt [[threads_per_threadgroup]]) {
    threadgroup float part[32];
    device const float *xr = x + ulong(row) * a.n;
    float ss = 0.0f;
    for (int i = tid; i < a.n; i += nt) ss += xr[i] * xr[i];
    const float r = 1.0f / sqrt(group_sum(ss, part, tid, nt) / a.n + a.eps);
    for (int i = tid; i < a.n; i += nt) {
        const float v = w[i] * (xr[i] * r);
        out[ulong(row) * a.n + i] = v;
        if (a.has2) out2[ulong(row) * a.n + i] = v * a.m2;
        if (a.has3) out3[ulong(row) * a.n + i] = v * a.m3;
    }
}

static inline float softplus(float v) { return v > 20.0f ? v : log(1.0f + exp(v)); }

// Mamba input projection epilogue, one thread per element of zx: bias, µP vector, and
// dt = clamp(softplus(dt_raw + dt_bias)) for the last H columns
kernel void k_post_ssm(device float *zx [[buffer(0)]], device float *dt [[buffer(1)]], device const float *in_b [[buffer(2)]],
                       device const float *mup [[buffer(3)]], device const float *dt_bias [[buffer(4)]], constant post_args &a [[buffer(5)]],
                       uint e [[thread_position_in_grid]]) {
    if (e >= uint(a.T * a.Din)) return;
    const int t = int(e) / a.Din, i = int(e) % a.Din;
    float v = zx[e];
    if (a.has_in_b) v += in_b[i];
    if (a.has_mup) v *= mup[i];
    zx[e] = v;
    const int h = i - (a.E + a.Cd);
    if (h >= 0 && h < a.H) {
        float d = softplus(v + dt_bias[h]);
        d = d < a.dt_min ? a.dt_min : d > a.dt_max ? a.dt_max : d;
        dt[t * a.H + h] = d;
    }
}

// attention epilogue, one threadgroup per (token, q or kv head): biases, key multiplier, NEOX
// RoPE, then K and V into the cache
kernel void k_post_attn(device float *q [[buffer(0)]], device float *k [[buffer(1)]], device float *v [[buffer(2)]],
                        device const float *bq [[buffer(3)]], device const float *bk [[buffer(4)]], device const float *bv [[buffer(5)]],
                        device uchar *kc [[buffer(6)]], device uchar *vc [[buffer(7)]], constant post_args &a [[buffer(8)]],
                        uint tg [[threadgroup_position_in_grid]], ushort tid [[thread_position_in_threadgroup]], ushort nt [[threads_per_threadgroup]]) {
    const int t = int(tg) / (a.nh + a.nkv), head = int(tg) % (a.nh + a.nkv), half_d = a.dh / 2;
    const bool is_q = head < a.nh;
    const int kvh = head - a.nh;
    device float *p = is_q ? q + t * a.qd + head * a.dh : k + t * a.kvd + kvh * a.dh;
    device float *vp = v + t * a.kvd + (is_q ? 0 : kvh) * a.dh;
    for (int d = tid; d < a.dh; d += nt) {
        if (is_q) {
            if (a.has_bq) p[d] += bq[head * a.dh + d];
        } else {
            float kv = p[d];
            if (a.has_bk) kv += bk[kvh * a.dh + d];
            if (a.key_mult != 1.0f) kv *= a.key_mult;
            p[d] = kv;
            if (a.has_bv) vp[d] += bv[kvh * a.dh + d];
        }
    }
    threadgroup_barrier(mem_flags::mem_device);
    const float pos = float(a.pos0 + t);
    for (int i = tid; i < half_d; i += nt) {
        const float inv = 1.0f / pow(a.theta, float(2 * i) / float(a.dh));
        const float ang = pos * inv;
        const float cs = precise::cos(ang), sn = precise::sin(ang);
        const float x0 = p[i], x1 = p[i + half_d];
        p[i] = x0 * cs - x1 * sn;
        p[i + half_d] = x1 * cs + x0 * sn;
    }
    if (is_q) return;
    threadgroup_barrier(mem_flags::mem_device);
    const ulong slot = (ulong(a.layer) * a.n_ctx + ulong(a.pos0 + t)) * a.kvd + ulong(kvh) * a.dh;
    for (int d = tid; d < a.dh; d += nt) {
        if (a.kv_f16) {
            ((device half *)kc)[slot + d] = half(p[d]);
            ((device half *)vc)[slot + d] = half(vp[d]);
        } else {
            ((device float *)kc)[slot + d] = p[d];
            ((device float *)vc)[slot + d] = vp[d];
        }
    }
}

// causal depthwise conv with carried state, then SiLU; one thread per (token, channel): input
// τ < 0 comes from the state (its K-1 rows, oldest first), τ ≥ 0 from this ubatch
static inline float conv_in(device const float *zx, constant conv_args &a, device const float *state, int tau, int ch) {
    return tau >= 0 ? zx[tau * a.Din + a.E + ch] : state[(tau + a.K - 1) * a.Cd + ch];
}
kernel void k_conv(device const float *zx [[buffer(0)]], device const float *w [[buffer(1)]], device const float *b [[buffer(2)]],
                   device const float *state [[buffer(3)]], device float *xbc [[buffer(4)]], constant conv_args &a [[buffer(5)]],
                   uint i [[thread_position_in_grid]]) {
    if (i >= uint(a.T * a.Cd)) return;
    const int t = int(i) / a.Cd, ch = int(i) % a.Cd;
    float s = w[ch * a.K] * conv_in(zx, a, state, t - (a.K - 1), ch);
    for (int k = 1; k < a.K; k++) s += w[ch * a.K + k] * conv_in(zx, a, state, t - (a.K - 1) + k, ch);
    if (a.has_b) s += b[ch];
    xbc[i] = s / (1.0f + exp(-s));
}
// after k_conv: the state becomes the last K-1 inputs (one thread per channel reads before writing)
kernel void k_conv_state(device const float *zx [[buffer(0)]], device float *state [[buffer(1)]], constant conv_args &a [[buffer(2)]],
                         uint ch [[thread_position_in_grid]]) {
    if (ch >= uint(a.Cd)) return;
    float last[8];
    for (int r = 0; r < a.K - 1; r++) last[r] = conv_in(zx, a, state, a.T - (a.K - 1) + r, ch);
    for (int r = 0; r < a.K - 1; r++) state[r * a.Cd + ch] = last[r];
}

// selective scan, one simdgroup per (head, p), lanes split the state (N ≤ 256): for each token
// s ← s·exp(Δ·A) + Δ·B·x, y = C·s + D·x
kernel void k_scan(device const float *xbc [[buffer(0)]], device const float *dt [[buffer(1)]], device const float *A [[buffer(2)]],
                   device const float *Dd [[buffer(3)]], device float *state [[buffer(4)]], device float *y [[buffer(5)]],
                   constant scan_args &a [[buffer(6)]], uint tg [[threadgroup_position_in_grid]], ushort sg [[simdgroup_index_in_threadgroup]],
                   ushort lane [[thread_index_in_simdgroup]], ushort nsg [[simdgroups_per_threadgroup]]) {
    const int wid = int(tg) * nsg + sg;
    if (wid >= a.H * a.P) return;
    const int h = wid / a.P, p = wid % a.P, g = h / (a.H / a.G);
    device float *S = state + (ulong(h) * a.P + p) * a.N;
    float s[8];
    const int per = (a.N + 31) / 32;
    for (int i = 0; i < per; i++) s[i] = lane + 32 * i < a.N ? S[lane + 32 * i] : 0.0f;
    for (int t = 0; t < a.T; t++) {
        device const float *xt = xbc + ulong(t) * a.Cd;
        const float delta = dt[t * a.H + h];
        const float dA = exp(delta * A[h]);
        const float x = xt[h * a.P + p];
        float acc = 0.0f;
        for (int i = 0; i < per; i++) {
            const int n = lane + 32 * i;
            if (n >= a.N) break;
            s[i] = s[i] * dA + (delta * xt[a.E + g * a.N + n]) * x;
            acc += s[i] * xt[a.E + a.G * a.N + g * a.N + n];
        }
        acc = simd_sum(acc);
        if (lane == 0) y[ulong(t) * a.E + h * a.P + p] = acc + Dd[h] * x;
    }
    for (int i = 0; i < per; i++)
        if (lane + 32 * i < a.N) S[lane + 32 * i] = s[i];
}

// Prefill scan in the chunked SSD form, as k_ssd_cb / k_ssd_state / k_scan_carry / k_ssd_out in
// CUDA (the comment there gives the algebra): per chunk of SSD_Q tokens, C·Bᵀ, the chunk's own end
// state, the chain of states, then y from the decayed intra-chunk product and the incoming state.
// Each product is a 64×64 f32 tile per 256-thread threadgroup, 4×4 outputs a thread, k through
// threadgroup memory 16 at a time (SSD_Q: args.h). Opt-in here (FALCON_H1_METAL_SSD=1) until a Mac
// has run it.

// one 16-deep slice of both operands of a tile, rows padded by 4 as in CUDA; 16-byte aligned for
// the float4 reads
struct alignas(16) ssd_tile {
    float a[16][68], b[16][68];
};

// Operands are functors (Metal has no lambdas): get(m, k) / get(k, n) reads the element (0 outside),
// scale(…, v) scales it on the way into threadgroup memory; kfast: consecutive k are adjacent in
// memory, so the reads coalesce.
template <typename OA, typename OB>
static void ssd_tile_mma(threadgroup ssd_tile &sm, thread float (&acc)[4][4], int K, OA oa, bool a_kfast, OB ob, bool b_kfast, ushort tid) {
    const int tm = tid / 16, tn = tid % 16;
    float ra[4] = {}, rb[4] = {};
    for (int k0 = -16; k0 < K; k0 += 16) {
        if (k0 >= 0) { // slice k0 into threadgroup memory
            for (int j = 0; j < 4; j++) {
                const int i = tid + 256 * j;
                const int am = a_kfast ? i / 16 : i % 64, ak = a_kfast ? i % 16 : i / 64;
                const int bn = b_kfast ? i / 16 : i % 64, bk = b_kfast ? i % 16 : i / 64;
                sm.a[ak][am] = k0 + ak < K ? oa.scale(am, k0 + ak, ra[j]) : 0.0f;
                sm.b[bk][bn] = k0 + bk < K ? ob.scale(k0 + bk, bn, rb[j]) : 0.0f;
            }
            threadgroup_barrier(mem_flags::mem_threadgroup);
        }
        if (k0 + 16 < K) // slice k0 + 16 into registers, in flight during the multiply-adds
            for (int j = 0; j < 4; j++) {
                const int i = tid + 256 * j;
                const int am = a_kfast ? i / 16 : i % 64, ak = k0 + 16 + (a_kfast ? i % 16 : i / 64);
                const int bn = b_kfast ? i / 16 : i % 64, bk = k0 + 16 + (b_kfast ? i % 16 : i / 64);
                ra[j] = ak < K ? oa.get(am, ak) : 0.0f;
                rb[j] = bk < K ? ob.get(bk, bn) : 0.0f;
            }
        if (k0 < 0) continue;
        for (int k = 0; k < 16; k++) {
            const float4 av = *(threadgroup const float4 *)&sm.a[k][4 * tm], bv = *(threadgroup const float4 *)&sm.b[k][4 * tn];
            const float ar[4] = {av.x, av.y, av.z, av.w}, br[4] = {bv.x, bv.y, bv.z, bv.w};
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) acc[i][j] = fma(ar[i], br[j], acc[i][j]);
        }
        threadgroup_barrier(mem_flags::mem_threadgroup);
    }
}

// A operand (m, k) = p[m·stride + k] for m < rows (C_l); ssd_op_rows_scaled also multiplies row m by s[m]
struct ssd_op_rows {
    device const float *p;
    int stride, rows;
    float get(int m, int k) const { return m < rows ? p[ulong(m) * stride + k] : 0.0f; }
    float scale(int, int, float v) const { return v; }
};
struct ssd_op_rows_scaled {
    device const float *p;
    int stride, rows;
    threadgroup const float *s;
    float get(int m, int k) const { return m < rows ? p[ulong(m) * stride + k] : 0.0f; }
    float scale(int m, int, float v) const { return s[m] * v; }
};
// B operand (k, n) = p[n·stride + k] for n < rows (B_s as (n, s); the state S[p] as (n, p))
struct ssd_op_rows_t {
    device const float *p;
    int stride, rows;
    float get(int k, int n) const { return n < rows ? p[ulong(n) * stride + k] : 0.0f; }
    float scale(int, int, float v) const { return v; }
};
// B operand (k, n) = p[k·stride + n] for n < cols: k is the token (B_s[n], x_s[p])
struct ssd_op_tokens {
    device const float *p;
    int stride, cols;
    float get(int k, int n) const { return n < cols ? p[ulong(k) * stride + n] : 0.0f; }
    float scale(int, int, float v) const { return v; }
};
// A operand (m, k) = w[k]·p[k·stride + m] for m < cols: x_s[p] weighted by exp(α_end − α_s)·Δ_s
struct ssd_op_tokens_t {
    device const float *p;
    int stride, cols;
    threadgroup const float *w;
    float get(int m, int k) const { return m < cols ? p[ulong(k) * stride + m] : 0.0f; }
    float scale(int, int k, float v) const { return w[k] * v; }
};
// A operand (l, s) = CB[l][s]·exp(α_l − α_s)·Δ_s for s ≤ l < q, else 0
struct ssd_op_decayed {
    device const float *cb;
    int q;
    threadgroup const float *alpha, *delta;
    float get(int l, int s) const { return s <= l && l < q ? cb[l * SSD_Q + s] : 0.0f; }
    float scale(int l, int s, float v) const { return s <= l ? v * exp(alpha[l] - alpha[s]) * delta[s] : 0.0f; }
};

// α and Δ of chunk c's q tokens for head h: simdgroup 0 scans Δ·A (lane i sums tokens 2i and 2i+1,
// then a shuffle scan over the lanes), in the order of CUDA's ssd_chunk_alpha
static int ssd_chunk_alpha(threadgroup float *alpha, threadgroup float *delta, device const float *dt, int c, int T, int H, int h, float Ah, ushort tid) {
    const int t0 = c * SSD_Q, q = min(SSD_Q, T - t0);
    if (tid < 32) {
        const int lane = tid, i0 = 2 * lane;
        const float d0 = i0 < q ? dt[ulong(t0 + i0) * H + h] : 0.0f, d1 = i0 + 1 < q ? dt[ulong(t0 + i0 + 1) * H + h] : 0.0f;
        const float a0 = d0 * Ah, a1 = a0 + d1 * Ah;
        float run = a1; // inclusive scan of the pair sums
        for (ushort o = 1; o < 32; o <<= 1) {
            const float v = simd_shuffle_up(run, o);
            if (lane >= o) run += v;
        }
        float before = simd_shuffle_up(run, ushort(1));
        if (lane == 0) before = 0.0f;
        alpha[i0] = before + a0, alpha[i0 + 1] = before + a1;
        delta[i0] = d0, delta[i0 + 1] = d1;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    return q;
}

// grid (chunks, G): CB[c][g][l][s] = C_l·B_s
kernel void k_ssd_cb(device const float *xbc [[buffer(0)]], device float *cb [[buffer(1)]], constant scan_args &a [[buffer(2)]],
                     uint3 tg [[threadgroup_position_in_grid]], ushort tid [[thread_index_in_threadgroup]]) {
    threadgroup ssd_tile sm;
    const int c = int(tg.x), g = int(tg.y), t0 = c * SSD_Q, q = min(SSD_Q, a.T - t0);
    device const float *Bm = xbc + ulong(t0) * a.Cd + a.E + g * a.N, *Cm = Bm + a.G * a.N;
    float acc[4][4] = {};
    ssd_tile_mma(sm, acc, a.N, ssd_op_rows{Cm, a.Cd, q}, true, ssd_op_rows_t{Bm, a.Cd, q}, true, tid);
    device float *out = cb + (ulong(c) * a.G + g) * SSD_Q * SSD_Q;
    const int tm = tid / 16, tn = tid % 16;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) out[(4 * tm + i) * SSD_Q + 4 * tn + j] = acc[i][j];
}

// grid (P tiles × N tiles, H, chunks): chunk c's own contribution to the state into cs[c] (plus
// the decayed cache state for chunk 0), and its decay exp(α_end)
kernel void k_ssd_state(device const float *xbc [[buffer(0)]], device const float *dt [[buffer(1)]], device const float *A [[buffer(2)]],
                        device const float *state [[buffer(3)]], device float *cs [[buffer(4)]], device float *decay [[buffer(5)]],
                        constant scan_args &a [[buffer(6)]], uint3 tg [[threadgroup_position_in_grid]], ushort tid [[thread_index_in_threadgroup]]) {
    threadgroup ssd_tile sm;
    threadgroup float alpha[SSD_Q], delta[SSD_Q], w[SSD_Q];
    const int nt = (a.N + 63) / 64, p0 = int(tg.x) / nt * 64, n0 = int(tg.x) % nt * 64, h = int(tg.y), c = int(tg.z), g = h / (a.H / a.G);
    const int q = ssd_chunk_alpha(alpha, delta, dt, c, a.T, a.H, h, A[h], tid);
    const float aend = alpha[q - 1];
    if (tid < SSD_Q) w[tid] = tid < q ? exp(aend - alpha[tid]) * delta[tid] : 0.0f;
    threadgroup_barrier(mem_flags::mem_threadgroup);
    device const float *xs = xbc + ulong(c) * SSD_Q * a.Cd;
    float acc[4][4] = {};
    ssd_tile_mma(sm, acc, q, ssd_op_tokens_t{xs + h * a.P + p0, a.Cd, a.P - p0, w}, false, ssd_op_tokens{xs + a.E + g * a.N + n0, a.Cd, a.N - n0}, false,
                 tid);
    const ulong hpn = ulong(a.H) * a.P * a.N;
    const float dend = exp(aend);
    const int tm = tid / 16, tn = tid % 16;
    for (int i = 0; i < 4; i++) {
        const int p = p0 + 4 * tm + i;
        if (p >= a.P) break;
        for (int j = 0; j < 4; j++) {
            const int n = n0 + 4 * tn + j;
            if (n >= a.N) break;
            const ulong at = (ulong(h) * a.P + p) * a.N + n;
            cs[c * hpn + at] = c == 0 ? acc[i][j] + dend * state[at] : acc[i][j];
        }
    }
    if (tg.x == 0 && tid == 0) decay[ulong(c) * a.H + h] = dend;
}

// one thread per state element: walks the chunks in order, leaving each chunk's start state in
// cs[c] (chunk 0's is the cache's) and the final state in the cache
kernel void k_scan_carry(device float *cs [[buffer(0)]], device const float *decay [[buffer(1)]], device float *state [[buffer(2)]],
                         constant carry_args &a [[buffer(3)]], uint i [[thread_position_in_grid]]) {
    const ulong hpn = ulong(a.per_head) * a.H;
    if (i >= hpn) return;
    const int h = int(i / ulong(a.per_head));
    float S = cs[i]; // end of chunk 0, which started from the cache's state
    cs[i] = state[i];
    for (int c = 1; c < a.C; c++) {
        const float local = cs[c * hpn + i];
        cs[c * hpn + i] = S;
        S = local + decay[ulong(c) * a.H + h] * S;
    }
    state[i] = S;
}

// grid (P tiles, H, chunks): y of chunk c, head h, 64 channels; cs[c] holds the chunk's start state
kernel void k_ssd_out(device const float *xbc [[buffer(0)]], device const float *dt [[buffer(1)]], device const float *A [[buffer(2)]],
                      device const float *Dd [[buffer(3)]], device const float *cb [[buffer(4)]], device const float *cs [[buffer(5)]], device float *y [[buffer(6)]],
                      constant scan_args &a [[buffer(7)]], uint3 tg [[threadgroup_position_in_grid]], ushort tid [[thread_index_in_threadgroup]]) {
    threadgroup ssd_tile sm;
    threadgroup float alpha[SSD_Q], delta[SSD_Q], ea[SSD_Q];
    const int p0 = int(tg.x) * 64, h = int(tg.y), c = int(tg.z), g = h / (a.H / a.G);
    const int q = ssd_chunk_alpha(alpha, delta, dt, c, a.T, a.H, h, A[h], tid);
    if (tid < SSD_Q) ea[tid] = tid < q ? exp(alpha[tid]) : 0.0f;
    threadgroup_barrier(mem_flags::mem_threadgroup);
    device const float *xs = xbc + ulong(c) * SSD_Q * a.Cd, *CB = cb + (ulong(c) * a.G + g) * SSD_Q * SSD_Q;
    device const float *S = cs + ulong(c) * a.H * a.P * a.N + ulong(h) * a.P * a.N;
    float acc[4][4] = {};
    // inside the chunk: (L ∘ CB)·(Δ·x)
    ssd_tile_mma(sm, acc, q, ssd_op_decayed{CB, q, alpha, delta}, true, ssd_op_tokens{xs + h * a.P + p0, a.Cd, a.P - p0}, false, tid);
    // the state entering the chunk: exp(α_l)·C_l·S
    ssd_tile_mma(sm, acc, a.N, ssd_op_rows_scaled{xs + a.E + a.G * a.N + g * a.N, a.Cd, q, ea}, true, ssd_op_rows_t{S + ulong(p0) * a.N, a.N, a.P - p0}, true, tid);
    const float Dh = Dd[h];
    const int tm = tid / 16, tn = tid % 16;
    for (int i = 0; i < 4; i++) {
        const int l = 4 * tm + i;
        if (l >= q) break;
        for (int j = 0; j < 4; j++) {
            const int p = p0 + 4 * tn + j;
            if (p >= a.P) break;
            y[ulong(c * SSD_Q + l) * a.E + h * a.P + p] = acc[i][j] + Dh * xs[ulong(l) * a.Cd + h * a.P + p];
        }
    }
}

// y ← y ⊙ silu(z), with or without the grouped RMSNorm before or after the gate; one
// threadgroup per (token, group)
kernel void k_gate(device float *y [[buffer(0)]], device const float *zx [[buffer(1)]], device const float *w [[buffer(2)]],
                   constant gate_args &a [[buffer(3)]], uint tg [[threadgroup_position_in_grid]], ushort tid [[thread_position_in_threadgroup]],
                   ushort nt [[threads_per_threadgroup]]) {
    threadgroup float part[32];
    const int t = int(tg) / a.G, g = int(tg) % a.G, gs = a.E / a.G;
    device float *yr = y + ulong(t) * a.E + g * gs;
    device const float *z = zx + ulong(t) * a.Din + g * gs;
    if (!a.rms || !a.before)
        for (int i = tid; i < gs; i += nt) yr[i] *= z[i] / (1.0f + exp(-z[i]));
    if (!a.rms) return;
    threadgroup_barrier(mem_flags::mem_device);
    float ss = 0.0f;
    for (int i = tid; i < gs; i += nt) ss += yr[i] * yr[i];
    const float r = 1.0f / sqrt(group_sum(ss, part, tid, nt) / gs + a.eps);
    for (int i = tid; i < gs; i += nt) {
        float v = w[g * gs + i] * (yr[i] * r);
        if (a.before) v *= z[i] / (1.0f + exp(-z[i]));
        yr[i] = v;
    }
}

// causal attention against the KV cache, online softmax. One threadgroup per (token, query
// head): its simdgroups (up to ATT_SG) take interleaved keys, lanes split the head dimension (≤ 256), and the
// partial softmax states are merged at the end (flash-decoding style, as k_attn in CUDA).
#define ATT_SG 8
static inline float kvload(device const uchar *p, ulong i, int f16) { return f16 ? float(((device const half *)p)[i]) : ((device const float *)p)[i]; }
kernel void k_attn(device const float *q [[buffer(0)]], device const uchar *kc [[buffer(1)]], device const uchar *vc [[buffer(2)]],
                   device float *out [[buffer(3)]], constant attn_args &a [[buffer(4)]], uint tg [[threadgroup_position_in_grid]],
                   ushort sg [[simdgroup_index_in_threadgroup]], ushort lane [[thread_index_in_simdgroup]],
                   ushort nsg [[simdgroups_per_threadgroup]]) {
    threadgroup float sm[ATT_SG], sl[ATT_SG], sacc[ATT_SG][256];
    const int t = int(tg) / a.nh, j = int(tg) % a.nh;
    const int kvh = j / (a.nh / a.nkv), kvd = a.nkv * a.dh, n = a.pos0 + t + 1, per = (a.dh + 31) / 32;
    const float scale = 1.0f / sqrt(float(a.dh));
    device const float *qt = q + ulong(t) * a.nh * a.dh + j * a.dh;
    float qv[8], acc[8];
    for (int i = 0; i < per; i++) {
        const int d = lane + 32 * i;
        qv[i] = d < a.dh ? qt[d] : 0.0f;
        acc[i] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    const ulong base = ulong(a.layer) * a.n_ctx * kvd + ulong(kvh) * a.dh;
    for (int s = sg; s < n; s += nsg) {
        float part = 0.0f;
        for (int i = 0; i < per; i++) {
            const int d = lane + 32 * i;
            if (d < a.dh) part += kvload(kc, base + ulong(s) * kvd + d, a.kv_f16) * qv[i];
        }
        const float sc = simd_sum(part) * scale;
        const float mn = max(m, sc), corr = exp(m - mn), ps = exp(sc - mn);
        l = l * corr + ps;
        for (int i = 0; i < per; i++) {
            const int d = lane + 32 * i;
            acc[i] = acc[i] * corr + (d < a.dh ? ps * kvload(vc, base + ulong(s) * kvd + d, a.kv_f16) : 0.0f);
        }
        m = mn;
    }
    if (lane == 0) {
        sm[sg] = m;
        sl[sg] = l;
    }
    for (int i = 0; i < per; i++) {
        const int d = lane + 32 * i;
        if (d < a.dh) sacc[sg][d] = acc[i];
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    if (sg != 0) return;
    float M = -INFINITY;
    for (int k = 0; k < nsg; k++) M = max(M, sm[k]);
    float L = 0.0f;
    for (int k = 0; k < nsg; k++) L += sm[k] == -INFINITY ? 0.0f : sl[k] * exp(sm[k] - M);
    for (int i = 0; i < per; i++) {
        const int d = lane + 32 * i;
        if (d >= a.dh) continue;
        float o = 0.0f;
        for (int k = 0; k < nsg; k++)
            if (sm[k] != -INFINITY) o += sacc[k][d] * exp(sm[k] - M);
        out[ulong(t) * a.nh * a.dh + j * a.dh + d] = o / L;
    }
}

kernel void k_residual2(device float *x [[buffer(0)]], device const float *s [[buffer(1)]], device const float *bs [[buffer(2)]],
                        device const float *av [[buffer(3)]], device const float *ba [[buffer(4)]], constant residual2_args &a [[buffer(5)]],
                        uint i [[thread_position_in_grid]]) {
    if (i >= uint(a.D * a.T)) return;
    const int c = int(i) % a.D;
    const float sv = (s[i] + (a.has_bs ? bs[c] : 0.0f)) * a.ms;
    const float at = (av[i] + (a.has_ba ? ba[c] : 0.0f)) * a.ma;
    x[i] = x[i] + (sv + at);
}

// h = (up + b_up) ⊙ silu((gate + b_gate)·m_gate), written into up
kernel void k_swiglu(device const float *g [[buffer(0)]], device float *u [[buffer(1)]], device const float *gb [[buffer(2)]],
                     device const float *ub [[buffer(3)]], constant swiglu_args &a [[buffer(4)]], uint i [[thread_position_in_grid]]) {
    if (i >= uint(a.F * a.T)) return;
    const int c = int(i) % a.F;
    float gv = g[i] + (a.has_gb ? gb[c] : 0.0f);
    if (a.gm != 1.0f) gv *= a.gm;
    const float uv = u[i] + (a.has_ub ? ub[c] : 0.0f);
    u[i] = uv * (gv / (1.0f + exp(-gv)));
}

kernel void k_residual1(device float *x [[buffer(0)]], device const float *f [[buffer(1)]], device const float *b [[buffer(2)]],
                        constant residual1_args &a [[buffer(3)]], uint i [[thread_position_in_grid]]) {
    if (i >= uint(a.D * a.T)) return;
    x[i] += (f[i] + (a.has_b ? b[int(i) % a.D] : 0.0f)) * a.m;
}

kernel void k_scale(device float *x [[buffer(0)]], constant scale_args &a [[buffer(1)]], uint i [[thread_position_in_grid]]) {
    if (i < uint(a.n)) x[i] *= a.m;
}

// greedy choice on the GPU (the first index of the maximum, as fh1_sampler_sample): one
// threadgroup over the row, so only the id crosses to the host
kernel void k_argmax(device const float *logits [[buffer(0)]], device int *out [[buffer(1)]], constant argmax_args &a [[buffer(2)]],
                     ushort tid [[thread_position_in_threadgroup]], ushort nt [[threads_per_threadgroup]], ushort lane [[thread_index_in_simdgroup]],
                     ushort sg [[simdgroup_index_in_threadgroup]]) {
    threadgroup float bv[32];
    threadgroup int bi[32];
    float best = -INFINITY;
    int idx = a.V;
    for (int i = tid; i < a.V; i += nt)
        if (logits[i] > best || idx == a.V) best = logits[i], idx = i;
    for (ushort o = 16; o; o >>= 1) {
        const float ov = simd_shuffle_xor(best, o);
        const int oi = simd_shuffle_xor(idx, o);
        if (ov > best || (ov == best && oi < idx)) best = ov, idx = oi;
    }
    if (lane == 0) bv[sg] = best, bi[sg] = idx;
    threadgroup_barrier(mem_flags::mem_threadgroup);
    if (tid != 0) return;
    for (int k = 1; k < (nt + 31) / 32; k++)
        if (bv[k] > best || (bv[k] == best && bi[k] < idx)) best = bv[k], idx = bi[k];
    *out = idx;
}

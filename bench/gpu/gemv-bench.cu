// Decode's 16-bit GEMV kernels (csrc/cuda/backend.cu) timed one by one at a model's real shapes,
// in every block shape worth trying: rows per block R, warps per block NW (splitting K), 16-byte
// loads in flight per row and lane U. Each launch reads a copy of the weights the launches just
// before it did not touch (a ring larger than L2), so the rates are DRAM rates, as in decode; no
// graph and no programmatic launch, so a kernel's ramp and tail are in its time.
// The decode step's launches in order, what each costs at the default shape, and the best shape
// found for it: where decode leaves bandwidth unused (bench/README.md, "Where a decode step goes").
//
//   nvcc -O3 -std=c++17 -arch=sm_90a -o /tmp/gemv-bench bench/gpu/gemv-bench.cu && /tmp/gemv-bench 7b
#include "../../csrc/cuda/backend.cu"
#include "copy-bw.cuh"

namespace {

struct model_shape {
    const char *name;
    int D, layers, in_rows, qd, kvd, F, E; // in_rows: Mamba in_proj rows (z, xBC, dt)
};
const model_shape SHAPES[] = {
    {"0.5b", 1024, 36, 3352, 512, 128, 2048, 1536},
    {"1.5b-deep", 1280, 66, 3608, 768, 256, 3072, 1536},
    {"7b", 3072, 44, 6680, 1536, 256, 12288, 3072},
};

#define CHECK(x)                                                                                \
    do {                                                                                        \
        cudaError_t e_ = (x);                                                                   \
        if (e_ != cudaSuccess) {                                                                \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, cudaGetErrorString(e_));         \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

// `copies` copies of a rows × cols BF16 matrix, enough that a ring of launches over them reads
// at least 256 MB between two uses of one copy (L2 is 50-60 MB on H100/H200)
struct weights {
    std::vector<uint8_t *> copies;
    int rows, cols;
    size_t bytes() const { return (size_t)rows * cols * 2; }
    dmat at(int i) const { return dmat{copies[i % copies.size()], GGML_TYPE_BF16, rows, cols, (size_t)cols * 2}; }
};
weights make_weights(int rows, int cols, size_t ring_bytes) {
    weights w;
    w.rows = rows, w.cols = cols;
    const size_t n = std::max<size_t>(2, (ring_bytes + w.bytes() - 1) / w.bytes());
    for (size_t i = 0; i < n; i++) {
        uint8_t *p;
        CHECK(cudaMalloc(&p, w.bytes()));
        CHECK(cudaMemset(p, 0x3c, w.bytes())); // bf16 0x3c3c ≈ 0.0115: finite sums
        w.copies.push_back(p);
    }
    return w;
}

float *device_floats(size_t n, float v) {
    std::vector<float> h(n, v);
    float *p;
    CHECK(cudaMalloc(&p, n * 4));
    CHECK(cudaMemcpy(p, h.data(), n * 4, cudaMemcpyHostToDevice));
    return p;
}

// µs per launch of launch(i) for i = 0, 1, ... (launch i reads copy i of its weights)
template <typename F> double time_us(F launch, int reps = 60) {
    for (int i = 0; i < 8; i++) launch(i);
    cudaEvent_t a, b;
    CHECK(cudaEventCreate(&a));
    CHECK(cudaEventCreate(&b));
    CHECK(cudaEventRecord(a));
    for (int i = 0; i < reps; i++) launch(i);
    CHECK(cudaEventRecord(b));
    CHECK(cudaEventSynchronize(b));
    CHECK(cudaGetLastError());
    float ms;
    CHECK(cudaEventElapsedTime(&ms, a, b));
    return 1e3 * ms / reps;
}

struct result {
    std::string shape;
    double us;
};

// the Mamba in-projection with q/k/v (one k_gemv_set launch, the RMSNorm folded: NORM) or the
// down projection with its residual add (one matrix, y += W·x)
template <int R, int NW, int U, bool NORM> double time_set(const std::vector<const weights *> &ws, const float *x, const float *g, float *y, const float *add_b) {
    return time_us([&](int i) {
        gemv_set s = {};
        for (const weights *w : ws) {
            s.W[s.n] = w->at(i), s.x[s.n] = x, s.y[s.n] = y;
            s.norm[s.n] = row_norm{g, 1e-5f, 1.0f};
            s.add[s.n] = add_b ? row_add{add_b, 1.0f} : row_add{};
            s.first[s.n + 1] = s.first[s.n] + (w->rows + R - 1) / R;
            s.n++;
        }
        k_gemv_set<R, NW, U, NORM><<<s.first[s.n], 32 * NW>>>(s);
    });
}

template <int NW, int U> double time_swiglu(const weights &gate, const weights &up, const float *x, const float *g, float *h) {
    return time_us([&](int i) { k_gemv_swiglu<NW, U, true><<<gate.rows, 32 * NW>>>(gate.at(i), up.at(i), x, h, nullptr, nullptr, 1.0f, row_norm{g, 1e-5f, 1.0f}); });
}

template <int NW, int U = 1> double time_out_pair(const weights &so, const weights &wo, const float *ys, const float *ya, float *x) {
    return time_us([&](int i) { k_gemv_out_pair<NW, U><<<(so.rows + GEMV_ROWS - 1) / GEMV_ROWS, 32 * NW>>>(so.at(i), ys, nullptr, 1.0f, wo.at(i), ya, nullptr, 1.0f, x); });
}

void report(const char *what, size_t bytes, const std::vector<result> &rs, int layers, double bw, double *dflt_sum, double *best_sum) {
    const double roof = bytes / bw * 1e6;
    const result *best = &rs[0];
    for (const result &r : rs)
        if (r.us < best->us) best = &r;
    printf("%-34s %7.1f MB  roofline %6.1f us\n", what, bytes / 1e6, roof);
    for (const result &r : rs)
        printf("    %-22s %7.1f us  %5.0f GB/s  %4.0f%%%s\n", r.shape.c_str(), r.us, bytes / r.us / 1e3, 100 * roof / r.us, &r == best ? "  <- best" : (&r == &rs[0] ? "  (default)" : ""));
    *dflt_sum += rs[0].us * layers;
    *best_sum += best->us * layers;
}

} // namespace

int main(int argc, char **argv) {
    const char *want = argc > 1 ? argv[1] : "7b";
    const model_shape *m = nullptr;
    for (const model_shape &s : SHAPES)
        if (!strcmp(s.name, want)) m = &s;
    if (!m) {
        fprintf(stderr, "usage: gemv-bench [0.5b|1.5b-deep|7b]\n");
        return 2;
    }
    cudaDeviceProp prop;
    CHECK(cudaGetDeviceProperties(&prop, 0));
    const double bw = hbm_copy_bw(); // the roofline of every line below
    printf("%s, %s shapes, HBM copy %.0f GB/s; BF16 weights, R rows a block, NW warps a block, U loads in flight per row and lane\n", prop.name, m->name, bw / 1e9);
    const size_t ring = 256u << 20;
    const int D = m->D, F = m->F;
    weights ssm_in = make_weights(m->in_rows, D, ring), wq = make_weights(m->qd, D, ring), wk = make_weights(m->kvd, D, ring), wv = make_weights(m->kvd, D, ring);
    weights ssm_out = make_weights(D, m->E, ring), wo = make_weights(D, m->qd, ring);
    weights gate = make_weights(F, D, ring), up = make_weights(F, D, ring), down = make_weights(D, F, ring);
    const int kmax = std::max({D, F, m->E, m->qd});
    float *x = device_floats(kmax, 0.5f), *g = device_floats(kmax, 1.0f), *b = device_floats(kmax, 0.0f);
    float *y = device_floats((size_t)m->in_rows + m->qd + 2 * m->kvd + F, 0.0f), *xr = device_floats(D, 0.0f);
    double dflt = 0, best = 0;

    const std::vector<const weights *> in = {&ssm_in, &wq, &wk, &wv};
    const size_t in_bytes = ssm_in.bytes() + wq.bytes() + wk.bytes() + wv.bytes();
    report("in-projections (norm folded)", in_bytes,
           {{"R2 NW4 U1", time_set<2, 4, 1, true>(in, x, g, y, nullptr)},
            {"R2 NW4 U2", time_set<2, 4, 2, true>(in, x, g, y, nullptr)},
            {"R2 NW8 U1", time_set<2, 8, 1, true>(in, x, g, y, nullptr)},
            {"R2 NW8 U2", time_set<2, 8, 2, true>(in, x, g, y, nullptr)},
            {"R4 NW4 U1", time_set<4, 4, 1, true>(in, x, g, y, nullptr)},
            {"R4 NW8 U1", time_set<4, 8, 1, true>(in, x, g, y, nullptr)},
            {"R1 NW4 U2", time_set<1, 4, 2, true>(in, x, g, y, nullptr)},
            {"R1 NW8 U2", time_set<1, 8, 2, true>(in, x, g, y, nullptr)}},
           m->layers, bw, &dflt, &best);
    report("out_proj + o_proj pair (+ residual)", ssm_out.bytes() + wo.bytes(),
           {{"R2 NW4 U1", time_out_pair<4>(ssm_out, wo, x, x, xr)},
            {"R2 NW4 U2", time_out_pair<4, 2>(ssm_out, wo, x, x, xr)},
            {"R2 NW8 U1", time_out_pair<8>(ssm_out, wo, x, x, xr)},
            {"R2 NW8 U2", time_out_pair<8, 2>(ssm_out, wo, x, x, xr)},
            {"R2 NW16 U1", time_out_pair<16>(ssm_out, wo, x, x, xr)}},
           m->layers, bw, &dflt, &best);
    report("gate + up, SwiGLU (norm folded)", gate.bytes() + up.bytes(),
           {{"NW4 U1", time_swiglu<4, 1>(gate, up, x, g, y)},
            {"NW4 U2", time_swiglu<4, 2>(gate, up, x, g, y)},
            {"NW8 U1", time_swiglu<8, 1>(gate, up, x, g, y)},
            {"NW8 U2", time_swiglu<8, 2>(gate, up, x, g, y)},
            {"NW2 U1", time_swiglu<2, 1>(gate, up, x, g, y)},
            {"NW2 U2", time_swiglu<2, 2>(gate, up, x, g, y)},
            {"NW1 U2", time_swiglu<1, 2>(gate, up, x, g, y)},
            {"NW1 U4", time_swiglu<1, 4>(gate, up, x, g, y)}},
           m->layers, bw, &dflt, &best);
    const std::vector<const weights *> dn = {&down};
    report("down (+ residual)", down.bytes(),
           {{"R2 NW4 U1", time_set<2, 4, 1, false>(dn, x, g, xr, b)},
            {"R2 NW4 U2", time_set<2, 4, 2, false>(dn, x, g, xr, b)},
            {"R2 NW4 U4", time_set<2, 4, 4, false>(dn, x, g, xr, b)},
            {"R2 NW8 U1", time_set<2, 8, 1, false>(dn, x, g, xr, b)},
            {"R2 NW8 U2", time_set<2, 8, 2, false>(dn, x, g, xr, b)},
            {"R1 NW8 U2", time_set<1, 8, 2, false>(dn, x, g, xr, b)},
            {"R1 NW16 U1", time_set<1, 16, 1, false>(dn, x, g, xr, b)},
            {"R2 NW16 U1", time_set<2, 16, 1, false>(dn, x, g, xr, b)},
            {"R4 NW4 U2", time_set<4, 4, 2, false>(dn, x, g, xr, b)},
            {"R4 NW8 U1", time_set<4, 8, 1, false>(dn, x, g, xr, b)}},
           m->layers, bw, &dflt, &best);
    printf("GEMVs of all %d layers: %.2f ms a token at the default shapes, %.2f ms at the best shape of each\n", m->layers, dflt / 1e3, best / 1e3);
    return 0;
}

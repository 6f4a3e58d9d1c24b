// The HBM roofline of the GPU benchmarks: device-to-device copy bandwidth (bytes read + written
// per second) of 4 GiB buffers, 5 copies after a warm-up one; used by bw.cu and gemv-bench.cu.
#pragma once
#include <cuda_runtime.h>
inline double hbm_copy_bw() {
    const size_t n = 4ull << 30;
    void *a, *b;
    cudaMalloc(&a, n);
    cudaMalloc(&b, n);
    cudaMemset(a, 1, n);
    cudaEvent_t s, e;
    cudaEventCreate(&s);
    cudaEventCreate(&e);
    cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice);
    cudaEventRecord(s);
    for (int i = 0; i < 5; i++) cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice);
    cudaEventRecord(e);
    cudaEventSynchronize(e);
    float ms;
    cudaEventElapsedTime(&ms, s, e);
    cudaFree(a);
    cudaFree(b);
    cudaEventDestroy(s);
    cudaEventDestroy(e);
    return 2.0 * 5 * n / (ms / 1e3);
}

#include <cstdio>
#include <cuda_runtime.h>
int main(){ size_t n=4ull<<30; void *a,*b; cudaMalloc(&a,n); cudaMalloc(&b,n); cudaMemset(a,1,n);
 cudaEvent_t s,e; cudaEventCreate(&s); cudaEventCreate(&e); cudaMemcpy(b,a,n,cudaMemcpyDeviceToDevice);
 cudaEventRecord(s); for(int i=0;i<5;i++) cudaMemcpy(b,a,n,cudaMemcpyDeviceToDevice); cudaEventRecord(e); cudaEventSynchronize(e);
 float ms; cudaEventElapsedTime(&ms,s,e); printf("HBM copy bandwidth: %.0f GB/s\n", 2.0*5*n/(ms/1e3)/1e9); }

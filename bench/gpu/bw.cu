#include <cstdio>
#include "copy-bw.cuh"
int main() { printf("HBM copy bandwidth: %.0f GB/s\n", hbm_copy_bw() / 1e9); }

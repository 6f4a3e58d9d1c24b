// int8-dot.ts with the AVX2 kernels forced (the kernel table is chosen once per process).
process.env.FALCON_H1_SIMD = 'avx2';
const { int8DotSuite } = await import('./int8-dot.js');

int8DotSuite();

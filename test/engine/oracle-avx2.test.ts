// The same oracle with the AVX2 kernels forced on an AVX-512 machine (the kernel table is chosen
// once per process); on an AVX2-only machine oracle.test.ts already runs them, elsewhere there are none.
process.env.FALCON_H1_SIMD = 'avx2';
const { simdName } = await import('../../src/engine/engine.js');
const { oracleSuite } = await import('./oracle.js');
const { describe } = await import('vitest');

describe.skipIf(simdName() !== 'avx2')('AVX2 kernels', () => {
  oracleSuite({ long16k: false });
});

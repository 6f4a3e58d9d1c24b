// The same oracle with the scalar fallback forced (the kernel table is chosen once per process).
process.env.FALCON_H1_SIMD = 'scalar';
const { simdName } = await import('../../src/engine/engine.js');
const { oracleSuite } = await import('./oracle.js');
const { it, expect } = await import('vitest');

it('runs the scalar kernels', () => {
  expect(simdName()).toBe('scalar');
});
oracleSuite({ long16k: false });

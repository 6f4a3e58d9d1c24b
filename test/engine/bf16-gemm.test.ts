// FALCON_H1_BF16_GEMM=1: prefill multiplies BF16 weights by activations rounded to bf16
// (vdpbf16ps; opt-in, the default keeps f32 activations). The switch is read once per process,
// so this file sets it before the engine loads.
process.env.FALCON_H1_BF16_GEMM = '1';
const { readFileSync } = await import('node:fs');
const { describe, expect, it } = await import('vitest');
const { Model, simdName } = await import('../../src/engine/engine.js');
const { convertedFixture, maxDiff, readLogits, referenceCases } = await import('../helpers/fixtures.js');

// Rounding every activation to bf16 (2^-9 relative) moves these logits by 1.5e-3 to 3.1e-3 of
// their scale: the CUDA prefill's default, which rounds the same way, measured that on these cases.
const BF16_ACTIVATIONS = 5e-3;
const EXACT = 2e-5;

const hasBf16 = process.platform === 'linux' && /\bavx512_bf16\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) && simdName() === 'avx512';

describe.skipIf(!hasBf16)('BF16 weights on bf16 activations (needs AVX512_BF16)', () => {
  for (const keep of [true, false]) {
    it(`tiny-a bf16${keep ? ' --keep-multipliers' : ' folded'}: prefill within ${BF16_ACTIVATIONS} of HF, and really on bf16 activations`, async () => {
      const c = referenceCases('tiny-a').find((r) => r.name === 'long')!;
      const ref = readLogits('tiny-a', c.logits_file);
      const model = await Model.load(await convertedFixture('tiny-a', 'bf16', keep));
      const n = c.input_ids.length;
      const ctx = model.newContext({ ctxSize: n, kvType: 'f32' });
      const prefill = await ctx.decode(c.input_ids, { allLogits: true });
      const p = maxDiff(prefill, ref);
      expect(p.diff, `prefill: ${p.diff} vs ${BF16_ACTIVATIONS} × ${p.scale}`).toBeLessThanOrEqual(BF16_ACTIVATIONS * p.scale);
      // one token at a time never takes the GEMM: f32 activations, so the f32-grade bound holds there
      // and the prefill must differ from it by more than f32 rounding
      ctx.reset();
      const rows = new Float32Array(ref.length);
      for (let i = 0; i < n; i++) rows.set(await ctx.decode([c.input_ids[i]]), i * model.info.nVocab);
      const d = maxDiff(rows, ref);
      expect(d.diff).toBeLessThanOrEqual((keep ? EXACT : 3e-3) * d.scale);
      expect(maxDiff(prefill, rows).diff).toBeGreaterThan(EXACT * d.scale);
      ctx.free();
      model.free();
    });
  }
});

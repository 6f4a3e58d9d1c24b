// The CPU prefill multiplies BF16 weights by activations rounded to bf16 (vdpbf16ps) on CPUs with
// AVX512_BF16: by default for folded files (llama.cpp's layout) except the output head, on AMD
// only (on Intel the f32 path is faster); files with kept multipliers stay on f32 activations.
// FALCON_H1_BF16_GEMM=0 / =1 force it off / on everywhere. The switch is read when a model loads.
import { afterEach, describe, expect, it } from 'vitest';
import { Model } from '../../src/engine/engine.js';
import { hasBf16Dot, hasBf16Prefill } from '../helpers/cpu.js';
import { convertedFixture, maxDiff, readLogits, referenceCases } from '../helpers/fixtures.js';

// the fixtures' bounds: folded bf16 files 3e-3 of the logit scale, kept-multiplier files 2e-5
const FOLDED = 3e-3;
const EXACT = 2e-5;
// forced onto every matrix, head included: each activation rounded (2^-9 relative) moves these
// logits by 1.5e-3 to 3.1e-3 of their scale, as the CUDA prefill's default does
const FORCED = 5e-3;

async function prefillAndSteps(path: string, ids: number[]) {
  const model = await Model.load(path);
  const ctx = model.newContext({ ctxSize: ids.length, kvType: 'f32' });
  const backend = ctx.backend;
  const prefill = await ctx.decode(ids, { allLogits: true });
  // one token at a time never takes the GEMM: f32 activations whatever the file
  ctx.reset();
  const steps = new Float32Array(prefill.length);
  for (let i = 0; i < ids.length; i++) steps.set(await ctx.decode([ids[i]]), i * model.info.nVocab);
  ctx.free();
  model.free();
  return { backend, prefill, steps };
}

describe.skipIf(!hasBf16Dot())('BF16 prefill on bf16 activations (needs AVX512_BF16)', () => {
  afterEach(() => {
    delete process.env.FALCON_H1_BF16_GEMM;
  });

  for (const c of referenceCases('tiny-a')) {
    it(`folded tiny-a bf16, ${c.name}: on by default where faster (AMD), within the folded bound, off with FALCON_H1_BF16_GEMM=0`, async () => {
      const ref = readLogits('tiny-a', c.logits_file);
      const path = await convertedFixture('tiny-a', 'bf16');
      const byDefault = await prefillAndSteps(path, c.input_ids);
      expect(byDefault.backend).toBe(hasBf16Prefill() ? 'cpu avx512 (bf16 prefill)' : 'cpu avx512');
      const p = maxDiff(byDefault.prefill, ref);
      expect(p.diff, `prefill: ${p.diff} vs ${FOLDED} × ${p.scale}`).toBeLessThanOrEqual(FOLDED * p.scale);
      expect(maxDiff(byDefault.steps, ref).diff).toBeLessThanOrEqual(FOLDED * p.scale);
      process.env.FALCON_H1_BF16_GEMM = '0';
      const off = await prefillAndSteps(path, c.input_ids);
      expect(off.backend).toBe('cpu avx512');
      // the steps are the same f32 arithmetic either way; the prefills differ by the rounding
      expect(maxDiff(off.steps, byDefault.steps).diff).toBe(0);
      const rounding = maxDiff(byDefault.prefill, off.prefill).diff;
      if (hasBf16Prefill()) expect(rounding).toBeGreaterThan(EXACT * p.scale);
      else expect(rounding).toBe(0);
      expect(maxDiff(off.prefill, ref).diff).toBeLessThanOrEqual(FOLDED * p.scale);
    });
  }

  it('kept-multiplier tiny-a bf16: f32 activations by default (2e-5), bf16 when forced with FALCON_H1_BF16_GEMM=1', async () => {
    const c = referenceCases('tiny-a').find((r) => r.name === 'long')!;
    const ref = readLogits('tiny-a', c.logits_file);
    const path = await convertedFixture('tiny-a', 'bf16', true);
    const exact = await prefillAndSteps(path, c.input_ids);
    expect(exact.backend).toBe('cpu avx512');
    const e = maxDiff(exact.prefill, ref);
    expect(e.diff).toBeLessThanOrEqual(EXACT * e.scale);
    process.env.FALCON_H1_BF16_GEMM = '1';
    const forced = await prefillAndSteps(path, c.input_ids);
    expect(forced.backend).toBe('cpu avx512 (bf16 prefill)');
    const f = maxDiff(forced.prefill, ref);
    expect(f.diff, `prefill: ${f.diff} vs ${FORCED} × ${f.scale}`).toBeLessThanOrEqual(FORCED * f.scale);
    expect(f.diff).toBeGreaterThan(EXACT * f.scale);
    expect(maxDiff(forced.steps, ref).diff).toBeLessThanOrEqual(EXACT * f.scale);
  });
});

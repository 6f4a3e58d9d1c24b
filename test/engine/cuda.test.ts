// CUDA: without a GPU (CI), asking for it fails cleanly and `auto` falls back to the CPU; with a
// GPU the oracle runs on it. The GPU half is skipped only when no GPU is present, and says so.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Model, cudaDevices } from '../../src/engine/engine.js';
import { convertedFixture, maxDiff, readLogits, referenceCases } from '../helpers/fixtures.js';

// the HF bounds need f32-grade prefill matmuls (the default rounds activations to bf16)
process.env.FALCON_H1_CUDA_TC = 'split';
const gpus = cudaDevices();
if (!gpus) console.log('cuda.test: no CUDA device here: the GPU oracle is skipped (run bench/gpu/run.sh on a GPU machine)');

describe('CUDA backend', () => {
  it('the C drivers of the GPU machine (no Node there) compile against the current headers', () => {
    for (const f of ['bench/gpu/gemv-check.c', 'bench/gpu/sample-check.c', 'bench/gpu/cmp.c', 'csrc/tools/fh1_eval.c', 'csrc/tools/fh1_synth.c']) {
      const r = spawnSync('gcc', ['-std=gnu11', '-fsyntax-only', '-Wall', '-Werror', '-DFH1_CUDA', f], { encoding: 'utf8' });
      expect(r.status, `${f}: ${r.stderr}`).toBe(0);
    }
  });

  it.skipIf(gpus > 0)('without a GPU: --device cuda is a clear error, auto falls back to the CPU', async () => {
    const m = await Model.load(await convertedFixture('tiny-a', 'f32'));
    expect(() => m.newContext({ device: 'cuda' })).toThrow(/cannot use CUDA|no CUDA backend/);
    const ctx = m.newContext({ device: 'auto', ctxSize: 64 });
    expect(ctx.backend).toMatch(/^cpu /);
    ctx.free();
    // --gpu-layers 0 keeps everything on the CPU even with --device cuda; bad values are refused
    const cpu = m.newContext({ device: 'cuda', gpuLayers: 0, ctxSize: 64 });
    expect(cpu.backend).toMatch(/^cpu /);
    cpu.free();
    expect(() => m.newContext({ device: 'auto', gpuLayers: -5 })).toThrow(/invalid GPU parameters/);
    m.free();
  });

  it.skipIf(gpus === 0)('with a GPU: the last 2 of 4 layers on the GPU, the rest and the head on the CPU, match HF', async () => {
    const m = await Model.load(await convertedFixture('tiny-a', 'f32'));
    for (const c of referenceCases('tiny-a')) {
      const ref = readLogits('tiny-a', c.logits_file);
      const ctx = m.newContext({ device: 'cuda', gpuLayers: 2, kvType: 'f32', ctxSize: c.input_ids.length });
      expect(ctx.backend).toMatch(/layers 2-3; layers 0-1 and the head on cpu/);
      const r = maxDiff(await ctx.decode(c.input_ids, { allLogits: true }), ref);
      expect(r.diff).toBeLessThanOrEqual(2e-5 * r.scale);
      ctx.free();
    }
    m.free();
  });

  it.skipIf(gpus === 0)('with a GPU, default mode: bf16 GEMMs with tensor-core or f32 attention on the f16 cache stay near HF', async () => {
    const saved = process.env.FALCON_H1_CUDA_TC;
    delete process.env.FALCON_H1_CUDA_TC; // the default: activations rounded to bf16 for the GEMMs
    try {
      for (const model of ['tiny-a', 'tiny-b'] as const) {
        const m = await Model.load(await convertedFixture(model, 'f32'));
        for (const c of referenceCases(model)) {
          const ref = readLogits(model, c.logits_file);
          for (const mma of ['1', '0']) {
            process.env.FALCON_H1_CUDA_ATT_MMA = mma;
            const ctx = m.newContext({ device: 'cuda', kvType: 'f16', ctxSize: c.input_ids.length });
            const r = maxDiff(await ctx.decode(c.input_ids, { allLogits: true }), ref);
            // H200: 3.0e-3 at most with either attention kernel (bench/gpu/att-mma-check.sh); the
            // bf16 rounding of the GEMM inputs dominates, the attention's f16 rounding adds little
            expect(r.diff, `${model} ${c.name} FALCON_H1_CUDA_ATT_MMA=${mma}`).toBeLessThanOrEqual(5e-3 * r.scale);
            ctx.free();
          }
        }
        m.free();
      }
    } finally {
      if (saved === undefined) delete process.env.FALCON_H1_CUDA_TC;
      else process.env.FALCON_H1_CUDA_TC = saved;
      delete process.env.FALCON_H1_CUDA_ATT_MMA;
    }
  });

  it.skipIf(gpus === 0)('with a GPU: every tiny-a/tiny-b case matches HF (prefill, decode, chunks)', async () => {
    for (const model of ['tiny-a', 'tiny-b'] as const) {
      const m = await Model.load(await convertedFixture(model, 'f32'));
      for (const c of referenceCases(model)) {
        const ref = readLogits(model, c.logits_file);
        const ctx = m.newContext({ device: 'cuda', kvType: 'f32', ctxSize: c.input_ids.length });
        expect(ctx.backend).toMatch(/^cuda /);
        const r = maxDiff(await ctx.decode(c.input_ids, { allLogits: true }), ref);
        expect(r.diff).toBeLessThanOrEqual(2e-5 * r.scale);
        ctx.free();
      }
      m.free();
    }
  });
});

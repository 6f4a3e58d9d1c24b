// The oracle suite: logits of our engine against HF transformers' reference logits. Shared by
// oracle.test.ts (best SIMD), oracle-avx2.test.ts and oracle-scalar.test.ts (FALCON_H1_SIMD=avx2, scalar).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../../src/engine/engine.js';
import { convertedFixture, maxDiff, modelDir, readLogits, referenceCases } from '../helpers/fixtures.js';

// Bounds from fixtures/README.md (relative to the largest |reference logit|).
const EXACT = 2e-5; // f32 file (or bf16 with multipliers kept), f32 KV cache
const FOLDED_BF16 = 3e-3; // bf16 with folded multipliers: rounding of the folded weights is the floor

interface Variant {
  label: string;
  model: 'tiny-a' | 'tiny-b';
  file: () => Promise<string>;
  bound: number;
}

export const VARIANTS: Variant[] = [
  { label: 'tiny-a f32', model: 'tiny-a', file: () => convertedFixture('tiny-a', 'f32'), bound: EXACT },
  { label: 'tiny-a bf16 --keep-multipliers', model: 'tiny-a', file: () => convertedFixture('tiny-a', 'bf16', true), bound: EXACT },
  { label: 'tiny-a bf16 folded', model: 'tiny-a', file: () => convertedFixture('tiny-a', 'bf16'), bound: FOLDED_BF16 },
  { label: 'tiny-a llama.cpp f32', model: 'tiny-a', file: async () => modelDir('tiny-a/llamacpp/model-f32.gguf'), bound: EXACT },
  { label: 'tiny-a llama.cpp bf16', model: 'tiny-a', file: async () => modelDir('tiny-a/llamacpp/model-bf16.gguf'), bound: FOLDED_BF16 },
  { label: 'tiny-b f32', model: 'tiny-b', file: () => convertedFixture('tiny-b', 'f32'), bound: EXACT },
  { label: 'tiny-b f32 --keep-multipliers', model: 'tiny-b', file: () => convertedFixture('tiny-b', 'f32', true), bound: EXACT },
];

// tiny-a's 16K-token prompt and HF's logits at its listed positions (rows in that order)
function readLong16k(): { spec: { input_ids: number[]; positions: number[] }; ref: Float32Array } {
  const spec = JSON.parse(readFileSync(modelDir('tiny-a/long16k.json'), 'utf8')) as { input_ids: number[]; positions: number[] };
  return { spec, ref: readLogits('tiny-a', 'long16k.logits.f32') };
}

export function oracleSuite(opts: { long16k: boolean }) {
  for (const v of VARIANTS) {
    describe(v.label, () => {
      for (const c of referenceCases(v.model)) {
        it(`${c.name}: one prefill, token-by-token decode, and uneven chunks match HF`, async () => {
          const model = await Model.load(await v.file());
          const ref = readLogits(v.model, c.logits_file);
          const n = c.input_ids.length;
          const ctx = model.newContext({ ctxSize: n, kvType: 'f32' });
          const full = await ctx.decode(c.input_ids, { allLogits: true });
          const a = maxDiff(full, ref);
          expect(a.diff, `prefill: ${a.diff} vs ${v.bound} × ${a.scale}`).toBeLessThanOrEqual(v.bound * a.scale);

          ctx.reset();
          const rows = new Float32Array(ref.length);
          for (let i = 0; i < n; i++) rows.set(await ctx.decode([c.input_ids[i]]), i * model.info.nVocab);
          const b = maxDiff(rows, ref);
          expect(b.diff, `decode: ${b.diff}`).toBeLessThanOrEqual(v.bound * b.scale);

          ctx.reset();
          const chunked = new Float32Array(ref.length);
          let pos = 0;
          for (const s of [3, 2, 7, 50, n]) { // 3 and 2: batches too short for the tiled attention
            const take = Math.min(s, n - pos);
            if (take <= 0) break;
            chunked.set(await ctx.decode(c.input_ids.slice(pos, pos + take), { allLogits: true }), pos * model.info.nVocab);
            pos += take;
          }
          const d = maxDiff(chunked, ref);
          expect(d.diff, `chunks 3+2+7+50+rest: ${d.diff}`).toBeLessThanOrEqual(v.bound * d.scale);
          ctx.free();
          model.free();
        });
      }
    });
  }

  if (opts.long16k) {
    it('tiny-a long16k: 16K tokens, RoPE base 1e11 at far positions, 16K KV cache, 256 scan chunks', async () => {
      const { spec, ref } = readLong16k();
      const model = await Model.load(await convertedFixture('tiny-a', 'f32'));
      const V = model.info.nVocab;
      const ctx = model.newContext({ ctxSize: spec.input_ids.length, kvType: 'f32' });
      const all = await ctx.decode(spec.input_ids, { allLogits: true });
      const picked = new Float32Array(spec.positions.length * V);
      spec.positions.forEach((p, i) => picked.set(all.subarray(p * V, (p + 1) * V), i * V));
      const r = maxDiff(picked, ref);
      expect(r.diff).toBeLessThanOrEqual(EXACT * r.scale);
      ctx.free();
      model.free();
    });
  }

  it('tiny-a long16k: single-token decodes at depths 1K-4K on 6 threads (the SIMD decode kernel splits the keys) match HF', async () => {
    // 6 threads for 2 KV heads: with a SIMD decode kernel each head's keys are split in three
    // ranges whose softmax states merge (the scalar table has none: per-head path). The prompt goes in as batches up to each checked position, whose token is then
    // decoded alone (f32 and f16 caches).
    const { spec, ref } = readLong16k();
    const model = await Model.load(await convertedFixture('tiny-a', 'f32'));
    const V = model.info.nVocab, checked = [1024, 2048, 3072, 4096];
    for (const [kvType, bound] of [
      ['f32', EXACT],
      ['f16', 2e-4], // f16 keys/values, as in engine.test.ts
    ] as const) {
      const ctx = model.newContext({ ctxSize: 4097, kvType, threads: 6 });
      let pos = 0;
      for (const p of checked) {
        const row = spec.positions.indexOf(p);
        expect(row).toBeGreaterThanOrEqual(0);
        await ctx.decode(spec.input_ids.slice(pos, p));
        const r = maxDiff(await ctx.decode([spec.input_ids[p]]), ref.subarray(row * V, (row + 1) * V));
        expect(r.diff, `position ${p}, ${kvType} cache: ${r.diff} vs ${bound} × ${r.scale}`).toBeLessThanOrEqual(bound * r.scale);
        pos = p + 1;
      }
      ctx.free();
    }
    model.free();
  });
}

export { join };

// Decode (T < 8 tokens) with quantized weights takes the 8-bit-activation integer dots where the
// CPU has them (AVX-512 VNNI, or AVX2's vpmaddubsw: every block type); prefill (T ≥ 8) takes the f32 GEMM over
// dequantized weights, except Q8_0, Q4_K and Q6_K with AVX-512 VNNI, whose integer GEMM rounds the
// activations per 32 elements too (Q8_0 prefill and decode then agree to 2e-7; the K-quants'
// decode rounds per 256). Both must agree up to the activation rounding. This random 8-layer model
// amplifies rounding (its Q8_0 weights alone move the logits by 2.4e-2 of their scale), so the
// measured gaps are Q8_0 2.5e-2, Q4_0 3.9e-2, Q4_1 3.2e-2, Q5_0 3.4e-2, Q5_1 2.9e-2, Q2_K 5.9e-2,
// Q3_K 5.2e-2, Q4_K 4.7e-2, Q5_K 4.8e-2, Q6_K 7.2e-2 (≤ 1.7e-6 before the integer dots existed,
// when both paths were f32); reading one high bit of Q5_K from the wrong plane gave 1.45, a misplaced scale
// index in Q2_K/Q3_K 0.94/1.88. int8-kernels.test.ts checks each kernel exactly.
import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { writeSyntheticModel } from '../../src/bench/synthetic.js';
import { quantizeFile } from '../../src/quantize/quantize.js';
import { Model, simdName } from '../../src/engine/engine.js';
import { maxDiff, tempDir } from '../helpers/fixtures.js';
import { MINI256 } from '../helpers/mini-shape.js';

export function int8DotSuite(): void {
  describe(`integer decode dots agree with the f32 prefill GEMM (${simdName()})`, () => {
    const dir = tempDir();
    const src = join(dir, 'mini256-f32.gguf');
    beforeAll(async () => {
      await writeSyntheticModel(MINI256, 'f32', src);
    });
    const tokens = Int32Array.from([5, 17, 300, 1023, 42, 7, 1999, 64]);
    for (const type of ['Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K']) {
      it(`${type} (${simdName()})`, async () => {
        const file = join(dir, `${type}.gguf`);
        await quantizeFile(src, file, type, { pure: true, threads: 2 });
        const m = await Model.load(file);
        const batch = m.newContext({ ctxSize: 64, kvType: 'f32' });
        const all = await batch.decode(tokens, { allLogits: true });
        const step = m.newContext({ ctxSize: 64, kvType: 'f32' });
        const one = new Float32Array(all.length);
        const V = all.length / tokens.length;
        for (let i = 0; i < tokens.length; i++) one.set(await step.decode(tokens.subarray(i, i + 1)), i * V);
        const r = maxDiff(one, all);
        expect(r.diff / r.scale, type).toBeLessThan(0.15);
        batch.free();
        step.free();
        m.free();
      });
    }
  });
}

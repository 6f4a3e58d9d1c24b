// The K-quant scale/min search has an AVX2 form (8 sub-blocks per instruction stream, bit-identical
// by construction) and the scalar reference; FALCON_H1_QUANT_SCALAR forces the reference, chosen
// once per process, so this file checks it against the same llama-quantize hashes.
process.env.FALCON_H1_QUANT_SCALAR = '1';
const { describe, expect, it, beforeAll } = await import('vitest');
const { join } = await import('node:path');
const { writeSyntheticModel } = await import('../../src/bench/synthetic.js');
const { quantizeFile } = await import('../../src/quantize/quantize.js');
const { tempDir } = await import('../helpers/fixtures.js');
const { MINI256 } = await import('../helpers/mini-shape.js');
const { LLAMA_QUANTIZE_SHA256 } = await import('./llama-quantize-hashes.js');
const { tensorHash } = await import('../helpers/tensor-hash.js');

describe('the scalar scale/min search writes the same bytes as llama-quantize', () => {
  const dir = tempDir();
  const src = join(dir, 'mini256-f32.gguf');
  beforeAll(async () => {
    await writeSyntheticModel(MINI256, 'f32', src);
  });
  for (const type of ['Q2_K', 'Q4_K_M', 'Q5_K_S']) {
    it(type, async () => {
      const out = join(dir, `${type}.gguf`);
      await quantizeFile(src, out, type, { threads: 2 });
      expect(tensorHash(out)).toBe(LLAMA_QUANTIZE_SHA256[type]);
    });
  }
});

import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeSyntheticModel } from '../../src/bench/synthetic.js';
import { quantizeFile } from '../../src/quantize/quantize.js';
import { readGGUF } from '../../src/gguf/reader.js';
import { GGMLType, ggmlTypeName } from '../../src/gguf/types.js';
import { Model } from '../../src/engine/engine.js';
import { addon } from '../../src/engine/native.js';
import { convertedFixture, maxDiff, readLogits, referenceCases, tempDir } from '../helpers/fixtures.js';
import { cli } from '../helpers/cli.js';
import { LLAMA_QUANTIZE_SHA256 } from './llama-quantize-hashes.js';
import { MINI256 } from '../helpers/mini-shape.js';
import { tensorHash } from '../helpers/tensor-hash.js';



describe('quantize is byte-identical to llama-quantize', () => {
  const dir = tempDir();
  const src = join(dir, 'mini256-f32.gguf');
  beforeAll(async () => {
    await writeSyntheticModel(MINI256, 'f32', src);
  });
  for (const [type, sha] of Object.entries(LLAMA_QUANTIZE_SHA256)) {
    it(type, async () => {
      const out = join(dir, `${type}.gguf`);
      const r = await quantizeFile(src, out, type, { threads: 2 });
      expect(tensorHash(out)).toBe(sha);
      // SSM parameters, norms and the conv stay F32 in every mix
      const f = readGGUF(out);
      for (const t of f.tensors) if (/ssm_(a|d|dt\.bias|conv1d\.(weight|bias)|norm\.weight)$|norm(\.weight)?$/.test(t.name)) expect(t.type, t.name).toBe(GGMLType.F32);
      expect(r.fallbacks).toEqual([]);
    });
  }
});

describe('quantized fixtures stay close to the f32 logits', () => {
  // Bounds: max |Δlogit| relative to the largest |f32 logit| over the long case. tiny-a's rows are
  // 64 wide, so K-quants fall back to 32-blocks (Q6_K→Q8_0, Q4_K→Q5_0, Q5_K→Q5_1, Q2_K/Q3_K→Q4_0)
  // exactly as llama-quantize does. Measured: Q8_0 7e-3 (9e-3 where the prefill GEMM is the VNNI
  // integer one, 8-bit activations), Q5 3-4e-2, Q4/Q3/Q2 4-9e-2; each bound
  // is about twice that, so a broken quantizer (≥ 0.3) fails while rounding noise does not.
  const BOUND: Record<string, number> = { Q8_0: 1.5e-2, Q6_K: 1.5e-2, Q5_0: 8e-2, Q5_1: 8e-2, Q5_K_M: 8e-2, Q5_K_S: 8e-2, Q4_0: 0.18, Q4_1: 0.18, Q4_K_M: 0.18, Q4_K_S: 0.18, Q3_K_M: 0.18, Q3_K_S: 0.18, Q2_K: 0.18 };
  for (const model of ['tiny-a', 'tiny-b']) {
    it(model, async () => {
      const f32 = await convertedFixture(model, 'f32');
      const c = referenceCases(model).find((x) => x.name === 'long')!;
      const ref = readLogits(model, c.logits_file);
      const dir = tempDir();
      for (const [type, bound] of Object.entries(BOUND)) {
        const out = join(dir, `${type}.gguf`);
        await quantizeFile(f32, out, type, { threads: 2 });
        const m = await Model.load(out);
        const ctx = m.newContext({ ctxSize: 512, kvType: 'f32' });
        const lg = await ctx.decode(c.input_ids, { allLogits: true });
        const r = maxDiff(lg, ref);
        expect(r.diff / r.scale, `${model} ${type}`).toBeLessThanOrEqual(bound);
        ctx.free();
        m.free();
      }
    });
  }
});

describe('block formats', () => {
  it('Q8_0 and Q4_0 blocks of known vectors equal ggml reference bytes', () => {
    const x = new Float32Array(32).map((_, i) => Math.sin(i * 0.7) * (i % 5 === 0 ? 3 : 1));
    const q8 = addon().quantize(GGMLType.Q8_0, x);
    // d = 3·max|x|/127 as f16, q = round(x/d): computed by hand from ggml's rules
    const amax = Math.max(...x.map(Math.abs));
    const d = Math.fround(amax / 127);
    expect(q8.length).toBe(34);
    for (let i = 0; i < 32; i++) expect(q8.readInt8(2 + i)).toBe(Math.sign(x[i] / d) * Math.round(Math.abs(x[i] / d)));
    const q4 = addon().quantize(GGMLType.Q4_0, x);
    expect(q4.length).toBe(18);
    const back = addon().dequantize(GGMLType.Q4_0, q4, 32);
    for (let i = 0; i < 32; i++) expect(Math.abs(back[i] - x[i])).toBeLessThanOrEqual(amax / 8 + 1e-6);
  });

  it('dequantize(quantize(x)) error shrinks with more bits, for every type', () => {
    let s = 1;
    const x = new Float32Array(4096).map(() => {
      s = (s * 16807) % 2147483647;
      const u = s / 2147483647;
      return (u - 0.5) * (u > 0.99 ? 20 : 1); // heavy tail
    });
    const rmse = (t: number) => {
      const y = addon().dequantize(t, addon().quantize(t, x), x.length);
      return Math.sqrt(y.reduce((a, v, i) => a + (v - x[i]) ** 2, 0) / x.length);
    };
    const e = Object.fromEntries([GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q5_0].map((t) => [ggmlTypeName(t), rmse(t)]));
    expect(e.Q2_K).toBeGreaterThan(e.Q3_K);
    expect(e.Q3_K).toBeGreaterThan(e.Q4_K);
    expect(e.Q4_K).toBeGreaterThan(e.Q5_K);
    expect(e.Q5_K).toBeGreaterThan(e.Q6_K);
    expect(e.Q6_K).toBeGreaterThan(e.Q8_0);
    expect(e.Q4_0).toBeGreaterThan(e.Q5_0);
    const rms = Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
    expect(e.Q8_0).toBeLessThan(0.03 * rms);
  });
});

describe('quantize CLI', () => {
  let f32: string;
  beforeAll(async () => {
    f32 = await convertedFixture('tiny-a', 'f32');
  });
  it('an unknown type lists the valid ones; no output file is left', () => {
    const dir = tempDir();
    const r = cli(['quantize', f32, join(dir, 'x.gguf'), 'Q7_X']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown quantization type 'Q7_X' \(valid: Q4_0, .*Q4_K_M/);
    expect(readdirSync(dir)).toEqual([]);
  });
  it('refuses to requantize unless asked', () => {
    const dir = tempDir();
    expect(cli(['quantize', f32, join(dir, 'a.gguf'), 'Q8_0', '-q']).code).toBe(0);
    const r = cli(['quantize', join(dir, 'a.gguf'), join(dir, 'b.gguf'), 'Q4_0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already Q8_0: requantizing .* --allow-requantize/);
    expect(existsSync(join(dir, 'b.gguf'))).toBe(false);
    expect(cli(['quantize', join(dir, 'a.gguf'), join(dir, 'b.gguf'), 'Q4_0', '--allow-requantize', '-q']).code).toBe(0);
  });
  it('--tensor-type, --output-type and --pure decide per tensor', () => {
    const dir = tempDir();
    const out = join(dir, 'o.gguf');
    const r = cli(['quantize', f32, out, 'Q8_0', '--tensor-type', 'attn_v=F16', '--output-type', 'Q4_0', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const f = readGGUF(out);
    const type = (n: string) => ggmlTypeName(f.tensors.find((t) => t.name === n)!.type);
    expect(type('blk.1.attn_v.weight')).toBe('F16');
    expect(type('output.weight')).toBe('Q4_0');
    expect(type('blk.1.attn_q.weight')).toBe('Q8_0');
    expect(type('blk.1.ssm_a')).toBe('F32');
    expect(f.metadata.get('general.file_type')?.value).toBe(7);
  });
  it('convert --outtype q4_k_m equals convert f32 then quantize Q4_K_M', async () => {
    const dir = tempDir();
    const a = join(dir, 'direct.gguf');
    const b = join(dir, 'two-step.gguf');
    expect(cli(['convert', '../shared/fixtures/models/tiny-b/hf'.replace('../shared', process.env.FALCON_H1_SHARED ?? '../shared'), '-o', a, '--outtype', 'q4_k_m', '-q']).code).toBe(0);
    await quantizeFile(await convertedFixture('tiny-b', 'f32'), b, 'Q4_K_M');
    expect(tensorHash(a)).toBe(tensorHash(b));
  });
});

describe('perplexity and KL divergence', () => {
  it('saves a base, then reports KL, top-1 agreement and Δ perplexity of a quantized file', async () => {
    const f32 = await convertedFixture('tiny-a', 'f32');
    const dir = tempDir();
    const q = join(dir, 'q8.gguf');
    await quantizeFile(f32, q, 'Q8_0');
    const text = join(dir, 't.txt');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(text, 'The falcon circled high above the valley. Le faucon tournoyait au-dessus de la vallée. '.repeat(30));
    const base = join(dir, 'base.kld');
    const a = cli(['perplexity', f32, '-f', text, '-c', '64', '--kl-divergence-base', base, '--json']);
    expect(a.code, a.stderr).toBe(0);
    const same = JSON.parse(cli(['perplexity', f32, '-f', text, '--kl-divergence-base', base, '--kl-divergence', '--json']).stdout);
    expect(same.kl_mean).toBeLessThan(1e-9);
    expect(same.top1_agreement).toBe(1);
    const r = JSON.parse(cli(['perplexity', q, '-f', text, '--kl-divergence-base', base, '--kl-divergence', '--json']).stdout);
    expect(r.kl_mean).toBeGreaterThan(same.kl_mean);
    expect(r.top1_agreement).toBeGreaterThan(0.9);
    expect(r.perplexity).toBeGreaterThan(1);
    expect(Math.abs(r.delta_perplexity)).toBeLessThan(0.05 * r.base_perplexity);
  });
});

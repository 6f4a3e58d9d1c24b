import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { syntheticVocab, writeSyntheticModel, writeSyntheticModelOfType } from '../../src/bench/synthetic.js';
import { MINI256 } from '../helpers/mini-shape.js';
import { FileType, GGMLType } from '../../src/gguf/types.js';
import { SHAPES, type ModelShape } from '../../src/bench/shapes.js';
import { Model, simdName } from '../../src/engine/engine.js';
import { hasBf16Dot, hasBf16Prefill } from '../helpers/cpu.js';
import { getEntry, getNumber, readGGUF } from '../../src/gguf/reader.js';
import { cli } from '../helpers/cli.js';
import { spawnSync } from 'node:child_process';
import { MIXES, chooseType, isQuantizable } from '../../src/quantize/recipes.js';
import { convertedFixture, tempDir } from '../helpers/fixtures.js';

function params(s: ModelShape): number {
  const conv = s.dSsm + 2 * s.groups * s.dState;
  const din = s.dSsm + conv + s.ssmHeads;
  const layer =
    s.hidden * (s.heads * s.headDim) * 2 + s.hidden * s.kvHeads * s.headDim * 2 + s.hidden * din + conv * (s.dConv + 1) + 3 * s.ssmHeads +
    (s.ssmRmsNorm ? s.dSsm : 0) + s.dSsm * s.hidden + 2 * s.hidden + 3 * s.hidden * s.ffn;
  return 2 * s.vocab * s.hidden + s.hidden + s.layers * layer;
}

describe('synthetic models', () => {
  it('the released shapes have the parameter counts llama.cpp reports', () => {
    expect(params(SHAPES['0.5b'])).toBe(521411104);
    expect(Math.round(params(SHAPES['1.5b-deep']) / 1e6)).toBe(1555);
    expect(Math.round(params(SHAPES['7b']) / 1e6)).toBe(7586);
  });

  it('a small synthetic model of each weight type loads and runs', async () => {
    const shape: ModelShape = { ...SHAPES['0.5b'], name: 'mini', hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, ffn: 128, dSsm: 128, ssmHeads: 8, dState: 16, vocab: 512, ssmRmsNorm: true };
    for (const type of ['f32', 'bf16', 'f16', 'q8_0']) {
      const path = join(tempDir(), `mini-${type}.gguf`);
      await writeSyntheticModel(shape, type, path);
      expect(readGGUF(path).tensors.reduce((a, t) => a + t.ne.reduce((x, y) => x * y, 1), 0)).toBe(params(shape));
      const m = await Model.load(path);
      const ctx = m.newContext({ ctxSize: 64 });
      const lg = await ctx.decode([1, 2, 3, 4, 5]);
      expect(lg.every((v) => Number.isFinite(v))).toBe(true);
      ctx.free();
      m.free();
    }
  });

  it('a quantize mix is written as bf16 and quantized like a real checkpoint', async () => {
    const path = join(tempDir(), 'mini-q4_k_m.gguf');
    await writeSyntheticModelOfType(MINI256, 'q4_k_m', path, 2);
    const f = readGGUF(path);
    expect(getNumber(f, 'general.file_type')).toBe(FileType.MOSTLY_Q4_K_M);
    const types = new Set(f.tensors.map((t) => t.type));
    expect(types.has(GGMLType.Q4_K) && types.has(GGMLType.Q6_K)).toBe(true); // the mix, not a pure type
    const m = await Model.load(path);
    const ctx = m.newContext({ ctxSize: 64 });
    expect((await ctx.decode([1, 2, 3])).every((v) => Number.isFinite(v))).toBe(true);
    ctx.free();
    m.free();
    expect(cli(['bench', '--synthetic', '0.5b', '--type', 'q7_x']).stderr).toMatch(/q4_k_m/);
  });
});

describe('csrc/tools/fh1_synth (the GPU machine\'s model writer, no Node there)', () => {
  it('q4_k_m lays the types out as the Q4_K_M recipe does, at the 0.5B and 1.5B-Deep shapes', () => {
    const exe = join(tempDir(), 'fh1_synth');
    const cc = spawnSync('gcc', ['-O2', '-o', exe, 'csrc/tools/fh1_synth.c', 'quant/quants.c', '-lm', '-lpthread'], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    for (const size of ['0.5b', '1.5b-deep'] as const) {
      const path = join(tempDir(), `synth-${size}.gguf`);
      const r = spawnSync(exe, [size, 'q4_k_m', path], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const f = readGGUF(path);
      const s = SHAPES[size];
      const ctx = { mix: MIXES.Q4_K_M, nLayer: s.layers, nHead: s.heads, nHeadKv: s.kvHeads, hasOutput: true };
      let q6 = 0;
      for (const t of f.tensors) {
        const want = isQuantizable(t.name, t.ne.map(Number)) ? chooseType(t.name, t.ne.map(Number), ctx).type : GGMLType.F32;
        expect(`${t.name} ${t.type}`).toBe(`${t.name} ${want}`);
        q6 += t.type === GGMLType.Q6_K ? 1 : 0;
      }
      expect(q6).toBeGreaterThan(2); // the head and some attn_v/ffn_down, not a pure file
      // llama-bench needs the file type and a vocabulary; both as the TypeScript generator writes them
      expect(getEntry(f, 'general.file_type')?.value).toBe(FileType.MOSTLY_Q4_K_M);
      expect(getEntry(f, 'falcon-h1.vocab_size')?.value).toBe(s.vocab);
      for (const want of syntheticVocab(s.vocab)) expect(getEntry(f, want.key)?.value, want.key).toEqual(want.value);
    }
  });
});

describe('falcon-h1 bench', () => {
  it('prints llama-bench style JSON rows', async () => {
    const path = await convertedFixture('tiny-a', 'f32');
    const r = cli(['bench', path, '-p', '16', '-n', '4', '-d', '0,8', '-t', '1,2', '-r', '2', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout);
    expect(rows).toHaveLength(8);
    for (const row of rows) {
      expect(row).toMatchObject({ backends: 'CPU', model_n_params: 415520 });
      expect(row.samples_ts).toHaveLength(2);
      expect(row.avg_ts).toBeGreaterThan(0);
      expect(row.n_prompt > 0 !== row.n_gen > 0).toBe(true);
    }
    expect(rows.map((x: { n_threads: number }) => x.n_threads)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
    expect(rows.map((x: { n_depth: number }) => x.n_depth)).toEqual([0, 0, 8, 8, 0, 0, 8, 8]);
    const md = cli(['bench', path, '-p', '8', '-n', '2', '-r', '1']);
    expect(md.stdout).toMatch(/\| falcon-h1 .* \| pp8 \| [0-9.]+ ± [0-9.]+ \|/);
  });

  it('labels rows whose prefill rounds activations to bf16', async () => {
    // default: folded BF16 files (llama.cpp's layout) on AMD CPUs with AVX512_BF16; never kept files
    const bench = (path: string, env: Record<string, string> = {}) =>
      JSON.parse(cli(['bench', path, '-p', '16', '-n', '0', '-r', '1', '-o', 'json'], { env }).stdout)[0].simd as string;
    const folded = await convertedFixture('tiny-a', 'bf16');
    const kept = await convertedFixture('tiny-a', 'bf16', true);
    expect(bench(folded)).toBe(hasBf16Prefill() ? 'avx512 (bf16 prefill)' : simdName());
    expect(bench(folded, { FALCON_H1_BF16_GEMM: '0' })).toBe(simdName());
    expect(bench(kept)).toBe(simdName());
    expect(bench(kept, { FALCON_H1_BF16_GEMM: '1' })).toBe(hasBf16Dot() ? 'avx512 (bf16 prefill)' : simdName());
  });

  it('refuses a model and --synthetic together', () => {
    expect(cli(['bench', 'x.gguf', '--synthetic', '0.5b']).code).toBe(2);
  });
});

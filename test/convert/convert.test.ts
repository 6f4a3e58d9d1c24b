import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { convertCheckpoint } from '../../src/convert/convert.js';
import { readGGUF, getString, type GGUFFile } from '../../src/gguf/reader.js';
import { Keys, Tensors } from '../../src/gguf/schema.js';
import { GGMLType } from '../../src/gguf/types.js';
import { modelDir, tempDir, tensorF32 } from '../helpers/fixtures.js';

// Keys we add beyond llama.cpp's converter; everything else must match its file exactly.
const OUR_EXTRA_KEYS = new Set([Keys.hfTokenizerJson, Keys.tokEosIds]);

function compareWithLlamaCpp(ours: GGUFFile, theirs: GGUFFile, relTol: number) {
  const mine = new Map(ours.entries.map((e) => [e.key, e]));
  for (const e of theirs.entries) {
    const m = mine.get(e.key);
    expect(m, `key ${e.key}`).toBeDefined();
    expect(m!.type, `type of ${e.key}`).toBe(e.type);
    expect(m!.elementType, `element type of ${e.key}`).toBe(e.elementType);
    expect(m!.value, `value of ${e.key}`).toEqual(e.value);
  }
  for (const e of ours.entries) if (!theirs.metadata.has(e.key)) expect(OUR_EXTRA_KEYS.has(e.key as never), `extra key ${e.key}`).toBe(true);

  expect(ours.tensors.map((t) => t.name)).toEqual(theirs.tensors.map((t) => t.name));
  for (let i = 0; i < theirs.tensors.length; i++) {
    const a = ours.tensors[i];
    const b = theirs.tensors[i];
    expect(a.ne, b.name).toEqual(b.ne);
    expect(a.type, b.name).toBe(b.type);
    const va = tensorF32(ours, a);
    const vb = tensorF32(theirs, b);
    let maxAbs = 0;
    let worst = 0;
    for (let j = 0; j < va.length; j++) {
      maxAbs = Math.max(maxAbs, Math.abs(vb[j]));
      worst = Math.max(worst, Math.abs(va[j] - vb[j]));
    }
    expect(worst, `${b.name} max diff`).toBeLessThanOrEqual(relTol * maxAbs);
  }
}

describe('convert tiny-a (bf16, single file) against llama.cpp', () => {
  const dir = tempDir();
  let f32: GGUFFile, bf16: GGUFFile;
  beforeAll(async () => {
    await convertCheckpoint(modelDir('tiny-a/hf'), join(dir, 'a-f32.gguf'), { outType: 'f32' });
    await convertCheckpoint(modelDir('tiny-a/hf'), join(dir, 'a-bf16.gguf'), { outType: 'bf16' });
    f32 = readGGUF(join(dir, 'a-f32.gguf'));
    bf16 = readGGUF(join(dir, 'a-bf16.gguf'));
  });

  it('f32 matches model-f32.gguf key for key and tensor for tensor', () => {
    // One float32 rounding of the folded products (A = -exp(A_log) may differ by an ulp).
    compareWithLlamaCpp(f32, readGGUF(modelDir('tiny-a/llamacpp/model-f32.gguf')), 1e-6);
  });

  it('bf16 matches model-bf16.gguf key for key and tensor for tensor', () => {
    // bf16 keeps 8 bits of mantissa: an ulp of the largest value bounds any rounding difference.
    compareWithLlamaCpp(bf16, readGGUF(modelDir('tiny-a/llamacpp/model-bf16.gguf')), 2 ** -8);
  });

  it('embeds the exact tokenizer.json', () => {
    expect(getString(bf16, Keys.hfTokenizerJson)).toBe(readFileSync(modelDir('tiny-a/hf/tokenizer.json'), 'utf8'));
  });
});

import { cpSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { parseFalconH1Config } from '../../src/convert/hf-config.js';
import { BadFileError } from '../../src/util/errors.js';

describe('convert tiny-b (f32, 22 shards, every bias, tied embeddings, G=2, norm before gate)', () => {
  const dir = tempDir();
  let f: GGUFFile;
  let warnings: string[] = [];
  beforeAll(async () => {
    const res = await convertCheckpoint(modelDir('tiny-b/hf'), join(dir, 'b.gguf'), { outType: 'f32' });
    warnings = res.warnings;
    f = readGGUF(join(dir, 'b.gguf'));
  });

  it('has every checkpoint tensor with the reference shape (GGUF dims reversed)', () => {
    const ref = JSON.parse(readFileSync(modelDir('tiny-b/reference.json'), 'utf8'));
    const byName = new Map(f.tensors.map((t) => [t.name, t]));
    const q = byName.get(Tensors.attnQBias(0))!;
    expect(q.ne).toEqual([ref.tensors['model.layers.0.self_attn.q_proj.bias'][0]]);
    expect(byName.get(Tensors.ssmInBias(3))!.ne).toEqual(ref.tensors['model.layers.3.mamba.in_proj.bias']);
    expect(byName.get(Tensors.ssmOutBias(1))!.ne).toEqual(ref.tensors['model.layers.1.mamba.out_proj.bias']);
    expect(byName.get(Tensors.ssmNorm(2))!.ne).toEqual([64, 2]); // [E/G, G]
    expect(byName.get(Tensors.ssmConv(0))!.ne).toEqual([4, 192]);
    expect(byName.get(Tensors.attnK(0))!.ne).toEqual([64, 16]); // 4:1 GQA
    // tied embeddings: a separate, correctly scaled head
    const emb = tensorF32(f, byName.get(Tensors.tokenEmbd)!);
    const out = tensorF32(f, byName.get(Tensors.output)!);
    for (const i of [0, 5, 1000, 65535]) expect(out[i] / emb[i]).toBeCloseTo(0.125 / 3.0, 5);
  });

  it('stores what llama.cpp cannot express and says the file will not work there', () => {
    expect(f.metadata.get(Keys.mambaNormBeforeGate)?.value).toBe(true);
    expect(warnings.join('\n')).toMatch(/will not load this file/);
    expect(warnings.join('\n')).toMatch(/ignores the attention biases/);
    expect(warnings.join('\n')).toMatch(/mamba_norm_before_gate/);
  });

  it('folds multipliers into biases too', async () => {
    const { Checkpoint } = await import('../../src/convert/safetensors.js');
    const raw = new Checkpoint(modelDir('tiny-b/hf'));
    const kb = raw.readF32('model.layers.0.self_attn.k_proj.bias');
    const got = tensorF32(f, f.tensors.find((t) => t.name === Tensors.attnKBias(0))!);
    for (let i = 0; i < kb.length; i++) expect(got[i]).toBe(Math.fround(kb[i] * Math.fround(0.6)));
    const ob = raw.readF32('model.layers.0.mamba.out_proj.bias');
    const got2 = tensorF32(f, f.tensors.find((t) => t.name === Tensors.ssmOutBias(0))!);
    for (let i = 0; i < ob.length; i++) expect(got2[i]).toBe(Math.fround(ob[i] * Math.fround(0.4)));
    raw.close();
  });
});

describe('convert --keep-multipliers', () => {
  it('stores the checkpoint weights bit for bit and the multipliers as metadata', async () => {
    const dir = tempDir();
    await convertCheckpoint(modelDir('tiny-a/hf'), join(dir, 'k.gguf'), { outType: 'bf16', keepMultipliers: true });
    const f = readGGUF(join(dir, 'k.gguf'));
    expect(f.metadata.get(Keys.embeddingMultiplier)?.value).toBe(Math.fround(5.656854249492381));
    expect(f.metadata.get(Keys.mlpDownMultiplier)?.value).toBe(Math.fround(0.5859375));
    expect(f.tensors.some((t) => t.name === Tensors.ffnNorm(0))).toBe(false); // llama.cpp refuses: no ffn_norm
    expect(f.tensors.some((t) => t.name === Tensors.ffnPreNorm(0))).toBe(true);
    const mup = tensorF32(f, f.tensors.find((t) => t.name === Tensors.ssmMupVec(0))!);
    expect(mup.length).toBe(296);
    expect(mup[0]).toBe(Math.fround(0.3535533905932738));
    expect(mup[128]).toBe(0.25);
    expect(mup[295]).toBe(Math.fround(0.3535533905932738));
    // bf16 weights identical to the safetensors bytes
    const { Checkpoint } = await import('../../src/convert/safetensors.js');
    const ck = new Checkpoint(modelDir('tiny-a/hf'));
    const w = ck.readF32('model.layers.2.mamba.in_proj.weight');
    const g = tensorF32(f, f.tensors.find((t) => t.name === Tensors.ssmIn(2))!);
    expect(g).toEqual(w);
    ck.close();
  });
});

describe('config dialects', () => {
  it('reads transformers 4 configs (rope_theta at top level) and 5 (rope_parameters, __float__)', () => {
    const v5 = JSON.parse(readFileSync(modelDir('tiny-b/hf/config.json'), 'utf8'));
    const c5 = parseFalconH1Config(v5);
    expect(c5.ropeTheta).toBe(10000);
    expect(c5.timeStepLimit).toEqual([0, Infinity]);
    const v4 = { ...v5, rope_theta: 1e11, time_step_limit: [0.0, 100.0] };
    delete v4.rope_parameters;
    const c4 = parseFalconH1Config(v4);
    expect(c4.ropeTheta).toBe(1e11);
    expect(c4.timeStepLimit).toEqual([0, 100]);
  });

  it('rejects other architectures and inconsistent shapes with the file named', () => {
    const base = JSON.parse(readFileSync(modelDir('tiny-a/hf/config.json'), 'utf8'));
    expect(() => parseFalconH1Config({ ...base, architectures: ['LlamaForCausalLM'] }, 'x/config.json')).toThrow(/x\/config.json: .*not FalconH1ForCausalLM/);
    expect(() => parseFalconH1Config({ ...base, mamba_n_groups: 3 })).toThrow(/does not divide/);
    expect(() => parseFalconH1Config({ ...base, rope_parameters: undefined })).toThrow(/rope_theta/);
  });
});

describe('convert rejects bad checkpoints cleanly and leaves no output', () => {
  function copyFixture(name: string): string {
    const d = tempDir();
    cpSync(modelDir(`${name}/hf`), d, { recursive: true });
    return d;
  }
  async function expectFail(dir: string, re: RegExp) {
    const out = join(tempDir(), 'out.gguf');
    await expect(convertCheckpoint(dir, out)).rejects.toThrow(re);
    await expect(convertCheckpoint(dir, out)).rejects.toBeInstanceOf(BadFileError);
    expect(existsSync(out)).toBe(false);
  }

  it('missing config.json', async () => {
    await expectFail(tempDir(), /no config.json/);
  });
  it('bad JSON', async () => {
    const d = copyFixture('tiny-a');
    writeFileSync(join(d, 'config.json'), '{"hidden_size": 64,');
    await expectFail(d, /config.json: invalid JSON/);
  });
  it('truncated safetensors', async () => {
    const d = copyFixture('tiny-a');
    const p = join(d, 'model.safetensors');
    writeFileSync(p, readFileSync(p).subarray(0, 500000));
    await expectFail(d, /model.safetensors: truncated/);
  });
  it('shape mismatch between config and tensors', async () => {
    const d = copyFixture('tiny-a');
    const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
    cfg.intermediate_size = 128;
    writeFileSync(join(d, 'config.json'), JSON.stringify(cfg));
    await expectFail(d, /has shape \[64,160\], config.json implies \[64,128\]/);
  });
  it('missing shard', async () => {
    const d = copyFixture('tiny-b');
    const { unlinkSync } = await import('node:fs');
    unlinkSync(join(d, 'model-00007-of-00022.safetensors'));
    await expectFail(d, /model-00007-of-00022.safetensors: cannot open/);
  });
  it('no temp files remain', () => {
    const d = tempDir();
    expect(readdirSync(d).length).toBe(0);
  });
});

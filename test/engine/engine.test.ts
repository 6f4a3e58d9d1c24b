import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model, EngineError } from '../../src/engine/engine.js';
import { convertedFixture, maxDiff, modelDir, referenceCases, tempDir } from '../helpers/fixtures.js';
import { readGGUF } from '../../src/gguf/reader.js';

describe('engine behaviour', () => {
  let path: string;
  let model: Model;
  beforeAll(async () => {
    path = await convertedFixture('tiny-a', 'f32');
    model = await Model.load(path);
  });

  it('reports the hyperparameters it validated', () => {
    expect(model.info).toMatchObject({ nVocab: 1024, nEmbd: 64, nLayer: 4, nHead: 4, nHeadKv: 2, headDim: 16, ssmDInner: 128, ssmNHead: 8, ssmDState: 16 });
  });

  it('rejects out-of-range token ids and too many tokens, and stays usable', async () => {
    const ctx = model.newContext({ ctxSize: 8 });
    await expect(ctx.decode([1, 2, 5000])).rejects.toMatchObject({ code: 'ERR_ARG', message: expect.stringMatching(/token id 5000 at index 2/) });
    await expect(ctx.decode([-1])).rejects.toBeInstanceOf(EngineError);
    await ctx.decode([1, 2, 3, 4, 5]);
    await expect(ctx.decode([1, 2, 3, 4])).rejects.toMatchObject({ code: 'ERR_CONTEXT_FULL' });
    expect(ctx.nPast).toBe(5);
    const lg = await ctx.decode([6, 7, 8]);
    expect(lg.length).toBe(1024);
    expect(ctx.nPast).toBe(8);
    ctx.free();
  });

  it('rejects a second decode on the same context while one runs', async () => {
    const ctx = model.newContext({ ctxSize: 4096, batchSize: 16 });
    const ids = Array.from({ length: 3000 }, (_, i) => (i * 7) % 1024);
    const first = ctx.decode(ids);
    await expect(ctx.decode([1])).rejects.toMatchObject({ code: 'ERR_BUSY' });
    expect(() => ctx.reset()).toThrow(/running/);
    await first;
    expect(ctx.nPast).toBe(3000);
    ctx.free();
  });

  it('cancels between chunks, leaving a consistent shorter state', async () => {
    const ctx = model.newContext({ ctxSize: 8192, batchSize: 8 });
    const ids = Array.from({ length: 6000 }, (_, i) => (i * 13) % 1024);
    const p = ctx.decode(ids);
    setTimeout(() => ctx.cancel(), 5);
    await expect(p).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
    const done = ctx.nPast;
    expect(done % 8).toBe(0);
    expect(done).toBeLessThan(6000);
    // the state equals a fresh run over the same prefix
    const next = await ctx.decode([42]);
    const fresh = model.newContext({ ctxSize: 8192 });
    await fresh.decode(ids.slice(0, done));
    const ref = await fresh.decode([42]);
    expect(maxDiff(next, ref).diff).toBeLessThanOrEqual(1e-5 * maxDiff(next, ref).scale);
    ctx.free();
    fresh.free();
  });

  it('saves and restores the whole state (KV + conv + SSM)', async () => {
    const c = referenceCases('tiny-a').find((x) => x.name === 'long')!;
    const ctx = model.newContext({ ctxSize: 512, kvType: 'f32' });
    await ctx.decode(c.input_ids.slice(0, 200));
    const snap = ctx.saveState();
    const a = await ctx.decode(c.input_ids.slice(200, 260), { allLogits: true });
    ctx.reset();
    await ctx.decode([5, 6, 7]);
    ctx.loadState(snap);
    expect(ctx.nPast).toBe(200);
    const b = await ctx.decode(c.input_ids.slice(200, 260), { allLogits: true });
    expect(b).toEqual(a);
    expect(() => ctx.loadState(snap.subarray(0, 100))).toThrow(/state has 100 bytes/);
    ctx.free();
  });

  it('f16 KV cache stays close to the reference', async () => {
    const c = referenceCases('tiny-a').find((x) => x.name === 'long')!;
    const ctx = model.newContext({ ctxSize: 512, kvType: 'f16' });
    const lg = await ctx.decode(c.input_ids, { allLogits: true });
    const ref = new Float32Array(readFileSync(modelDir(`tiny-a/${c.logits_file}`)).buffer.slice(0));
    const r = maxDiff(lg, ref);
    expect(r.diff).toBeLessThanOrEqual(2e-4 * r.scale); // f16 keys/values: ~1e-4 (llama.cpp: 7e-5 of the scale)
    ctx.free();
  });
});

describe('loader rejects bad files with a clear message', () => {
  const dir = tempDir();

  async function loadErr(bytes: Uint8Array, name: string): Promise<EngineError> {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    try {
      await Model.load(p);
    } catch (e) {
      return e as EngineError;
    }
    throw new Error('loaded a bad file');
  }

  it('truncated files, at many offsets', async () => {
    const good = readFileSync(modelDir('tiny-a/llamacpp/model-bf16.gguf'));
    for (const cut of [10, 30, 1000, 30000, 100000, good.length - 64]) {
      const e = await loadErr(good.subarray(0, cut), `cut${cut}.gguf`);
      expect(e).toBeInstanceOf(EngineError);
      expect(e.code).toBe('ERR_FORMAT');
      expect(e.message).toMatch(/truncated|too small|larger than the file/);
    }
  });

  it('a missing tensor, a wrong shape, an unsupported type, another architecture', async () => {
    const src = await convertedFixture('tiny-a', 'f32');
    const good = readFileSync(src);
    const f = readGGUF(src);
    const rename = (from: string, to: string) => {
      const b = Buffer.from(good);
      const i = b.indexOf(Buffer.from(from));
      b.write(to, i);
      return b;
    };
    expect((await loadErr(rename('blk.2.attn_q.weight', 'blk.2.attn_x.weight'), 'missing.gguf')).message).toMatch(/unexpected tensor 'blk.2.attn_x.weight'|missing tensor 'blk.2.attn_q.weight'/);
    // shape: change ne1 of ffn_gate (u64 after the name length, name, n_dims, ne0)
    const shape = Buffer.from(good);
    const name = Buffer.from('blk.1.ffn_gate.weight');
    const at = shape.indexOf(name) + name.length + 4 + 8;
    shape.writeBigUInt64LE(159n, at);
    expect((await loadErr(shape, 'shape.gguf')).message).toMatch(/blk.1.ffn_gate.weight' has shape \[64, 159\], expected \[64, 160\]/);
    // type: mark ssm_a as F16 (its byte size then shrinks, still inside the file)
    const ty = Buffer.from(good);
    const an = Buffer.from('blk.0.ssm_a');
    ty.writeUInt32LE(1, ty.indexOf(an) + an.length + 4 + 16);
    expect((await loadErr(ty, 'type.gguf')).message).toMatch(/blk.0.ssm_a' is F16; SSM parameters and norms must be F32/);
    const arch = rename('falcon-h1', 'falcon-h2');
    expect((await loadErr(arch, 'arch.gguf')).message).toMatch(/architecture 'falcon-h2' is not falcon-h1/);
    void f;
  });

  it('a missing file', async () => {
    await expect(Model.load(join(dir, 'nope.gguf'))).rejects.toThrow(/nope.gguf: no such file/);
  });
});

import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readGGUF, getArray, getNumber, getString } from '../../src/gguf/reader.js';
import { writeGGUF, kv } from '../../src/gguf/writer.js';
import { GGUFValueType, GGMLType, ggmlTypeByName, tensorByteSize } from '../../src/gguf/types.js';
import { BadFileError } from '../../src/util/errors.js';
import { modelDir, tempDir } from '../helpers/fixtures.js';

describe('GGUF writer/reader round trip', () => {
  it('keeps every value type, arrays, alignment and tensor data', async () => {
    const dir = tempDir();
    const path = join(dir, 'rt.gguf');
    const entries = [
      kv.str('general.architecture', 'falcon-h1'),
      { key: 't.u8', type: GGUFValueType.UINT8, value: 200 },
      { key: 't.i8', type: GGUFValueType.INT8, value: -100 },
      { key: 't.u16', type: GGUFValueType.UINT16, value: 65000 },
      { key: 't.i16', type: GGUFValueType.INT16, value: -30000 },
      kv.u32('t.u32', 4000000000),
      kv.i32('t.i32', -2000000000),
      kv.f32('t.f32', 1e11),
      kv.bool('t.bool', true),
      { key: 't.u64', type: GGUFValueType.UINT64, value: 2n ** 63n + 5n },
      { key: 't.i64', type: GGUFValueType.INT64, value: -(2n ** 62n) },
      { key: 't.f64', type: GGUFValueType.FLOAT64, value: Math.PI },
      kv.strArr('t.strs', ['a', '', 'ünïcödé', 'x'.repeat(300)]),
      kv.i32Arr('t.ints', [1, -2, 3]),
      kv.f32Arr('t.floats', [0.5, -1.25]),
    ];
    const tensors = [
      { name: 'a', ne: [3], type: GGMLType.F32 },
      { name: 'b', ne: [4, 2], type: GGMLType.F16 },
      { name: 'c', ne: [32, 1], type: GGMLType.Q8_0 },
    ];
    const payloads = tensors.map((t, i) => new Uint8Array(tensorByteSize(t.type, t.ne)).map((_, j) => (i * 31 + j) & 255));
    await writeGGUF(path, entries, tensors, (i) => payloads[i]);
    const f = readGGUF(path);
    expect(f.version).toBe(3);
    expect(f.entries.map((e) => e.key)).toEqual(entries.map((e) => e.key));
    for (const e of entries) {
      const got = f.metadata.get(e.key)!;
      expect(got.type).toBe(e.type);
      if (e.key === 't.f32') expect(got.value).toBe(Math.fround(1e11));
      else expect(got.value).toEqual(e.value);
    }
    expect(f.tensors.map((t) => [t.name, t.ne, t.type])).toEqual(tensors.map((t) => [t.name, t.ne, t.type]));
    const raw = readFileSync(path);
    for (let i = 0; i < tensors.length; i++) {
      expect(f.tensors[i].offset % 32).toBe(0);
      expect(new Uint8Array(raw.subarray(f.tensors[i].offset, f.tensors[i].offset + f.tensors[i].byteSize))).toEqual(payloads[i]);
    }
    expect(raw.length % 32).toBe(0);
  });

  it('leaves no file behind when a tensor producer fails', async () => {
    const dir = tempDir();
    const path = join(dir, 'bad.gguf');
    await expect(
      writeGGUF(path, [kv.str('general.architecture', 'x')], [{ name: 'a', ne: [4], type: GGMLType.F32 }], () => new Uint8Array(3)),
    ).rejects.toThrow(/produced 3 bytes, expected 16/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('knows the ggml type table including unsupported IQ types by name', () => {
    expect(ggmlTypeByName('q4_k')?.typeSize).toBe(144);
    expect(ggmlTypeByName('IQ2_XXS')?.supported).toBe(false);
    expect(() => tensorByteSize(GGMLType.Q4_K, [100, 2])).toThrow(/block size 256/);
  });

  it('reads llama.cpp files: metadata types and tensor table', () => {
    const f = readGGUF(modelDir('tiny-a/llamacpp/model-bf16.gguf'));
    expect(getString(f, 'general.architecture')).toBe('falcon-h1');
    expect(getNumber(f, 'falcon-h1.rope.freq_base')).toBe(Math.fround(1e11));
    expect(getArray(f, 'tokenizer.ggml.tokens')!.length).toBe(1024);
    expect(f.tensors.length).toBe(67);
    expect(f.tensors.find((t) => t.name === 'blk.0.ssm_a')!.ne).toEqual([1, 8]);
  });
});

describe('malformed GGUF files give one clean error', () => {
  const good = readFileSync(modelDir('tiny-a/llamacpp/model-bf16.gguf'));
  const dir = tempDir();

  it('truncated at many offsets', () => {
    const cuts = [0, 3, 4, 8, 16, 23, 24, 40, 100, 1000, 5000, 20000, 40000, 80000, good.length - 100, good.length - 1];
    for (const cut of cuts) {
      const p = join(dir, `cut-${cut}.gguf`);
      writeFileSync(p, good.subarray(0, cut));
      let err: unknown;
      try {
        readGGUF(p);
      } catch (e) {
        err = e;
      }
      expect(err, `cut at ${cut}`).toBeInstanceOf(BadFileError);
      expect((err as Error).message.split('\n').length).toBe(1);
    }
  });

  it('hostile counts and lengths do not allocate or read past the end', () => {
    const cases: [string, (b: Buffer) => void, RegExp][] = [
      ['tensor count', (b) => b.writeBigUInt64LE(2n ** 60n, 8), /tensor count/],
      ['kv count', (b) => b.writeBigUInt64LE(2n ** 40n, 16), /metadata count/],
      ['key length', (b) => b.writeBigUInt64LE(2n ** 50n, 24), /length/],
      ['bad magic', (b) => b.write('GGUX', 0), /bad magic/],
      ['version', (b) => b.writeUInt32LE(7, 4), /version 7/],
      ['byte-swapped', (b) => b.writeUInt32LE(0x03000000, 4), /byte-swapped/],
    ];
    for (const [name, mutate, re] of cases) {
      const b = Buffer.from(good);
      mutate(b);
      const p = join(dir, `hostile-${name.replace(/ /g, '-')}.gguf`);
      writeFileSync(p, b);
      expect(() => readGGUF(p), name).toThrow(re);
    }
  });

  it('a value type out of range is rejected', () => {
    const b = Buffer.from(good);
    // first key is general.architecture: 8-byte length + 20 chars, then its 4-byte value type
    const typeAt = 24 + 8 + 'general.architecture'.length;
    b.writeUInt32LE(99, typeAt);
    const p = join(dir, 'vtype.gguf');
    writeFileSync(p, b);
    expect(() => readGGUF(p)).toThrow(/invalid value type 99/);
  });

  it('missing file', () => {
    expect(() => readGGUF(join(dir, 'nope.gguf'))).toThrow(BadFileError);
    expect(existsSync(join(dir, 'nope.gguf'))).toBe(false);
  });
});

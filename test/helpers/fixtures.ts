import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FileCursor } from '../../src/util/file-cursor.js';
import type { GGUFFile, GGUFTensorInfo } from '../../src/gguf/reader.js';
import { GGMLType } from '../../src/gguf/types.js';
import { halfToFloat } from '../../src/convert/safetensors.js';

/** ../shared beside the checkout (as in CI), or FALCON_H1_SHARED. */
export const SHARED = resolve(process.env.FALCON_H1_SHARED ?? join(__dirname, '..', '..', '..', 'shared'));
export const FIXTURES = join(SHARED, 'fixtures');
export const MODELS = join(FIXTURES, 'models');

export function modelDir(name: string): string {
  return join(MODELS, name);
}

// Every temp dir a test file makes is removed after its tests (test/helpers/cleanup.ts, a vitest
// setup file): a full run writes several GB of converted and quantized models.
const made: string[] = [];
export function tempDir(prefix = 'falcon-h1-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function haveFixtures(): boolean {
  return existsSync(MODELS);
}

export interface RefCase {
  name: string;
  n_prompt: number;
  input_ids: number[];
  greedy_new_tokens: number[];
  logits_file: string;
  logits_shape: [number, number];
  logits_abs_max: number;
}

export function referenceCases(model: string): RefCase[] {
  const r = JSON.parse(readFileSync(join(modelDir(model), 'reference.json'), 'utf8'));
  return r.cases as RefCase[];
}

export function readLogits(model: string, file: string): Float32Array {
  const b = readFileSync(join(modelDir(model), file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

/** Tensor values as float32 (F32, F16, BF16 only), read straight from the file. */
export function tensorF32(f: GGUFFile, t: GGUFTensorInfo): Float32Array {
  const c = new FileCursor(f.path);
  try {
    const raw = c.readAt(t.offset, t.byteSize);
    const n = t.ne.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    if (t.type === GGMLType.F32) {
      new Uint8Array(out.buffer).set(raw);
    } else if (t.type === GGMLType.BF16) {
      for (let i = 0; i < n; i++) out[i] = new Float32Array(new Uint32Array([raw.readUInt16LE(2 * i) << 16]).buffer)[0];
    } else if (t.type === GGMLType.F16) {
      for (let i = 0; i < n; i++) out[i] = halfToFloat(raw.readUInt16LE(2 * i));
    } else throw new Error(`tensorF32: type ${t.type}`);
    return out;
  } finally {
    c.close();
  }
}

import { convertCheckpoint, type OutType } from '../../src/convert/convert.js';

const converted = new Map<string, Promise<string>>();
/** Converts a fixture checkpoint once per test process. */
export function convertedFixture(model: string, outType: OutType, keepMultipliers = false): Promise<string> {
  const key = `${model}-${outType}-${keepMultipliers ? 'keep' : 'fold'}`;
  let p = converted.get(key);
  if (!p) {
    const out = join(tempDir(), `${key}.gguf`);
    p = convertCheckpoint(modelDir(`${model}/hf`), out, { outType, keepMultipliers }).then(() => out);
    converted.set(key, p);
  }
  return p;
}

/** max |a - b| over all entries, and max |b|. */
export function maxDiff(a: Float32Array, b: Float32Array): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff, scale };
}

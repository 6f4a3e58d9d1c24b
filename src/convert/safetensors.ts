// Safetensors reader (single file or sharded with model.safetensors.index.json). Tensors are read
// one at a time on request and widened to float32; headers are checked against the file size.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileCursor } from '../util/file-cursor.js';
import { BadFileError } from '../util/errors.js';
import { readJsonFile } from './hf-config.js';

export type SafeDType = 'F32' | 'F16' | 'BF16';
const DTYPE_SIZE: Record<SafeDType, number> = { F32: 4, F16: 2, BF16: 2 };
const MAX_HEADER = 100 << 20;

export interface SafeTensorInfo {
  name: string;
  dtype: SafeDType;
  shape: number[];
  file: string;
  /** Absolute byte offset in `file`. */
  offset: number;
  byteSize: number;
}

export class SafetensorsFile {
  readonly tensors = new Map<string, SafeTensorInfo>();
  private cursor: FileCursor;

  constructor(readonly path: string) {
    this.cursor = new FileCursor(path);
    const c = this.cursor;
    if (c.size < 8) c.fail('too small to be a safetensors file');
    const n = Number(c.u64());
    if (n > MAX_HEADER || n > c.size - 8) c.fail(`header length ${n} exceeds the file (${c.size} bytes)`);
    let header: Record<string, unknown> = {};
    try {
      header = JSON.parse(c.bytes(n, 'header').toString('utf8'));
    } catch (e) {
      c.fail(`header is not valid JSON (${(e as Error).message})`);
    }
    if (!header || typeof header !== 'object' || Array.isArray(header)) c.fail('header is not a JSON object');
    const dataStart = 8 + n;
    for (const [name, v] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (!t || typeof t !== 'object') c.fail(`tensor '${name}': bad header entry`);
      if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_SIZE)) c.fail(`tensor '${name}': unsupported dtype ${JSON.stringify(t.dtype)} (F32, F16 and BF16 are supported)`);
      const dtype = t.dtype as SafeDType;
      if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) c.fail(`tensor '${name}': bad shape`);
      const shape = t.shape as number[];
      const offs = t.data_offsets;
      if (!Array.isArray(offs) || offs.length !== 2 || offs.some((d) => !Number.isSafeInteger(d) || d < 0) || offs[1] < offs[0]) {
        c.fail(`tensor '${name}': bad data_offsets`);
      }
      const [b, e] = offs as number[];
      const numel = shape.reduce((x, y) => x * y, 1);
      if (e - b !== numel * DTYPE_SIZE[dtype]) c.fail(`tensor '${name}': ${e - b} bytes for shape [${shape}] of ${dtype}`);
      if (dataStart + e > c.size) c.fail(`truncated: tensor '${name}' ends at ${dataStart + e}, file has ${c.size} bytes`);
      this.tensors.set(name, { name, dtype, shape, file: path, offset: dataStart + b, byteSize: e - b });
    }
  }

  /** Read a tensor and widen it to float32 (bf16 → f32 is exact; f16 → f32 is exact). */
  readF32(name: string): Float32Array {
    const t = this.tensors.get(name);
    if (!t) throw new BadFileError(this.path, `no tensor '${name}'`);
    const raw = this.cursor.readAt(t.offset, t.byteSize);
    return widenToF32(raw, t.dtype);
  }

  close(): void {
    this.cursor.close();
  }
}

export function widenToF32(raw: Buffer, dtype: SafeDType): Float32Array {
  const n = raw.length / DTYPE_SIZE[dtype];
  const out = new Float32Array(n);
  if (dtype === 'F32') {
    new Uint8Array(out.buffer).set(raw);
    return out;
  }
  const src = new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  if (dtype === 'BF16') {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = src[i] << 16;
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = halfToFloat(src[i]);
  return out;
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** All tensors of a checkpoint directory, single-file or sharded. */
export class Checkpoint {
  readonly tensors = new Map<string, SafeTensorInfo>();
  private files = new Map<string, SafetensorsFile>();

  constructor(readonly dir: string) {
    const index = join(dir, 'model.safetensors.index.json');
    const single = join(dir, 'model.safetensors');
    let shardNames: string[];
    if (existsSync(index)) {
      const j = readJsonFile(index) as { weight_map?: Record<string, string> };
      if (!j || typeof j.weight_map !== 'object' || !j.weight_map) throw new BadFileError(index, 'no weight_map');
      shardNames = [...new Set(Object.values(j.weight_map))].sort();
      for (const s of shardNames) {
        if (typeof s !== 'string' || s.includes('/') || s.includes('\\')) throw new BadFileError(index, `bad shard name ${JSON.stringify(s)}`);
      }
      this.load(shardNames);
      for (const [name, shard] of Object.entries(j.weight_map)) {
        const t = this.tensors.get(name);
        if (!t || t.file !== join(dir, shard)) throw new BadFileError(index, `tensor '${name}' is not in ${shard}`);
      }
    } else if (existsSync(single)) {
      this.load(['model.safetensors']);
    } else {
      throw new BadFileError(dir, 'no model.safetensors or model.safetensors.index.json');
    }
  }

  private load(names: string[]): void {
    for (const n of names) {
      const f = new SafetensorsFile(join(this.dir, n));
      this.files.set(f.path, f);
      for (const [k, t] of f.tensors) {
        if (this.tensors.has(k)) throw new BadFileError(f.path, `tensor '${k}' appears in two shards`);
        this.tensors.set(k, t);
      }
    }
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  readF32(name: string): Float32Array {
    const t = this.tensors.get(name);
    if (!t) throw new BadFileError(this.dir, `checkpoint has no tensor '${name}'`);
    return this.files.get(t.file)!.readF32(name);
  }

  close(): void {
    for (const f of this.files.values()) f.close();
  }
}

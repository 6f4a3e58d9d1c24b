// GGUF v3 writer: header and tensor infos first, then tensor data streamed one tensor at a time,
// each at an aligned offset with zero padding after it (as gguf-py and llama.cpp do).

import { AtomicFile } from '../util/atomic-file.js';
import { dropFromPageCache } from '../util/page-cache.js';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, type GGUFEntry, type GGUFScalar } from './reader.js';
import { GGUFValueType, tensorByteSize } from './types.js';

export interface TensorPlan {
  name: string;
  ne: number[];
  type: number;
}

class ByteSink {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  concat(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

function writeScalar(s: ByteSink, t: GGUFValueType, v: GGUFScalar): void {
  const b = Buffer.alloc(8);
  switch (t) {
    case GGUFValueType.UINT8:
      b.writeUInt8(v as number);
      return s.push(b.subarray(0, 1));
    case GGUFValueType.INT8:
      b.writeInt8(v as number);
      return s.push(b.subarray(0, 1));
    case GGUFValueType.UINT16:
      b.writeUInt16LE(v as number);
      return s.push(b.subarray(0, 2));
    case GGUFValueType.INT16:
      b.writeInt16LE(v as number);
      return s.push(b.subarray(0, 2));
    case GGUFValueType.UINT32:
      b.writeUInt32LE(v as number);
      return s.push(b.subarray(0, 4));
    case GGUFValueType.INT32:
      b.writeInt32LE(v as number);
      return s.push(b.subarray(0, 4));
    case GGUFValueType.FLOAT32:
      b.writeFloatLE(v as number);
      return s.push(b.subarray(0, 4));
    case GGUFValueType.BOOL:
      b.writeUInt8(v ? 1 : 0);
      return s.push(b.subarray(0, 1));
    case GGUFValueType.STRING:
      return s.str(v as string);
    case GGUFValueType.UINT64:
      b.writeBigUInt64LE(BigInt(v as number | bigint));
      return s.push(b);
    case GGUFValueType.INT64:
      b.writeBigInt64LE(BigInt(v as number | bigint));
      return s.push(b);
    case GGUFValueType.FLOAT64:
      b.writeDoubleLE(v as number);
      return s.push(b);
    default:
      throw new Error(`cannot write value type ${t}`);
  }
}

export function encodeHeader(entries: GGUFEntry[], tensors: TensorPlan[], alignment = GGUF_DEFAULT_ALIGNMENT): { header: Buffer; sizes: number[] } {
  const s = new ByteSink();
  s.u32(GGUF_MAGIC);
  s.u32(3);
  s.u64(tensors.length);
  s.u64(entries.length);
  for (const e of entries) {
    s.str(e.key);
    s.u32(e.type);
    if (e.type === GGUFValueType.ARRAY) {
      const et = e.elementType!;
      const vals = e.value as GGUFScalar[];
      s.u32(et);
      s.u64(vals.length);
      for (const v of vals) writeScalar(s, et, v);
    } else {
      writeScalar(s, e.type, e.value as GGUFScalar);
    }
  }
  const sizes: number[] = [];
  let rel = 0;
  for (const t of tensors) {
    const size = tensorByteSize(t.type, t.ne);
    sizes.push(size);
    s.str(t.name);
    s.u32(t.ne.length);
    for (const d of t.ne) s.u64(d);
    s.u32(t.type);
    s.u64(rel);
    rel += Math.ceil(size / alignment) * alignment;
  }
  const padded = Math.ceil(s.length / alignment) * alignment;
  if (padded > s.length) s.push(Buffer.alloc(padded - s.length));
  return { header: s.concat(), sizes };
}

export type TensorBytes = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * Write a GGUF file. `produce(i)` returns tensor i's bytes (exactly its byte size), whole or as
 * chunks; tensors are requested in order, one at a time, so memory stays bounded.
 */
export async function writeGGUF(
  path: string,
  entries: GGUFEntry[],
  tensors: TensorPlan[],
  produce: (index: number) => Promise<TensorBytes> | TensorBytes,
  alignment = GGUF_DEFAULT_ALIGNMENT,
): Promise<void> {
  const { header, sizes } = encodeHeader(entries, tensors, alignment);
  const out = new AtomicFile(path);
  try {
    out.write(header);
    for (let i = 0; i < tensors.length; i++) {
      const data = await produce(i);
      let n = 0;
      for await (const chunk of data instanceof Uint8Array ? [data] : data) {
        out.write(chunk);
        n += chunk.length;
      }
      if (n !== sizes[i]) {
        throw new Error(`tensor '${tensors[i].name}': produced ${n} bytes, expected ${sizes[i]}`);
      }
      const pad = Math.ceil(n / alignment) * alignment - n;
      if (pad) out.write(Buffer.alloc(pad));
    }
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
  dropFromPageCache(path);
}

// Helpers to build entries with the exact value types llama.cpp expects.
export const kv = {
  str: (key: string, value: string): GGUFEntry => ({ key, type: GGUFValueType.STRING, value }),
  u32: (key: string, value: number): GGUFEntry => ({ key, type: GGUFValueType.UINT32, value }),
  i32: (key: string, value: number): GGUFEntry => ({ key, type: GGUFValueType.INT32, value }),
  f32: (key: string, value: number): GGUFEntry => ({ key, type: GGUFValueType.FLOAT32, value }),
  bool: (key: string, value: boolean): GGUFEntry => ({ key, type: GGUFValueType.BOOL, value }),
  strArr: (key: string, value: string[]): GGUFEntry => ({ key, type: GGUFValueType.ARRAY, elementType: GGUFValueType.STRING, value }),
  i32Arr: (key: string, value: number[]): GGUFEntry => ({ key, type: GGUFValueType.ARRAY, elementType: GGUFValueType.INT32, value }),
  f32Arr: (key: string, value: number[]): GGUFEntry => ({ key, type: GGUFValueType.ARRAY, elementType: GGUFValueType.FLOAT32, value }),
};

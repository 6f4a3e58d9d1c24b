// GGUF v3 reader: metadata and tensor infos only. Tensor data is never read into the JS heap;
// callers get absolute file offsets to mmap (the native engine) or to stream from.

import { FileCursor } from '../util/file-cursor.js';
import { GGUFValueType, VALUE_TYPE_SIZE, ggmlTypeInfo } from './types.js';

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_DEFAULT_ALIGNMENT = 32;
const MAX_STRING = 1 << 30;
const MAX_ARRAY = 1 << 30;
const MAX_NAME = 63;
const MAX_DIMS = 4;

export type GGUFScalar = number | bigint | boolean | string;
export type GGUFValue = GGUFScalar | GGUFScalar[];

export interface GGUFEntry {
  key: string;
  type: GGUFValueType;
  /** Element type when `type` is ARRAY. */
  elementType?: GGUFValueType;
  value: GGUFValue;
}

export interface GGUFTensorInfo {
  name: string;
  /** Dimensions innermost first (ggml `ne`). */
  ne: number[];
  type: number;
  /** Offset relative to the data section. */
  relOffset: number;
  /** Absolute offset in the file. */
  offset: number;
  byteSize: number;
}

export interface GGUFFile {
  path: string;
  version: number;
  fileSize: number;
  alignment: number;
  dataOffset: number;
  entries: GGUFEntry[];
  metadata: Map<string, GGUFEntry>;
  tensors: GGUFTensorInfo[];
}

function readScalar(c: FileCursor, t: GGUFValueType): GGUFScalar {
  switch (t) {
    case GGUFValueType.UINT8:
      return c.u8();
    case GGUFValueType.INT8:
      return c.i8();
    case GGUFValueType.UINT16:
      return c.u16();
    case GGUFValueType.INT16:
      return c.i16();
    case GGUFValueType.UINT32:
      return c.u32();
    case GGUFValueType.INT32:
      return c.i32();
    case GGUFValueType.FLOAT32:
      return c.f32();
    case GGUFValueType.BOOL:
      return c.u8() !== 0;
    case GGUFValueType.STRING:
      return readString(c, 'string value');
    case GGUFValueType.UINT64:
      return c.u64();
    case GGUFValueType.INT64:
      return c.i64();
    case GGUFValueType.FLOAT64:
      return c.f64();
    default:
      return c.fail(`invalid value type ${t} at offset ${c.pos - 4}`);
  }
}

function readString(c: FileCursor, what: string): string {
  const n = c.count(`${what} length`, Math.min(MAX_STRING, c.remaining()));
  return c.bytes(n, what).toString('utf8');
}

function readValueType(c: FileCursor, what: string): GGUFValueType {
  const t = c.u32();
  if (t > GGUFValueType.FLOAT64) c.fail(`${what}: invalid value type ${t}`);
  return t as GGUFValueType;
}

export function readGGUF(path: string): GGUFFile {
  const c = new FileCursor(path);
  try {
    return parse(c);
  } finally {
    c.close();
  }
}

function parse(c: FileCursor): GGUFFile {
  if (c.size < 24) c.fail(`too small to be a GGUF file (${c.size} bytes)`);
  const magic = c.u32();
  if (magic !== GGUF_MAGIC) c.fail('not a GGUF file (bad magic)');
  const version = c.u32();
  if ((version & 0xffff) === 0) c.fail(`GGUF version ${version} looks byte-swapped (big-endian files are not supported)`);
  if (version < 2 || version > 3) c.fail(`unsupported GGUF version ${version} (expected 2 or 3)`);
  // Each tensor info needs >= 8+1+4+8+4+8 bytes and each KV >= 8+1+4+1: bound counts by the file size.
  const nTensors = c.count('tensor count', Math.floor(c.remaining() / 33));
  const nKV = c.count('metadata count', Math.floor(c.remaining() / 14));

  const entries: GGUFEntry[] = [];
  const metadata = new Map<string, GGUFEntry>();
  for (let i = 0; i < nKV; i++) {
    const key = readString(c, `key #${i}`);
    if (key.length === 0) c.fail(`metadata key #${i} is empty`);
    if (metadata.has(key)) c.fail(`duplicate metadata key '${key}'`);
    const type = readValueType(c, key);
    let entry: GGUFEntry;
    if (type === GGUFValueType.ARRAY) {
      const et = readValueType(c, `${key} element`);
      if (et === GGUFValueType.ARRAY) c.fail(`${key}: nested arrays are not supported`);
      const minSize = et === GGUFValueType.STRING ? 8 : VALUE_TYPE_SIZE[et]!;
      const n = c.count(`${key} array length`, Math.min(MAX_ARRAY, Math.floor(c.remaining() / minSize)));
      const values: GGUFScalar[] = new Array(n);
      for (let j = 0; j < n; j++) values[j] = readScalar(c, et);
      entry = { key, type, elementType: et, value: values };
    } else {
      entry = { key, type, value: readScalar(c, type) };
    }
    entries.push(entry);
    metadata.set(key, entry);
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const al = metadata.get('general.alignment');
  if (al) {
    if (al.type !== GGUFValueType.UINT32) c.fail('general.alignment must be a UINT32');
    const a = al.value as number;
    if (a === 0 || (a & (a - 1)) !== 0) c.fail(`general.alignment ${a} is not a power of two`);
    alignment = a;
  }

  const tensors: GGUFTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = readString(c, `tensor name #${i}`);
    if (name.length === 0 || Buffer.byteLength(name) > MAX_NAME) c.fail(`tensor #${i}: name length ${name.length} out of range 1..${MAX_NAME}`);
    if (names.has(name)) c.fail(`duplicate tensor '${name}'`);
    names.add(name);
    const nDims = c.u32();
    if (nDims < 1 || nDims > MAX_DIMS) c.fail(`tensor '${name}': ${nDims} dimensions (1..${MAX_DIMS} allowed)`);
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) ne.push(c.count(`tensor '${name}' dimension`, c.size * 8));
    const type = c.u32();
    const info = ggmlTypeInfo(type);
    if (!info) c.fail(`tensor '${name}': unknown ggml type id ${type}`);
    const relOffset = c.count(`tensor '${name}' offset`, c.size);
    if (relOffset % alignment !== 0) c.fail(`tensor '${name}': offset ${relOffset} not aligned to ${alignment}`);
    if (ne[0] % info.blockSize !== 0) c.fail(`tensor '${name}': row length ${ne[0]} not a multiple of ${info.name} block size ${info.blockSize}`);
    let elems = 1;
    for (const d of ne) {
      elems *= d;
      if (!Number.isSafeInteger(elems) || elems > c.size * 8) c.fail(`tensor '${name}': element count overflows the file`);
    }
    const byteSize = (elems / info.blockSize) * info.typeSize;
    tensors.push({ name, ne, type, relOffset, offset: 0, byteSize });
  }

  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  for (const t of tensors) {
    t.offset = dataOffset + t.relOffset;
    if (t.offset + t.byteSize > c.size) {
      c.fail(`truncated: tensor '${t.name}' needs bytes ${t.offset}..${t.offset + t.byteSize}, file has ${c.size}`);
    }
  }
  // Tensors must not overlap (llama.cpp requires them in order, back to back, padded).
  const sorted = [...tensors].sort((a, b) => a.relOffset - b.relOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (prev.relOffset + prev.byteSize > sorted[i].relOffset) c.fail(`tensors '${prev.name}' and '${sorted[i].name}' overlap`);
  }
  return { path: c.path, version, fileSize: c.size, alignment, dataOffset, entries, metadata, tensors };
}

// ---- typed accessors -------------------------------------------------------------------------

export function getEntry(f: GGUFFile, key: string): GGUFEntry | undefined {
  return f.metadata.get(key);
}

export function getString(f: GGUFFile, key: string): string | undefined {
  const e = f.metadata.get(key);
  return e && e.type === GGUFValueType.STRING ? (e.value as string) : undefined;
}

/** A numeric scalar of any integer/float type, as a JS number. */
export function getNumber(f: GGUFFile, key: string): number | undefined {
  const e = f.metadata.get(key);
  if (!e || e.type === GGUFValueType.ARRAY || e.type === GGUFValueType.STRING) return undefined;
  if (typeof e.value === 'bigint') return Number(e.value);
  if (typeof e.value === 'boolean') return e.value ? 1 : 0;
  return e.value as number;
}

export function getBool(f: GGUFFile, key: string): boolean | undefined {
  const e = f.metadata.get(key);
  return e && e.type === GGUFValueType.BOOL ? (e.value as boolean) : undefined;
}

export function getArray(f: GGUFFile, key: string): GGUFScalar[] | undefined {
  const e = f.metadata.get(key);
  return e && e.type === GGUFValueType.ARRAY ? (e.value as GGUFScalar[]) : undefined;
}

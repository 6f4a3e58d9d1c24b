// GGUF → quantized GGUF, one tensor at a time: read, widen to f32 (dequantizing if needed),
// quantize natively over all threads, write. Peak memory is about one tensor in f32.

import { cpus } from 'node:os';
import { readGGUF, getNumber, type GGUFEntry } from '../gguf/reader.js';
import { Keys } from '../gguf/schema.js';
import { GGMLType, ggmlTypeName, tensorByteSize } from '../gguf/types.js';
import { kv, writeGGUF, type TensorPlan } from '../gguf/writer.js';
import { addon } from '../engine/native.js';
import { FileCursor } from '../util/file-cursor.js';
import { BadFileError, UsageError } from '../util/errors.js';
import { chooseType, isQuantizable, mixByName } from './recipes.js';

export interface QuantizeOptions {
  tensorTypes?: [RegExp, number][];
  outputType?: number;
  embeddingType?: number;
  pure?: boolean;
  allowRequantize?: boolean;
  threads?: number;
  onProgress?: (done: number, total: number, name: string) => void;
  onNote?: (msg: string) => void;
}

export interface QuantizeResult {
  path: string;
  mix: string;
  types: Record<string, number>;
  inputBytes: number;
  outputBytes: number;
  fallbacks: string[];
}

const FLOAT_TYPES: number[] = [GGMLType.F32, GGMLType.F16, GGMLType.BF16];

export async function quantizeFile(inPath: string, outPath: string, typeName: string, o: QuantizeOptions = {}): Promise<QuantizeResult> {
  const mix = mixByName(typeName);
  const f = readGGUF(inPath);
  const nLayer = getNumber(f, Keys.blockCount);
  const nHead = getNumber(f, Keys.headCount);
  if (nLayer === undefined || nHead === undefined) throw new BadFileError(inPath, 'not a falcon-h1 model (no block_count / head_count)');
  const nHeadKv = getNumber(f, Keys.headCountKv) ?? nHead;
  const hasOutput = f.tensors.some((t) => t.name === 'output.weight');
  const ctx = { mix, nLayer, nHead, nHeadKv, hasOutput, pure: o.pure, outputType: o.outputType, embeddingType: o.embeddingType, overrides: o.tensorTypes };

  const fallbacks: string[] = [];
  const plan: (TensorPlan & { src: (typeof f.tensors)[number] })[] = f.tensors.map((t) => {
    if (!isQuantizable(t.name, t.ne)) return { name: t.name, ne: t.ne, type: t.type, src: t };
    const ch = chooseType(t.name, t.ne, ctx);
    if (ch.reason) fallbacks.push(`${t.name}: ${ch.reason}`);
    if (!FLOAT_TYPES.includes(t.type) && t.type !== ch.type && !o.allowRequantize) {
      throw new UsageError(`${t.name} is already ${ggmlTypeName(t.type)}: requantizing loses quality (pass --allow-requantize to do it anyway)`);
    }
    return { name: t.name, ne: t.ne, type: ch.type, src: t };
  });

  if (fallbacks.length) {
    // one line per distinct fallback, not one per tensor
    const counts = new Map<string, number>();
    for (const fb of fallbacks) {
      const why = fb.slice(fb.indexOf(': ') + 2);
      counts.set(why, (counts.get(why) ?? 0) + 1);
    }
    for (const [why, n] of counts) o.onNote?.(`${n} tensor${n > 1 ? 's' : ''}: ${why}`);
  }

  const entries: GGUFEntry[] = f.entries.filter((e) => e.key !== Keys.fileType && e.key !== Keys.quantizationVersion && e.key !== Keys.alignment);
  const archAt = entries.findIndex((e) => e.key === Keys.architecture);
  entries.splice(archAt + 1, 0, kv.u32(Keys.fileType, mix.fileType), kv.u32(Keys.quantizationVersion, 2));

  const threads = o.threads ?? cpus().length;
  const types: Record<string, number> = {};
  const cursor = new FileCursor(inPath);
  let outputBytes = 0;
  try {
    await writeGGUF(outPath, entries, plan, async (i) => {
      const p = plan[i];
      o.onProgress?.(i, plan.length, p.name);
      types[ggmlTypeName(p.type)] = (types[ggmlTypeName(p.type)] ?? 0) + 1;
      if (p.type === p.src.type) {
        outputBytes += p.src.byteSize;
        return cursor.readAt(p.src.offset, p.src.byteSize); // kept as is (SSM parameters, norms, conv)
      }
      return quantizeRowsInChunks(cursor, p.src.offset, p.src.type, p.type, p.ne, threads, (b) => (outputBytes += b));
    });
  } finally {
    cursor.close();
  }
  o.onProgress?.(plan.length, plan.length, '');
  return { path: outPath, mix: mix.name, types, inputBytes: f.fileSize, outputBytes, fallbacks };
}

/** Rows of a tensor in slices of about 64 MiB of f32, so memory stays bounded for any tensor size. */
async function* quantizeRowsInChunks(
  cursor: FileCursor,
  offset: number,
  srcType: number,
  dstType: number,
  ne: number[],
  threads: number,
  count: (bytes: number) => void,
): AsyncIterable<Uint8Array> {
  const cols = ne[0];
  const rows = ne.slice(1).reduce((a, b) => a * b, 1);
  const srcRowBytes = tensorByteSize(srcType, [cols]);
  const step = Math.max(1, Math.floor((64 << 20) / (cols * 4)));
  for (let r = 0; r < rows; r += step) {
    const nr = Math.min(step, rows - r);
    const raw = cursor.readAt(offset + r * srcRowBytes, nr * srcRowBytes);
    const values = addon().dequantize(srcType, raw, nr * cols);
    const out = await addon().quantizeRows(dstType, values, nr, cols, threads);
    count(out.length);
    yield out;
  }
}

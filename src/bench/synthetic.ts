// Random-weight GGUF files with the real shapes of the released Falcon-H1 sizes, so anyone can
// benchmark without downloads. Layout and metadata are the llama.cpp falcon-h1 schema, so
// llama-bench runs the same file. Weights cycle one random block (the speed does not depend on the
// values; the block keeps activations finite and free of denormals).

import { Keys, Tensors } from '../gguf/schema.js';
import { FileType, GGMLType, tensorByteSize } from '../gguf/types.js';
import { kv, writeGGUF, type TensorPlan } from '../gguf/writer.js';
import { coreEntries } from '../gguf/hparams.js';
import type { GGUFEntry } from '../gguf/reader.js';
import { addon } from '../engine/native.js';
import type { ModelShape } from './shapes.js';
import { UsageError } from '../util/errors.js';
import { MIXES } from '../quantize/recipes.js';
import { quantizeFile } from '../quantize/quantize.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SYNTHETIC_TYPES: Record<string, { type: number; fileType: number }> = {
  f32: { type: GGMLType.F32, fileType: FileType.ALL_F32 },
  f16: { type: GGMLType.F16, fileType: FileType.MOSTLY_F16 },
  bf16: { type: GGMLType.BF16, fileType: FileType.MOSTLY_BF16 },
  q8_0: { type: GGMLType.Q8_0, fileType: FileType.MOSTLY_Q8_0 },
};

const PATTERN = 1 << 20; // elements in the cycled random block (a multiple of every block size)

function randomBlock(n: number, scale: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}

function* cycle(pattern: Uint8Array, total: number): Iterable<Uint8Array> {
  for (let off = 0; off < total; off += pattern.length) yield pattern.subarray(0, Math.min(pattern.length, total - off));
}

/** GPT-2 style byte tokens so llama.cpp's vocabulary loader is satisfied. */
export function syntheticVocab(V: number): GGUFEntry[] {
  const tokens: string[] = [];
  const types: number[] = [];
  for (let i = 0; i < V; i++) {
    tokens.push(i < 256 ? String.fromCodePoint(i < 33 || (i > 126 && i < 161) || i === 173 ? 256 + i : i) : `<t${i}>`);
    types.push(i < 256 ? 1 : 1);
  }
  return [
    kv.str(Keys.tokModel, 'gpt2'),
    kv.str(Keys.tokPre, 'falcon-h1'),
    kv.strArr(Keys.tokTokens, tokens),
    kv.i32Arr(Keys.tokTypes, types),
    kv.strArr(Keys.tokMerges, []),
    kv.u32(Keys.tokBos, 1),
    kv.u32(Keys.tokEos, 11),
  ];
}

export function syntheticPlan(s: ModelShape, matType: number): { tensors: TensorPlan[]; kinds: ('mat' | 'norm' | 'a' | 'd' | 'dt' | 'conv' | 'zero')[] } {
  const D = s.hidden;
  const qd = s.heads * s.headDim;
  const kvd = s.kvHeads * s.headDim;
  const conv = s.dSsm + 2 * s.groups * s.dState;
  const din = s.dSsm + conv + s.ssmHeads;
  const F32 = GGMLType.F32;
  const tensors: TensorPlan[] = [];
  const kinds: ('mat' | 'norm' | 'a' | 'd' | 'dt' | 'conv' | 'zero')[] = [];
  const add = (name: string, ne: number[], type: number, kind: (typeof kinds)[number]) => {
    tensors.push({ name, ne, type });
    kinds.push(kind);
  };
  add(Tensors.output, [D, s.vocab], matType, 'mat');
  add(Tensors.tokenEmbd, [D, s.vocab], matType, 'mat');
  add(Tensors.outputNorm, [D], F32, 'norm');
  for (let i = 0; i < s.layers; i++) {
    add(Tensors.ffnDown(i), [s.ffn, D], matType, 'mat');
    add(Tensors.ffnGate(i), [D, s.ffn], matType, 'mat');
    add(Tensors.ffnUp(i), [D, s.ffn], matType, 'mat');
    add(Tensors.attnNorm(i), [D], F32, 'norm');
    add(Tensors.ssmA(i), [1, s.ssmHeads], F32, 'a');
    add(Tensors.ssmD(i), [1, s.ssmHeads], F32, 'd');
    add(Tensors.ssmConvBias(i), [conv], F32, 'zero');
    add(Tensors.ssmConv(i), [s.dConv, conv], F32, 'conv');
    add(Tensors.ssmDtBias(i), [s.ssmHeads], F32, 'dt');
    add(Tensors.ssmIn(i), [D, din], matType, 'mat');
    if (s.ssmRmsNorm) add(Tensors.ssmNorm(i), [s.dSsm / s.groups, s.groups], F32, 'norm');
    add(Tensors.ssmOut(i), [s.dSsm, D], matType, 'mat');
    add(Tensors.ffnNorm(i), [D], F32, 'norm');
    add(Tensors.attnK(i), [D, kvd], matType, 'mat');
    add(Tensors.attnOut(i), [qd, D], matType, 'mat');
    add(Tensors.attnQ(i), [D, qd], matType, 'mat');
    add(Tensors.attnV(i), [D, kvd], matType, 'mat');
  }
  return { tensors, kinds };
}

export async function writeSyntheticModel(s: ModelShape, typeName: string, path: string): Promise<void> {
  const t = SYNTHETIC_TYPES[typeName.toLowerCase()];
  if (!t) throw new UsageError(`unknown synthetic weight type '${typeName}' (expected ${Object.keys(SYNTHETIC_TYPES).join(', ')})`);
  const { tensors, kinds } = syntheticPlan(s, t.type);
  const pattern = new Uint8Array(addon().quantize(t.type, randomBlock(PATTERN, 0.03, 12345)));
  const small = (kind: string, n: number): Float32Array => {
    const r = randomBlock(n, 1, 777 + n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (kind === 'norm' || kind === 'd') out[i] = 1;
      else if (kind === 'a') out[i] = -Math.exp(Math.abs(r[i]) * 2);
      else if (kind === 'dt') out[i] = -2 + r[i];
      else if (kind === 'conv') out[i] = 0.3 * r[i];
    }
    return out;
  };
  const entries: GGUFEntry[] = [
    ...coreEntries({ name: s.name, context: s.context, hidden: s.hidden, ffn: s.ffn, heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim, layers: s.layers, dConv: s.dConv, dSsm: s.dSsm, dState: s.dState, ssmHeads: s.ssmHeads, groups: s.groups, rmsEps: 1e-5, vocab: s.vocab, ropeTheta: 1e11, fileType: t.fileType }),
    ...syntheticVocab(s.vocab),
  ];
  await writeGGUF(path, entries, tensors, (i) => {
    const ti = tensors[i];
    const n = ti.ne.reduce((a, b) => a * b, 1);
    if (kinds[i] === 'mat') return cycle(pattern, tensorByteSize(ti.type, ti.ne));
    return new Uint8Array(small(kinds[i], n).buffer);
  });
}

/** Every --type a synthetic model can have: the directly written types and every quantize mix. */
export const SYNTHETIC_TYPE_NAMES: string[] = [...new Set([...Object.keys(SYNTHETIC_TYPES), ...Object.keys(MIXES).map((m) => m.toLowerCase())])];

/**
 * A synthetic model of any type users run: f32/f16/bf16/q8_0 are written directly; a mix
 * (q4_k_m, q5_k_s, ...) is written as bf16 to a temp file and quantized by `quantize` itself, so
 * its per-tensor types are exactly what users get from a real checkpoint.
 */
export async function writeSyntheticModelOfType(s: ModelShape, typeName: string, path: string, threads?: number): Promise<void> {
  const name = typeName.toLowerCase();
  if (SYNTHETIC_TYPES[name]) return writeSyntheticModel(s, name, path);
  if (!SYNTHETIC_TYPE_NAMES.includes(name)) throw new UsageError(`unknown synthetic weight type '${typeName}' (expected ${SYNTHETIC_TYPE_NAMES.join(', ')})`);
  const dir = mkdtempSync(join(tmpdir(), 'falcon-h1-synthetic-'));
  try {
    const src = join(dir, 'bf16.gguf');
    await writeSyntheticModel(s, 'bf16', src);
    await quantizeFile(src, path, name.toUpperCase(), { threads });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

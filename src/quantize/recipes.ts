// Quantization mixes: which ggml type each Falcon-H1 tensor gets, following llama.cpp's
// llama_tensor_get_type for the falcon-h1 architecture (spec gguf-falcon-h1.md §7).

import { GGMLType, FileType, ggmlTypeInfo, ggmlTypeName } from '../gguf/types.js';
import { UsageError } from '../util/errors.js';

export interface Mix {
  name: string;
  fileType: number;
  base: number;
}

const T = GGMLType;
export const MIXES: Record<string, Mix> = {
  Q4_0: { name: 'Q4_0', fileType: FileType.MOSTLY_Q4_0, base: T.Q4_0 },
  Q4_1: { name: 'Q4_1', fileType: FileType.MOSTLY_Q4_1, base: T.Q4_1 },
  Q5_0: { name: 'Q5_0', fileType: FileType.MOSTLY_Q5_0, base: T.Q5_0 },
  Q5_1: { name: 'Q5_1', fileType: FileType.MOSTLY_Q5_1, base: T.Q5_1 },
  Q8_0: { name: 'Q8_0', fileType: FileType.MOSTLY_Q8_0, base: T.Q8_0 },
  Q2_K: { name: 'Q2_K', fileType: FileType.MOSTLY_Q2_K, base: T.Q2_K },
  Q3_K_S: { name: 'Q3_K_S', fileType: FileType.MOSTLY_Q3_K_S, base: T.Q3_K },
  Q3_K_M: { name: 'Q3_K_M', fileType: FileType.MOSTLY_Q3_K_M, base: T.Q3_K },
  Q3_K_L: { name: 'Q3_K_L', fileType: FileType.MOSTLY_Q3_K_L, base: T.Q3_K },
  Q4_K_S: { name: 'Q4_K_S', fileType: FileType.MOSTLY_Q4_K_S, base: T.Q4_K },
  Q4_K_M: { name: 'Q4_K_M', fileType: FileType.MOSTLY_Q4_K_M, base: T.Q4_K },
  Q5_K_S: { name: 'Q5_K_S', fileType: FileType.MOSTLY_Q5_K_S, base: T.Q5_K },
  Q5_K_M: { name: 'Q5_K_M', fileType: FileType.MOSTLY_Q5_K_M, base: T.Q5_K },
  Q6_K: { name: 'Q6_K', fileType: FileType.MOSTLY_Q6_K, base: T.Q6_K },
  F16: { name: 'F16', fileType: FileType.MOSTLY_F16, base: T.F16 },
  BF16: { name: 'BF16', fileType: FileType.MOSTLY_BF16, base: T.BF16 },
  F32: { name: 'F32', fileType: FileType.ALL_F32, base: T.F32 },
};
const ALIASES: Record<string, string> = { Q3_K: 'Q3_K_M', Q4_K: 'Q4_K_M', Q5_K: 'Q5_K_M' };

export function mixByName(name: string): Mix {
  const key = ALIASES[name.toUpperCase()] ?? name.toUpperCase();
  const m = MIXES[key];
  if (!m) throw new UsageError(`unknown quantization type '${name}' (valid: ${[...Object.keys(MIXES), ...Object.keys(ALIASES)].join(', ')})`);
  return m;
}

/** Tensors that are quantized at all: 2-D `.weight` matrices except norms and the conv. */
export function isQuantizable(name: string, ne: number[]): boolean {
  return name.endsWith('.weight') && ne.length >= 2 && ne[1] > 1 && !name.endsWith('_norm.weight') && !name.includes('ssm_conv1d');
}

/** llama.cpp's use_more_bits: the first and last eighth of the layers and every third in between. */
export function useMoreBits(i: number, n: number): boolean {
  return i < Math.floor(n / 8) || i >= Math.floor((7 * n) / 8) || (i - Math.floor(n / 8)) % 3 === 2;
}

export interface TensorChoice {
  type: number;
  reason?: string;
}

export interface ChoiceContext {
  mix: Mix;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  hasOutput: boolean;
  pure?: boolean;
  outputType?: number;
  embeddingType?: number;
  overrides?: [RegExp, number][];
}

function layerOf(name: string): number {
  const m = /^blk\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : -1;
}

/** The type for one tensor before the shape fallback. */
function baseChoice(name: string, c: ChoiceContext): number {
  const { mix } = c;
  const ft = mix.name;
  for (const [re, t] of c.overrides ?? []) if (re.test(name)) return t;
  const isHead = name === 'output.weight' || (!c.hasOutput && name === 'token_embd.weight');
  if (isHead && c.outputType !== undefined) return c.outputType;
  if (name === 'token_embd.weight' && c.embeddingType !== undefined) return c.embeddingType;
  if (c.pure || [T.F16, T.BF16, T.F32].includes(mix.base as never)) return mix.base;
  if (isHead) return mix.base === T.Q8_0 ? T.Q8_0 : T.Q6_K;
  const il = layerOf(name);
  const gqa = c.nHead / c.nHeadKv;
  if (name.endsWith('attn_v.weight')) {
    switch (ft) {
      case 'Q2_K': return gqa >= 4 ? T.Q4_K : T.Q3_K;
      case 'Q3_K_S': return T.Q3_K;
      case 'Q3_K_M': return il < 2 ? T.Q5_K : T.Q4_K;
      case 'Q3_K_L': return T.Q5_K;
      case 'Q4_K_S': return il < 4 ? T.Q5_K : T.Q4_K;
      case 'Q4_K_M': return useMoreBits(il, c.nLayer) ? T.Q6_K : T.Q4_K;
      case 'Q5_K_S': return T.Q5_K;
      case 'Q5_K_M': return useMoreBits(il, c.nLayer) ? T.Q6_K : T.Q5_K;
      default: return mix.base;
    }
  }
  if (name.endsWith('ffn_down.weight')) {
    switch (ft) {
      case 'Q2_K': return T.Q3_K;
      case 'Q3_K_S': return T.Q3_K;
      case 'Q3_K_M': return il < Math.floor(c.nLayer / 16) ? T.Q5_K : T.Q4_K;
      case 'Q3_K_L': return T.Q5_K;
      case 'Q4_K_S': return il < Math.floor(c.nLayer / 8) ? T.Q5_K : T.Q4_K;
      case 'Q4_K_M': return useMoreBits(il, c.nLayer) ? T.Q6_K : T.Q4_K;
      case 'Q5_K_S': return T.Q5_K;
      case 'Q5_K_M': return useMoreBits(il, c.nLayer) ? T.Q6_K : T.Q5_K;
      default: return mix.base;
    }
  }
  if (name.endsWith('attn_output.weight')) {
    switch (ft) {
      case 'Q2_K': return T.Q3_K;
      case 'Q3_K_S': return T.Q3_K;
      case 'Q3_K_M': return T.Q4_K;
      case 'Q3_K_L': return T.Q5_K;
      default: return mix.base;
    }
  }
  return mix.base;
}

/** Shape fallback of llama.cpp: a row length that is not a multiple of the block size. */
const FALLBACK: Record<number, number> = {
  [T.Q4_K]: T.Q5_0,
  [T.Q5_K]: T.Q5_1,
  [T.Q6_K]: T.Q8_0,
  [T.Q2_K]: T.Q4_0,
  [T.Q3_K]: T.Q4_0,
};

export function chooseType(name: string, ne: number[], c: ChoiceContext): TensorChoice {
  let t = baseChoice(name, c);
  const bs = ggmlTypeInfo(t)!.blockSize;
  if (ne[0] % bs !== 0) {
    let f = FALLBACK[t] ?? T.F16;
    if (ne[0] % ggmlTypeInfo(f)!.blockSize !== 0) f = T.F16;
    const reason = `row length ${ne[0]} is not a multiple of ${ggmlTypeName(t)}'s block size ${bs}: using ${ggmlTypeName(f)}`;
    t = f;
    return { type: t, reason };
  }
  return { type: t };
}

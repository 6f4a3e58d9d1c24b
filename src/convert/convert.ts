// HF Falcon-H1 checkpoint → one GGUF file in llama.cpp's `falcon-h1` schema, streamed tensor by tensor.
//
// Default layout: µP multipliers folded into the weights (and, beyond llama.cpp, into the biases),
// a tied head written as its own correctly scaled output.weight. With keepMultipliers the weights
// are stored as in the checkpoint and the multipliers as metadata plus a per-layer µP vector, in
// TII's legacy-fork layout, which llama.cpp refuses (missing blk.N.ffn_norm) instead of misreading.

import { basename, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { GGUFEntry } from '../gguf/reader.js';
import { Keys, LLAMA_CPP_IGNORES, LLAMA_CPP_REFUSES, Tensors } from '../gguf/schema.js';
import { FileType, GGMLType } from '../gguf/types.js';
import { kv, writeGGUF, type TensorPlan } from '../gguf/writer.js';
import { coreEntries } from '../gguf/hparams.js';
import { BadFileError, UsageError } from '../util/errors.js';
import { encodeBf16, encodeF16, encodeF32 } from './encode.js';
import { mambaSizes, parseFalconH1Config, readJsonFile, type FalconH1Config } from './hf-config.js';
import { Checkpoint } from './safetensors.js';
import { buildVocabEntries } from './vocab.js';
import { chooseType, isQuantizable, mixByName } from '../quantize/recipes.js';
import { addon } from '../engine/native.js';
import { cpus } from 'node:os';

export type OutType = 'f32' | 'f16' | 'bf16' | 'auto' | string; // or a quantization mix (q8_0, q4_k_m, …)

export interface ConvertOptions {
  outType?: OutType;
  keepMultipliers?: boolean;
  onProgress?: (done: number, total: number, name: string) => void;
  onWarning?: (message: string) => void;
}

export interface ConvertResult {
  path: string;
  tensors: number;
  outType: string;
  llamaCppCompatible: boolean;
  warnings: string[];
}

interface Planned extends TensorPlan {
  produce: () => Float32Array;
}

const f = Math.fround;

function scale(x: Float32Array, m: number): Float32Array {
  const mf = f(m);
  for (let i = 0; i < x.length; i++) x[i] = f(x[i] * mf);
  return x;
}

/** Scale row ranges of a [rows, cols] matrix (or a [rows] bias with cols = 1) by the µP vector segments. */
function scaleSegments(x: Float32Array, cols: number, segs: [number, number, number][]): Float32Array {
  for (const [start, end, m] of segs) {
    const mf = f(m);
    for (let i = start * cols; i < end * cols; i++) x[i] = f(x[i] * mf);
  }
  return x;
}

function mupSegments(c: FalconH1Config): [number, number, number][] {
  const E = c.dSsm;
  const GN = c.nGroups * c.dState;
  const m = c.ssmMultipliers;
  return [
    [0, E, m[0]],
    [E, 2 * E, m[1]],
    [2 * E, 2 * E + GN, m[2]],
    [2 * E + GN, 2 * E + 2 * GN, m[3]],
    [2 * E + 2 * GN, 2 * E + 2 * GN + c.ssmHeads, m[4]],
  ];
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sizeLabel(n: number): string {
  const [div, suf] = n >= 1e12 ? [1e12, 'T'] : n >= 1e9 ? [1e9, 'B'] : n >= 1e6 ? [1e6, 'M'] : [1e3, 'K'];
  const v = n / div;
  return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10}${suf}`;
}

function modelName(dir: string): string {
  return basename(resolve(dir))
    .split(/([-_ ])/)
    .map((w) => (w.length ? w[0].toUpperCase() + w.slice(1) : w))
    .join('');
}

export async function convertCheckpoint(dir: string, outPath: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const cfgPath = resolve(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new BadFileError(dir, 'no config.json (not a Hugging Face checkpoint directory)');
  const cfg = parseFalconH1Config(readJsonFile(cfgPath), cfgPath);
  const ckpt = new Checkpoint(dir);
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    opts.onWarning?.(m);
  };
  try {
    const keep = !!opts.keepMultipliers;
    const requested = (opts.outType ?? 'auto').toLowerCase();
    const mix = ['auto', 'f32', 'f16', 'bf16'].includes(requested) ? undefined : mixByName(requested);
    const outType = mix ? mix.name.toLowerCase() : resolveOutType(requested as OutType, ckpt);
    const matType = mix ? GGMLType.F32 : { f32: GGMLType.F32, f16: GGMLType.F16, bf16: GGMLType.BF16 }[outType as 'f32']!;
    const plan = planTensors(cfg, ckpt, keep, matType);
    if (mix) {
      // the same per-tensor choice as `quantize` makes, applied while streaming from the checkpoint
      const ctx = { mix, nLayer: cfg.numLayers, nHead: cfg.numHeads, nHeadKv: cfg.numKvHeads, hasOutput: plan.some((t) => t.name === Tensors.output) };
      for (const t of plan) if (isQuantizable(t.name, t.ne) && t.type === GGMLType.F32) t.type = chooseType(t.name, t.ne, ctx).type;
    }

    const vocab = buildVocabEntries(dir, cfg);
    const entries = metadataEntries(cfg, dir, mix ? mix.fileType : outType, keep, plan);
    entries.push(...vocab.entries);
    if (vocab.eosIds.length) entries.push(kv.i32Arr(Keys.tokEosIds, vocab.eosIds));
    entries.push(kv.str(Keys.hfTokenizerJson, vocab.tokenizerJson));

    let llamaCppCompatible = true;
    if (keep) {
      llamaCppCompatible = false;
      warn('--keep-multipliers writes the multiplier-preserving layout: llama.cpp will refuse this file (missing blk.N.ffn_norm); falcon-h1 runs it exactly');
    }
    const refused = plan.filter((t) => LLAMA_CPP_REFUSES.some((r) => r.test(t.name)) && !keep).map((t) => t.name);
    if (refused.length) {
      llamaCppCompatible = false;
      warn(`llama.cpp will not load this file: it has no place for ${refused[0]}${refused.length > 1 ? ` (and ${refused.length - 1} more)` : ''}`);
    }
    const ignored = plan.filter((t) => LLAMA_CPP_IGNORES.some((r) => r.test(t.name))).map((t) => t.name);
    if (ignored.length) {
      llamaCppCompatible = false;
      warn(`llama.cpp loads but ignores the attention biases (${ignored[0]}, …): its logits for this file will be wrong`);
    }
    if (cfg.rmsNorm && cfg.normBeforeGate) {
      llamaCppCompatible = false;
      warn('mamba_norm_before_gate=true is stored as falcon-h1.mamba_norm_before_gate; llama.cpp always gates first, so its logits for this file will be wrong');
    }
    if (cfg.timeStepLimit[0] !== 0 || cfg.timeStepLimit[1] !== Infinity) {
      llamaCppCompatible = false;
      warn('time_step_limit is stored as falcon-h1.ssm.time_step_limit; llama.cpp does not clamp Δ');
    }

    await writeGGUF(outPath, entries, plan, async (i) => {
      const t = plan[i];
      opts.onProgress?.(i, plan.length, t.name);
      const data = t.produce();
      if (t.type === GGMLType.F32) return encodeF32(data);
      if (t.type === GGMLType.BF16) return encodeBf16(data);
      if (t.type === GGMLType.F16) return encodeF16(data);
      return addon().quantizeRows(t.type, data, data.length / t.ne[0], t.ne[0], cpus().length);
    });
    opts.onProgress?.(plan.length, plan.length, '');
    return { path: outPath, tensors: plan.length, outType, llamaCppCompatible, warnings };
  } finally {
    ckpt.close();
  }
}

function resolveOutType(o: OutType, ckpt: Checkpoint): string {
  if (o !== 'auto') {
    if (!['f32', 'f16', 'bf16'].includes(o)) throw new UsageError(`unknown --outtype '${o}' (expected f32, f16, bf16, auto or a quantization type)`);
    return o;
  }
  for (const t of ckpt.tensors.values()) {
    if (t.shape.length === 2) return t.dtype === 'BF16' ? 'bf16' : t.dtype === 'F16' ? 'f16' : 'f32';
  }
  return 'f32';
}

function metadataEntries(cfg: FalconH1Config, dir: string, outType: string | number, keep: boolean, plan: Planned[]): GGUFEntry[] {
  const nParams = plan.reduce((s, t) => s + t.ne.reduce((x, y) => x * y, 1), 0);
  const e: GGUFEntry[] = coreEntries({
    name: modelName(dir),
    sizeLabel: sizeLabel(nParams),
    context: cfg.maxPositionEmbeddings,
    hidden: cfg.hiddenSize,
    ffn: cfg.intermediateSize,
    heads: cfg.numHeads,
    kvHeads: cfg.numKvHeads,
    headDim: cfg.headDim,
    layers: cfg.numLayers,
    dConv: cfg.dConv,
    dSsm: cfg.dSsm,
    dState: cfg.dState,
    ssmHeads: cfg.ssmHeads,
    groups: cfg.nGroups,
    rmsEps: cfg.rmsNormEps,
    vocab: cfg.vocabSize,
    ropeTheta: cfg.ropeTheta,
    fileType: typeof outType === 'number' ? outType : { f32: FileType.ALL_F32, f16: FileType.MOSTLY_F16, bf16: FileType.MOSTLY_BF16 }[outType]!,
  });
  if (cfg.rmsNorm && cfg.normBeforeGate) e.push(kv.bool(Keys.mambaNormBeforeGate, true));
  if (cfg.timeStepLimit[0] !== 0 || cfg.timeStepLimit[1] !== Infinity) e.push(kv.f32Arr(Keys.ssmTimeStepLimit, cfg.timeStepLimit));
  if (keep) {
    e.push(
      kv.bool(Keys.ssmHasMup, true),
      kv.bool(Keys.mambaRmsNorm, cfg.rmsNorm),
      kv.bool(Keys.mambaNormBeforeGate, cfg.rmsNorm && cfg.normBeforeGate),
      kv.f32(Keys.embeddingMultiplier, cfg.embeddingMultiplier),
      kv.f32(Keys.lmHeadMultiplier, cfg.lmHeadMultiplier),
      kv.f32(Keys.attentionInMultiplier, cfg.attentionInMultiplier),
      kv.f32(Keys.attentionOutMultiplier, cfg.attentionOutMultiplier),
      kv.f32(Keys.keyMultiplier, cfg.keyMultiplier),
      kv.f32(Keys.ssmInMultiplier, cfg.ssmInMultiplier),
      kv.f32(Keys.ssmOutMultiplier, cfg.ssmOutMultiplier),
      kv.f32(Keys.mlpGateMultiplier, cfg.mlpMultipliers[0]),
      kv.f32(Keys.mlpDownMultiplier, cfg.mlpMultipliers[1]),
      kv.f32(Keys.legacyRopeTheta, cfg.ropeTheta),
      kv.u32(Keys.legacyDssm, cfg.dSsm),
      kv.u32(Keys.legacyHeadDim, cfg.headDim),
      kv.u32(Keys.legacySsmHeadDim, cfg.ssmHeadDim),
      kv.u32(Keys.legacyChunkSize, cfg.chunkSize),
    );
  }
  // Deduplicate (a later value overwrites in place, as gguf-py does).
  const seen = new Map<string, number>();
  const out: GGUFEntry[] = [];
  for (const x of e) {
    const i = seen.get(x.key);
    if (i === undefined) {
      seen.set(x.key, out.length);
      out.push(x);
    } else out[i] = x;
  }
  return out;
}

/** Map every checkpoint tensor to its GGUF tensor, check shapes, and attach its transform. */
function planTensors(cfg: FalconH1Config, ckpt: Checkpoint, keep: boolean, matType: number): Planned[] {
  const { convDim, inProjDim } = mambaSizes(cfg);
  const D = cfg.hiddenSize;
  const V = cfg.vocabSize;
  const qDim = cfg.numHeads * cfg.headDim;
  const kvDim = cfg.numKvHeads * cfg.headDim;
  const E = cfg.dSsm;
  const F = cfg.intermediateSize;
  const H = cfg.ssmHeads;
  const K = cfg.dConv;
  const mup = mupSegments(cfg);
  const F32 = GGMLType.F32;
  const read = (n: string) => () => ckpt.readF32(n);
  const m = (fn: (x: Float32Array) => Float32Array, src: () => Float32Array) => () => fn(src());
  const id = (x: Float32Array) => x;
  const fold = (mult: number) => (keep ? id : (x: Float32Array) => scale(x, mult));

  const out: Planned[] = [];
  const used = new Set<string>();
  const checkShape = (hf: string, want: number[]) => {
    const t = ckpt.tensors.get(hf);
    if (!t) throw new BadFileError(ckpt.dir, `missing tensor '${hf}'`);
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new BadFileError(t.file, `tensor '${hf}' has shape [${t.shape}], config.json implies [${want}]`);
    }
    used.add(hf);
  };
  const add = (hf: string, hfShape: number[], name: string, ne: number[], type: number, transform: (x: Float32Array) => Float32Array) => {
    checkShape(hf, hfShape);
    out.push({ name, ne, type, produce: m(transform, read(hf)) });
  };
  const optional = (hf: string, present: boolean) => {
    if (!present && ckpt.has(hf)) throw new BadFileError(ckpt.dir, `unexpected tensor '${hf}' (config.json says it should not exist)`);
    return present;
  };

  // Globals, in the order llama.cpp's converter emits them for a single-file checkpoint.
  const embHf = 'model.embed_tokens.weight';
  if (!cfg.tieWordEmbeddings) {
    add('lm_head.weight', [V, D], Tensors.output, [D, V], matType, fold(cfg.lmHeadMultiplier));
  } else if (ckpt.has('lm_head.weight')) {
    used.add('lm_head.weight'); // tied: the stored copy equals the embedding; HF ignores it.
  }
  add(embHf, [V, D], Tensors.tokenEmbd, [D, V], matType, fold(cfg.embeddingMultiplier));
  if (cfg.tieWordEmbeddings && !keep) {
    // llama.cpp would reuse token_embd (scaled by the embedding multiplier) as the head: wrong scale.
    out.push({ name: Tensors.output, ne: [D, V], type: matType, produce: m((x) => scale(x, cfg.lmHeadMultiplier), read(embHf)) });
  }
  add('model.final_layernorm.weight', [D], Tensors.outputNorm, [D], F32, id);

  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}.`;
    const layer: Planned[] = [];
    const L = (hf: string, hfShape: number[], name: string, ne: number[], type: number, t: (x: Float32Array) => Float32Array) => {
      checkShape(p + hf, hfShape);
      layer.push({ name, ne, type, produce: m(t, read(p + hf)), hf } as Planned & { hf: string });
    };
    const kIn = keep ? id : (x: Float32Array) => scale(scale(x, cfg.keyMultiplier), cfg.attentionInMultiplier);
    L('feed_forward.down_proj.weight', [D, F], Tensors.ffnDown(i), [F, D], matType, fold(cfg.mlpMultipliers[1]));
    L('feed_forward.gate_proj.weight', [F, D], Tensors.ffnGate(i), [D, F], matType, fold(cfg.mlpMultipliers[0]));
    L('feed_forward.up_proj.weight', [F, D], Tensors.ffnUp(i), [D, F], matType, id);
    if (optional(p + 'feed_forward.down_proj.bias', cfg.mlpBias)) {
      L('feed_forward.down_proj.bias', [D], Tensors.ffnDownBias(i), [D], F32, fold(cfg.mlpMultipliers[1]));
      L('feed_forward.gate_proj.bias', [F], Tensors.ffnGateBias(i), [F], F32, fold(cfg.mlpMultipliers[0]));
      L('feed_forward.up_proj.bias', [F], Tensors.ffnUpBias(i), [F], F32, id);
    }
    L('input_layernorm.weight', [D], Tensors.attnNorm(i), [D], F32, id);
    L('mamba.A_log', [H], Tensors.ssmA(i), [1, H], F32, (x) => {
      for (let j = 0; j < x.length; j++) x[j] = f(-Math.exp(x[j]));
      return x;
    });
    L('mamba.D', [H], Tensors.ssmD(i), [1, H], F32, id);
    if (optional(p + 'mamba.conv1d.bias', cfg.convBias)) L('mamba.conv1d.bias', [convDim], Tensors.ssmConvBias(i), [convDim], F32, id);
    L('mamba.conv1d.weight', [convDim, 1, K], Tensors.ssmConv(i), [K, convDim], F32, id);
    L('mamba.dt_bias', [H], Tensors.ssmDtBias(i), [H], F32, id);
    L('mamba.in_proj.weight', [inProjDim, D], Tensors.ssmIn(i), [D, inProjDim], matType, keep ? id : (x) => scaleSegments(scale(x, cfg.ssmInMultiplier), D, mup));
    if (optional(p + 'mamba.in_proj.bias', cfg.projBias)) {
      L('mamba.in_proj.bias', [inProjDim], Tensors.ssmInBias(i), [inProjDim], F32, keep ? id : (x) => scaleSegments(x, 1, mup));
    }
    if (optional(p + 'mamba.norm.weight', cfg.rmsNorm)) L('mamba.norm.weight', [E], Tensors.ssmNorm(i), [E / cfg.nGroups, cfg.nGroups], F32, id);
    L('mamba.out_proj.weight', [D, E], Tensors.ssmOut(i), [E, D], matType, fold(cfg.ssmOutMultiplier));
    if (optional(p + 'mamba.out_proj.bias', cfg.projectorsBias)) L('mamba.out_proj.bias', [D], Tensors.ssmOutBias(i), [D], F32, fold(cfg.ssmOutMultiplier));
    L('pre_ff_layernorm.weight', [D], keep ? Tensors.ffnPreNorm(i) : Tensors.ffnNorm(i), [D], F32, id);
    L('self_attn.k_proj.weight', [kvDim, D], Tensors.attnK(i), [D, kvDim], matType, kIn);
    L('self_attn.o_proj.weight', [D, qDim], Tensors.attnOut(i), [qDim, D], matType, fold(cfg.attentionOutMultiplier));
    L('self_attn.q_proj.weight', [qDim, D], Tensors.attnQ(i), [D, qDim], matType, fold(cfg.attentionInMultiplier));
    L('self_attn.v_proj.weight', [kvDim, D], Tensors.attnV(i), [D, kvDim], matType, fold(cfg.attentionInMultiplier));
    if (optional(p + 'self_attn.q_proj.bias', cfg.attentionBias)) {
      L('self_attn.k_proj.bias', [kvDim], Tensors.attnKBias(i), [kvDim], F32, fold(cfg.keyMultiplier));
      L('self_attn.o_proj.bias', [D], Tensors.attnOutBias(i), [D], F32, fold(cfg.attentionOutMultiplier));
      L('self_attn.q_proj.bias', [qDim], Tensors.attnQBias(i), [qDim], F32, id);
      L('self_attn.v_proj.bias', [kvDim], Tensors.attnVBias(i), [kvDim], F32, id);
    }
    if (keep) {
      layer.push({
        name: Tensors.ssmMupVec(i),
        ne: [inProjDim],
        type: F32,
        produce: () => scaleSegments(new Float32Array(inProjDim).fill(1), 1, mup),
      });
    }
    // Within a layer, llama.cpp's order is the alphabetical order of the HF names.
    layer.sort((a, b) => byteCompare((a as Planned & { hf?: string }).hf ?? '~', (b as Planned & { hf?: string }).hf ?? '~'));
    out.push(...layer);
  }

  const extra = [...ckpt.tensors.keys()].filter((k) => !used.has(k));
  if (extra.length) throw new BadFileError(ckpt.dir, `unexpected tensor '${extra[0]}'${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''} for a Falcon-H1 checkpoint`);
  return out;
}

// Reads a Hugging Face Falcon-H1 config.json (transformers 4 and 5 dialects) into one typed shape.

import { readFileSync } from 'node:fs';
import { BadFileError } from '../util/errors.js';

export interface FalconH1Config {
  vocabSize: number;
  hiddenSize: number; // D
  intermediateSize: number; // F
  numLayers: number;
  numHeads: number; // Hq
  numKvHeads: number; // Hkv
  headDim: number; // dh
  rmsNormEps: number;
  maxPositionEmbeddings: number;
  ropeTheta: number;
  attentionBias: boolean;
  mlpBias: boolean;
  dSsm: number; // E
  ssmHeads: number; // H
  ssmHeadDim: number; // P
  nGroups: number; // G
  dState: number; // N
  dConv: number; // K
  chunkSize: number;
  convBias: boolean;
  projBias: boolean; // in_proj bias
  projectorsBias: boolean; // out_proj bias
  rmsNorm: boolean;
  normBeforeGate: boolean;
  timeStepLimit: [number, number];
  embeddingMultiplier: number;
  lmHeadMultiplier: number;
  attentionInMultiplier: number;
  keyMultiplier: number;
  attentionOutMultiplier: number;
  ssmInMultiplier: number;
  ssmOutMultiplier: number;
  ssmMultipliers: [number, number, number, number, number];
  mlpMultipliers: [number, number];
  tieWordEmbeddings: boolean;
  bosTokenId?: number;
  eosTokenId?: number | number[];
  padTokenId?: number;
  dtype?: string;
}

/** transformers 5 writes non-finite floats as {"__float__": "Infinity"}. */
function decodeFloats(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeFloats);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length === 1 && typeof o.__float__ === 'string') {
      const s = o.__float__;
      if (s === 'Infinity') return Infinity;
      if (s === '-Infinity') return -Infinity;
      if (s === 'NaN') return NaN;
      return Number(s);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = decodeFloats(x);
    return out;
  }
  return v;
}

export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BadFileError(path, `cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadFileError(path, `invalid JSON (${(e as Error).message})`);
  }
}

export function parseFalconH1Config(raw: unknown, path = 'config.json'): FalconH1Config {
  const fail = (msg: string): never => {
    throw new BadFileError(path, msg);
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail('expected a JSON object');
  const c = decodeFloats(raw) as Record<string, unknown>;
  const archs = c.architectures;
  if (Array.isArray(archs) && !archs.includes('FalconH1ForCausalLM')) {
    fail(`architecture ${JSON.stringify(archs)} is not FalconH1ForCausalLM`);
  }
  if (!archs && c.model_type !== 'falcon_h1') fail(`model_type ${JSON.stringify(c.model_type)} is not falcon_h1`);

  const int = (key: string, def?: number): number => {
    const v = c[key] ?? def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return fail(`${key} must be a non-negative integer (got ${JSON.stringify(v)})`);
    return v;
  };
  const num = (key: string, def?: number): number => {
    const v = c[key] ?? def;
    if (typeof v !== 'number' || Number.isNaN(v)) return fail(`${key} must be a number (got ${JSON.stringify(v)})`);
    return v;
  };
  const bool = (key: string, def: boolean): boolean => {
    const v = c[key] ?? def;
    if (typeof v !== 'boolean') return fail(`${key} must be true or false`);
    return v;
  };
  const numList = (key: string, n: number, def: number[]): number[] => {
    const v = c[key] ?? def;
    if (!Array.isArray(v) || v.length !== n || v.some((x) => typeof x !== 'number')) return fail(`${key} must be a list of ${n} numbers`);
    return v as number[];
  };

  const hidden = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKv = c.num_key_value_heads == null ? numHeads : int('num_key_value_heads');
  const headDim = c.head_dim == null ? hidden / numHeads : int('head_dim');
  const dSsm = c.mamba_d_ssm == null ? int('mamba_expand', 2) * hidden : int('mamba_d_ssm');
  const ssmHeads = int('mamba_n_heads', 128);
  const ssmHeadDim = c.mamba_d_head == null || c.mamba_d_head === 'auto' ? dSsm / ssmHeads : int('mamba_d_head');
  const nGroups = int('mamba_n_groups', 1);

  // RoPE base: v5 `rope_parameters.rope_theta`, v4 top-level `rope_theta`.
  let ropeTheta: number | undefined;
  const rp = c.rope_parameters as Record<string, unknown> | undefined;
  if (rp && typeof rp === 'object') {
    if (rp.rope_type && rp.rope_type !== 'default') fail(`rope_type ${JSON.stringify(rp.rope_type)} is not supported`);
    if (typeof rp.rope_theta === 'number') ropeTheta = rp.rope_theta;
  }
  if (ropeTheta === undefined && typeof c.rope_theta === 'number') ropeTheta = c.rope_theta;
  const rs = c.rope_scaling as Record<string, unknown> | null | undefined;
  if (rs && typeof rs === 'object' && (rs.rope_type ?? rs.type) !== 'default') fail(`rope_scaling ${JSON.stringify(rs)} is not supported`);
  if (ropeTheta === undefined) fail('no rope_theta (neither rope_parameters.rope_theta nor rope_theta)');

  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu') fail(`hidden_act ${JSON.stringify(act)} is not supported (only silu)`);

  let tsl: [number, number] = [0, Infinity];
  if (c.time_step_limit != null) {
    const v = c.time_step_limit;
    if (!Array.isArray(v) || v.length !== 2 || v.some((x) => typeof x !== 'number')) fail('time_step_limit must be a pair of numbers');
    tsl = [(v as number[])[0], (v as number[])[1]];
  }

  const cfg: FalconH1Config = {
    vocabSize: int('vocab_size'),
    hiddenSize: hidden,
    intermediateSize: int('intermediate_size'),
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKvHeads: numKv,
    headDim,
    rmsNormEps: num('rms_norm_eps', 1e-5),
    maxPositionEmbeddings: int('max_position_embeddings', 8192),
    ropeTheta: ropeTheta!,
    attentionBias: bool('attention_bias', false),
    mlpBias: bool('mlp_bias', false),
    dSsm,
    ssmHeads,
    ssmHeadDim,
    nGroups,
    dState: int('mamba_d_state', 256),
    dConv: int('mamba_d_conv', 4),
    chunkSize: int('mamba_chunk_size', 256),
    convBias: bool('mamba_conv_bias', true),
    projBias: bool('mamba_proj_bias', false),
    projectorsBias: bool('projectors_bias', false),
    rmsNorm: bool('mamba_rms_norm', false),
    normBeforeGate: bool('mamba_norm_before_gate', true),
    timeStepLimit: tsl,
    embeddingMultiplier: num('embedding_multiplier', 1),
    lmHeadMultiplier: num('lm_head_multiplier', 1),
    attentionInMultiplier: num('attention_in_multiplier', 1),
    keyMultiplier: num('key_multiplier', 1),
    attentionOutMultiplier: num('attention_out_multiplier', 1),
    ssmInMultiplier: num('ssm_in_multiplier', 1),
    ssmOutMultiplier: num('ssm_out_multiplier', 1),
    ssmMultipliers: numList('ssm_multipliers', 5, [1, 1, 1, 1, 1]) as FalconH1Config['ssmMultipliers'],
    mlpMultipliers: numList('mlp_multipliers', 2, [1, 1]) as FalconH1Config['mlpMultipliers'],
    tieWordEmbeddings: bool('tie_word_embeddings', false),
    bosTokenId: typeof c.bos_token_id === 'number' ? c.bos_token_id : undefined,
    eosTokenId: typeof c.eos_token_id === 'number' || Array.isArray(c.eos_token_id) ? (c.eos_token_id as number | number[]) : undefined,
    padTokenId: typeof c.pad_token_id === 'number' ? c.pad_token_id : undefined,
    dtype: (c.dtype ?? c.torch_dtype) as string | undefined,
  };

  // Shape consistency: every derived size must be whole.
  if (!Number.isInteger(cfg.headDim) || cfg.headDim <= 0) fail(`head_dim ${cfg.headDim} is not a positive integer`);
  if (cfg.headDim % 2 !== 0) fail(`head_dim ${cfg.headDim} must be even for RoPE`);
  if (numHeads === 0 || numKv === 0 || numHeads % numKv !== 0) fail(`num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKv}`);
  if (!Number.isInteger(ssmHeadDim) || ssmHeadDim * ssmHeads !== dSsm) fail(`mamba_n_heads ${ssmHeads} × mamba_d_head ${ssmHeadDim} != mamba_d_ssm ${dSsm}`);
  if (nGroups === 0 || ssmHeads % nGroups !== 0) fail(`mamba_n_groups ${nGroups} does not divide mamba_n_heads ${ssmHeads}`);
  if (cfg.dConv < 1) fail('mamba_d_conv must be at least 1');
  for (const [k, v] of Object.entries(cfg)) {
    if (typeof v === 'number' && !Number.isFinite(v)) fail(`${k} is not finite`);
  }
  return cfg;
}

/** Derived Mamba sizes: conv channels Cd = E + 2GN and in_proj width Din = E + Cd + H. */
export function mambaSizes(c: FalconH1Config): { convDim: number; inProjDim: number } {
  const convDim = c.dSsm + 2 * c.nGroups * c.dState;
  return { convDim, inProjDim: c.dSsm + convDim + c.ssmHeads };
}

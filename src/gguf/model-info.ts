// Falcon-H1 hyperparameters from a GGUF file (upstream llama.cpp layout or TII's legacy layout),
// parameter count and the memory a context needs.

import { BadFileError } from '../util/errors.js';
import { getBool, getNumber, getString, type GGUFFile } from './reader.js';
import { ARCH, Keys, Tensors } from './schema.js';
import { fileTypeName, ggmlTypeName } from './types.js';

export interface ModelInfo {
  name?: string;
  layout: 'upstream' | 'legacy';
  fileType?: string;
  vocabSize: number;
  contextLength: number;
  hiddenSize: number;
  numLayers: number;
  feedForward: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsEps: number;
  ropeTheta: number;
  dConv: number;
  dSsm: number;
  dState: number;
  ssmHeads: number;
  nGroups: number;
  ssmRmsNorm: boolean;
  normBeforeGate: boolean;
  nParams: number;
  weightBytes: number;
  tensorTypes: Record<string, number>;
}

export interface ContextMemory {
  ctxSize: number;
  kvType: 'f32' | 'f16';
  weights: number;
  kvCache: number;
  convState: number;
  ssmState: number;
  total: number;
}

export function modelInfo(f: GGUFFile): ModelInfo {
  const arch = getString(f, Keys.architecture);
  if (arch !== ARCH) throw new BadFileError(f.path, `architecture '${arch ?? '(none)'}' is not ${ARCH}`);
  const req = (key: string, ...alts: string[]): number => {
    for (const k of [key, ...alts]) {
      const v = getNumber(f, k);
      if (v !== undefined) return v;
    }
    throw new BadFileError(f.path, `missing metadata key ${key}`);
  };
  const legacy = f.tensors.some((t) => t.name === Tensors.ffnPreNorm(0));
  const hidden = req(Keys.embeddingLength);
  const numHeads = req(Keys.headCount);
  const embd = f.tensors.find((t) => t.name === Tensors.tokenEmbd);
  const nParams = f.tensors.reduce((s, t) => s + t.ne.reduce((a, b) => a * b, 1), 0);
  const types: Record<string, number> = {};
  for (const t of f.tensors) types[ggmlTypeName(t.type)] = (types[ggmlTypeName(t.type)] ?? 0) + 1;
  const ft = getNumber(f, Keys.fileType);
  return {
    name: getString(f, Keys.name),
    layout: legacy ? 'legacy' : 'upstream',
    fileType: ft === undefined ? undefined : fileTypeName(ft),
    vocabSize: getNumber(f, Keys.vocabSize) ?? embd?.ne[1] ?? 0,
    contextLength: req(Keys.contextLength),
    hiddenSize: hidden,
    numLayers: req(Keys.blockCount),
    feedForward: req(Keys.feedForwardLength),
    numHeads,
    numKvHeads: getNumber(f, Keys.headCountKv) ?? numHeads,
    headDim: getNumber(f, Keys.keyLength) ?? getNumber(f, Keys.legacyHeadDim) ?? hidden / numHeads,
    rmsEps: req(Keys.rmsEps),
    ropeTheta: getNumber(f, Keys.ropeFreqBase) ?? getNumber(f, Keys.legacyRopeTheta) ?? 10000,
    dConv: req(Keys.ssmConvKernel),
    // Legacy files store expand·D in ssm.inner_size; the true width is in ssm.mamba_d_ssm.
    dSsm: getNumber(f, Keys.legacyDssm) ?? req(Keys.ssmInnerSize),
    dState: req(Keys.ssmStateSize),
    ssmHeads: req(Keys.ssmTimeStepRank),
    nGroups: req(Keys.ssmGroupCount),
    ssmRmsNorm: f.tensors.some((t) => t.name === Tensors.ssmNorm(0)),
    normBeforeGate: getBool(f, Keys.mambaNormBeforeGate) ?? false,
    nParams,
    weightBytes: f.tensors.reduce((s, t) => s + t.byteSize, 0),
    tensorTypes: types,
  };
}

export function contextMemory(m: ModelInfo, ctxSize: number, kvType: 'f32' | 'f16' = 'f16'): ContextMemory {
  const kvBytes = kvType === 'f32' ? 4 : 2;
  const kvCache = 2 * m.numLayers * ctxSize * m.numKvHeads * m.headDim * kvBytes;
  const convDim = m.dSsm + 2 * m.nGroups * m.dState;
  const convState = m.numLayers * (m.dConv - 1) * convDim * 4;
  const ssmState = m.numLayers * m.dSsm * m.dState * 4;
  return { ctxSize, kvType, weights: m.weightBytes, kvCache, convState, ssmState, total: m.weightBytes + kvCache + convState + ssmState };
}

// The falcon-h1 hyperparameter entries every file we write starts with (converted checkpoints and
// synthetic benchmark models alike), in the order llama.cpp's converter writes them.
import type { GGUFEntry } from './reader.js';
import { ARCH, Keys } from './schema.js';
import { kv } from './writer.js';

export interface CoreHparams {
  name: string;
  sizeLabel?: string;
  context: number;
  hidden: number;
  ffn: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  layers: number;
  dConv: number;
  dSsm: number;
  dState: number;
  ssmHeads: number;
  groups: number;
  rmsEps: number;
  vocab: number;
  ropeTheta: number;
  fileType: number;
}

export function coreEntries(h: CoreHparams): GGUFEntry[] {
  return [
    kv.str(Keys.architecture, ARCH),
    kv.str(Keys.type, 'model'),
    kv.str(Keys.name, h.name),
    ...(h.sizeLabel ? [kv.str(Keys.sizeLabel, h.sizeLabel)] : []),
    kv.u32(Keys.contextLength, h.context),
    kv.u32(Keys.embeddingLength, h.hidden),
    kv.u32(Keys.feedForwardLength, h.ffn),
    kv.u32(Keys.headCount, h.heads),
    kv.u32(Keys.blockCount, h.layers),
    kv.u32(Keys.ssmConvKernel, h.dConv),
    kv.u32(Keys.ssmInnerSize, h.dSsm),
    kv.u32(Keys.ssmStateSize, h.dState),
    kv.u32(Keys.ssmTimeStepRank, h.ssmHeads),
    kv.u32(Keys.ssmGroupCount, h.groups),
    kv.f32(Keys.rmsEps, h.rmsEps),
    kv.u32(Keys.fileType, h.fileType),
    kv.u32(Keys.vocabSize, h.vocab),
    kv.u32(Keys.headCountKv, h.kvHeads),
    kv.u32(Keys.keyLength, h.headDim),
    kv.u32(Keys.valueLength, h.headDim),
    kv.f32(Keys.ropeFreqBase, h.ropeTheta),
    kv.u32(Keys.quantizationVersion, 2),
  ];
}

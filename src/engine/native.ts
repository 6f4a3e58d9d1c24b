// The one declaration of the native addon's surface (csrc/addon/addon.cc).

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FalconError } from '../util/errors.js';

export interface NativeModelInfo {
  nVocab: number;
  nEmbd: number;
  nLayer: number;
  nCtxTrain: number;
  nFf: number;
  nHead: number;
  nHeadKv: number;
  headDim: number;
  ssmDInner: number;
  ssmNHead: number;
  ssmHeadDim: number;
  ssmDState: number;
  ssmNGroup: number;
  ssmDConv: number;
  ropeTheta: number;
  rmsEps: number;
  nParams: number;
  fileBytes: number;
  weightType: number;
  ssmRmsNorm: boolean;
  ssmNormBeforeGate: boolean;
  hasMultipliers: boolean;
}

export interface NativeModel {
  info(): NativeModelInfo;
  free(): void;
  readonly freed: boolean;
}

export interface NativeContextParams {
  nCtx?: number;
  nBatch?: number;
  nThreads?: number;
  kvType?: 0 | 1;
  /** 0 = CPU, 1 = CUDA, 2 = Metal (error if unavailable), -1 = a GPU when available */
  device?: 0 | 1 | 2 | -1;
  /** with CUDA: the last N layers on the GPU(s), N > layers adds the head; -1 = everything */
  gpuLayers?: number;
  /** -1 = auto, 0 = one GPU, 1 = runs of layers per GPU */
  splitMode?: -1 | 0 | 1;
  mainGpu?: number;
}

export interface NativeSamplingParams {
  temp?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  repeatLastN?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  seed?: number;
}

export interface NativeGenerateOptions extends NativeSamplingParams {
  nPredict?: number;
  stopTokens?: Int32Array;
}

export interface NativeGenerateResult {
  nPrompt: number;
  nGen: number;
  promptMs: number;
  genMs: number;
  stop: 'eos' | 'length' | 'context' | 'cancelled';
  stopToken: number;
}

export interface NativeContext {
  generate(prompt: Int32Array, opts: NativeGenerateOptions, onTokens: (ids: Int32Array) => void): Promise<NativeGenerateResult>;
  decode(tokens: Int32Array, logitsAll?: boolean): Promise<number>;
  decodeSequential(tokens: Int32Array): Promise<number>;
  logits(): Float32Array;
  reset(): void;
  cancel(): void;
  saveState(): Buffer;
  loadState(state: Uint8Array): void;
  free(): void;
  readonly nPast: number;
  readonly nCtx: number;
  readonly nThreads: number;
  readonly busy: boolean;
  readonly backend: string;
}

export interface NativeAddon {
  loadModel(path: string, prefault?: boolean): Promise<NativeModel>;
  Context: new (model: NativeModel, params: NativeContextParams) => NativeContext;
  simdName(): string;
  dropPageCache(path: string): boolean;
  cudaDevices(): number;
  quantize(type: number, values: Float32Array): Buffer;
  dequantize(type: number, bytes: Uint8Array, n: number): Float32Array;
  quantizeRows(type: number, values: Float32Array, nrows: number, ncols: number, nThreads: number): Promise<Buffer>;
}

let cached: NativeAddon | undefined;

/** Loads build/Release/falcon_h1.node (built by node-gyp at install time). */
export function addon(): NativeAddon {
  if (cached) return cached;
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const candidates = [join(root, 'build', 'Release', 'falcon_h1.node'), join(root, 'build', 'Debug', 'falcon_h1.node')];
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new FalconError(`native engine not built (no ${candidates[0]}); run 'npm install' or 'npm run build:native'`);
  cached = createRequire(import.meta.url)(path) as NativeAddon;
  return cached;
}

// Typed wrapper over the addon: Model (mmapped weights) and Context (one sequence's state).
// Every evaluation is one native call over a whole batch; it runs off the JS thread.

import { existsSync } from 'node:fs';
import { BadFileError, ExitCode, FalconError } from '../util/errors.js';
import { addon, type NativeContext, type NativeModel, type NativeModelInfo } from './native.js';

export type KvType = 'f32' | 'f16';
export type Device = 'auto' | 'cpu' | 'cuda' | 'metal';

export interface ContextOptions {
  ctxSize?: number;
  batchSize?: number;
  threads?: number;
  kvType?: KvType;
  /** where to run: 'cpu' (default), 'cuda', 'metal' (macOS), or 'auto' (a GPU when one is usable) */
  device?: Device;
  /** with CUDA: the last N layers run on the GPU(s), the rest on the CPU; N > layers adds the head (default: all) */
  gpuLayers?: number;
  /** several GPUs: 'none' (one GPU), 'layer' (runs of layers per GPU), 'auto' (layer only when one is too small) */
  splitMode?: 'auto' | 'none' | 'layer';
  mainGpu?: number;
}

/** Errors from the engine carry the native code (ERR_FORMAT, ERR_CONTEXT_FULL, …). */
export class EngineError extends FalconError {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message, code === 'ERR_CONTEXT_FULL' ? ExitCode.OUT_OF_CONTEXT : code === 'ERR_CANCELLED' ? ExitCode.INTERRUPTED : ExitCode.BAD_INPUT);
    this.name = 'EngineError';
  }
}

function wrap(e: unknown): never {
  const err = e as Error & { code?: string };
  if (err && typeof err.code === 'string' && err.code.startsWith('ERR_')) throw new EngineError(err.message, err.code);
  throw e;
}

export class Model {
  private constructor(
    readonly path: string,
    readonly native: NativeModel,
    readonly info: NativeModelInfo,
  ) {}

  static async load(path: string, opts: { prefault?: boolean } = {}): Promise<Model> {
    if (!existsSync(path)) throw new BadFileError(path, 'no such file');
    const native = await addon()
      .loadModel(path, opts.prefault)
      .catch(wrap);
    return new Model(path, native, native.info());
  }

  newContext(opts: ContextOptions = {}): Context {
    try {
      const native = new (addon().Context)(this.native, {
        nCtx: opts.ctxSize ?? 0,
        nBatch: opts.batchSize ?? 0,
        nThreads: opts.threads ?? 0,
        kvType: opts.kvType === 'f32' ? 0 : 1,
        device: opts.device === 'cuda' ? 1 : opts.device === 'metal' ? 2 : opts.device === 'auto' ? -1 : 0,
        gpuLayers: opts.gpuLayers ?? -1,
        splitMode: opts.splitMode === 'none' ? 0 : opts.splitMode === 'layer' ? 1 : -1,
        mainGpu: opts.mainGpu ?? 0,
      });
      return new Context(this, native);
    } catch (e) {
      wrap(e);
    }
  }

  free(): void {
    this.native.free();
  }
}

export class Context {
  constructor(
    readonly model: Model,
    readonly native: NativeContext,
  ) {}

  get nPast(): number {
    return this.native.nPast;
  }
  get nCtx(): number {
    return this.native.nCtx;
  }
  get nThreads(): number {
    return this.native.nThreads;
  }
  /** "cpu avx512", "cuda NVIDIA H200", … */
  get backend(): string {
    return this.native.backend;
  }

  /** Evaluates tokens after the current state. Returns the logits: every row, or the last. */
  async decode(tokens: ArrayLike<number>, opts: { allLogits?: boolean } = {}): Promise<Float32Array> {
    const ids = tokens instanceof Int32Array ? tokens : Int32Array.from(tokens);
    await this.native.decode(ids, !!opts.allLogits).catch(wrap);
    return this.native.logits();
  }

  /** Feeds tokens one at a time in one native call (the recurrent decode path); last logits. */
  async decodeSequential(tokens: ArrayLike<number>): Promise<Float32Array> {
    const ids = tokens instanceof Int32Array ? tokens : Int32Array.from(tokens);
    await this.native.decodeSequential(ids).catch(wrap);
    return this.native.logits();
  }

  reset(): void {
    this.native.reset();
  }
  cancel(): void {
    this.native.cancel();
  }
  saveState(): Buffer {
    return this.native.saveState();
  }
  loadState(state: Uint8Array): void {
    try {
      this.native.loadState(state);
    } catch (e) {
      wrap(e);
    }
  }
  free(): void {
    this.native.free();
  }
}

export function simdName(): string {
  return addon().simdName();
}

/** Usable CUDA devices (0 when the addon was built without CUDA or there is no GPU/driver). */
export function cudaDevices(): number {
  return addon().cudaDevices();
}

// From a repo id to a runnable GGUF: a -GGUF repo gives one of its files; a checkpoint repo is
// downloaded, converted and quantized once, then reused from the cache.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { convertCheckpoint } from '../convert/convert.js';
import { cacheRoot } from './cache.js';
import { convertedPath, existingFile, parseRepoRef, pull, type PullOptions, type PullResult } from './pull.js';

export interface FetchModelOptions extends PullOptions {
  /** Quantization of the converted file (checkpoint repos) or the GGUF to pick (-GGUF repos). */
  quantize?: string;
  log?: (msg: string) => void;
}

export async function fetchModel(spec: string, o: FetchModelOptions = {}): Promise<{ path: string; pulled: PullResult }> {
  const ref = parseRepoRef(spec);
  const root = o.cacheDir ?? cacheRoot();
  if (ref.repo.toLowerCase().endsWith('-gguf') || o.gguf) {
    const pulled = await pull(ref, { ...o, gguf: o.gguf ?? o.quantize ?? 'Q4_K_M' });
    return { path: pulled.files[0].local, pulled };
  }
  const pulled = await pull(ref, o);
  const type = (o.quantize ?? 'bf16').toLowerCase();
  const out = convertedPath(root, ref.repo, pulled.commit, type);
  if (!existingFile(out)) {
    mkdirSync(dirname(out), { recursive: true });
    o.log?.(`converting ${ref.repo}@${pulled.commit.slice(0, 8)} to ${type}`);
    await convertCheckpoint(pulled.snapshot, out, { outType: type });
  }
  return { path: out, pulled };
}

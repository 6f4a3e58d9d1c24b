import { existsSync } from 'node:fs';
import { fetchModel } from '../hub/fetch-model.js';
import { BadFileError } from '../util/errors.js';

/** The model argument of run/chat: a GGUF path, or a repo id (org/name[:QUANT]) fetched on first use. */
export async function resolveModelArg(arg: string): Promise<string> {
  if (existsSync(arg)) return arg;
  const m = /^([\w.-]+\/[\w.-]+)(?::([\w.-]+))?$/.exec(arg);
  if (!m || arg.endsWith('.gguf')) throw new BadFileError(arg, 'no such file');
  // like llama-cli -hf: the part after ':' picks the quantization (default Q4_K_M)
  const r = await fetchModel(m[1], { quantize: m[2] ?? 'Q4_K_M', log: (s) => process.stderr.write(`${s}\n`) });
  return r.path;
}

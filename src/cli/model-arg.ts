import { existsSync } from 'node:fs';
import { BadFileError } from '../util/errors.js';

/** The model argument of run/chat: a GGUF path. */
export async function resolveModelArg(arg: string): Promise<string> {
  if (existsSync(arg)) return arg;
  throw new BadFileError(arg, 'no such file');
}

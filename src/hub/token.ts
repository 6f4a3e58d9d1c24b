// The Hub token, looked up as huggingface_hub does. It is never printed or logged.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';

export function findToken(explicit?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit) return explicit;
  if (env.HF_TOKEN) return env.HF_TOKEN.trim();
  const paths = [env.HF_TOKEN_PATH, join(env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface'), 'token')];
  for (const p of paths) if (p && existsSync(p)) return readFileSync(p, 'utf8').trim() || undefined;
  return undefined;
}

export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT ?? env.MODEL_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
}

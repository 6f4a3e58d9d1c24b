// HTTP for the Hub: an undici keep-alive pool, redirects followed by hand so the Authorization
// header never reaches another host, retries with backoff on 429/5xx/resets honouring Retry-After.

import { Agent, request, type Dispatcher } from 'undici';
import { FalconError, ExitCode } from '../util/errors.js';

export class HubError extends FalconError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message, ExitCode.FAILURE);
    this.name = 'HubError';
  }
}

export interface HttpOptions {
  token?: string;
  retries?: number;
  /** Base backoff in ms (doubles each try, plus jitter). */
  backoffMs?: number;
  signal?: AbortSignal;
  log?: (msg: string) => void;
}

let agent: Agent | undefined;
export function hubAgent(): Agent {
  agent ??= new Agent({ connections: 16, keepAliveTimeout: 10_000, headersTimeout: 30_000, bodyTimeout: 60_000, connect: { timeout: 15_000 } });
  return agent;
}

const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED']);

export function isRetryable(e: unknown): boolean {
  const err = e as { code?: string; status?: number; cause?: { code?: string } };
  return RETRY_CODES.has(err?.code ?? '') || RETRY_CODES.has(err?.cause?.code ?? '') || (err instanceof HubError && err.status !== undefined && RETRY_STATUS.has(err.status));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });
}

function retryAfterMs(h: string | string[] | undefined): number | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.min(60_000, s * 1000);
  const d = Date.parse(v);
  return Number.isFinite(d) ? Math.max(0, Math.min(60_000, d - Date.now())) : undefined;
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  url: string;
}

/** One GET with redirects followed (Authorization only for the original host). Not retried. */
export async function get(url: string, o: HttpOptions & { headers?: Record<string, string> } = {}): Promise<Response> {
  const origin = new URL(url).host;
  let current = url;
  for (let hop = 0; hop < 10; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'falcon-h1/0.1', ...(o.headers ?? {}) };
    if (o.token && new URL(current).host === origin) headers.authorization = `Bearer ${o.token}`;
    const r = await request(current, { method: 'GET', headers, dispatcher: hubAgent(), signal: o.signal });
    if (r.statusCode >= 300 && r.statusCode < 400 && r.headers.location) {
      await r.body.dump();
      current = new URL(String(r.headers.location), current).toString();
      continue;
    }
    return { status: r.statusCode, headers: r.headers, body: r.body, url: current };
  }
  throw new HubError(`too many redirects for ${url}`);
}

/** Runs `fn` with retries on transient failures, honouring Retry-After. */
export async function withRetries<T>(what: string, fn: () => Promise<T>, o: HttpOptions = {}): Promise<T> {
  const retries = o.retries ?? 5;
  const base = o.backoffMs ?? 500;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (o.signal?.aborted || attempt >= retries || !isRetryable(e)) throw e;
      const wait = (e as { retryAfterMs?: number }).retryAfterMs ?? base * 2 ** attempt * (0.75 + Math.random() * 0.5);
      o.log?.(`${what}: ${(e as Error).message}; retrying in ${(wait / 1000).toFixed(1)} s`);
      await sleep(wait, o.signal);
    }
  }
}

/** A status error for a response, carrying Retry-After when present. */
export function statusError(r: Response, what: string): HubError {
  const e = new HubError(
    r.status === 401 || r.status === 403
      ? `${what}: access denied (HTTP ${r.status}); set HF_TOKEN or pass --token for gated or private repos`
      : r.status === 404
        ? `${what}: not found (HTTP 404)`
        : `${what}: HTTP ${r.status}`,
    r.status,
  );
  (e as { retryAfterMs?: number }).retryAfterMs = retryAfterMs(r.headers['retry-after']);
  return e;
}

export async function getJson(url: string, what: string, o: HttpOptions = {}): Promise<unknown> {
  return withRetries(
    what,
    async () => {
      const r = await get(url, o);
      if (r.status !== 200) {
        await r.body.dump();
        throw statusError(r, what);
      }
      const text = await r.body.text();
      try {
        return JSON.parse(text);
      } catch {
        throw new HubError(`${what}: the server sent invalid JSON`);
      }
    },
    o,
  );
}

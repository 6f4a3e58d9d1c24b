// A loopback stand-in for the Hugging Face Hub: the API and `resolve` endpoints on one server,
// redirecting to a second "CDN" server (another host:port) that serves Range requests, with
// fault injection. It serves the fixture checkpoints.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface RepoDef {
  commit: string;
  files: Map<string, Buffer>;
  private?: boolean;
}

export interface Faults {
  /** Close the connection after this many bytes of the next file body, for this many requests. */
  cutAfter?: { bytes: number; times: number };
  /** Answer 429 with Retry-After for this many requests. */
  tooMany?: { times: number; retryAfter: number };
  /** Answer 500 for this many requests. */
  serverError?: { times: number };
  /** Serve wrong bytes for this file (always). */
  corrupt?: string;
  /** Delay every body chunk by this many ms. */
  slowMs?: number;
}

export interface HubServer {
  endpoint: string;
  cdnHost: string;
  token: string;
  repos: Map<string, RepoDef>;
  faults: Faults;
  log: { url: string; headers: IncomingMessage['headers']; server: 'hub' | 'cdn' }[];
  fileRequests(): number;
  close(): Promise<void>;
}

export function repoFromDir(dir: string, commit: string, rename: (f: string) => string = (f) => f): RepoDef {
  const files = new Map<string, Buffer>();
  for (const f of readdirSync(dir)) if (statSync(join(dir, f)).isFile()) files.set(rename(f), readFileSync(join(dir, f)));
  return { commit, files };
}

function listen(s: Server): Promise<number> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
}

export async function startHub(repos: Record<string, RepoDef>): Promise<HubServer> {
  const token = 'hf_test_secret_token';
  const state: HubServer = {
    endpoint: '',
    cdnHost: '',
    token,
    repos: new Map(Object.entries(repos)),
    faults: {},
    log: [],
    fileRequests: () => state.log.filter((l) => l.server === 'cdn').length,
    close: async () => {},
  };
  const isLfs = (f: string) => f.endsWith('.safetensors') || f.endsWith('.gguf');

  const hub = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.log.push({ url: req.url ?? '', headers: req.headers, server: 'hub' });
    const url = new URL(req.url ?? '/', 'http://x');
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repoName = api?.[1] ?? resolve?.[1];
    const repo = repoName ? state.repos.get(repoName) : undefined;
    if (!repo) {
      res.writeHead(404).end('{"error":"Repository not found"}');
      return;
    }
    if (repo.private && req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end('{"error":"Invalid credentials"}');
      return;
    }
    if (api) {
      const rev = decodeURIComponent(api[2]);
      if (rev !== 'main' && rev !== repo.commit) {
        res.writeHead(404).end('{"error":"Revision not found"}');
        return;
      }
      const siblings = [...repo.files].map(([name, data]) => {
        const gitSha = createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
        return isLfs(name)
          ? { rfilename: name, size: data.length, blobId: gitSha, lfs: { sha256: createHash('sha256').update(data).digest('hex'), size: data.length } }
          : { rfilename: name, size: data.length, blobId: gitSha };
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: repoName, sha: repo.commit, siblings }));
      return;
    }
    if (resolve) {
      res.writeHead(302, { location: `http://${state.cdnHost}/files/${repoName}/${resolve[3]}` }).end();
      return;
    }
    res.writeHead(404).end();
  });

  const cdn = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    state.log.push({ url: req.url ?? '', headers: req.headers, server: 'cdn' });
    const m = /^\/files\/([^/]+\/[^/]+)\/(.+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const repo = m ? state.repos.get(m[1]) : undefined;
    const name = m ? decodeURIComponent(m[2]) : '';
    let data = repo?.files.get(name);
    if (!data) {
      res.writeHead(404).end();
      return;
    }
    const f = state.faults;
    if (f.tooMany && f.tooMany.times > 0) {
      f.tooMany.times--;
      res.writeHead(429, { 'retry-after': String(f.tooMany.retryAfter) }).end();
      return;
    }
    if (f.serverError && f.serverError.times > 0) {
      f.serverError.times--;
      res.writeHead(500).end();
      return;
    }
    if (f.corrupt === name) {
      data = Buffer.from(data);
      data[data.length >> 1] ^= 0xff;
    }
    let start = 0;
    let end = data.length - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1;
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${data.length}`, 'content-length': end - start + 1 });
    } else {
      res.writeHead(200, { 'content-length': data.length });
    }
    const body = data.subarray(start, end + 1);
    const cut = f.cutAfter && f.cutAfter.times > 0 && body.length > f.cutAfter.bytes ? f.cutAfter : undefined;
    if (cut) cut.times--;
    const limit = cut ? cut.bytes : body.length;
    for (let off = 0; off < limit; off += 16384) {
      if (f.slowMs) await new Promise((r) => setTimeout(r, f.slowMs));
      if (res.destroyed) return;
      res.write(body.subarray(off, Math.min(limit, off + 16384)));
    }
    if (cut) {
      await new Promise((r) => setTimeout(r, 50)); // let the bytes reach the client, then drop the connection
      res.destroy();
    } else res.end();
  });

  const hp = await listen(hub);
  const cp = await listen(cdn);
  state.endpoint = `http://127.0.0.1:${hp}`;
  state.cdnHost = `127.0.0.1:${cp}`;
  state.close = async () => {
    hub.closeAllConnections();
    cdn.closeAllConnections();
    await Promise.all([new Promise((r) => hub.close(r)), new Promise((r) => cdn.close(r))]);
  };
  return state;
}

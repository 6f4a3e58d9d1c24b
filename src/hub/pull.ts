// `pull`: resolve a repo revision through the Hub API, download what a Falcon-H1 checkpoint (or
// one GGUF of a -GGUF repo) needs into the shared cache, optionally convert + quantize it.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, BadFileError } from '../util/errors.js';
import { RepoCache, cacheRoot } from './cache.js';
import { downloadToCache, type RemoteFile } from './download.js';
import { getJson, HubError, type HttpOptions } from './http.js';
import { findToken, hubEndpoint } from './token.js';

export interface RepoRef {
  repo: string;
  revision: string;
}

export function parseRepoRef(s: string): RepoRef {
  const m = /^([\w.-]+\/[\w.-]+)(?::([\w./-]+))?$/.exec(s);
  if (!m) throw new UsageError(`'${s}' is not a repo id (expected org/name[:revision])`);
  return { repo: m[1], revision: m[2] ?? 'main' };
}

const CHECKPOINT_FILES = /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|chat_template\.jinja|model\.safetensors\.index\.json|[^/]*\.safetensors)$/;

export function globToRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export interface PullOptions extends HttpOptions {
  include?: string[];
  gguf?: string;
  offline?: boolean;
  connections?: number;
  cacheDir?: string;
  endpoint?: string;
  maxParallelFiles?: number;
  onStart?: (files: RemoteFile[]) => void;
  onFileBytes?: (file: RemoteFile, n: number) => void;
  onFileDone?: (file: RemoteFile, downloaded: boolean) => void;
}

export interface PullResult {
  repo: string;
  revision: string;
  commit: string;
  snapshot: string;
  files: { path: string; bytes: number; downloaded: boolean; local: string }[];
  ggufPath?: string;
}

interface Sibling {
  rfilename: string;
  size?: number;
  blobId?: string;
  lfs?: { sha256?: string; oid?: string; size?: number };
}

function selectFiles(siblings: Sibling[], o: PullOptions): Sibling[] {
  if (o.gguf) {
    const want = o.gguf.toLowerCase().replace(/-/g, '_');
    const ggufs = siblings.filter((s) => s.rfilename.toLowerCase().endsWith('.gguf'));
    const hit = ggufs.filter((s) => s.rfilename.toLowerCase().replace(/-/g, '_').includes(want));
    if (!hit.length) throw new UsageError(`no GGUF matching '${o.gguf}' in this repo (available: ${ggufs.map((s) => s.rfilename).join(', ') || 'none'})`);
    return [hit.sort((a, b) => a.rfilename.length - b.rfilename.length)[0]];
  }
  const res = o.include?.length ? o.include.map(globToRegex) : [CHECKPOINT_FILES];
  const out = siblings.filter((s) => res.some((r) => r.test(s.rfilename)));
  if (!out.length) throw new UsageError(`nothing to download: no file matches ${o.include?.join(', ') ?? 'a Falcon-H1 checkpoint'}`);
  return out;
}

export async function pull(ref: RepoRef, o: PullOptions = {}): Promise<PullResult> {
  const root = o.cacheDir ?? cacheRoot();
  const cache = new RepoCache(root, ref.repo);
  const offline = o.offline || process.env.HF_HUB_OFFLINE === '1' || process.env.HF_HUB_OFFLINE === 'true';
  if (offline) {
    const commit = cache.resolveRef(ref.revision);
    if (!commit) throw new BadFileError(cache.dir, `offline: ${ref.repo}@${ref.revision} is not in the cache`);
    let files = cache.snapshotFiles(commit);
    if (o.gguf) files = files.filter((f) => f.toLowerCase().replace(/-/g, '_').includes(o.gguf!.toLowerCase().replace(/-/g, '_')) && f.endsWith('.gguf'));
    if (!files.length) throw new BadFileError(cache.dir, `offline: no cached files for ${ref.repo}@${ref.revision}`);
    const snapshot = join(cache.dir, 'snapshots', commit);
    return { repo: ref.repo, revision: ref.revision, commit, snapshot, files: files.map((f) => ({ path: f, bytes: 0, downloaded: false, local: join(snapshot, f) })) };
  }
  const endpoint = o.endpoint ?? hubEndpoint();
  const token = o.token ?? findToken();
  const http = { ...o, token };
  const info = (await getJson(`${endpoint}/api/models/${ref.repo}/revision/${encodeURIComponent(ref.revision)}?blobs=true`, `${ref.repo}@${ref.revision}`, http)) as {
    sha?: string;
    siblings?: Sibling[];
  };
  if (!info || typeof info.sha !== 'string' || !/^[0-9a-f]{40}$/.test(info.sha) || !Array.isArray(info.siblings)) {
    throw new HubError(`${ref.repo}@${ref.revision}: the Hub answered without a commit and file list`);
  }
  const commit = info.sha;
  const files: RemoteFile[] = selectFiles(info.siblings, o).map((s) => {
    const lfs = !!s.lfs;
    const hash = lfs ? (s.lfs!.sha256 ?? s.lfs!.oid) : s.blobId;
    const size = lfs ? s.lfs!.size : s.size;
    if (!hash || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(hash) || typeof size !== 'number' || size < 0) {
      throw new HubError(`${s.rfilename}: the Hub sent no size or hash for it, so it cannot be verified`);
    }
    if (s.rfilename.split('/').some((p) => p === '..' || p === '')) throw new HubError(`${s.rfilename}: unsafe file name`);
    return { path: s.rfilename, size, hash, lfs };
  });
  mkdirSync(cache.dir, { recursive: true });
  o.onStart?.(files);
  const results: PullResult['files'] = [];
  const queue = [...files];
  const workers = Array.from({ length: Math.min(o.maxParallelFiles ?? 3, queue.length) }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const file = f;
      const url = `${endpoint}/${ref.repo}/resolve/${commit}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
      const { downloaded } = await downloadToCache(cache, url, file, { ...http, connections: o.connections, onBytes: (n) => o.onFileBytes?.(file, n) });
      const local = cache.linkSnapshot(commit, file.path, file.hash);
      results.push({ path: file.path, bytes: file.size, downloaded, local });
      o.onFileDone?.(file, downloaded);
    }
  });
  await Promise.all(workers);
  cache.writeRef(ref.revision, commit);
  results.sort((a, b) => a.path.localeCompare(b.path));
  return { repo: ref.repo, revision: ref.revision, commit, snapshot: join(cache.dir, 'snapshots', commit), files: results };
}

/** Where `pull --quantize` keeps its GGUF: inside the repo's cache folder, per commit. */
export function convertedPath(cacheDir: string, repo: string, commit: string, type: string): string {
  const c = new RepoCache(cacheDir, repo);
  return join(c.dir, 'falcon-h1', commit, `${repo.split('/')[1]}-${type.toLowerCase()}.gguf`);
}

export function existingFile(p: string): string | undefined {
  return existsSync(p) ? p : undefined;
}

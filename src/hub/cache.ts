// The Hugging Face hub cache, shared with huggingface_hub and llama.cpp:
//   <root>/models--org--name/{blobs/<hash>, refs/<revision>, snapshots/<commit>/<path> → ../../blobs/<hash>}

import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'huggingface', 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

export function repoFolder(root: string, repo: string): string {
  return join(root, `models--${repo.replace(/\//g, '--')}`);
}

export class RepoCache {
  readonly dir: string;
  constructor(
    readonly root: string,
    readonly repo: string,
  ) {
    this.dir = repoFolder(root, repo);
  }

  blobPath(hash: string): string {
    return join(this.dir, 'blobs', hash);
  }

  snapshotPath(commit: string, file: string): string {
    return join(this.dir, 'snapshots', commit, file);
  }

  /** The commit a revision (branch, tag or commit) points to, if the cache knows it. */
  resolveRef(revision: string): string | undefined {
    if (/^[0-9a-f]{40}$/.test(revision) && existsSync(join(this.dir, 'snapshots', revision))) return revision;
    const ref = join(this.dir, 'refs', revision);
    return existsSync(ref) ? readFileSync(ref, 'utf8').trim() : undefined;
  }

  writeRef(revision: string, commit: string): void {
    if (revision === commit) return;
    const p = join(this.dir, 'refs', revision);
    mkdirSync(dirname(p), { recursive: true });
    const tmp = `${p}.tmp-${process.pid}`;
    writeFileSync(tmp, commit);
    renameSync(tmp, p);
  }

  /** Points snapshots/<commit>/<file> at the blob: a relative symlink, or a copy where links fail. */
  linkSnapshot(commit: string, file: string, hash: string): string {
    const dst = this.snapshotPath(commit, file);
    mkdirSync(dirname(dst), { recursive: true });
    try {
      lstatSync(dst);
      unlinkSync(dst);
    } catch {
      /* not there yet */
    }
    const blob = this.blobPath(hash);
    try {
      symlinkSync(relative(dirname(dst), blob), dst);
    } catch {
      copyFileSync(blob, dst);
    }
    return dst;
  }

  snapshotFiles(commit: string): string[] {
    const base = join(this.dir, 'snapshots', commit);
    const out: string[] = [];
    const walk = (d: string) => {
      if (!existsSync(d)) return;
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else out.push(relative(base, p));
      }
    };
    walk(base);
    return out.sort();
  }
}

export interface CachedRepo {
  repo: string;
  dir: string;
  bytes: number;
  snapshots: string[];
  refs: Record<string, string>;
}

function dirBytes(d: string): number {
  let n = 0;
  if (!existsSync(d)) return 0;
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) n += dirBytes(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

export function listCachedRepos(root: string): CachedRepo[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => n.startsWith('models--'))
    .map((n) => {
      const dir = join(root, n);
      const refsDir = join(dir, 'refs');
      const refs: Record<string, string> = {};
      if (existsSync(refsDir)) for (const r of readdirSync(refsDir)) refs[r] = readFileSync(join(refsDir, r), 'utf8').trim();
      const snaps = existsSync(join(dir, 'snapshots')) ? readdirSync(join(dir, 'snapshots')) : [];
      return { repo: n.slice('models--'.length).replace(/--/g, '/'), dir, bytes: dirBytes(join(dir, 'blobs')) + dirBytes(join(dir, 'falcon-h1')), snapshots: snaps, refs };
    })
    .sort((a, b) => a.repo.localeCompare(b.repo));
}

export function removeCachedRepo(root: string, repo: string): boolean {
  const dir = repoFolder(root, repo);
  if (!existsSync(dir)) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}

// One file from the Hub into the cache: resumable (HTTP Range into blobs/<hash>.incomplete), in
// parallel ranges for large files, verified (sha256 for LFS files, git blob sha1 otherwise)
// before it is moved into place, and locked so concurrent pulls never write the same blob.

import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { get, HubError, statusError, withRetries, sleep, type HttpOptions } from './http.js';
import type { RepoCache } from './cache.js';
import { dropFromPageCache } from '../util/page-cache.js';

export interface RemoteFile {
  path: string;
  size: number;
  /** sha256 for LFS files, git blob sha1 otherwise: also the blob's name in the cache. */
  hash: string;
  lfs: boolean;
}

export interface DownloadOptions extends HttpOptions {
  connections?: number;
  /** Files at least this large are fetched in parallel ranges. */
  parallelThreshold?: number;
  onBytes?: (n: number) => void;
}

const LOCK_STALE_MS = 10 * 60_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Exclusive lock file next to the blob; waits for a live holder, takes over a stale one. */
async function lock(path: string, signal?: AbortSignal): Promise<() => void> {
  for (;;) {
    try {
      const fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let stale = false;
      try {
        const pid = Number(readFileSync(path, 'utf8'));
        stale = !pid || !pidAlive(pid) || Date.now() - statSync(path).mtimeMs > LOCK_STALE_MS;
      } catch {
        stale = true;
      }
      if (stale) {
        try {
          unlinkSync(path);
        } catch {
          /* someone else took it */
        }
        continue;
      }
      await sleep(200, signal);
    }
  }
}

async function fileHash(path: string, lfs: boolean, size: number): Promise<string> {
  const h = createHash(lfs ? 'sha256' : 'sha1');
  if (!lfs) h.update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function sizeOf(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

/** Appends bytes [from, to) of url to `part` (resuming from its current size). */
async function fetchRange(url: string, part: string, from: number, to: number, o: DownloadOptions): Promise<void> {
  await withRetries(
    `download ${url}`,
    async () => {
      const have = sizeOf(part);
      const start = from + have;
      if (start >= to) return;
      const r = await get(url, { ...o, headers: { range: `bytes=${start}-${to - 1}` } });
      if (r.status !== 206 && !(r.status === 200 && start === 0)) {
        await r.body.dump();
        throw statusError(r, `download ${url}`);
      }
      const fd = openSync(part, 'a');
      let got = 0;
      try {
        for await (const chunk of r.body) {
          const b = chunk as Buffer;
          if (start + got + b.length > to) throw new HubError(`download ${url}: the server sent more bytes than asked`);
          writeSync(fd, b);
          got += b.length;
          o.onBytes?.(b.length);
        }
      } finally {
        closeSync(fd);
      }
      if (start + got < to) {
        const e = new HubError(`download ${url}: connection closed after ${got} of ${to - start} bytes`);
        (e as { code?: string }).code = 'ECONNRESET';
        throw e;
      }
    },
    o,
  );
}

export async function downloadToCache(cache: RepoCache, url: string, f: RemoteFile, o: DownloadOptions = {}): Promise<{ blob: string; downloaded: boolean }> {
  const blob = cache.blobPath(f.hash);
  mkdirSync(dirname(blob), { recursive: true });
  if (existsSync(blob) && sizeOf(blob) === f.size) return { blob, downloaded: false };
  const unlock = await lock(`${blob}.lock`, o.signal);
  try {
    if (existsSync(blob) && sizeOf(blob) === f.size) return { blob, downloaded: false }; // another process finished it
    const inc = `${blob}.incomplete`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const conns = Math.max(1, o.connections ?? 4);
      if (f.size >= (o.parallelThreshold ?? 64 << 20) && conns > 1) {
        // parallel ranges, each in its own resumable part file, then joined
        const per = Math.ceil(f.size / conns);
        const parts = Array.from({ length: conns }, (_, i) => ({ p: `${inc}.part${i}of${conns}`, from: i * per, to: Math.min(f.size, (i + 1) * per) }));
        const already = parts.reduce((s, x) => s + sizeOf(x.p), 0);
        if (already) o.onBytes?.(already);
        await Promise.all(parts.map((x) => fetchRange(url, x.p, x.from, x.to, o)));
        const fd = openSync(inc, 'w');
        const buf = Buffer.alloc(8 << 20);
        try {
          for (const x of parts) {
            const src = openSync(x.p, 'r');
            try {
              for (let n = readSync(src, buf, 0, buf.length, null); n > 0; n = readSync(src, buf, 0, buf.length, null)) writeSync(fd, buf, 0, n);
            } finally {
              closeSync(src);
            }
          }
        } finally {
          closeSync(fd);
        }
        for (const x of parts) unlinkSync(x.p);
      } else {
        const have = sizeOf(inc);
        if (have > f.size) writeFileSync(inc, '');
        else if (have) o.onBytes?.(have);
        await fetchRange(url, inc, 0, f.size, o);
      }
      if (sizeOf(inc) !== f.size) throw new HubError(`${f.path}: expected ${f.size} bytes, got ${sizeOf(inc)}`);
      const h = await fileHash(inc, f.lfs, f.size);
      if (h === f.hash) {
        renameSync(inc, blob);
        // a GGUF is mapped for inference: let its first load read it in large folios
        if (f.path.endsWith('.gguf')) dropFromPageCache(blob);
        return { blob, downloaded: true };
      }
      // corrupt data cannot be resumed: start over once, then give up
      unlinkSync(inc);
      o.log?.(`${f.path}: checksum mismatch (got ${h.slice(0, 12)}…, expected ${f.hash.slice(0, 12)}…); downloading again`);
      o.onBytes?.(-f.size);
    }
    throw new HubError(`${f.path}: checksum mismatch twice; the file on the server does not match its published hash`);
  } finally {
    unlock();
  }
}

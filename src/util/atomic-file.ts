import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

// Files being written under a temporary name. The CLI's interrupt handler removes them, so an
// interrupted command never leaves something that looks complete.
const pending = new Set<string>();

export function removePendingTempFiles(): void {
  for (const p of pending) {
    try {
      unlinkSync(p);
    } catch {
      /* already gone */
    }
  }
  pending.clear();
}

/** Writes to `<dir>/.<name>.tmp-<pid>` and renames onto `path` only on commit(). */
export class AtomicFile {
  readonly tempPath: string;
  private fd: number;
  position = 0;

  constructor(readonly path: string) {
    this.tempPath = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
    this.fd = openSync(this.tempPath, 'w');
    pending.add(this.tempPath);
  }

  write(data: Uint8Array): void {
    let off = 0;
    while (off < data.length) {
      off += writeSync(this.fd, data, off, data.length - off);
    }
    this.position += data.length;
  }

  commit(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
    renameSync(this.tempPath, this.path);
    pending.delete(this.tempPath);
  }

  abort(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    try {
      unlinkSync(this.tempPath);
    } catch {
      /* nothing to remove */
    }
    pending.delete(this.tempPath);
  }
}

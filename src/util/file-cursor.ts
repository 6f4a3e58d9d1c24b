import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { BadFileError } from './errors.js';

const CHUNK = 1 << 20;

/**
 * Sequential little-endian reader over a file descriptor with bounds checks.
 * Every read is checked against the file size first, so a hostile length can never
 * cause a read past the end or an allocation larger than the file.
 */
export class FileCursor {
  readonly size: number;
  private fd: number;
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  pos = 0;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'r');
    } catch (e) {
      throw new BadFileError(path, `cannot open (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    this.size = fstatSync(this.fd).size;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  fail(detail: string): never {
    throw new BadFileError(this.path, detail);
  }

  remaining(): number {
    return this.size - this.pos;
  }

  /** Make `n` bytes at `pos` available in the buffer; returns the buffer offset. */
  private ensure(n: number, what: string): number {
    if (!Number.isSafeInteger(n) || n < 0 || this.pos + n > this.size) {
      this.fail(`truncated: ${what} needs ${n} bytes at offset ${this.pos}, file has ${this.size}`);
    }
    const off = this.pos - this.bufStart;
    if (off >= 0 && off + n <= this.buf.length) return off;
    const len = Math.min(Math.max(n, CHUNK), this.size - this.pos);
    this.buf = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const r = readSync(this.fd, this.buf, got, len - got, this.pos + got);
      if (r <= 0) this.fail(`read failed at offset ${this.pos + got}`);
      got += r;
    }
    this.bufStart = this.pos;
    return 0;
  }

  u8(): number {
    const o = this.ensure(1, 'u8');
    this.pos += 1;
    return this.buf.readUInt8(o);
  }
  i8(): number {
    const o = this.ensure(1, 'i8');
    this.pos += 1;
    return this.buf.readInt8(o);
  }
  u16(): number {
    const o = this.ensure(2, 'u16');
    this.pos += 2;
    return this.buf.readUInt16LE(o);
  }
  i16(): number {
    const o = this.ensure(2, 'i16');
    this.pos += 2;
    return this.buf.readInt16LE(o);
  }
  u32(): number {
    const o = this.ensure(4, 'u32');
    this.pos += 4;
    return this.buf.readUInt32LE(o);
  }
  i32(): number {
    const o = this.ensure(4, 'i32');
    this.pos += 4;
    return this.buf.readInt32LE(o);
  }
  f32(): number {
    const o = this.ensure(4, 'f32');
    this.pos += 4;
    return this.buf.readFloatLE(o);
  }
  f64(): number {
    const o = this.ensure(8, 'f64');
    this.pos += 8;
    return this.buf.readDoubleLE(o);
  }
  u64(): bigint {
    const o = this.ensure(8, 'u64');
    this.pos += 8;
    return this.buf.readBigUInt64LE(o);
  }
  i64(): bigint {
    const o = this.ensure(8, 'i64');
    this.pos += 8;
    return this.buf.readBigInt64LE(o);
  }
  /** A u64 that must fit a safe JS number and not exceed `max`. */
  count(what: string, max: number): number {
    const v = this.u64();
    if (v > BigInt(max)) this.fail(`${what} ${v} is larger than possible (at most ${max} here)`);
    return Number(v);
  }
  bytes(n: number, what: string): Buffer {
    const o = this.ensure(n, what);
    this.pos += n;
    return this.buf.subarray(o, o + n);
  }
  /** Raw bytes from an absolute offset, not moving the cursor (used for small tensor reads in tests/tools). */
  readAt(offset: number, n: number): Buffer {
    if (offset < 0 || n < 0 || offset + n > this.size) this.fail(`range ${offset}+${n} outside file of ${this.size} bytes`);
    const out = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, out, got, n - got, offset + got);
      if (r <= 0) this.fail(`read failed at offset ${offset + got}`);
      got += r;
    }
    return out;
  }
}

import { createHash } from 'node:crypto';
import { readGGUF } from '../../src/gguf/reader.js';
import { FileCursor } from '../../src/util/file-cursor.js';

/** SHA-256 over every tensor's name, type and bytes, in name order (metadata left out). */
export function tensorHash(path: string): string {
  const f = readGGUF(path);
  const c = new FileCursor(path);
  const h = createHash('sha256');
  for (const t of [...f.tensors].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    h.update(t.name);
    h.update(Buffer.from([t.type]));
    h.update(c.readAt(t.offset, t.byteSize));
  }
  c.close();
  return h.digest('hex');
}

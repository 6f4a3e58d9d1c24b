import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GGMLType } from '../../src/gguf/types.js';
import { kv, writeGGUF } from '../../src/gguf/writer.js';
import { dropFromPageCache } from '../../src/util/page-cache.js';
import { tempDir } from '../helpers/fixtures.js';

// bytes of the file resident in the page cache, from util-linux's fincore (mincore(2))
function residentBytes(path: string): number | undefined {
  const r = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}
const canSee = process.platform === 'linux' && residentBytes('/proc/self/exe') !== undefined;

describe('page cache', () => {
  it('dropFromPageCache answers false for a file it cannot open, without throwing', () => {
    expect(dropFromPageCache(join(tempDir(), 'no-such-file.gguf'))).toBe(false);
  });

  it.skipIf(!canSee)('a GGUF just written leaves no pages in the cache, so its first load reads it in large folios', async () => {
    const plain = join(tempDir(), 'plain.bin');
    writeFileSync(plain, Buffer.alloc(4 << 20, 7));
    expect(residentBytes(plain)).toBeGreaterThan(0); // written pages stay cached unless dropped
    const path = join(tempDir(), 'evicted.gguf');
    const n = 1 << 20;
    await writeGGUF(path, [kv.str('general.architecture', 'falcon-h1')], [{ name: 'w', ne: [n], type: GGMLType.F32 }], () => new Uint8Array(4 * n).fill(1));
    expect(residentBytes(path)).toBe(0);
    expect(dropFromPageCache(plain)).toBe(true);
    expect(residentBytes(plain)).toBe(0);
  });
});

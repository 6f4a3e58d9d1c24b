// The prefill attention kernel of every SIMD table this CPU runs, against attention computed
// directly in double precision, at the fixtures' head size (16) and the released models' (64, 128)
// and one no vector width divides (test/engine/attn-block.c, built here with the system C
// compiler; neon.test.ts runs the same program under qemu-aarch64).
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/fixtures.js';

const ROOT = resolve(__dirname, '..', '..');

it.skipIf(process.arch !== 'x64')('attn_block matches direct attention for head sizes 16, 64, 128 and 72, every group tail (x86-64 tables)', () => {
  const exe = join(tempDir(), 'attn-block');
  const cc = spawnSync('cc', ['-O3', '-ffp-contract=off', '-std=gnu11', '-o', exe, 'test/engine/attn-block.c', 'quant/quants.c', 'csrc/cpu/simd_scalar.c',
    'csrc/cpu/simd_avx2.c', 'csrc/cpu/simd_avx512.c', 'csrc/cpu/simd_select.c', '-lm'], { cwd: ROOT, encoding: 'utf8' });
  expect(cc.status, cc.stderr).toBe(0);
  const r = spawnSync(exe, { encoding: 'utf8' });
  expect(r.status, r.stdout).toBe(0);
  const tables = Number(/tables checked: (\d+)/.exec(r.stdout)?.[1]);
  expect(tables).toBeGreaterThanOrEqual(1);
  expect(r.stdout.match(/^ok /gm)?.length, r.stdout).toBe(32 * tables);
});

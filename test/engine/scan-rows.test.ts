// The prefill SSM kernel that keeps state rows in registers across tokens (AVX-512, d_state 128
// and 256; the fixtures' d_state 16 never reaches it) against ssm_row token by token, bit for bit
// (test/engine/scan-rows.c, built here with the system C compiler).
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/fixtures.js';

const ROOT = resolve(__dirname, '..', '..');

it.skipIf(process.arch !== 'x64')('ssm_scan_rows gives ssm_row\'s states and outputs bit for bit (AVX-512, x86-64 only)', () => {
  const exe = join(tempDir(), 'scan-rows');
  const cc = spawnSync('cc', ['-O3', '-ffp-contract=off', '-std=gnu11', '-o', exe, 'test/engine/scan-rows.c', 'quant/quants.c', 'csrc/cpu/simd_scalar.c',
    'csrc/cpu/simd_avx2.c', 'csrc/cpu/simd_avx512.c', 'csrc/cpu/simd_select.c', '-lm'], { cwd: ROOT, encoding: 'utf8' });
  expect(cc.status, cc.stderr).toBe(0);
  const r = spawnSync(exe, { encoding: 'utf8' });
  if (r.status === 77) {
    console.log('scan-rows.test: this CPU has no AVX-512: the kernel is not used here');
    return;
  }
  expect(r.status, r.stdout).toBe(0);
  expect(r.stdout.match(/^ok /gm)?.length, r.stdout).toBe(14);
});

// The prefill SSM kernel that keeps state rows in registers across tokens (AVX-512, d_state 128
// and 256; the fixtures' d_state 16 never reaches it) against ssm_row token by token, bit for bit
// (test/engine/scan-rows.c, built here with the system C compiler).
import { expect, it } from 'vitest';
import { runCTest } from '../helpers/c-test.js';

it.skipIf(process.arch !== 'x64')('ssm_scan_rows gives ssm_row\'s states and outputs bit for bit (AVX-512, x86-64 only)', () => {
  const r = runCTest('scan-rows');
  if (r.status === 77) {
    console.log('scan-rows.test: this CPU has no AVX-512: the kernel is not used here');
    return;
  }
  expect(r.status, r.stdout).toBe(0);
  expect(r.stdout.match(/^ok /gm)?.length, r.stdout).toBe(14);
});

// Kernel test programs in C (test/engine/*.c): built with the system compiler against the CPU
// kernel tables, as the engine builds them (no fused multiply-add contraction), then run.
import { expect } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tempDir } from './fixtures.js';

const ROOT = resolve(__dirname, '..', '..');
const X86_TABLES = ['quant/quants.c', 'csrc/cpu/simd_scalar.c', 'csrc/cpu/simd_avx2.c', 'csrc/cpu/simd_avx512.c', 'csrc/cpu/simd_select.c'];

/** Compiles test/engine/NAME.c with the x86 kernel tables (asserting it builds) and runs it. */
export function runCTest(name: string): SpawnSyncReturns<string> {
  const exe = join(tempDir(), name);
  const cc = spawnSync('cc', ['-O3', '-ffp-contract=off', '-std=gnu11', '-o', exe, `test/engine/${name}.c`, ...X86_TABLES, '-lm'], { cwd: ROOT, encoding: 'utf8' });
  expect(cc.status, cc.stderr).toBe(0);
  return spawnSync(exe, { encoding: 'utf8' });
}

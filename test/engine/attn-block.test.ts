// The prefill attention kernel of every SIMD table this CPU runs, against attention computed
// directly in double precision, at the fixtures' head size (16) and the released models' (64, 128)
// and one no vector width divides (test/engine/attn-block.c; neon.test.ts runs the same program
// under qemu-aarch64).
import { expect, it } from 'vitest';
import { runCTest } from '../helpers/c-test.js';

it.skipIf(process.arch !== 'x64')('attn_block matches direct attention for head sizes 16, 64, 128 and 72, every group tail (x86-64 tables)', () => {
  const r = runCTest('attn-block');
  expect(r.status, r.stdout).toBe(0);
  const tables = Number(/tables checked: (\d+)/.exec(r.stdout)?.[1]);
  expect(tables).toBeGreaterThanOrEqual(1);
  expect(r.stdout.match(/^ok /gm)?.length, r.stdout).toBe(32 * tables);
});

// The integer dots (AVX-512 VNNI and AVX2), kernel by kernel (test/engine/int8-kernels.c, built here with the
// system C compiler): exact integer sums, so only f32 rounding may separate them from the f32
// dot of the reference-dequantized weights with the same 8-bit activations.
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/fixtures.js';

const ROOT = resolve(__dirname, '..', '..');

if (process.arch !== 'x64') console.log('int8-kernels.test: not an x86-64 machine: the VNNI kernels do not exist here');

for (const [isa, define, other] of [['AVX-512 VNNI', [], 'csrc/cpu/simd_avx2.c'], ['AVX2', ['-DCHECK_AVX2'], 'csrc/cpu/simd_avx512.c']] as const) {
  it.skipIf(process.arch !== 'x64')(`every ${isa} integer dot equals the f32 dot of the dequantized weights`, () => {
    const exe = join(tempDir(), 'int8-kernels');
    const cc = spawnSync('cc', ['-O3', '-ffp-contract=off', '-std=gnu11', ...define, '-o', exe, 'test/engine/int8-kernels.c', 'quant/quants.c', 'csrc/cpu/simd_scalar.c', other, 'csrc/cpu/simd_select.c', '-lm'], { cwd: ROOT, encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    const r = spawnSync(exe, { encoding: 'utf8' });
    if (r.status === 77) {
      console.log(`int8-kernels.test: this CPU has no ${isa}: those integer dots are not used here`);
      return;
    }
    expect(r.status, r.stdout).toBe(0);
    // 10 dots, the same 10 through decode's row loop, plus the integer prefill GEMM for 8 of those
    // types with VNNI (not Q2_K/Q3_K)
    expect(r.stdout.match(/^ok /gm)?.length, r.stdout).toBe(define.length ? 20 : 28);
  });
}

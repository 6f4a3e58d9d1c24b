// The NEON kernels on a real ARM64 instruction set: the C core (no Node) is cross-compiled with
// aarch64-linux-gnu-gcc and run under qemu-aarch64, then held to the same oracle bounds as the
// x86 engine. Skipped, with a message, only where the cross tools are not installed (.ci/run
// installs them from Debian's packages: gcc-aarch64-linux-gnu, qemu-user).
import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { convertedFixture, maxDiff, readLogits, referenceCases, tempDir } from '../helpers/fixtures.js';
import { writeSyntheticModel } from '../../src/bench/synthetic.js';
import { quantizeFile } from '../../src/quantize/quantize.js';
import { Model } from '../../src/engine/engine.js';
import { MINI256 } from '../helpers/mini-shape.js';

const ROOT = resolve(__dirname, '..', '..');
// The ARM prefill is the f32 GEMM; the x86 one takes it too here (not the VNNI integer GEMM of
// Q8_0/Q4_K/Q6_K, which int8-kernels.test.ts checks), so the two differ only in summation order.
process.env.FALCON_H1_INT8_GEMM = '0';
const haveCross = spawnSync('sh', ['-c', 'command -v aarch64-linux-gnu-gcc && command -v qemu-aarch64'], { encoding: 'utf8' }).status === 0;
if (!haveCross) console.log('neon.test: aarch64-linux-gnu-gcc or qemu-aarch64 not installed: the NEON oracle is skipped');

describe.skipIf(!haveCross)('NEON kernels under qemu-aarch64', () => {
  const dir = tempDir();
  const exe = join(dir, 'fh1_eval_arm64');
  beforeAll(() => {
    const sources = ['csrc/tools/fh1_eval.c', 'csrc/model.c', 'csrc/context.c', 'csrc/gguf.c', 'csrc/sample.c', 'quant/quants.c', 'csrc/cpu/forward.c', 'csrc/cpu/threads.c', 'csrc/cpu/simd_select.c', 'csrc/cpu/simd_scalar.c', 'csrc/cpu/simd_neon.c', 'csrc/cpu/simd_avx2.c', 'csrc/cpu/simd_avx512.c'];
    const r = spawnSync('aarch64-linux-gnu-gcc', ['-O3', '-ffp-contract=off', '-std=gnu11', '-static', '-o', exe, ...sources, '-lm', '-lpthread'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  // logits of every position, from the ARM build
  function armLogits(model: string, ids: ArrayLike<number>, extra: string[] = []): { logits: Float32Array; backend: string } {
    const idsFile = join(dir, 'ids.txt'), out = join(dir, 'out.f32');
    writeFileSync(idsFile, Array.from(ids).join(' '));
    const r = spawnSync('qemu-aarch64', [exe, model, idsFile, out, '--kv', 'f32', '--threads', '2', ...extra], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const b = readFileSync(out);
    return { logits: new Float32Array(b.buffer, b.byteOffset, b.length / 4), backend: r.stderr };
  }

  for (const [model, outType, bound] of [['tiny-a', 'f32', 2e-5], ['tiny-a', 'bf16', 3e-3], ['tiny-b', 'f32', 2e-5]] as const) {
    it(`${model} ${outType}: prefill and token-by-token decode match HF`, async () => {
      const file = await convertedFixture(model, outType);
      for (const c of referenceCases(model).filter((x) => x.name !== 'long')) {
        const ref = readLogits(model, c.logits_file);
        for (const mode of [[], ['--decode']]) {
          const { logits, backend } = armLogits(file, c.input_ids, mode);
          expect(backend).toMatch(/cpu neon/);
          const r = maxDiff(logits, ref);
          expect(r.diff / r.scale, `${model} ${outType} ${c.name} ${mode.join('')}`).toBeLessThanOrEqual(bound);
        }
      }
    });
  }

  // a kernel test program (test/engine/NAME.c) cross-built against the kernel tables, run under qemu;
  // extra: more sources or defines
  function runArmCTest(name: string, extra: string[]): SpawnSyncReturns<string> {
    const kexe = join(dir, `${name}-arm64`);
    const sources = [`test/engine/${name}.c`, 'quant/quants.c', 'csrc/cpu/simd_scalar.c', 'csrc/cpu/simd_select.c', 'csrc/cpu/simd_avx2.c', 'csrc/cpu/simd_avx512.c'];
    const cc = spawnSync('aarch64-linux-gnu-gcc', ['-O3', '-ffp-contract=off', '-std=gnu11', '-static', '-o', kexe, ...sources, ...extra, '-lm'], { cwd: ROOT, encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    return spawnSync('qemu-aarch64', [kexe], { encoding: 'utf8' });
  }

  it('every NEON integer dot equals the f32 dot of the dequantized weights', () => {
    const r = runArmCTest('int8-kernels', ['-DCHECK_NEON']); // the program includes simd_neon.c itself
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout.match(/^ok /gm)?.length, r.stdout).toBe(20);
  });

  it('the NEON prefill attention kernel matches direct attention (test/engine/attn-block.c)', () => {
    const r = runArmCTest('attn-block', ['csrc/cpu/simd_neon.c']);
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout, r.stdout).toMatch(/^ok neon dh=128/m);
    expect(r.stdout.match(/^ok /gm)?.length, r.stdout).toBe(64); // neon and scalar, 32 cases each
  });

  it('quantized K-quant and 32-block weights: ARM prefill equals the x86 prefill, ARM decode (integer dots) stays within rounding', async () => {
    const src = join(dir, 'mini-f32.gguf');
    await writeSyntheticModel(MINI256, 'f32', src);
    const ids = Int32Array.from({ length: 24 }, (_, i) => (i * 97 + 5) % 2048);
    for (const type of ['Q4_K_M', 'Q5_K_M', 'Q6_K', 'Q8_0', 'Q4_0', 'Q3_K_M']) {
      const q = join(dir, `${type}.gguf`);
      await quantizeFile(src, q, type, { threads: 2 });
      const m = await Model.load(q);
      const ctx = m.newContext({ ctxSize: 64, kvType: 'f32' });
      const x86 = await ctx.decode(ids, { allLogits: true });
      ctx.free();
      m.free();
      const r = maxDiff(armLogits(q, ids).logits, x86);
      // both are f32 GEMMs over the same dequantized weights; only the summation order differs
      expect(r.diff / r.scale, type).toBeLessThanOrEqual(1e-5);
      // token by token: 8-bit activations, so the bound of int8-dot.ts (a broken kernel gives O(1))
      const d = maxDiff(armLogits(q, ids, ['--decode']).logits, x86);
      expect(d.diff / d.scale, `${type} decode`).toBeLessThan(0.15);
    }
  });
});

// Metal: everywhere, the sources are checked (clang compiles kernels.metal as C++ and backend.mm
// as Objective-C++ against stand-in headers, and the kernel names match the host's list and the
// CUDA backend's). On a Mac with Metal (the macOS CI job) the fixture oracle runs on the GPU with
// the CUDA bounds; elsewhere that part is skipped and says so.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/engine/engine.js';
import { convertedFixture, maxDiff, readLogits, referenceCases } from '../helpers/fixtures.js';

const ROOT = resolve(__dirname, '..', '..');
const METAL = join(ROOT, 'csrc', 'metal');
const haveClang = spawnSync('sh', ['-c', 'command -v clang++'], { encoding: 'utf8' }).status === 0;
if (!haveClang) console.log('metal.test: clang++ not installed: the syntax check of the Metal sources is skipped');

const kernelsIn = (src: string, re: RegExp) => [...src.matchAll(re)].map((m) => m[1]);

describe('Metal sources (checked on every platform)', () => {
  it.skipIf(!haveClang)('kernels.metal compiles as C++ against the Metal stand-ins, and a broken kernel fails the check', () => {
    const args = ['-std=c++17', '-fsyntax-only', '-x', 'c++', '-Wall', '-Werror', '-Wno-unknown-attributes', '-I', join(METAL, 'check'), '-I', METAL];
    const ok = spawnSync('clang++', [...args, join(METAL, 'kernels.metal')], { encoding: 'utf8' });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    // the check has teeth: an undeclared name in a kernel is an error
    const broken = readFileSync(join(METAL, 'kernels.metal'), 'utf8').replace('acc = simd_sum(acc);', 'acc = simd_total(acc);');
    const bad = spawnSync('clang++', [...args, '-'], { input: broken, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/simd_total/);
  });

  it.skipIf(!haveClang)('backend.mm parses as Objective-C++ (ARC) against the Foundation/Metal declarations it uses', () => {
    const r = spawnSync(
      'clang++',
      ['-std=c++17', '-fsyntax-only', '-x', 'objective-c++', '-fobjc-arc', '-fblocks', '-fobjc-runtime=gnustep-2.0', '-Wall', '-Werror', '-I', join(METAL, 'check'), join(METAL, 'backend.mm')],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('every kernel the host dispatches exists, and each one (but the argmax) has a CUDA twin of the same name', () => {
    const metal = readFileSync(join(METAL, 'kernels.metal'), 'utf8');
    const host = readFileSync(join(METAL, 'backend.mm'), 'utf8');
    const cuda = readFileSync(join(ROOT, 'csrc', 'cuda', 'backend.cu'), 'utf8');
    const defined = kernelsIn(metal, /^kernel void (k_\w+)\(/gm).sort();
    const listed = kernelsIn(host.slice(host.indexOf('kKernels'), host.indexOf('};', host.indexOf('kKernels'))), /"(k_\w+)"/g).sort();
    const dispatched = new Set(kernelsIn(host, /run(?:_per_simdgroup)?\(c, e, "(k_\w+)"/g));
    expect(listed).toEqual(defined);
    for (const k of dispatched) expect(defined).toContain(k);
    for (const k of defined.filter((k) => k !== 'k_argmax')) expect(cuda).toMatch(new RegExp(`__global__ void (__launch_bounds__\\([^)]*\\) )?${k}\\(`));
  });

  it.skipIf(process.platform === 'darwin')('without Metal in the build, --device metal is a clear error', async () => {
    const m = await Model.load(await convertedFixture('tiny-a', 'f32'));
    expect(() => m.newContext({ device: 'metal' })).toThrow(/no Metal backend/);
    m.free();
  });
});

const onMac = process.platform === 'darwin';
if (!onMac) console.log('metal.test: not macOS: the Metal fixture oracle is skipped (it runs in .github/workflows/macos.yml)');

describe.skipIf(!onMac)('Metal backend on the GPU: every tiny-a/tiny-b case matches HF', () => {
  // each case with the prefill scan as the recurrence (default) and in the SSD form (opt-in, FALCON_H1_METAL_SSD=1:
  // the long cases, 208 and 306 tokens, take it)
  for (const [model, type, bound, ssd] of [
    ['tiny-a', 'f32', 2e-5, ''],
    ['tiny-b', 'f32', 2e-5, ''],
    ['tiny-a', 'bf16', 3e-3, ''],
    ['tiny-a', 'f32', 2e-5, '1'],
    ['tiny-b', 'f32', 2e-5, '1'],
  ] as const) {
    it(`${model} ${type}${ssd ? ', SSD prefill scan' : ''}: prefill, token-by-token decode and uneven chunks within ${bound} of the logit scale`, async () => {
      if (ssd) process.env.FALCON_H1_METAL_SSD = ssd;
      else delete process.env.FALCON_H1_METAL_SSD;
      const m = await Model.load(await convertedFixture(model, type));
      for (const c of referenceCases(model)) {
        const ref = readLogits(model, c.logits_file);
        const ctx = m.newContext({ device: 'metal', kvType: 'f32', ctxSize: c.input_ids.length });
        expect(ctx.backend).toMatch(/^metal /);
        const whole = maxDiff(await ctx.decode(c.input_ids, { allLogits: true }), ref);
        expect(whole.diff).toBeLessThanOrEqual(bound * whole.scale);
        ctx.reset();
        const rows: Float32Array[] = [];
        for (const id of c.input_ids) rows.push(await ctx.decode([id], { allLogits: true }));
        const one = maxDiff(Float32Array.from(rows.flatMap((r) => Array.from(r))), ref);
        expect(one.diff).toBeLessThanOrEqual(bound * one.scale);
        ctx.reset();
        const cut = Math.min(7, c.input_ids.length - 1);
        const head = await ctx.decode(c.input_ids.slice(0, cut), { allLogits: true });
        const rest = await ctx.decode(c.input_ids.slice(cut), { allLogits: true });
        const chunks = new Float32Array(head.length + rest.length);
        chunks.set(head);
        chunks.set(rest, head.length);
        const ch = maxDiff(chunks, ref);
        expect(ch.diff).toBeLessThanOrEqual(bound * ch.scale);
        ctx.free();
      }
      m.free();
      delete process.env.FALCON_H1_METAL_SSD;
    });
  }
});

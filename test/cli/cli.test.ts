import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { maxDiff, modelDir, readLogits, referenceCases, tempDir } from '../helpers/fixtures.js';

describe('falcon-h1 CLI', () => {
  const dir = tempDir();

  it('--help lists exactly the working subcommands', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    const cmds = [...r.stdout.matchAll(/^  (\w+)/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    expect(cmds.sort()).toEqual(['bench', 'chat', 'convert', 'inspect', 'logits', 'ls', 'perplexity', 'pull', 'quantize', 'rm', 'run', 'tokenize']);
  });

  it('convert → inspect → logits on tiny-b reproduces HF logits', () => {
    const out = join(dir, 'b.gguf');
    const c = cli(['convert', modelDir('tiny-b/hf'), '-o', out, '--outtype', 'f32']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout.trim()).toBe(out);
    expect(c.stderr).toMatch(/warning: llama.cpp will not load this file/);

    const i = cli(['inspect', out, '--json', '-c', '1000']);
    expect(i.code).toBe(0);
    const info = JSON.parse(i.stdout);
    expect(info.model).toMatchObject({ numLayers: 4, nGroups: 2, ssmRmsNorm: true, normBeforeGate: true, hiddenSize: 64 });
    expect(info.memory.kvCache).toBe(2 * 4 * 1000 * 16 * 2);
    expect(info.tensors.find((t: { name: string }) => t.name === 'blk.0.ssm_in.bias').shape).toEqual([328]) // E + (E + 2GN) + H = 128 + 192 + 8;

    const cs = referenceCases('tiny-b').find((x) => x.name === 'chat')!;
    const lf = join(dir, 'chat.f32');
    const l = cli(['logits', out, '--tokens', cs.input_ids.join(','), '--out', lf]);
    expect(l.code, l.stderr).toBe(0);
    const got = new Float32Array(readFileSync(lf).buffer.slice(0));
    const r = maxDiff(got, readLogits('tiny-b', cs.logits_file));
    expect(r.diff).toBeLessThanOrEqual(2e-5 * r.scale);

    const d = cli(['logits', out, '--tokens', cs.input_ids.slice(0, 5).join(','), '--decode', '--last', '--json', '--top', '2']);
    expect(d.code).toBe(0);
    const top = JSON.parse(d.stdout);
    expect(top).toHaveLength(1);
    expect(top[0].position).toBe(4);
    expect(top[0].top).toHaveLength(2);
  });

  it('errors are one line with the documented exit codes, and no partial output', () => {
    const bad = cli(['convert', join(dir, 'nope'), '-o', join(dir, 'x.gguf')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const notGguf = cli(['inspect', modelDir('tiny-a/hf/config.json')]);
    expect(notGguf.code).toBe(3);
    expect(notGguf.stderr).toMatch(/^falcon-h1: .*config.json: not a GGUF file/);
    const range = cli(['logits', modelDir('tiny-a/llamacpp/model-f32.gguf'), '--tokens', '1,99999']);
    expect(range.code).toBe(3);
    expect(range.stderr).toMatch(/token id 99999 at index 1 is out of range/);
    const usage = cli(['logits', modelDir('tiny-a/llamacpp/model-f32.gguf')]);
    expect(usage.code).toBe(2);
    const unknown = cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(existsSync(join(dir, 'x.gguf'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

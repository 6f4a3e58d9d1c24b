import { describe, expect, it, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { convertedFixture, modelDir, tempDir } from '../helpers/fixtures.js';
import { loadModel } from '../../src/engine/loaded-model.js';
import { generate } from '../../src/engine/generate.js';
import { writeSyntheticModel } from '../../src/bench/synthetic.js';
import { SHAPES } from '../../src/bench/shapes.js';

interface E2E {
  messages: { role: string; content: string }[];
  prompt_text: string;
  prompt_ids: number[];
  new_ids: number[];
  new_text: string;
}

for (const name of ['tiny-a', 'tiny-b']) {
  describe(`end to end on ${name}: greedy continuation equals HF`, () => {
    const cases = (JSON.parse(readFileSync(join(modelDir(name), 'e2e.json'), 'utf8')) as { cases: E2E[] }).cases;
    let path: string;
    beforeAll(async () => {
      path = await convertedFixture(name, 'f32');
    });

    it('through the API: chat template → tokens → 24 greedy tokens', async () => {
      const lm = await loadModel(path);
      for (const c of cases) {
        const text = lm.template.render(c.messages, { addGenerationPrompt: true, bosToken: lm.bosToken, eosToken: lm.eosToken });
        expect(text).toBe(c.prompt_text);
        const ids = lm.tokenizer.encode(text);
        expect(ids).toEqual(c.prompt_ids);
        const ctx = lm.model.newContext({ ctxSize: 256, kvType: 'f32' });
        let done;
        for await (const ev of generate(ctx, lm.tokenizer, ids, { nPredict: 24, sampling: { temp: 0 } })) if (ev.type === 'done') done = ev;
        expect(done!.ids).toEqual(c.new_ids);
        expect(done!.text).toBe(c.new_text);
        expect(done!.stop).toBe('length');
        ctx.free();
      }
    });

    it('through the CLI: run --raw --special and run with the chat template', () => {
      for (const c of cases) {
        const r = cli(['run', path, '--raw', '--special', '-p', c.prompt_text, '--temp', '0', '--ignore-eos', '-n', '24', '--json']);
        expect(r.code, r.stderr).toBe(0);
        const j = JSON.parse(r.stdout);
        expect(j.text).toBe(c.new_text);
        expect(j.tokens).toEqual({ prompt: c.prompt_ids.length, generated: 24 });
      }
      const first = cases.find((c) => c.messages.length === 1)!;
      const r = cli(['run', path, '-p', first.messages[0].content, '--temp', '0', '--ignore-eos', '-n', '24']);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(first.new_text.endsWith('\n') ? first.new_text : first.new_text + '\n');
    });
  });
}

describe('run behaviour', () => {
  let path: string;
  beforeAll(async () => {
    path = await convertedFixture('tiny-a', 'f32');
  });

  it('appends piped stdin to -p, and reads stdin alone', () => {
    const a = cli(['run', path, '--raw', '-p', 'Summarise:', '--temp', '0', '-n', '3', '--json'], { input: 'some notes' });
    const b = cli(['run', path, '--raw', '--temp', '0', '-n', '3', '--json'], { input: 'Summarise:\nsome notes' });
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout).text).toBe(JSON.parse(b.stdout).text);
    expect(JSON.parse(a.stdout).tokens.prompt).toBe(JSON.parse(b.stdout).tokens.prompt);
  });

  it('a prompt longer than the context is a clear error (exit 4), or truncated when asked', () => {
    const long = 'word '.repeat(400);
    const r = cli(['run', path, '--raw', '-p', long, '-c', '64', '-n', '8']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/needs a context of \d+ \(have 64; raise -c or pass --truncate\)/);
    const t = cli(['run', path, '--raw', '-p', long, '-c', '64', '-n', '8', '--temp', '0', '--json', '--truncate']);
    expect(t.code).toBe(0);
    expect(JSON.parse(t.stdout).tokens.prompt).toBe(56);
  });

  it('stops at a stop string and at end-of-turn ids', () => {
    const free = cli(['run', path, '--raw', '-p', 'Hello', '--temp', '0', '-n', '40', '--json', '--ignore-eos']);
    const text = JSON.parse(free.stdout).text as string;
    const cut = text.slice(5, 8);
    const s = cli(['run', path, '--raw', '-p', 'Hello', '--temp', '0', '-n', '40', '--json', '--ignore-eos', '--stop', cut]);
    const j = JSON.parse(s.stdout);
    expect(j.stop).toBe('stop-string');
    expect(j.text).toBe(text.slice(0, text.indexOf(cut)));
  });

  it('same seed, same output; sampling flags are validated', () => {
    const a = cli(['run', path, '-p', 'Hi', '--seed', '7', '-n', '16', '--ignore-eos']);
    const b = cli(['run', path, '-p', 'Hi', '--seed', '7', '-n', '16', '--ignore-eos']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(cli(['run', path, '-p', 'Hi', '--temp', 'hot']).code).toBe(2);
  });

  it('GPU placement flags: -ngl is --gpu-layers, bad values are usage errors', () => {
    // -ngl 0 keeps every layer on the CPU, so this runs (and equals the plain run) without a GPU
    const cpu = cli(['run', path, '-p', 'Hi', '--seed', '7', '-n', '8', '--ignore-eos', '-ngl', '0', '--split-mode', 'none']);
    expect(cpu.code).toBe(0);
    expect(cpu.stdout).toBe(cli(['run', path, '-p', 'Hi', '--seed', '7', '-n', '8', '--ignore-eos']).stdout);
    const bad = cli(['run', path, '-p', 'Hi', '--gpu-layers', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--gpu-layers must be an integer/);
    expect(cli(['run', path, '-p', 'Hi', '--device', 'cpu', '--gpu-layers', '3']).stderr).toMatch(/--gpu-layers needs --device cuda or auto/);
    expect(cli(['run', path, '-p', 'Hi', '--split-mode', 'row']).code).toBe(2);
  });

  it('a closed stdout pipe ends quietly', async () => {
    const code = await new Promise<number>((resolve) => {
      const p = spawn('bash', ['-c', `node bin/falcon-h1.js run ${path} -p Hi -n 2000 --ignore-eos -c 4096 | head -c 10 > /dev/null; echo \${PIPESTATUS[0]}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      p.on('close', () => {
        expect(err).toBe('');
        resolve(Number(out.trim()));
      });
    });
    expect(code).toBe(0);
  });

  it('Ctrl-C stops generation, keeps what was printed and exits 130', async () => {
    const big = join(tempDir(), 'slow.gguf');
    await writeSyntheticModel({ ...SHAPES['0.5b'], name: 'slow', layers: 4, context: 65536 }, 'f32', big);
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, ['bin/falcon-h1.js', 'run', big, '--raw', '-p', 'x', '-n', '-1', '-c', '65536', '--ignore-eos', '-t', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d) => {
        out += d;
      });
      setTimeout(() => p.kill('SIGINT'), 2500);
      p.on('close', (code) => resolve({ code, out }));
    });
    expect(r.code).toBe(130);
    expect(r.out.length).toBeGreaterThan(0);
  });
});

describe('tokenize', () => {
  it('prints ids and pieces, parses special tokens only with --special', () => {
    const tj = join(modelDir('tiny-a'), 'hf', 'tokenizer.json');
    const plain = cli(['tokenize', tj, '<|im_start|>Hi']);
    const special = cli(['tokenize', tj, '<|im_start|>Hi', '--special', '--json']);
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim().split(',')[0]).not.toBe('12');
    const j = JSON.parse(special.stdout);
    expect(j[0]).toEqual({ id: 12, piece: '<|im_start|>' });
    const fromGguf = cli(['tokenize', modelDir('tiny-a/llamacpp/model-f32.gguf'), '-'], { input: 'Hello world' });
    expect(fromGguf.stdout.trim()).toBe(cli(['tokenize', tj, 'Hello world']).stdout.trim());
  });
});

// A real terminal: tmux runs `falcon-h1 chat`, keys are typed, the screen is read back.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { convertedFixture, tempDir } from '../helpers/fixtures.js';
import { writeSyntheticModel } from '../../src/bench/synthetic.js';
import { SHAPES } from '../../src/bench/shapes.js';

const SESSION = `fh1-test-${process.pid}`;
// Ink renders only a final frame when it thinks it runs in CI, so the terminal under test must not inherit CI=true
const ENV = 'env -u CI -u CONTINUOUS_INTEGRATION -u GITHUB_ACTIONS';
const tmux = (...a: string[]) => execFileSync('tmux', a, { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-t', SESSION, '-p', '-S', '-200');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(re: RegExp, ms = 15000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const s = screen();
    if (re.test(s)) return s;
    if (Date.now() - t0 > ms) throw new Error(`screen never matched ${re}:\n${s}`);
    await sleep(100);
  }
}

describe('chat in a real terminal (tmux)', () => {
  let slow: string;
  beforeAll(async () => {
    slow = join(tempDir(), 'slow.gguf');
    await writeSyntheticModel({ ...SHAPES['0.5b'], name: 'slow', layers: 4, context: 65536 }, 'f32', slow);
  });
  afterAll(() => {
    try {
      tmux('kill-session', '-t', SESSION);
    } catch {
      /* already gone */
    }
  });

  it('chats, regenerates, shows stats, stops a reply with Ctrl-C and exits 130 on a double Ctrl-C', async () => {
    const model = await convertedFixture('tiny-a', 'f32');
    const bin = join(__dirname, '..', '..', 'bin', 'falcon-h1.js');
    tmux('new-session', '-d', '-s', SESSION, '-x', '140', '-y', '50', `${ENV} ${process.execPath} ${bin} chat ${model} --temp 0 -n 12; echo EXIT=$?; sleep 600`);
    await waitFor(/ctx .* 0\/4096/);
    tmux('send-keys', '-t', SESSION, 'Hello there', 'Enter');
    await waitFor(/> Hello there[\s\S]*last: \d+ t\/s prompt/);
    tmux('send-keys', '-t', SESSION, '/regen', 'Enter');
    await waitFor(/regenerating the last reply/);
    // the regenerated reply reuses the cached prompt, so its stats show 0 prompt tokens once it is done
    await waitFor(/last: 0 t\/s prompt/);
    tmux('send-keys', '-t', SESSION, '/stats', 'Enter');
    await waitFor(/prompt \d+ tokens at [\d.]+ t\/s · generation 12 tokens/);
    tmux('send-keys', '-t', SESSION, 'C-c');
    await waitFor(/press Ctrl-C again to exit/);
    tmux('send-keys', '-t', SESSION, 'C-c');
    await waitFor(/EXIT=130/);
    tmux('kill-session', '-t', SESSION);

    // Ctrl-C while generating stops the reply and keeps it, marked interrupted
    tmux('new-session', '-d', '-s', SESSION, '-x', '140', '-y', '50', `${ENV} ${process.execPath} ${bin} chat ${slow} -c 65536; echo EXIT=$?; sleep 600`);
    await waitFor(/ctx .* 0\/65536/, 30000);
    tmux('send-keys', '-t', SESSION, 'go on', 'Enter');
    await waitFor(/Ctrl-C stops/);
    await sleep(1500);
    tmux('send-keys', '-t', SESSION, 'C-c');
    await waitFor(/\[interrupted\]/);
    tmux('send-keys', '-t', SESSION, 'C-d');
    const s = await waitFor(/EXIT=\d+/);
    expect(s).toMatch(/EXIT=0/);
  }, 120_000);
});

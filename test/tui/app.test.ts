import { describe, expect, it } from 'vitest';
import React from 'react';
import { render } from 'ink-testing-library';
import { App } from '../../src/tui/App.js';
import { ChatSession } from '../../src/chat/session.js';
import { loadModel } from '../../src/engine/loaded-model.js';
import { convertedFixture } from '../helpers/fixtures.js';

const tick = (ms = 50) => new Promise((r) => setTimeout(r, ms));
async function until(f: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await tick();
  }
}

describe('chat App (ink-testing-library)', () => {
  it('renders the conversation, slash commands and the status line; Ctrl-C twice exits 130', async () => {
    const lm = await loadModel(await convertedFixture('tiny-a', 'f32'));
    const session = new ChatSession(lm, lm.model.newContext({ ctxSize: 256 }), { sampling: { temp: 0 }, nPredict: 8 });
    let code = -1;
    const ui = render(React.createElement(App, { session, modelName: 'tiny', backend: 'CPU test', onExit: (c: number) => (code = c) }));
    await tick();
    expect(ui.lastFrame()).toMatch(/tiny · CPU test · ctx .* 0\/256/);
    ui.stdin.write('/he');
    await tick();
    expect(ui.lastFrame()).toMatch(/\/help  list the commands/);
    ui.stdin.write('lp\r');
    await until(() => /\/regen — regenerate/.test(ui.lastFrame() ?? ''));
    ui.stdin.write('Hello\r');
    await until(() => /> Hello/.test(ui.frames.join('\n')) && session.lastStats !== undefined);
    await until(() => /last: \d+ t\/s prompt/.test(ui.lastFrame() ?? ''));
    ui.stdin.write('/nope\r');
    await until(() => /unknown command \/nope/.test(ui.frames.join('\n')));
    ui.stdin.write('\u0003');
    await until(() => /press Ctrl-C again to exit/.test(ui.frames.join('\n')));
    ui.stdin.write('\u0003');
    await until(() => code === 130);
    ui.unmount();
  });
});

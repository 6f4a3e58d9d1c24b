import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { writeFileSync, readFileSync } from 'node:fs';
import { ChatSession } from '../../src/chat/session.js';
import { loadModel, type LoadedModel } from '../../src/engine/loaded-model.js';
import { convertedFixture, maxDiff, tempDir } from '../helpers/fixtures.js';

async function collect(gen: AsyncGenerator<{ type: string; text?: string }>): Promise<string> {
  let t = '';
  for await (const ev of gen) if (ev.type === 'text') t += ev.text;
  return t;
}

describe('chat session over the recurrent state', () => {
  let lm: LoadedModel;
  beforeAll(async () => {
    lm = await loadModel(await convertedFixture('tiny-a', 'f32'));
  });
  const newSession = (ctxSize = 512, system?: string) =>
    new ChatSession(lm, lm.model.newContext({ ctxSize, kvType: 'f32' }), { system, sampling: { temp: 0.9, seed: 42, topK: 40, topP: 0.95, minP: 0.05 }, nPredict: 12 });

  it('a new turn evaluates only its new tokens, and the state equals a full re-read', async () => {
    const s = newSession(512, 'Be brief.');
    await collect(s.send('Hello!'));
    const after1 = s.nPast;
    await collect(s.send('And then?'));
    const rendered = lm.template.render(s.messages, { addGenerationPrompt: true, bosToken: lm.bosToken });
    // the second turn fed far fewer tokens than the whole conversation
    expect(s.lastStats!.promptTokens).toBeLessThan(lm.tokenizer.encode(rendered).length - after1 + 8);
    expect(s.lastStats!.promptTokens).toBeLessThan(after1);
    // the context holds exactly the rendered conversation (generated ids kept as generated)
    expect(lm.tokenizer.decode(s.tokens)).toBe(lm.template.render(s.messages.slice(0, -1), { addGenerationPrompt: true, bosToken: lm.bosToken }) + s.messages[s.messages.length - 1].content);
    expect(s.nPast).toBe(s.tokens.length);
    // continue both: the live state and a fresh prefill of the same tokens give the same logits
    const q = lm.tokenizer.encode('<|im_end|>\n<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n');
    const live = await s.ctx.decode(q);
    const fresh = lm.model.newContext({ ctxSize: 512, kvType: 'f32' });
    await fresh.decode(s.tokens);
    const ref = await fresh.decode(q);
    const d = maxDiff(live, ref);
    expect(d.diff).toBeLessThanOrEqual(1e-5 * d.scale);
    fresh.free();
  });

  it('/regen restores the checkpoint: same seed, same reply; /undo restores the earlier state', async () => {
    const s = newSession();
    const first = await collect(s.send('Tell me about falcons.'));
    const again = await collect(s.regenerate());
    expect(again).toBe(first);
    expect(s.messages.filter((m) => m.role === 'assistant')).toHaveLength(1);
    const before = s.nPast;
    await collect(s.send('More?'));
    expect(s.undo()).toBe(true);
    expect(s.nPast).toBe(before);
    expect(s.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('/save then /load resumes without re-reading, and generation continues exactly', async () => {
    const dir = tempDir();
    const s = newSession();
    await collect(s.send('Hi there'));
    s.save(join(dir, 's.session'));
    const cont = await collect(s.send('Continue'));
    const t = newSession();
    expect(await t.load(join(dir, 's.session'))).toBe('restored');
    expect(t.nPast).toBe(s.messages.length ? t.nPast : 0);
    expect(await collect(t.send('Continue'))).toBe(cont);
    // a corrupt file is refused
    const b = readFileSync(join(dir, 's.session'));
    b[100] ^= 1;
    writeFileSync(join(dir, 'bad.session'), b);
    await expect(t.load(join(dir, 'bad.session'))).rejects.toThrow(/checksum mismatch/);
  });

  it('an overflowing conversation drops its oldest turns once, with a notice', async () => {
    const notices: string[] = [];
    const s = newSession(160);
    s.o.notice = (m) => notices.push(m);
    for (let i = 0; i < 8; i++) await collect(s.send(`Message number ${i} with some words to fill the context quickly.`));
    expect(notices.some((n) => /context full: dropped the \d+ oldest messages?/.test(n))).toBe(true);
    expect(s.nPast).toBeLessThanOrEqual(160);
    expect(s.messages[s.messages.length - 2].content).toMatch(/Message number 7/);
  });
});

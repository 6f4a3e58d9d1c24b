import { describe, expect, it } from 'vitest';
import { parseSet, parseSlash, suggestions } from '../../src/tui/commands.js';
import { initialInput, reduceInput, type InputAction, type InputState } from '../../src/tui/input.js';
import { onCtrlC } from '../../src/tui/ctrl-c.js';

function run(s: InputState, ...as: InputAction[]): { state: InputState; submitted?: string } {
  let r: { state: InputState; submitted?: string } = { state: s };
  for (const a of as) {
    const n = reduceInput(r.state, a);
    r = { state: n.state, submitted: n.submitted ?? r.submitted };
  }
  return r;
}

describe('slash commands', () => {
  it('parses commands and arguments, rejects unknown ones and missing arguments', () => {
    expect(parseSlash('hello')).toBeNull();
    expect(parseSlash('/regen')).toEqual({ cmd: 'regen', arg: '' });
    expect(parseSlash('/system  Be brief. ')).toEqual({ cmd: 'system', arg: 'Be brief.' });
    expect(parseSlash('/set temp 0.7')).toEqual({ cmd: 'set', arg: 'temp 0.7' });
    expect(parseSlash('/save')).toEqual({ error: 'usage: /save FILE' });
    expect(parseSlash('/frob')).toEqual({ error: 'unknown command /frob (try /help)' });
  });
  it('suggests by prefix', () => {
    expect(suggestions('/s').map((c) => c.name)).toEqual(['system', 'save', 'stats', 'set']);
    expect(suggestions('/re').map((c) => c.name)).toEqual(['regen']);
    expect(suggestions('/set temp')).toEqual([]);
    expect(suggestions('hi')).toEqual([]);
  });
  it('validates /set', () => {
    expect(parseSet('temp 0.7')).toEqual(['temp', 0.7]);
    expect(parseSet('top-k 40')).toEqual(['topK', 40]);
    expect(parseSet('top-k 4.5')).toMatch(/bad value/);
    expect(parseSet('warmth 1')).toMatch(/unknown setting 'warmth'/);
  });
});

describe('input editing', () => {
  it('types, moves, deletes and submits', () => {
    const r = run(initialInput(), { type: 'insert', text: 'helo' }, { type: 'left' }, { type: 'insert', text: 'l' }, { type: 'enter' });
    expect(r.submitted).toBe('hello');
    expect(r.state.text).toBe('');
    const b = run(initialInput(), { type: 'insert', text: 'abc' }, { type: 'backspace' }, { type: 'left' }, { type: 'left' }, { type: 'left' }, { type: 'backspace' });
    expect(b.state.text).toBe('ab');
  });
  it('keeps pasted newlines and continues a line ending in a backslash', () => {
    const p = run(initialInput(), { type: 'insert', text: 'a\r\nb\nc' });
    expect(p.state.text).toBe('a\nb\nc');
    const c = run(initialInput(), { type: 'insert', text: 'first\\' }, { type: 'enter' }, { type: 'insert', text: 'second' }, { type: 'enter' });
    expect(c.submitted).toBe('first\nsecond');
  });
  it('browses history with up/down and restores the draft', () => {
    let s = run(initialInput(), { type: 'insert', text: 'one' }, { type: 'enter' }, { type: 'insert', text: 'two' }, { type: 'enter' }).state;
    s = run(s, { type: 'insert', text: 'dra' }).state;
    const up1 = run(s, { type: 'up' }).state;
    expect(up1.text).toBe('two');
    const up2 = run(up1, { type: 'up' }, { type: 'up' }).state;
    expect(up2.text).toBe('one');
    expect(run(up2, { type: 'down' }, { type: 'down' }).state.text).toBe('dra');
    expect(run(initialInput(), { type: 'enter' }).submitted).toBeUndefined();
  });
});

describe('Ctrl-C by state', () => {
  it('loading exits, generating stops the reply, the prompt needs a second press', () => {
    expect(onCtrlC('loading', undefined, 0)).toBe('exit');
    expect(onCtrlC('generating', undefined, 0)).toBe('stop-generation');
    expect(onCtrlC('prompt', undefined, 1000)).toBe('arm');
    expect(onCtrlC('prompt', 1000, 1500)).toBe('exit-interrupted');
    expect(onCtrlC('prompt', 1000, 5000)).toBe('arm');
  });
});

// Line editing of the chat prompt as a pure reducer: insert (typing or paste, newlines kept),
// backspace, cursor moves, history with ↑/↓, and a trailing backslash + Enter for a new line.

export interface InputState {
  text: string;
  cursor: number;
  history: string[];
  /** index into history while browsing it; history.length = the line being edited */
  browse: number;
  draft: string;
}

export type InputAction =
  | { type: 'insert'; text: string }
  | { type: 'backspace' }
  | { type: 'left' }
  | { type: 'right' }
  | { type: 'up' }
  | { type: 'down' }
  | { type: 'enter' }
  | { type: 'clear' };

export function initialInput(history: string[] = []): InputState {
  return { text: '', cursor: 0, history, browse: history.length, draft: '' };
}

/** Applies an action; `submitted` is set when Enter completes a message. */
export function reduceInput(s: InputState, a: InputAction): { state: InputState; submitted?: string } {
  switch (a.type) {
    case 'insert': {
      const text = s.text.slice(0, s.cursor) + a.text.replace(/\r\n?/g, '\n') + s.text.slice(s.cursor);
      return { state: { ...s, text, cursor: s.cursor + a.text.replace(/\r\n?/g, '\n').length } };
    }
    case 'backspace':
      if (!s.cursor) return { state: s };
      return { state: { ...s, text: s.text.slice(0, s.cursor - 1) + s.text.slice(s.cursor), cursor: s.cursor - 1 } };
    case 'left':
      return { state: { ...s, cursor: Math.max(0, s.cursor - 1) } };
    case 'right':
      return { state: { ...s, cursor: Math.min(s.text.length, s.cursor + 1) } };
    case 'up': {
      if (s.browse === 0) return { state: s };
      const browse = s.browse - 1;
      const draft = s.browse === s.history.length ? s.text : s.draft;
      const text = s.history[browse];
      return { state: { ...s, browse, draft, text, cursor: text.length } };
    }
    case 'down': {
      if (s.browse >= s.history.length) return { state: s };
      const browse = s.browse + 1;
      const text = browse === s.history.length ? s.draft : s.history[browse];
      return { state: { ...s, browse, text, cursor: text.length } };
    }
    case 'enter': {
      if (s.text.slice(0, s.cursor).endsWith('\\')) {
        // trailing backslash: continue on a new line
        const text = s.text.slice(0, s.cursor - 1) + '\n' + s.text.slice(s.cursor);
        return { state: { ...s, text, cursor: s.cursor } };
      }
      const msg = s.text;
      if (!msg.trim()) return { state: { ...s, text: '', cursor: 0 } };
      const history = s.history[s.history.length - 1] === msg ? s.history : [...s.history, msg];
      return { state: { text: '', cursor: 0, history, browse: history.length, draft: '' }, submitted: msg };
    }
    case 'clear':
      return { state: { ...s, text: '', cursor: 0, browse: s.history.length } };
  }
}

// The chat TUI. Finished turns are <Static> (printed once); only the live reply, the input and
// the status line re-render. One input handler decides what every key, and Ctrl-C, means.

import React, { useEffect, useRef, useState } from 'react';
import { Box, Static, Text, useApp, useInput } from 'ink';
import type { ChatSession } from '../chat/session.js';
import { COMMANDS, parseSet, parseSlash, suggestions } from './commands.js';
import { initialInput, reduceInput, type InputAction, type InputState } from './input.js';
import { onCtrlC, type Phase } from './ctrl-c.js';

export interface Turn {
  id: number;
  kind: 'user' | 'assistant' | 'notice' | 'error';
  text: string;
  interrupted?: boolean;
}

export interface AppProps {
  session: ChatSession;
  modelName: string;
  backend: string;
  onExit: (code: number) => void;
}

function bar(used: number, total: number, width = 20): string {
  const n = Math.min(width, Math.round((used / Math.max(1, total)) * width));
  return '█'.repeat(n) + '░'.repeat(width - n);
}

function fmt(n: number): string {
  return n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

export function App({ session, modelName, backend, onExit }: AppProps): React.JSX.Element {
  const { exit } = useApp();
  const [phase, setPhase] = useState<Phase>('prompt');
  const [turns, setTurns] = useState<Turn[]>([]);
  const [live, setLive] = useState('');
  const [input, setInput] = useState<InputState>(initialInput());
  const inputRef = useRef(input);
  /** Applies an editing action at once (several may come from one key event); returns a submitted message. */
  const dispatch = (a: InputAction): string | undefined => {
    const r = reduceInput(inputRef.current, a);
    inputRef.current = r.state;
    setInput(r.state);
    return r.submitted;
  };
  const [armedAt, setArmedAt] = useState<number | undefined>();
  const nextId = useRef(0);

  const add = (kind: Turn['kind'], text: string, interrupted?: boolean) => setTurns((t) => [...t, { id: nextId.current++, kind, text, interrupted }]);
  const quit = (code: number) => {
    onExit(code);
    exit();
  };

  useEffect(() => {
    session.o.notice = (m) => add('notice', m);
  }, [session]);

  const stream = async (gen: AsyncGenerator<{ type: string; text?: string; stop?: string }>) => {
    setPhase('generating');
    let text = '';
    let stop = '';
    try {
      for await (const ev of gen) {
        if (ev.type === 'text') {
          text += ev.text;
          setLive(text);
        } else stop = ev.stop ?? '';
      }
      add('assistant', text, stop === 'cancelled');
    } catch (e) {
      add('error', (e as Error).message);
    } finally {
      setLive('');
      setPhase('prompt');
    }
  };

  const runCommand = async (cmd: string, arg: string) => {
    switch (cmd) {
      case 'help':
        add('notice', COMMANDS.map((c) => `/${c.name}${c.args ? ' ' + c.args : ''} — ${c.help}`).join('\n'));
        return;
      case 'exit':
        return quit(0);
      case 'clear':
        session.clear();
        add('notice', 'conversation cleared');
        return;
      case 'system':
        session.setSystem(arg);
        add('notice', arg ? `system prompt set` : 'system prompt removed');
        return;
      case 'undo':
        add('notice', session.undo() ? 'removed the last exchange' : 'nothing to undo');
        return;
      case 'regen':
        if (session.messages[session.messages.length - 1]?.role !== 'assistant') return add('notice', 'nothing to regenerate');
        add('notice', 'regenerating the last reply');
        return stream(session.regenerate());
      case 'stats': {
        const s = session.lastStats;
        if (!s) return add('notice', 'no reply yet');
        add('notice', `prompt ${s.promptTokens} tokens at ${(s.promptTokens / Math.max(1e-6, s.promptMs / 1000)).toFixed(1)} t/s · generation ${s.genTokens} tokens at ${(s.genTokens / Math.max(1e-6, s.genMs / 1000)).toFixed(1)} t/s · stop: ${s.stop}`);
        return;
      }
      case 'ctx':
        add('notice', `context ${session.nPast}/${session.ctx.nCtx} tokens · ${session.messages.length} messages · checkpoints ${fmt(session.checkpointBytes)}`);
        return;
      case 'set': {
        const r = parseSet(arg);
        if (typeof r === 'string') return add('error', r);
        if (r[0] === 'nPredict') session.o.nPredict = r[1];
        else (session.o.sampling as Record<string, number>)[r[0]] = r[1];
        add('notice', `${arg.split(/\s+/)[0]} = ${r[1]}`);
        return;
      }
      case 'save':
        try {
          session.save(arg);
          add('notice', `saved to ${arg}`);
        } catch (e) {
          add('error', (e as Error).message);
        }
        return;
      case 'load':
        try {
          setPhase('generating');
          const how = await session.load(arg);
          add('notice', `loaded ${arg} (${session.messages.length} messages, ${how === 'restored' ? 'state restored' : 'model changed: conversation re-read'})`);
        } catch (e) {
          add('error', (e as Error).message);
        } finally {
          setPhase('prompt');
        }
        return;
    }
  };

  useInput((ch, key) => {
    if (key.ctrl && ch === 'c') {
      const a = onCtrlC(phase, armedAt, Date.now());
      if (a === 'stop-generation') session.ctx.cancel();
      else if (a === 'arm') {
        setArmedAt(Date.now());
        add('notice', 'press Ctrl-C again to exit (Ctrl-D on an empty line exits too)');
      } else quit(a === 'exit' ? 130 : 130);
      return;
    }
    if (phase !== 'prompt') return;
    if (key.ctrl && ch === 'd') {
      if (!inputRef.current.text) quit(0);
      return;
    }
    // A chunk of typed text ending in Enter (fast typing, tmux send-keys) is text + submit; a
    // multi-line chunk is a paste and keeps its newlines.
    let enter = key.return;
    if (!enter && ch.length > 1 && ch.indexOf('\r') === ch.length - 1) {
      dispatch({ type: 'insert', text: ch.slice(0, -1) });
      enter = true;
    }
    if (enter) {
      const submitted = dispatch({ type: 'enter' });
      if (submitted === undefined) return;
      const cmd = parseSlash(submitted.trim());
      if (cmd && 'error' in cmd) return add('error', cmd.error);
      if (cmd) return void runCommand(cmd.cmd, cmd.arg);
      add('user', submitted);
      void stream(session.send(submitted));
      return;
    }
    if (key.upArrow) return void dispatch({ type: 'up' });
    if (key.downArrow) return void dispatch({ type: 'down' });
    if (key.leftArrow) return void dispatch({ type: 'left' });
    if (key.rightArrow) return void dispatch({ type: 'right' });
    if (key.backspace || key.delete) return void dispatch({ type: 'backspace' });
    if (key.tab) {
      const s = suggestions(inputRef.current.text);
      if (s.length === 1) {
        dispatch({ type: 'clear' });
        dispatch({ type: 'insert', text: `/${s[0].name} ` });
      }
      return;
    }
    if (key.escape) return void dispatch({ type: 'clear' });
    if (ch && !key.ctrl && !key.meta) dispatch({ type: 'insert', text: ch });
    return;
  });

  const sugg = suggestions(input.text);
  const stats = session.lastStats;
  return (
    <Box flexDirection="column">
      <Static items={turns}>
        {(t) => (
          <Box key={t.id} marginBottom={t.kind === 'assistant' ? 1 : 0}>
            {t.kind === 'user' && <Text color="cyan">{'> ' + t.text}</Text>}
            {t.kind === 'assistant' && (
              <Text>
                {t.text}
                {t.interrupted ? <Text dimColor> [interrupted]</Text> : null}
              </Text>
            )}
            {t.kind === 'notice' && <Text dimColor>{t.text}</Text>}
            {t.kind === 'error' && <Text color="red">{t.text}</Text>}
          </Box>
        )}
      </Static>
      {phase === 'generating' && <Text>{live || '…'}</Text>}
      {phase === 'prompt' && (
        <Box flexDirection="column">
          <Text>
            <Text color="green">{'› '}</Text>
            {input.text.slice(0, input.cursor)}
            <Text inverse>{input.text[input.cursor] ?? ' '}</Text>
            {input.text.slice(input.cursor + 1)}
          </Text>
          {sugg.length > 0 && input.text.length > 0 && (
            <Box flexDirection="column">
              {sugg.map((c) => (
                <Text key={c.name} dimColor>
                  {`/${c.name}${c.args ? ' ' + c.args : ''}  ${c.help}`}
                </Text>
              ))}
            </Box>
          )}
        </Box>
      )}
      <Text dimColor>
        {`${modelName} · ${backend} · ctx ${bar(session.nPast, session.ctx.nCtx)} ${session.nPast}/${session.ctx.nCtx}`}
        {stats ? ` · last: ${(stats.promptTokens / Math.max(1e-6, stats.promptMs / 1000)).toFixed(0)} t/s prompt, ${(stats.genTokens / Math.max(1e-6, stats.genMs / 1000)).toFixed(1)} t/s gen` : ''}
        {phase === 'generating' ? ' · Ctrl-C stops' : ''}
      </Text>
    </Box>
  );
}

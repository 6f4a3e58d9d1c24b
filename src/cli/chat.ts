import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import React from 'react';
import { render } from 'ink';
import { ChatSession } from '../chat/session.js';
import { loadModel } from '../engine/loaded-model.js';
import { contextMemory, modelInfo } from '../gguf/model-info.js';
import { readGGUF } from '../gguf/reader.js';
import { App } from '../tui/App.js';
import { ExitCode, FalconError } from '../util/errors.js';
import { formatBytes } from '../util/progress.js';
import { onInterrupt } from './interrupt.js';
import { resolveModelArg } from './model-arg.js';
import { parseIntOption } from './options.js';
import { addSamplingOptions, samplingFrom, type SamplingFlags } from './sampling-options.js';
import { readStdin } from '../util/stdin.js';
import { addDeviceOptions, deviceFrom, type DeviceFlags } from './device-options.js';

interface ChatOptions extends SamplingFlags, DeviceFlags {
  ctxSize: string;
  system?: string;
  nPredict: string;
  threads?: string;
  kvType: 'f16' | 'f32';
  chatTemplate?: string;
}

export function chatCommand(): Command {
  const c = new Command('chat')
    .description('interactive chat (Ink TUI); with stdin or stdout not a terminal it answers stdin like run')
    .argument('<model>', 'GGUF model file or repo id (org/name[:QUANT])')
    .option('-c, --ctx-size <n>', "context size in tokens, up to the model's maximum", '4096')
    .option('-s, --system <text>', 'system prompt')
    .option('-n, --n-predict <n>', 'tokens per reply at most (-1: until end of turn or context)', '-1')
    .option('-t, --threads <n>', 'threads (default: all cores)')
    .addOption(new Option('--kv-type <type>', 'KV cache type').choices(['f16', 'f32']).default('f16'))
    .option('--chat-template <file>', "use this Jinja chat template instead of the model's");
  addSamplingOptions(c);
  addDeviceOptions(c);
  return c.action(async (modelArg: string, o: ChatOptions) => {
    const path = await resolveModelArg(modelArg);
    const info = modelInfo(readGGUF(path));
    const max = info.contextLength || 262144;
    const ctxSize = parseIntOption('--ctx-size', o.ctxSize, 16);
    if (ctxSize > max) throw new FalconError(`--ctx-size ${ctxSize} is larger than this model's maximum ${max}`, ExitCode.USAGE);
    const mem = contextMemory(info, ctxSize, o.kvType);
    const interactive = !!process.stdin.isTTY && !!process.stdout.isTTY;
    const say = (s: string) => process.stderr.write(s + '\n');
    say(`context ${ctxSize} tokens: KV cache ${formatBytes(mem.kvCache)} + Mamba state ${formatBytes(mem.convState + mem.ssmState)} (weights ${formatBytes(mem.weights)}, mapped)`);
    if (mem.total > totalmem() * 0.95) {
      throw new FalconError(`a context of ${ctxSize} tokens needs ${formatBytes(mem.total)} with the weights; this machine has ${formatBytes(totalmem())} (lower -c or use --kv-type f16)`, ExitCode.OUT_OF_CONTEXT);
    }
    const lm = await loadModel(path, { chatTemplate: o.chatTemplate ? readFileSync(o.chatTemplate, 'utf8') : undefined });
    const threads = o.threads ? parseIntOption('--threads', o.threads, 1, 1024) : cpus().length;
    const ctx = lm.model.newContext({ ctxSize, threads, kvType: o.kvType, ...deviceFrom(o) });
    const session = new ChatSession(lm, ctx, { system: o.system, sampling: samplingFrom(o), nPredict: parseIntOption('--n-predict', o.nPredict, -1), notice: say });

    if (!interactive) {
      // pipes: one answer to stdin, like run
      const text = process.stdin.isTTY ? '' : await readStdin();
      if (!text.trim()) throw new FalconError('no input on stdin', ExitCode.USAGE);
      let interrupted = false;
      onInterrupt(() => {
        interrupted = true;
        ctx.cancel();
      });
      let out = '';
      for await (const ev of session.send(text)) if (ev.type === 'text') process.stdout.write((out = ev.text));
      if (!out.endsWith('\n')) process.stdout.write('\n');
      onInterrupt(null);
      ctx.free();
      if (interrupted) process.exitCode = ExitCode.INTERRUPTED;
      return;
    }

    let code = 0;
    onInterrupt(() => {}); // Ink's input handler owns Ctrl-C in raw mode
    const app = render(React.createElement(App, { session, modelName: info.name ?? path, backend: ctx.backend.startsWith('cuda') ? ctx.backend : `${ctx.backend} × ${ctx.nThreads}`, onExit: (c2: number) => (code = c2) }), {
      exitOnCtrlC: false,
      stdout: process.stdout,
      stdin: process.stdin,
    });
    await app.waitUntilExit();
    onInterrupt(null);
    ctx.free();
    process.exitCode = code;
  });
}

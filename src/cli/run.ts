import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { generate, type StopReason } from '../engine/generate.js';
import { loadModel } from '../engine/loaded-model.js';
import { ExitCode, FalconError, UsageError } from '../util/errors.js';
import { onInterrupt } from './interrupt.js';
import { parseIntOption } from './options.js';
import { addSamplingOptions, samplingFrom, type SamplingFlags } from './sampling-options.js';
import { resolveModelArg } from './model-arg.js';
import { readStdin } from '../util/stdin.js';
import { addDeviceOptions, deviceFrom, type DeviceFlags } from './device-options.js';

interface RunOptions extends SamplingFlags, DeviceFlags {
  prompt?: string;
  file?: string;
  system?: string;
  raw?: boolean;
  special?: boolean;
  nPredict: string;
  ctxSize: string;
  stop: string[];
  ignoreEos?: boolean;
  threads?: string;
  kvType: 'f16' | 'f32';
  truncate?: boolean;
  chatTemplate?: string;
  json?: boolean;
  stats?: boolean;
}

export function runCommand(): Command {
  const c = new Command('run')
    .description('answer one prompt (from -p, -f or piped stdin) and stream the reply to stdout')
    .argument('<model>', 'GGUF model file')
    .option('-p, --prompt <text>', 'the prompt (piped stdin is appended to it)')
    .option('-f, --file <file>', 'read the prompt from a file')
    .option('-s, --system <text>', 'system prompt (chat models)')
    .option('--raw', 'feed the text as is, without the chat template')
    .option('--special', 'with --raw: parse special-token text such as <|im_start|> into its id')
    .option('--chat-template <file>', 'use this Jinja chat template instead of the model\'s')
    .option('-n, --n-predict <n>', 'tokens to generate at most (-1 = until the end of the context)', '512')
    .option('-c, --ctx-size <n>', 'context size in tokens (default 4096, at most the model\'s)', '4096')
    .option('--stop <text>', 'stop when the output contains this text (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--ignore-eos', 'keep generating past end-of-turn tokens')
    .option('--truncate', 'drop the start of a prompt that does not fit the context, instead of failing')
    .option('-t, --threads <n>', 'threads (default: all cores)')
    .addOption(new Option('--kv-type <type>', 'KV cache type').choices(['f16', 'f32']).default('f16'))
    .option('--json', 'print one JSON object (text, token counts, timings, stop reason) instead of streaming')
    .option('--stats', 'print prompt and generation speed and time to first token on stderr');
  addSamplingOptions(c);
  addDeviceOptions(c);
  return c.action(async (modelArg: string, o: RunOptions) => {
    let prompt = o.prompt ?? '';
    if (o.file) prompt = (prompt ? prompt + '\n' : '') + readFileSync(o.file, 'utf8');
    if (!process.stdin.isTTY && !o.file) {
      const piped = await readStdin();
      if (piped.length) prompt = prompt ? `${prompt}\n${piped}` : piped;
    }
    if (!prompt) throw new UsageError('no prompt: give -p TEXT, -f FILE or pipe text on stdin');
    const nPredict = parseIntOption('--n-predict', o.nPredict, -1);
    const sampling = samplingFrom(o);
    const lm = await loadModel(await resolveModelArg(modelArg), { chatTemplate: o.chatTemplate ? readFileSync(o.chatTemplate, 'utf8') : undefined });
    const ctxSize = Math.min(parseIntOption('--ctx-size', o.ctxSize, 16), lm.info.contextLength || Infinity);

    let ids: number[];
    if (o.raw) {
      ids = lm.tokenizer.encode(prompt, { addSpecialTokens: true, parseSpecial: !!o.special });
    } else {
      const messages = [...(o.system ? [{ role: 'system', content: o.system }] : []), { role: 'user', content: prompt }];
      const text = lm.template.render(messages, { addGenerationPrompt: true, bosToken: lm.bosToken, eosToken: lm.eosToken });
      ids = lm.tokenizer.encode(text, { parseSpecial: true });
    }
    const reserve = nPredict < 0 ? 1 : Math.min(nPredict, ctxSize - 1);
    if (ids.length + reserve > ctxSize) {
      if (!o.truncate) {
        throw new FalconError(`the prompt has ${ids.length} tokens; with -n ${reserve} it needs a context of ${ids.length + reserve} (have ${ctxSize}; raise -c or pass --truncate)`, ExitCode.OUT_OF_CONTEXT);
      }
      ids = ids.slice(ids.length - (ctxSize - reserve));
      process.stderr.write(`warning: prompt truncated to its last ${ids.length} tokens\n`);
    }

    const ctx = lm.model.newContext({
      ctxSize,
      threads: o.threads ? parseIntOption('--threads', o.threads, 1, 1024) : cpus().length,
      kvType: o.kvType, ...deviceFrom(o),
    });
    let interrupted = false;
    onInterrupt(() => {
      if (interrupted) process.exit(ExitCode.INTERRUPTED); // second Ctrl-C: leave now
      interrupted = true;
      ctx.cancel();
    });
    let stop: StopReason = 'length';
    let out = '';
    let wroteNewline = true;
    const t0 = performance.now();
    let ttft = 0;
    let result: { nPrompt: number; nGen: number; promptMs: number; genMs: number } = { nPrompt: 0, nGen: 0, promptMs: 0, genMs: 0 };
    try {
      for await (const ev of generate(ctx, lm.tokenizer, ids, {
        nPredict,
        stopTokens: o.ignoreEos ? [] : lm.stopTokens,
        stopStrings: o.stop,
        sampling,
      })) {
        if (ev.type === 'text') {
          if (!ttft) ttft = performance.now() - t0;
          out += ev.text;
          if (!o.json) {
            process.stdout.write(ev.text);
            wroteNewline = ev.text.endsWith('\n');
          }
        } else {
          stop = ev.stop;
          result = ev;
        }
      }
    } finally {
      onInterrupt(null);
      ctx.free();
    }
    if (interrupted) stop = 'cancelled';
    if (o.json) {
      process.stdout.write(
        JSON.stringify({
          text: out,
          stop,
          tokens: { prompt: result.nPrompt, generated: result.nGen },
          timings: {
            prompt_ms: result.promptMs,
            generation_ms: result.genMs,
            time_to_first_token_ms: ttft,
            prompt_tokens_per_s: result.nPrompt / (result.promptMs / 1000),
            generation_tokens_per_s: result.nGen / (result.genMs / 1000),
          },
        }) + '\n',
      );
    } else if (!wroteNewline) process.stdout.write('\n');
    if (o.stats) {
      process.stderr.write(
        `prompt: ${result.nPrompt} tokens, ${(result.nPrompt / (result.promptMs / 1000)).toFixed(1)} t/s; ` +
          `generation: ${result.nGen} tokens, ${(result.nGen / (result.genMs / 1000)).toFixed(1)} t/s; ` +
          `time to first token ${ttft.toFixed(0)} ms; stop: ${stop}\n`,
      );
    }
    if (interrupted) process.exitCode = ExitCode.INTERRUPTED;
  });
}

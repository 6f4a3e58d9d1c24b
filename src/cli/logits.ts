import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { Model, type KvType } from '../engine/engine.js';
import { AtomicFile } from '../util/atomic-file.js';
import { UsageError } from '../util/errors.js';
import { parseIntOption } from './options.js';
import { addDeviceOptions, deviceFrom, type DeviceFlags } from './device-options.js';

function parseIds(text: string, what: string): number[] {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (!parts.length) throw new UsageError(`${what}: no token ids`);
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new UsageError(`${what}: '${p}' is not a token id`);
    return Number(p);
  });
}

interface LogitsOptions extends DeviceFlags {
  tokens?: string;
  tokensFile?: string;
  out?: string;
  last?: boolean;
  decode?: boolean;
  chunks?: string;
  threads?: string;
  kvType: KvType;
  ctxSize?: string;
  batchSize?: string;
  top: string;
  json?: boolean;
}

export function logitsCommand(): Command {
  return addDeviceOptions(
    new Command('logits')
    .description('evaluate token ids in one batch and write every position\'s logits (little-endian float32 rows); on a GPU the prefill matmuls keep f32-grade activations (FALCON_H1_CUDA_TC=split)')
    .argument('<model>', 'GGUF model file')
    .option('--tokens <ids>', 'comma-separated token ids, e.g. 1,2,3')
    .option('--tokens-file <file>', 'token ids separated by commas or whitespace')
    .option('--out <file>', 'write logits here as float32 rows [positions][vocab]; otherwise print the top entries')
    .option('--last', 'only the last position')
    .option('--decode', 'feed the tokens one at a time (recurrent form) instead of one batch')
    .option('--chunks <sizes>', 'feed the tokens in chunks of these sizes (the rest in one more), e.g. 7,50')
    .option('-t, --threads <n>', 'threads (default: all cores)')
    .addOption(new Option('--kv-type <type>', 'KV cache type').choices(['f32', 'f16']).default('f32'))
    .option('-c, --ctx-size <n>', 'context size (default: the number of tokens)')
    .option('-b, --batch-size <n>', 'tokens per internal step (default 512)')
    .option('--top <k>', 'entries per position to print without --out', '5')
    .option('--json', 'print the top entries as JSON'),
  )
    .action(async (modelPath: string, o: LogitsOptions) => {
      if (!!o.tokens === !!o.tokensFile) throw new UsageError('give exactly one of --tokens or --tokens-file');
      const ids = o.tokens ? parseIds(o.tokens, '--tokens') : parseIds(readFileSync(o.tokensFile!, 'utf8'), o.tokensFile!);
      const steps: number[] = [];
      if (o.decode) steps.push(...ids.map(() => 1));
      else if (o.chunks) {
        let left = ids.length;
        for (const s of parseIds(o.chunks, '--chunks')) {
          if (s <= 0 || left <= 0) continue;
          steps.push(Math.min(s, left));
          left -= Math.min(s, left);
        }
        if (left > 0) steps.push(left);
      } else steps.push(ids.length);

      // a research tool: CUDA prefill keeps f32-grade matmuls here (bf16 halves) unless told otherwise
      process.env.FALCON_H1_CUDA_TC ??= 'split';
      const model = await Model.load(modelPath);
      const V = model.info.nVocab;
      const ctx = model.newContext({
        ctxSize: o.ctxSize ? parseIntOption('--ctx-size', o.ctxSize, 1) : ids.length,
        batchSize: o.batchSize ? parseIntOption('--batch-size', o.batchSize, 1) : undefined,
        threads: o.threads ? parseIntOption('--threads', o.threads, 1, 1024) : undefined,
        kvType: o.kvType, ...deviceFrom(o),
      });
      const rows = o.last ? 1 : ids.length;
      const all = new Float32Array(rows * V);
      let pos = 0;
      for (const s of steps) {
        const lg = await ctx.decode(ids.slice(pos, pos + s), { allLogits: !o.last });
        if (o.last) {
          if (pos + s === ids.length) all.set(lg.subarray(lg.length - V));
        } else all.set(lg, pos * V);
        pos += s;
      }
      ctx.free();
      if (o.out) {
        const f = new AtomicFile(o.out);
        try {
          f.write(new Uint8Array(all.buffer));
          f.commit();
        } catch (e) {
          f.abort();
          throw e;
        }
        process.stderr.write(`wrote ${rows} × ${V} logits to ${o.out}\n`);
        return;
      }
      const k = parseIntOption('--top', o.top, 1, V);
      const report = [];
      for (let r = 0; r < rows; r++) {
        const row = all.subarray(r * V, (r + 1) * V);
        const idx = Array.from(row.keys()).sort((a, b) => row[b] - row[a]).slice(0, k);
        report.push({ position: o.last ? ids.length - 1 : r, top: idx.map((i) => ({ id: i, logit: row[i] })) });
      }
      if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
      else for (const r of report) process.stdout.write(`${r.position}\t${r.top.map((t) => `${t.id}:${t.logit.toFixed(5)}`).join('\t')}\n`);
    });
}

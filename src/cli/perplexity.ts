import { Command, Option } from 'commander';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { cpus } from 'node:os';
import { loadModel } from '../engine/loaded-model.js';
import { AtomicFile } from '../util/atomic-file.js';
import { BadFileError, UsageError } from '../util/errors.js';
import { parseIntOption } from './options.js';
import { addDeviceOptions, deviceFrom, type DeviceFlags } from './device-options.js';

// Like llama-perplexity: the text is cut into chunks of --ctx-size tokens, each evaluated from an
// empty state; the second half of every chunk is scored (the first half is context).
// --kl-divergence-base saves the reference model's logits of the scored positions;
// --kl-divergence compares another model against them (KL, top-1 agreement, Δ perplexity).

const MAGIC = 0x4c4b4846; // "FHKL"

interface Stats {
  nll: number[];
  kl: number[];
  top1: number;
  baseNll: number[];
}

function logSoftmax(row: Float32Array): Float64Array {
  let mx = -Infinity;
  for (const v of row) mx = v > mx ? v : mx;
  let sum = 0;
  for (const v of row) sum += Math.exp(v - mx);
  const lse = mx + Math.log(sum);
  const out = new Float64Array(row.length);
  for (let i = 0; i < row.length; i++) out[i] = row[i] - lse;
  return out;
}

function argmax(a: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
  return b;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export function perplexityCommand(): Command {
  return addDeviceOptions(
    new Command('perplexity')
    .description('perplexity of a model over a text; save or compare logits for KL divergence (quantization quality)')
    .argument('<model>', 'GGUF model file')
    .requiredOption('-f, --file <text>', 'text file to score')
    .option('-c, --ctx-size <n>', 'tokens per chunk (the second half of each chunk is scored)', '512')
    .option('--chunks <n>', 'score at most this many chunks')
    .option('--kl-divergence-base <file>', 'with --kl-divergence: the saved reference; alone: save this model\'s logits there')
    .option('--kl-divergence', 'compare against --kl-divergence-base (mean and 99th percentile KL, top-1 agreement, Δ perplexity)')
    .option('-t, --threads <n>', 'threads (default: all cores)')
    .addOption(new Option('--kv-type <type>', 'KV cache type').choices(['f16', 'f32']).default('f16'))
    .option('--json', 'print the results as JSON'),
  )
    .action(async (modelPath: string, o: { file: string; ctxSize: string; chunks?: string; klDivergenceBase?: string; klDivergence?: boolean; threads?: string; kvType: 'f16' | 'f32';
  json?: boolean } & DeviceFlags) => {
      if (o.klDivergence && !o.klDivergenceBase) throw new UsageError('--kl-divergence needs --kl-divergence-base FILE');
      const lm = await loadModel(modelPath);
      const V = lm.info.vocabSize;
      let ctxSize = parseIntOption('--ctx-size', o.ctxSize, 8);
      let tokens = lm.tokenizer.encode(readFileSync(o.file, 'utf8'), { addSpecialTokens: true });

      // comparing: the base file fixes the tokens and the chunking
      let base: { fd: number; offset: number } | undefined;
      if (o.klDivergence) {
        const fd = openSync(o.klDivergenceBase!, 'r');
        const head = Buffer.alloc(16);
        readSync(fd, head, 0, 16, 0);
        if (head.readUInt32LE(0) !== MAGIC) throw new BadFileError(o.klDivergenceBase!, 'not a falcon-h1 KL-divergence base file');
        if (head.readUInt32LE(4) !== V) throw new BadFileError(o.klDivergenceBase!, `saved for a vocabulary of ${head.readUInt32LE(4)}, this model has ${V}`);
        ctxSize = head.readUInt32LE(8);
        const n = head.readUInt32LE(12);
        const tb = Buffer.alloc(n * 4);
        readSync(fd, tb, 0, n * 4, 16);
        tokens = Array.from(new Int32Array(tb.buffer, tb.byteOffset, n));
        base = { fd, offset: 16 + n * 4 };
      }
      let nChunks = Math.floor(tokens.length / ctxSize);
      if (o.chunks) nChunks = Math.min(nChunks, parseIntOption('--chunks', o.chunks, 1));
      if (nChunks < 1) throw new UsageError(`the text has ${tokens.length} tokens, fewer than one chunk of ${ctxSize}`);
      tokens = tokens.slice(0, nChunks * ctxSize);

      let save: AtomicFile | undefined;
      if (o.klDivergenceBase && !o.klDivergence) {
        save = new AtomicFile(o.klDivergenceBase);
        const head = Buffer.alloc(16);
        head.writeUInt32LE(MAGIC, 0);
        head.writeUInt32LE(V, 4);
        head.writeUInt32LE(ctxSize, 8);
        head.writeUInt32LE(tokens.length, 12);
        save.write(head);
        save.write(new Uint8Array(Int32Array.from(tokens).buffer));
      }
      const ctx = lm.model.newContext({ ctxSize, threads: o.threads ? parseIntOption('--threads', o.threads, 1) : cpus().length, kvType: o.kvType, ...deviceFrom(o) });
      const st: Stats = { nll: [], kl: [], top1: 0, baseNll: [] };
      const first = Math.floor(ctxSize / 2);
      const baseRow = new Float32Array(V);
      try {
        for (let c = 0; c < nChunks; c++) {
          const chunk = tokens.slice(c * ctxSize, (c + 1) * ctxSize);
          ctx.reset();
          const logits = await ctx.decode(chunk, { allLogits: true });
          for (let i = first; i < ctxSize - 1; i++) {
            const row = logits.subarray(i * V, (i + 1) * V);
            const lp = logSoftmax(row);
            st.nll.push(-lp[chunk[i + 1]]);
            if (save) save.write(new Uint8Array(row.buffer.slice(row.byteOffset, row.byteOffset + V * 4)));
            if (base) {
              readSync(base.fd, new Uint8Array(baseRow.buffer), 0, V * 4, base.offset);
              base.offset += V * 4;
              const blp = logSoftmax(baseRow);
              let kl = 0;
              for (let v = 0; v < V; v++) kl += Math.exp(blp[v]) * (blp[v] - lp[v]);
              st.kl.push(Math.max(0, kl));
              st.baseNll.push(-blp[chunk[i + 1]]);
              if (argmax(blp) === argmax(lp)) st.top1++;
            }
          }
          if (!o.json) process.stderr.write(`[${c + 1}/${nChunks}] ppl ${Math.exp(st.nll.reduce((a, b) => a + b, 0) / st.nll.length).toFixed(4)}\n`);
        }
        save?.commit();
      } catch (e) {
        save?.abort();
        throw e;
      } finally {
        ctx.free();
        if (base) closeSync(base.fd);
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const ppl = Math.exp(mean(st.nll));
      const result: Record<string, number> = { chunks: nChunks, ctx_size: ctxSize, scored_tokens: st.nll.length, perplexity: ppl };
      if (base) {
        const basePpl = Math.exp(mean(st.baseNll));
        Object.assign(result, {
          base_perplexity: basePpl,
          delta_perplexity: ppl - basePpl,
          kl_mean: mean(st.kl),
          kl_p99: percentile(st.kl, 99),
          kl_max: Math.max(...st.kl),
          top1_agreement: st.top1 / st.kl.length,
        });
      }
      if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
      else for (const [k, v] of Object.entries(result)) process.stdout.write(`${k.padEnd(18)} ${Number.isInteger(v) ? v : v.toPrecision(6)}\n`);
    });
}

import { Command, Option } from 'commander';
import { cpus, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Model } from '../engine/engine.js';
import { SHAPES } from '../bench/shapes.js';
import { SYNTHETIC_TYPE_NAMES, writeSyntheticModelOfType } from '../bench/synthetic.js';
import { ggmlTypeName } from '../gguf/types.js';
import { UsageError } from '../util/errors.js';
import { formatBytes } from '../util/progress.js';
import { parseIntOption } from './options.js';
import { addDeviceOptions, deviceFrom, type DeviceFlags } from './device-options.js';

// One row per (test, threads, depth), with llama-bench's JSON field names so its scripts read ours.
export interface BenchRow {
  model_filename: string;
  model_type: string;
  model_size: number;
  model_n_params: number;
  backends: string;
  cpu_info: string;
  simd: string;
  n_threads: number;
  n_batch: number;
  type_k: string;
  n_prompt: number;
  n_gen: number;
  n_depth: number;
  test_time: string;
  avg_ns: number;
  stddev_ns: number;
  avg_ts: number;
  stddev_ts: number;
  samples_ns: number[];
  samples_ts: number[];
}

function list(v: string, name: string): number[] {
  return v.split(',').map((x) => parseIntOption(name, x, 0));
}

function stats(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

function randomTokens(n: number, vocab: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s % vocab;
  }
  return out;
}

function sizeLabel(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : `${Math.round(n / 1e6)}M`;
}

interface BenchOptions extends DeviceFlags {
  nPrompt: string;
  nGen: string;
  nDepth: string;
  threads: string;
  repetitions: string;
  output: 'md' | 'json' | 'csv';
  synthetic?: string;
  type: string;
  batchSize: string;
  kvType: 'f16' | 'f32';
  keep?: string;
}

export function benchCommand(): Command {
  return addDeviceOptions(
    new Command('bench')
    .description('measure prompt processing (pp) and generation (tg) speed, like llama-bench')
    .argument('[model]', 'GGUF model file (or use --synthetic)')
    .option('-p, --n-prompt <list>', 'prompt lengths, comma-separated', '512')
    .option('-n, --n-gen <list>', 'generated token counts', '128')
    .option('-d, --n-depth <list>', 'context depths (tokens already in the context)', '0')
    .option('-t, --threads <list>', 'thread counts', String(Math.max(1, cpus().length)))
    .option('-r, --repetitions <n>', 'repetitions per test', '5')
    .option('-b, --batch-size <n>', 'tokens per internal step', '512')
    .addOption(new Option('--kv-type <type>', 'KV cache type').choices(['f16', 'f32']).default('f16'))
    .addOption(new Option('-o, --output <fmt>', 'output format').choices(['md', 'json', 'csv']).default('md'))
    .addOption(new Option('--synthetic <size>', 'benchmark a random-weight model of a released shape').choices(Object.keys(SHAPES)))
    .addOption(new Option('--type <type>', 'weight type of the synthetic model (a quantize type: written as bf16, then quantized)').choices(SYNTHETIC_TYPE_NAMES).default('bf16'))
    .option('--keep <file>', 'keep the synthetic model at this path instead of deleting it'),
  )
    .action(async (modelArg: string | undefined, o: BenchOptions) => {
      if (!!modelArg === !!o.synthetic) throw new UsageError('give a model file or --synthetic SIZE (not both)');
      let path = modelArg!;
      let cleanup: string | undefined;
      if (o.synthetic) {
        const dir = o.keep ? undefined : mkdtempSync(join(tmpdir(), 'falcon-h1-bench-'));
        path = o.keep ?? join(dir!, `synthetic-${o.synthetic}-${o.type}.gguf`);
        cleanup = dir;
        process.stderr.write(`writing a random-weight ${o.synthetic} ${o.type} model to ${path}\n`);
        await writeSyntheticModelOfType(SHAPES[o.synthetic], o.type, path);
      }
      try {
        const rows = await runBench(path, o);
        process.stdout.write(format(rows, o.output));
      } finally {
        if (cleanup) rmSync(cleanup, { recursive: true, force: true });
      }
    });
}

async function runBench(path: string, o: BenchOptions): Promise<BenchRow[]> {
  const prompts = list(o.nPrompt, '--n-prompt').filter((x) => x > 0);
  const gens = list(o.nGen, '--n-gen').filter((x) => x > 0);
  const depths = list(o.nDepth, '--n-depth');
  const threads = list(o.threads, '--threads').filter((x) => x > 0);
  const reps = parseIntOption('--repetitions', o.repetitions, 1);
  const batch = parseIntOption('--batch-size', o.batchSize, 1);
  const model = await Model.load(path);
  const info = model.info;
  const size = statSync(path).size;
  const rows: BenchRow[] = [];
  const modelType = `falcon-h1 ${sizeLabel(info.nParams)} ${ggmlTypeName(info.weightType)}`;
  const maxLen = Math.max(...depths) + Math.max(0, ...prompts, ...gens) + 1;
  for (const nt of threads) {
    const ctx = model.newContext({ ctxSize: maxLen, batchSize: batch, threads: nt, kvType: o.kvType, ...deviceFrom(o) });
    for (const depth of depths) {
      const tests: [number, number][] = [...prompts.map((p) => [p, 0] as [number, number]), ...gens.map((g) => [0, g] as [number, number])];
      for (const [np, ng] of tests) {
        const depthTokens = randomTokens(depth, info.nVocab, 7);
        const tokens = randomTokens(np || ng, info.nVocab, 11);
        const samples: number[] = [];
        for (let r = -1; r < reps; r++) {
          ctx.reset();
          if (depth) await ctx.decode(depthTokens);
          const t0 = process.hrtime.bigint();
          if (np) await ctx.decode(tokens);
          else await ctx.decodeSequential(tokens);
          const ns = Number(process.hrtime.bigint() - t0);
          if (r >= 0) samples.push(ns); // r = -1 is the warm-up
        }
        const ts = samples.map((ns) => ((np || ng) * 1e9) / ns);
        const s = stats(samples);
        const t = stats(ts);
        const row: BenchRow = {
          model_filename: path,
          model_type: modelType,
          model_size: size,
          model_n_params: info.nParams,
          backends: ctx.backend.startsWith('cuda') ? 'CUDA' : 'CPU',
          cpu_info: cpus()[0]?.model ?? 'unknown',
          // the SIMD level, and the bf16 rounding of the prefill's activations where it applies
          simd: ctx.backend.startsWith('cuda') ? ctx.backend : ctx.backend.replace(/^cpu /, ''),
          n_threads: ctx.nThreads,
          n_batch: batch,
          type_k: o.kvType,
          n_prompt: np,
          n_gen: ng,
          n_depth: depth,
          test_time: new Date().toISOString(),
          avg_ns: Math.round(s.mean),
          stddev_ns: Math.round(s.sd),
          avg_ts: t.mean,
          stddev_ts: t.sd,
          samples_ns: samples,
          samples_ts: ts,
        };
        rows.push(row);
        if (o.output === 'md') process.stderr.write(`  ${testName(row)} t=${row.n_threads}: ${t.mean.toFixed(2)} t/s\n`);
      }
    }
    ctx.free();
  }
  model.free();
  return rows;
}

function testName(r: BenchRow): string {
  return `${r.n_prompt ? `pp${r.n_prompt}` : `tg${r.n_gen}`}${r.n_depth ? ` @ d${r.n_depth}` : ''}`;
}

function format(rows: BenchRow[], fmt: 'md' | 'json' | 'csv'): string {
  if (fmt === 'json') return JSON.stringify(rows, null, 2) + '\n';
  if (fmt === 'csv') {
    const cols = ['model_filename', 'model_type', 'model_size', 'model_n_params', 'backends', 'n_threads', 'n_prompt', 'n_gen', 'n_depth', 'avg_ns', 'stddev_ns', 'avg_ts', 'stddev_ts'] as const;
    return [cols.join(','), ...rows.map((r) => cols.map((c) => JSON.stringify(r[c])).join(','))].join('\n') + '\n';
  }
  const lines = ['| model | size | params | backend | threads | test | t/s |', '| --- | ---: | ---: | --- | ---: | ---: | ---: |'];
  for (const r of rows) {
    lines.push(
      `| ${r.model_type} | ${formatBytes(r.model_size)} | ${(r.model_n_params / 1e6).toFixed(2)} M | ${r.backends} (${r.simd}) | ${r.n_threads} | ${testName(r)} | ${r.avg_ts.toFixed(2)} ± ${r.stddev_ts.toFixed(2)} |`,
    );
  }
  return lines.join('\n') + `\n\nmodel: ${basename(rows[0]?.model_filename ?? '')}\n`;
}

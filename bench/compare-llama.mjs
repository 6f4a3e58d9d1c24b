#!/usr/bin/env node
// Side-by-side speed against llama.cpp on the same GGUF files, alternating the two programs.
//   node bench/compare-llama.mjs --llama-bench /path/to/llama-bench [--reps 3] [--threads 1,2]
//        [--tests pp512,tg128] [--depth 0] [--read-bw /path/to/read-bw] model.gguf [model2.gguf ...]
// Prints one markdown table with tokens/s of both and their ratio. Needs `npm run build` first.
// With --read-bw (bench/read-bw.c, built), tg rows also give the bytes a decode step reads
// (decode-bytes.mjs) and each engine's share of the bandwidth read-bw measures, at the same thread
// count, just before the pair runs.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeBytes } from './decode-bytes.mjs';
import { takeOption } from './take-option.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => takeOption(args, name, def);
const llama = opt('--llama-bench');
const reps = opt('--reps', '3');
const threads = opt('--threads', '1,2');
const tests = opt('--tests', 'pp512,tg128').split(',');
const depth = opt('--depth', '0');
const readBw = opt('--read-bw');
if (!llama || !args.length) {
  console.error('usage: compare-llama.mjs --llama-bench PATH [--reps N] [--threads 1,2] [--tests pp512,tg128] [--depth D] [--read-bw PATH] model.gguf ...');
  process.exit(2);
}
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'falcon-h1.js');
const flags = (t) => (t.startsWith('pp') ? ['-p', t.slice(2), '-n', '0'] : ['-p', '0', '-n', t.slice(2)]);
const run = (cmd, a) => {
  const r = spawnSync(cmd, a, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${a.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
};
// streaming read GB/s with th threads, from read-bw's "N threads: X GB/s streaming read"
const bandwidth = (th) => {
  const r = spawnSync(readBw, [th], { encoding: 'utf8' });
  const m = /([\d.]+) GB\/s/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) throw new Error(`${readBw} ${th} failed:\n${r.stderr}`);
  return Number(m[1]);
};
const roofCols = readBw ? ' MB read per token | GB/s (read-bw) | falcon-h1 % of roofline | llama.cpp % of roofline |' : '';
console.log(`| model | test | threads | falcon-h1 t/s | llama.cpp t/s | ratio |${roofCols}`);
console.log(`| --- | --- | ---: | ---: | ---: | ---: |${readBw ? ' ---: | ---: | ---: | ---: |' : ''}`);
for (const model of args) {
  for (const t of tests) {
    for (const th of threads.split(',')) {
      const common = [...flags(t), '-t', th, '-r', reps, '-d', depth];
      const gbs = readBw && t.startsWith('tg') ? bandwidth(th) : 0;
      // alternate: ours, theirs (memory bandwidth on this machine drifts over minutes)
      const ours = run(process.execPath, [bin, 'bench', model, ...common, '-o', 'json']);
      const theirs = run(llama, ['-m', model, ...common, '-o', 'json']);
      const a = ours.find((x) => (t.startsWith('pp') ? x.n_prompt > 0 : x.n_gen > 0)).avg_ts;
      const b = theirs.find((x) => (t.startsWith('pp') ? x.n_prompt > 0 : x.n_gen > 0)).avg_ts;
      let roof = readBw ? ' – | – | – | – |' : '';
      if (gbs) {
        const bytes = decodeBytes(model, Number(depth), Number(t.slice(2))).total;
        const pct = (ts) => `${((100 * ts * bytes) / (gbs * 1e9)).toFixed(0)}%`;
        roof = ` ${(bytes / 1e6).toFixed(1)} | ${gbs.toFixed(1)} | ${pct(a)} | ${pct(b)} |`;
      }
      console.log(`| ${model.split('/').pop()} | ${t}${depth !== '0' ? ` @ d${depth}` : ''} | ${th} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a / b).toFixed(2)}× |${roof}`);
    }
  }
}

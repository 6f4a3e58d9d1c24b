#!/usr/bin/env node
// Model load time, time to first token for an N-token prompt, and peak RSS of one falcon-h1 process.
//   node bench/load-ttft.mjs model.gguf [--prompt 2048] [--threads 2]
// Load = mmap + validation of every tensor + context creation (what `run` does before its first
// decode); TTFT = evaluating the prompt in one batch plus choosing the first token. Drop the page
// cache first (`sync; echo 3 > /proc/sys/vm/drop_caches`) for a cold load. Needs `npm run build`.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { takeOption } from './take-option.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => takeOption(args, name, def);
const nPrompt = Number(opt('--prompt', '2048'));
const threads = Number(opt('--threads', '2'));
if (args.length !== 1 || !(nPrompt > 0) || !(threads > 0)) {
  console.error('usage: load-ttft.mjs model.gguf [--prompt N] [--threads N]');
  process.exit(2);
}
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const { Model } = await import(pathToFileURL(join(dist, 'engine', 'engine.js')).href);

const t0 = performance.now();
const model = await Model.load(args[0]);
const ctx = model.newContext({ ctxSize: nPrompt + 16, batchSize: 512, threads, kvType: 'f16', device: 'cpu' });
const loadMs = performance.now() - t0;

// deterministic pseudo-random prompt ids
let s = 12345;
const ids = Array.from({ length: nPrompt }, () => ((s = (s * 1103515245 + 12345) >>> 0) % model.info.nVocab));
const t1 = performance.now();
const logits = await ctx.decode(ids);
let best = 0;
for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
const ttftMs = performance.now() - t1;
const maxRssMb = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ model: args[0], n_prompt: nPrompt, n_threads: threads, load_ms: +loadMs.toFixed(1), ttft_ms: +ttftMs.toFixed(1), first_token: best, peak_rss_mb: +maxRssMb.toFixed(0) }));

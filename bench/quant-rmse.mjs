#!/usr/bin/env node
// Round-trip RMSE of every block type, ours next to llama-quantize's, on real-shaped tensors.
//   node bench/quant-rmse.mjs --llama-quantize PATH model-bf16.gguf
// Makes a heavy-tailed copy of the model (99% N(0, 0.02²), 1% N(0, 0.3²) in every matrix), then
// quantizes both files to each type with `--pure` by both tools and reports, for four tensors of
// the real shape, sqrt(mean((dequantized − source)²)) and whether the two tools wrote the same bytes.
// Needs `npm run build` first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { takeOption } from './take-option.mjs';
import { readGGUF } from '../dist/gguf/reader.js';
import { writeGGUF } from '../dist/gguf/writer.js';
import { GGMLType } from '../dist/gguf/types.js';
import { isQuantizable } from '../dist/quantize/recipes.js';
import { FileCursor } from '../dist/util/file-cursor.js';
import { addon } from '../dist/engine/native.js';

const args = process.argv.slice(2);
const llama = takeOption(args, '--llama-quantize');
if (!llama || args.length !== 1) {
  console.error('usage: quant-rmse.mjs --llama-quantize PATH model-bf16.gguf');
  process.exit(2);
}
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'falcon-h1.js');
const dir = mkdtempSync(join(tmpdir(), 'fh1-rmse-'));
const TENSORS = ['blk.0.ffn_up.weight', 'blk.0.ffn_down.weight', 'blk.0.ssm_in.weight', 'output.weight'];
// ours, and llama-quantize's name for the same pure type
const TYPES = [['Q4_0', 'Q4_0'], ['Q4_1', 'Q4_1'], ['Q5_0', 'Q5_0'], ['Q5_1', 'Q5_1'], ['Q8_0', 'Q8_0'], ['Q2_K', 'Q2_K'], ['Q3_K_M', 'Q3_K_M'], ['Q4_K_M', 'Q4_K_M'], ['Q5_K_M', 'Q5_K_M'], ['Q6_K', 'Q6_K']];

let seed = 1;
const uniform = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
const normal = () => Math.sqrt(-2 * Math.log(uniform() + 1e-300)) * Math.cos(2 * Math.PI * uniform());

async function heavyTailedCopy(src, dst) {
  const f = readGGUF(src);
  const c = new FileCursor(src);
  await writeGGUF(dst, f.entries.filter((e) => e.key !== 'general.alignment'), f.tensors.map((t) => ({ name: t.name, ne: t.ne, type: t.type })), (i) => {
    const t = f.tensors[i];
    if (!isQuantizable(t.name, t.ne) || t.type !== GGMLType.BF16) return c.readAt(t.offset, t.byteSize);
    const n = t.byteSize / 2, out = new Uint16Array(n), f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
    for (let k = 0; k < n; k++) {
      f32[0] = normal() * (uniform() < 0.01 ? 0.3 : 0.02);
      out[k] = (u32[0] + 0x7fff + ((u32[0] >> 16) & 1)) >>> 16; // round to nearest even bf16
    }
    return new Uint8Array(out.buffer);
  });
  c.close();
}

function tensorData(path) {
  const f = readGGUF(path), c = new FileCursor(path), m = new Map();
  for (const t of f.tensors) if (TENSORS.includes(t.name)) m.set(t.name, { type: t.type, n: t.ne[0] * t.ne[1], bytes: c.readAt(t.offset, t.byteSize) });
  c.close();
  return m;
}
const rmse = (q, s) => {
  const a = addon().dequantize(q.type, q.bytes, q.n), b = addon().dequantize(s.type, s.bytes, s.n);
  let e = 0;
  for (let i = 0; i < a.length; i++) e += (a[i] - b[i]) ** 2;
  return Math.sqrt(e / a.length);
};
const run = (cmd, a) => {
  const r = spawnSync(cmd, a, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${a.join(' ')} failed:\n${r.stderr}`);
};

const heavy = join(dir, 'heavy.gguf');
await heavyTailedCopy(args[0], heavy);
console.log('| source | type | tensor | shape | falcon-h1 RMSE | llama-quantize RMSE | same bytes |');
console.log('| --- | --- | --- | --- | ---: | ---: | --- |');
try {
  for (const [label, src] of [['random', args[0]], ['heavy-tailed', heavy]]) {
    const s = tensorData(src);
    for (const [ours, theirs] of TYPES) {
      const a = join(dir, 'ours.gguf'), b = join(dir, 'theirs.gguf');
      run(process.execPath, [bin, 'quantize', src, a, ours, '--pure', '-q']);
      run(llama, ['--pure', src, b, theirs, '2']);
      const qa = tensorData(a), qb = tensorData(b);
      for (const name of TENSORS) {
        const x = qa.get(name), y = qb.get(name), t = readGGUF(a).tensors.find((v) => v.name === name);
        const same = Buffer.compare(Buffer.from(x.bytes), Buffer.from(y.bytes)) === 0;
        console.log(`| ${label} | ${ours} | ${name} | ${t.ne.join('×')} | ${rmse(x, s.get(name)).toExponential(4)} | ${rmse(y, s.get(name)).toExponential(4)} | ${same ? 'yes' : 'NO'} |`);
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

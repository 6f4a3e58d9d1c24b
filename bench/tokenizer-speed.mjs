// Encode ~1 MB of multilingual text with a fixture tokenizer and report MB/s and tokens/s.
//   node bench/tokenizer-speed.mjs [tokenizer.json] [MB]
import { readFileSync } from 'node:fs';
import { Tokenizer } from '../dist/tokenizer/tokenizer.js';

const path = process.argv[2] ?? '../shared/fixtures/tokenizers/bpe-llama3/tokenizer.json';
const mb = Number(process.argv[3] ?? 1);
const ref = JSON.parse(readFileSync(path.replace('tokenizer.json', 'reference.json'), 'utf8'));
const sample = ref.encode.map((e) => e.text).join('\n');
let text = '';
let i = 0;
while (Buffer.byteLength(text) < mb * 1e6) text += sample.replace(/\d/g, String(i++ % 10)) + '\n';
const tok = Tokenizer.fromJson(readFileSync(path, 'utf8'));
tok.encode(text.slice(0, 10000));
const t0 = process.hrtime.bigint();
const ids = tok.encode(text);
const s = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB → ${ids.length} tokens in ${s.toFixed(3)} s: ${(Buffer.byteLength(text) / 1e6 / s).toFixed(2)} MB/s, ${Math.round(ids.length / s)} tokens/s`);

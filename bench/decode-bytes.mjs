// Bytes one decode step reads from memory, for the bandwidth roofline of tg tests: every weight
// tensor once, except the token-embedding table when the head has its own matrix (then only one
// row of it is read), plus the conv and SSM states (read, and written back) and the KV cache
// rows attention reads, on average, over n generated tokens after `depth` (f16 cache).
// Needs `npm run build` first (reads the GGUF with the project's parser).
import { readGGUF } from '../dist/gguf/reader.js';
import { contextMemory, modelInfo } from '../dist/gguf/model-info.js';
import { Tensors } from '../dist/gguf/schema.js';

export function decodeBytes(path, depth = 0, nGen = 128) {
  const f = readGGUF(path);
  const m = modelInfo(f);
  const embd = f.tensors.find((t) => t.name === Tensors.tokenEmbd);
  const tied = !f.tensors.some((t) => t.name === Tensors.output);
  const weights = m.weightBytes - (embd && !tied ? embd.byteSize - embd.byteSize / embd.ne[1] : 0);
  const mem = contextMemory(m, 1, 'f16');
  const kvRowBytes = 2 * m.numLayers * m.numKvHeads * m.headDim * 2; // K and V of one position, all layers
  const kv = kvRowBytes * (depth + nGen / 2);
  return { weights, state: mem.convState + mem.ssmState, kv, total: weights + mem.convState + mem.ssmState + kv };
}

if (process.argv[1] && process.argv[1].endsWith('decode-bytes.mjs')) {
  const [path, depth = '0', n = '128'] = process.argv.slice(2);
  if (!path) {
    console.error('usage: decode-bytes.mjs model.gguf [depth] [n_gen]');
    process.exit(2);
  }
  const b = decodeBytes(path, Number(depth), Number(n));
  const mb = (x) => (x / 1e6).toFixed(1);
  console.log(`weights ${mb(b.weights)} MB + conv/SSM state ${mb(b.state)} MB + KV ${mb(b.kv)} MB = ${mb(b.total)} MB read per token`);
}

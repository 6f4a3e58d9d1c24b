import { Command } from 'commander';
import { contextMemory, modelInfo } from '../gguf/model-info.js';
import { readGGUF, type GGUFEntry } from '../gguf/reader.js';
import { Keys } from '../gguf/schema.js';
import { GGUFValueType, ggmlTypeName } from '../gguf/types.js';
import { formatBytes } from '../util/progress.js';
import { parseIntOption } from './options.js';

function showValue(e: GGUFEntry): string {
  if (e.type === GGUFValueType.ARRAY) {
    const v = e.value as unknown[];
    const head = v.slice(0, 6).map((x) => JSON.stringify(typeof x === 'bigint' ? x.toString() : x));
    return `[${head.join(', ')}${v.length > 6 ? `, … ${v.length} items` : ''}] (${GGUFValueType[e.elementType!]} array)`;
  }
  if (typeof e.value === 'string') {
    const s = e.value.length > 80 ? `${e.value.slice(0, 77)}…` : e.value;
    return `${JSON.stringify(s)}${e.value.length > 80 ? ` (${e.value.length} chars)` : ''}`;
  }
  return `${String(e.value)} (${GGUFValueType[e.type]})`;
}

function jsonValue(e: GGUFEntry): unknown {
  const conv = (x: unknown) => (typeof x === 'bigint' ? x.toString() : x);
  if (e.type === GGUFValueType.ARRAY) {
    const v = e.value as unknown[];
    // Long token lists would drown the output; give their length and a head.
    return v.length > 64 ? { type: GGUFValueType[e.elementType!], length: v.length, head: v.slice(0, 16).map(conv) } : v.map(conv);
  }
  if (e.key === Keys.hfTokenizerJson) return { type: 'STRING', length: (e.value as string).length };
  return conv(e.value);
}

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('show a GGUF file: metadata, tensors, parameter count and the memory a context needs')
    .argument('<file>', 'GGUF file')
    .option('-c, --ctx-size <n>', 'context length for the memory estimate (default: the model\'s training context)')
    .option('--kv-type <type>', 'KV cache type for the memory estimate: f16 or f32', 'f16')
    .option('--json', 'print JSON on stdout')
    .action((file: string, o: { ctxSize?: string; kvType: string; json?: boolean }) => {
      const f = readGGUF(file);
      const info = modelInfo(f);
      const ctx = o.ctxSize === undefined ? info.contextLength : parseIntOption('--ctx-size', o.ctxSize, 1);
      const mem = contextMemory(info, ctx, o.kvType === 'f32' ? 'f32' : 'f16');
      if (o.json) {
        const out = {
          file,
          version: f.version,
          alignment: f.alignment,
          model: info,
          memory: mem,
          metadata: Object.fromEntries(f.entries.map((e) => [e.key, jsonValue(e)])),
          tensors: f.tensors.map((t) => ({ name: t.name, type: ggmlTypeName(t.type), shape: t.ne, bytes: t.byteSize, offset: t.offset })),
        };
        process.stdout.write(JSON.stringify(out, null, 2) + '\n');
        return;
      }
      const w = (s = '') => process.stdout.write(s + '\n');
      w(`${file}: GGUF v${f.version}, ${f.entries.length} metadata keys, ${f.tensors.length} tensors, ${info.layout} layout`);
      w(`model: ${info.name ?? '?'}  ${(info.nParams / 1e6).toFixed(2)} M parameters  file type ${info.fileType ?? '?'}  ${formatBytes(info.weightBytes)} of weights`);
      w(`shape: D=${info.hiddenSize} layers=${info.numLayers} heads=${info.numHeads}/${info.numKvHeads}×${info.headDim} ffn=${info.feedForward} vocab=${info.vocabSize}`);
      w(`mamba: E=${info.dSsm} heads=${info.ssmHeads} state=${info.dState} groups=${info.nGroups} conv=${info.dConv} rms_norm=${info.ssmRmsNorm} norm_before_gate=${info.normBeforeGate}`);
      w(`rope base ${info.ropeTheta}, rms eps ${info.rmsEps}, trained context ${info.contextLength}`);
      w();
      w(`memory for --ctx-size ${ctx} (KV ${mem.kvType}): weights ${formatBytes(mem.weights)} + KV cache ${formatBytes(mem.kvCache)} + conv state ${formatBytes(mem.convState)} + SSM state ${formatBytes(mem.ssmState)} = ${formatBytes(mem.total)}`);
      w();
      w('metadata:');
      for (const e of f.entries) w(`  ${e.key} = ${showValue(e)}`);
      w();
      w('tensors:');
      const nameW = Math.max(...f.tensors.map((t) => t.name.length));
      for (const t of f.tensors) w(`  ${t.name.padEnd(nameW)}  ${ggmlTypeName(t.type).padEnd(5)}  [${t.ne.join(', ')}]  ${formatBytes(t.byteSize)}`);
    });
}

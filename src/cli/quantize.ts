import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { quantizeFile } from '../quantize/quantize.js';
import { MIXES } from '../quantize/recipes.js';
import { ggmlTypeByName } from '../gguf/types.js';
import { UsageError } from '../util/errors.js';
import { createProgress, formatBytes } from '../util/progress.js';
import { parseIntOption } from './options.js';

function typeId(flag: string, v: string): number {
  const t = ggmlTypeByName(v);
  if (!t || !t.supported || t.name === 'Q8_K') throw new UsageError(`${flag}: unknown or unsupported type '${v}'`);
  return t.id;
}

export function quantizeCommand(): Command {
  return new Command('quantize')
    .description('quantize a GGUF model to a llama.cpp-compatible type or mix (Q4_K_M, Q8_0, …)')
    .argument('<input>', 'input GGUF (F32, F16 or BF16; quantized inputs need --allow-requantize)')
    .argument('<output>', 'output GGUF')
    .argument('<type>', `one of ${Object.keys(MIXES).join(', ')} (Q3_K, Q4_K, Q5_K = the _M mixes)`)
    .option('--tensor-type <regex=type>', 'force a type for tensors matching a regex (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--output-type <type>', 'type of the output (head) tensor')
    .option('--embedding-type <type>', 'type of token_embd.weight')
    .option('--pure', 'one type for every quantizable tensor (no per-tensor mix)')
    .option('--allow-requantize', 'allow inputs that are already quantized')
    .option('-t, --threads <n>', 'threads (default: all cores)')
    .option('--json', 'print a JSON summary on stdout')
    .option('-q, --quiet', 'no progress output')
    .action(async (input: string, output: string, type: string, o: { tensorType: string[]; outputType?: string; embeddingType?: string; pure?: boolean; allowRequantize?: boolean; threads?: string; json?: boolean; quiet?: boolean }) => {
      if (resolve(input) === resolve(output)) throw new UsageError('output must differ from input');
      if (!existsSync(input)) throw new UsageError(`${input}: no such file`);
      const overrides = o.tensorType.map((spec): [RegExp, number] => {
        const i = spec.lastIndexOf('=');
        if (i <= 0) throw new UsageError(`--tensor-type expects REGEX=TYPE (got '${spec}')`);
        let re: RegExp;
        try {
          re = new RegExp(spec.slice(0, i));
        } catch {
          throw new UsageError(`--tensor-type: bad regex '${spec.slice(0, i)}'`);
        }
        return [re, typeId('--tensor-type', spec.slice(i + 1))];
      });
      const bar = createProgress('quantize', 1, o.quiet);
      const t0 = Date.now();
      const r = await quantizeFile(input, output, type, {
        tensorTypes: overrides,
        outputType: o.outputType ? typeId('--output-type', o.outputType) : undefined,
        embeddingType: o.embeddingType ? typeId('--embedding-type', o.embeddingType) : undefined,
        pure: o.pure,
        allowRequantize: o.allowRequantize,
        threads: o.threads ? parseIntOption('--threads', o.threads, 1, 1024) : undefined,
        onProgress: (d, n, name) => {
          bar.setTotal(n);
          bar.update(d, name);
        },
        onNote: (m) => process.stderr.write(`note: ${m}\n`),
      }).finally(() => bar.stop());
      const secs = (Date.now() - t0) / 1000;
      if (o.json) process.stdout.write(JSON.stringify({ ...r, seconds: secs }) + '\n');
      else {
        process.stdout.write(`${r.path}\n`);
        if (!o.quiet) {
          const mix = Object.entries(r.types).map(([k, v]) => `${k}×${v}`).join(' ');
          process.stderr.write(`${r.mix}: ${formatBytes(r.inputBytes)} → ${formatBytes(r.outputBytes)} in ${secs.toFixed(1)} s (${mix})\n`);
        }
      }
    });
}

import { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { convertCheckpoint, type OutType } from '../convert/convert.js';
import { createProgress } from '../util/progress.js';
import { UsageError } from '../util/errors.js';

export function convertCommand(): Command {
  return new Command('convert')
    .description('convert a Hugging Face Falcon-H1 checkpoint directory into one GGUF file (llama.cpp falcon-h1 schema)')
    .argument('<hf-dir>', 'directory with config.json, *.safetensors and tokenizer files')
    .option('-o, --output <file>', 'output GGUF path (default: <dir-name>-<outtype>.gguf in the current directory)')
    .option('--outtype <type>', 'storage of the weight matrices: auto (as in the checkpoint), f32, f16, bf16, or a quantization type such as q8_0, q4_k_m', 'auto')
    .option('--keep-multipliers', 'store weights exactly as in the checkpoint and apply the µP multipliers at run time (exact; llama.cpp refuses such files)')
    .option('--json', 'print a JSON summary on stdout')
    .option('-q, --quiet', 'no progress output')
    .action(async (dir: string, o: { output?: string; outtype: OutType; keepMultipliers?: boolean; json?: boolean; quiet?: boolean }) => {
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir}: not a directory`);
      const out = o.output ?? join(process.cwd(), `${basename(resolve(dir))}-${o.outtype}.gguf`);
      const bar = createProgress('convert', 1, o.quiet);
      const t0 = Date.now();
      const res = await convertCheckpoint(dir, out, {
        outType: o.outtype,
        keepMultipliers: o.keepMultipliers,
        onProgress: (done, total, name) => {
          bar.setTotal(total);
          bar.update(done, name);
        },
        onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
      }).finally(() => bar.stop());
      const secs = (Date.now() - t0) / 1000;
      if (o.json) {
        process.stdout.write(JSON.stringify({ ...res, seconds: secs }) + '\n');
      } else {
        process.stdout.write(`${res.path}\n`);
        if (!o.quiet) process.stderr.write(`wrote ${res.tensors} tensors (${res.outType}) in ${secs.toFixed(1)} s${res.llamaCppCompatible ? '' : ' — not loadable by llama.cpp as is, see warnings'}\n`);
      }
    });
}

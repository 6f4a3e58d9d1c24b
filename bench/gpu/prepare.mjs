// Writes the data that bench/gpu/run.sh checks the CUDA backend against, from ../shared/fixtures
// (or FIXTURES): fixture GGUFs converted by this tool, token ids and the HF reference logits,
// plus small synthetic K-quant models for GPU-vs-CPU checks. Run on a machine with Node, then
// carry the output folder to the GPU machine (which has nvcc but no Node).
//   node bench/gpu/prepare.mjs [OUT_DIR=bench/gpu/data]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = process.env.FIXTURES ?? resolve(root, '..', 'shared', 'fixtures');
const out = resolve(process.argv[2] ?? join(root, 'bench', 'gpu', 'data'));
mkdirSync(out, { recursive: true });
const cli = (...args) => execFileSync(process.execPath, [join(root, 'bin', 'falcon-h1.js'), ...args, '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });

const models = [
  ['ta-f32', 'tiny-a', ['--outtype', 'f32']],
  ['ta-bf16', 'tiny-a', ['--outtype', 'bf16']],
  ['ta-bf16k', 'tiny-a', ['--outtype', 'bf16', '--keep-multipliers']],
  ['ta-q8_0', 'tiny-a', ['--outtype', 'q8_0']],
  ['tb-f32', 'tiny-b', ['--outtype', 'f32']],
  ['tb-f32k', 'tiny-b', ['--outtype', 'f32', '--keep-multipliers']],
];
for (const [name, fixture, opts] of models) cli('convert', join(fixtures, 'models', fixture, 'hf'), '-o', join(out, `${name}.gguf`), ...opts);

for (const fixture of ['tiny-a', 'tiny-b']) {
  const dir = join(fixtures, 'models', fixture);
  for (const c of JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')).cases) {
    writeFileSync(join(out, `${fixture}-${c.name}.ids`), c.input_ids.join(' '));
    copyFileSync(join(dir, c.logits_file), join(out, `${fixture}-${c.name}.ref`));
  }
}
const long = JSON.parse(readFileSync(join(fixtures, 'models', 'tiny-a', 'long16k.json'), 'utf8'));
writeFileSync(join(out, 'long16k.ids'), long.input_ids.join(' '));
writeFileSync(join(out, 'long16k.pos'), long.positions.join(' '));
copyFileSync(join(fixtures, 'models', 'tiny-a', long.logits_file), join(out, 'long16k.ref'));

// synthetic 8-layer model with 256-wide rows so every K-quant block layout is exercised
const { writeSyntheticModel } = await import(join(root, 'dist', 'bench', 'synthetic.js'));
const { SHAPES } = await import(join(root, 'dist', 'bench', 'shapes.js'));
const mini = { ...SHAPES['0.5b'], name: 'mini', hidden: 256, layers: 8, heads: 4, kvHeads: 2, headDim: 64, ffn: 512, dSsm: 256, ssmHeads: 4, dState: 32, vocab: 2048, ssmRmsNorm: true, context: 4096 };
const miniF32 = join(out, 'mini-f32.gguf');
await writeSyntheticModel(mini, 'f32', miniF32);
for (const [name, type] of [['mini-q4km', 'Q4_K_M'], ['mini-q5km', 'Q5_K_M'], ['mini-q6k', 'Q6_K'], ['mini-q4_0', 'Q4_0'], ['mini-q4_1', 'Q4_1'], ['mini-q5_0', 'Q5_0'], ['mini-q5_1', 'Q5_1'], ['mini-q8_0', 'Q8_0']]) cli('quantize', miniF32, join(out, `${name}.gguf`), type);
rmSync(miniF32); // only its quantized copies travel (the carry to the GPU machine is limited)
writeFileSync(join(out, 'mini.ids'), Array.from({ length: 64 }, (_, i) => (i * 97) % 2048).join(' '));
process.stderr.write(`wrote ${out}\n`);

#!/usr/bin/env node
// Turns a synthetic falcon-h1 GGUF (bf16/f32, from `bench --synthetic … --keep` or fh1_synth) back
// into a Hugging Face checkpoint directory (config.json, sharded safetensors, the fixture
// tokenizer), to measure `convert` on real sizes:  node bench/make-hf-checkpoint.mjs IN.gguf OUT_DIR
import { closeSync, copyFileSync, mkdirSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readGGUF, getNumber } from '../dist/gguf/reader.js';

const [src, out] = process.argv.slice(2);
if (!src || !out) throw new Error('usage: make-hf-checkpoint.mjs IN.gguf OUT_DIR');
const f = readGGUF(src);
const n = (k) => getNumber(f, `falcon-h1.${k}`);
const D = n('embedding_length'), L = n('block_count'), E = n('ssm.inner_size'), H = n('ssm.time_step_rank'), G = n('ssm.group_count');
const V = f.tensors.find((t) => t.name === 'token_embd.weight').ne[1];
mkdirSync(out, { recursive: true });
const mat = f.tensors.find((t) => t.name === 'blk.0.ffn_up.weight');
const dtype = mat.type === 30 ? 'BF16' : mat.type === 1 ? 'F16' : 'F32';
writeFileSync(join(out, 'config.json'), JSON.stringify({
  architectures: ['FalconH1ForCausalLM'], model_type: 'falcon_h1', hidden_size: D, num_hidden_layers: L, vocab_size: V,
  intermediate_size: n('feed_forward_length'), num_attention_heads: n('attention.head_count'), num_key_value_heads: n('attention.head_count_kv'),
  head_dim: n('attention.key_length'), max_position_embeddings: n('context_length'), rms_norm_eps: 1e-5, rope_theta: 1e11,
  mamba_d_ssm: E, mamba_n_heads: H, mamba_d_head: E / H, mamba_d_state: n('ssm.state_size'), mamba_n_groups: G, mamba_d_conv: n('ssm.conv_kernel'),
  mamba_rms_norm: f.tensors.some((t) => t.name === 'blk.0.ssm_norm.weight'), mamba_norm_before_gate: false, mamba_conv_bias: true,
  tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 11, pad_token_id: 0, dtype: dtype.toLowerCase(),
}, null, 1));
for (const fn of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join('../shared/fixtures/models/tiny-a/hf', fn), join(out, fn));

const hfName = (g) => {
  const m = /^blk\.(\d+)\.(.+)$/.exec(g);
  if (!m) return { 'token_embd.weight': 'model.embed_tokens.weight', 'output.weight': 'lm_head.weight', 'output_norm.weight': 'model.final_layernorm.weight' }[g];
  const map = { 'attn_norm.weight': 'input_layernorm.weight', ffn_norm: 'pre_ff_layernorm.weight', 'attn_q.weight': 'self_attn.q_proj.weight', 'attn_k.weight': 'self_attn.k_proj.weight',
    'attn_v.weight': 'self_attn.v_proj.weight', 'attn_output.weight': 'self_attn.o_proj.weight', 'ssm_in.weight': 'mamba.in_proj.weight', 'ssm_out.weight': 'mamba.out_proj.weight',
    'ssm_conv1d.weight': 'mamba.conv1d.weight', 'ssm_conv1d.bias': 'mamba.conv1d.bias', 'ssm_dt.bias': 'mamba.dt_bias', ssm_a: 'mamba.A_log', ssm_d: 'mamba.D',
    'ssm_norm.weight': 'mamba.norm.weight', 'ffn_gate.weight': 'feed_forward.gate_proj.weight', 'ffn_up.weight': 'feed_forward.up_proj.weight', 'ffn_down.weight': 'feed_forward.down_proj.weight' };
  return `model.layers.${m[1]}.${map[m[2]]}`;
};
const shape = (t, name) => (name.endsWith('conv1d.weight') ? [t.ne[1], 1, t.ne[0]] : name.endsWith('A_log') || name.endsWith('.D') || name.endsWith('norm.weight') && name.includes('mamba') ? [t.ne[0] * t.ne[1]] : [...t.ne].reverse().filter((d, i, a) => a.length === 1 || d !== 1 || i > 0));
const fd = openSync(src, 'r');
const shards = [[]];
let size = 0;
for (const t of f.tensors) {
  if (size > 4e9) { shards.push([]); size = 0; }
  shards[shards.length - 1].push(t);
  size += t.byteSize;
}
const weightMap = {};
shards.forEach((list, si) => {
  const file = `model-${String(si + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
  const header = {};
  let off = 0;
  for (const t of list) {
    const name = hfName(t.name);
    header[name] = { dtype: t.type === 0 ? 'F32' : dtype, shape: shape(t, name), data_offsets: [off, off + t.byteSize] };
    off += t.byteSize;
    weightMap[name] = file;
  }
  let hj = Buffer.from(JSON.stringify(header));
  hj = Buffer.concat([hj, Buffer.alloc((8 - (hj.length % 8)) % 8, 0x20)]);
  const o = openSync(join(out, file), 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hj.length));
  writeSync(o, len);
  writeSync(o, hj);
  const buf = Buffer.alloc(64 << 20);
  for (const t of list) {
    if (t.name.endsWith('ssm_a')) {
      const a = Buffer.alloc(t.byteSize);
      readSync(fd, a, 0, t.byteSize, t.offset);
      const v = new Float32Array(a.buffer, a.byteOffset, t.byteSize / 4).map((x) => Math.log(-x));
      writeSync(o, new Uint8Array(v.buffer));
      continue;
    }
    for (let done = 0; done < t.byteSize; ) {
      const k = Math.min(buf.length, t.byteSize - done);
      readSync(fd, buf, 0, k, t.offset + done);
      writeSync(o, buf, 0, k);
      done += k;
    }
  }
  closeSync(o);
});
closeSync(fd);
writeFileSync(join(out, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
console.log(`${out}: ${shards.length} shards`);

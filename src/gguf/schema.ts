// The one table of Falcon-H1 GGUF key and tensor names used by convert, inspect and the engine
// wrapper. The upstream llama.cpp `falcon-h1` schema, plus the keys of TII's legacy fork format
// (multipliers kept as metadata), which we reuse for files written with --keep-multipliers and for
// configs llama.cpp cannot express.

export const ARCH = 'falcon-h1';

const a = (s: string) => `${ARCH}.${s}`;

export const Keys = {
  architecture: 'general.architecture',
  type: 'general.type',
  name: 'general.name',
  sizeLabel: 'general.size_label',
  fileType: 'general.file_type',
  quantizationVersion: 'general.quantization_version',
  alignment: 'general.alignment',

  vocabSize: a('vocab_size'),
  contextLength: a('context_length'),
  embeddingLength: a('embedding_length'),
  blockCount: a('block_count'),
  feedForwardLength: a('feed_forward_length'),
  headCount: a('attention.head_count'),
  headCountKv: a('attention.head_count_kv'),
  keyLength: a('attention.key_length'),
  valueLength: a('attention.value_length'),
  rmsEps: a('attention.layer_norm_rms_epsilon'),
  ropeFreqBase: a('rope.freq_base'),
  ssmConvKernel: a('ssm.conv_kernel'),
  ssmInnerSize: a('ssm.inner_size'),
  ssmStateSize: a('ssm.state_size'),
  ssmTimeStepRank: a('ssm.time_step_rank'),
  ssmGroupCount: a('ssm.group_count'),

  // TII legacy-fork keys (also written by `convert --keep-multipliers`).
  embeddingMultiplier: a('embedding_multiplier'),
  lmHeadMultiplier: a('lm_head_multiplier'),
  attentionInMultiplier: a('attention_in_multiplier'),
  attentionOutMultiplier: a('attention_out_multiplier'),
  keyMultiplier: a('key_multiplier'),
  ssmInMultiplier: a('ssm_in_multiplier'),
  ssmOutMultiplier: a('ssm_out_multiplier'),
  mlpGateMultiplier: a('mlp_gate_multiplier'),
  mlpDownMultiplier: a('mlp_down_multiplier'),
  ssmHasMup: a('ssm.has_mup'),
  mambaRmsNorm: a('mamba_rms_norm'),
  mambaNormBeforeGate: a('mamba_norm_before_gate'),
  legacyRopeTheta: a('rope_theta'),
  legacyDssm: a('ssm.mamba_d_ssm'),
  legacyHeadDim: a('attention.head_dim'),
  legacySsmHeadDim: a('ssm.head_dim'),
  legacyChunkSize: a('ssm.mamba_chunk_size'),

  // Our extension: Δ clamp when a checkpoint sets a non-default time_step_limit.
  ssmTimeStepLimit: a('ssm.time_step_limit'),

  tokModel: 'tokenizer.ggml.model',
  tokPre: 'tokenizer.ggml.pre',
  tokTokens: 'tokenizer.ggml.tokens',
  tokTypes: 'tokenizer.ggml.token_type',
  tokMerges: 'tokenizer.ggml.merges',
  tokBos: 'tokenizer.ggml.bos_token_id',
  tokEos: 'tokenizer.ggml.eos_token_id',
  tokUnk: 'tokenizer.ggml.unknown_token_id',
  tokSep: 'tokenizer.ggml.seperator_token_id',
  tokPad: 'tokenizer.ggml.padding_token_id',
  tokAddBos: 'tokenizer.ggml.add_bos_token',
  tokAddEos: 'tokenizer.ggml.add_eos_token',
  tokEosIds: 'tokenizer.ggml.eos_token_ids',
  chatTemplate: 'tokenizer.chat_template',
  hfTokenizerJson: 'tokenizer.huggingface.json',
} as const;

export const Tensors = {
  tokenEmbd: 'token_embd.weight',
  outputNorm: 'output_norm.weight',
  output: 'output.weight',
  attnNorm: (i: number) => `blk.${i}.attn_norm.weight`,
  attnQ: (i: number) => `blk.${i}.attn_q.weight`,
  attnK: (i: number) => `blk.${i}.attn_k.weight`,
  attnV: (i: number) => `blk.${i}.attn_v.weight`,
  attnOut: (i: number) => `blk.${i}.attn_output.weight`,
  attnQBias: (i: number) => `blk.${i}.attn_q.bias`,
  attnKBias: (i: number) => `blk.${i}.attn_k.bias`,
  attnVBias: (i: number) => `blk.${i}.attn_v.bias`,
  attnOutBias: (i: number) => `blk.${i}.attn_output.bias`,
  ssmIn: (i: number) => `blk.${i}.ssm_in.weight`,
  ssmInBias: (i: number) => `blk.${i}.ssm_in.bias`,
  ssmConv: (i: number) => `blk.${i}.ssm_conv1d.weight`,
  ssmConvBias: (i: number) => `blk.${i}.ssm_conv1d.bias`,
  ssmDtBias: (i: number) => `blk.${i}.ssm_dt.bias`,
  ssmA: (i: number) => `blk.${i}.ssm_a`,
  ssmD: (i: number) => `blk.${i}.ssm_d`,
  ssmNorm: (i: number) => `blk.${i}.ssm_norm.weight`,
  ssmOut: (i: number) => `blk.${i}.ssm_out.weight`,
  ssmOutBias: (i: number) => `blk.${i}.ssm_out.bias`,
  ssmMupVec: (i: number) => `blk.${i}.ssm_mup_vec`,
  ffnNorm: (i: number) => `blk.${i}.ffn_norm`, // upstream: no `.weight` suffix
  ffnPreNorm: (i: number) => `blk.${i}.ffn_pre_norm`, // TII legacy fork name
  ffnGate: (i: number) => `blk.${i}.ffn_gate.weight`,
  ffnUp: (i: number) => `blk.${i}.ffn_up.weight`,
  ffnDown: (i: number) => `blk.${i}.ffn_down.weight`,
  ffnGateBias: (i: number) => `blk.${i}.ffn_gate.bias`,
  ffnUpBias: (i: number) => `blk.${i}.ffn_up.bias`,
  ffnDownBias: (i: number) => `blk.${i}.ffn_down.bias`,
} as const;

/** Tensors that llama.cpp's falcon-h1 loader does not accept (it fails on "wrong number of tensors"). */
export const LLAMA_CPP_REFUSES = [/\.ssm_in\.bias$/, /\.ssm_out\.bias$/, /\.ssm_mup_vec$/, /\.ffn_pre_norm$/];
/** Tensors llama.cpp loads but ignores (Dec-2025 graph): a file with them gives wrong logits there. */
export const LLAMA_CPP_IGNORES = [/\.attn_(q|k|v|output)\.bias$/];

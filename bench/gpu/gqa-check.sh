#!/bin/bash
# Runs on the GPU machine: decode attention per KV head (k_attn_gqa) against per query head
# (FALCON_H1_CUDA_ATT_GQA=0): the same logits over a decode that crosses the switch (moved to 2048
# keys) inside one graph, then 7B BF16 decode speed at depths 512, 4096 and 32768 per query head,
# per KV head throughout (FALCON_H1_CUDA_GQA_FROM=1), and by default (per KV head from 16384 keys).
# GQA_DEPTHS="8192 16384" picks the depths; GQA_SPEED_ONLY=1 skips the logits check.
cd "$(dirname "$0")/../.."
source bench/gpu/check-prep.sh
if [ -z "$GQA_SPEED_ONLY" ]; then
  awk 'BEGIN{for(i=0;i<2560;i++) printf "%d ", (i*7)%30000}' > /tmp/p2560.txt
  /tmp/fh1_synth 0.5b bf16 /tmp/m.gguf > /dev/null 2>&1
  FALCON_H1_CUDA_ATT_GQA=0 $E /tmp/m.gguf /tmp/p2560.txt /tmp/d0.f32 --device cuda --kv f16 --ctx 4096 --decode 2>&1 | tail -1
  FALCON_H1_CUDA_GQA_FROM=2048 $E /tmp/m.gguf /tmp/p2560.txt /tmp/d1.f32 --device cuda --kv f16 --ctx 4096 --decode 2>&1 | tail -1
  echo "0.5b bf16, 2560 tokens decoded one at a time, per KV head from 2048 keys vs per query head :: $(/tmp/cmp /tmp/d1.f32 /tmp/d0.f32 32784)"
fi
/tmp/fh1_synth 7b bf16 /tmp/m.gguf > /dev/null 2>&1
for d in ${GQA_DEPTHS:-512 4096 32768}; do
  awk -v n=$d 'BEGIN{for(i=0;i<n;i++) printf "%d ", (i*7)%30000}' > /tmp/pd.txt
  for s in FALCON_H1_CUDA_ATT_GQA=0 FALCON_H1_CUDA_GQA_FROM=1 FALCON_H1_CUDA_ATT_GQA=1; do
    echo "7b bf16 $s depth $d: $(env $s $E /tmp/m.gguf /tmp/pd.txt /dev/null --device cuda --ctx 32800 --batch 4096 --bench 32 2>&1 | tail -1)"
  done
done
rm -f /tmp/m.gguf

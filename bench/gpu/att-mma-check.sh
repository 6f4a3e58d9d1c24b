#!/bin/bash
# Runs on the GPU machine: prefill attention on tensor cores (k_attn_mma, f16 KV cache) against
# HF's logits and against the f32 CUDA-core kernel (FALCON_H1_CUDA_ATT_MMA=0) on the same f16 cache;
# split mode's (f32-grade) error beside it; real head sizes (0.5B: 64, 7B: 128) in one batch and
# in uneven chunks; memcheck; then prefill speed with and without it.
# It runs in the default tensor-core mode only (split mode keeps the f32 kernel).
# Data: bench/gpu/data (carried). ATT_SPEED_ONLY=1 skips the checks, ATT_CHECK_ONLY=1 the speed runs.
cd "$(dirname "$0")/../.."
source bench/gpu/check-prep.sh
if [ -z "$ATT_SPEED_ONLY" ]; then
  echo "--- default tensor-core mode (bf16 activations), KV cache f16"
  for m in "ta-f32 tiny-a" "tb-f32 tiny-b" "ta-bf16k tiny-a"; do set -- $m
    for c in chat short long; do
      [ -f $D/$2-$c.ids ] || continue
      for mode in "" "--chunks 7,50"; do
        $E $D/$1.gguf $D/$2-$c.ids /tmp/a.f32 --device cuda --kv f16 $mode 2>/dev/null
        FALCON_H1_CUDA_ATT_MMA=0 $E $D/$1.gguf $D/$2-$c.ids /tmp/b.f32 --device cuda --kv f16 $mode 2>/dev/null
        echo "$1 $c [$mode] tensor cores vs HF :: $(/tmp/cmp /tmp/a.f32 $D/$2-$c.ref 1024) | f32 kernel vs HF :: $(/tmp/cmp /tmp/b.f32 $D/$2-$c.ref 1024)"
      done
      FALCON_H1_CUDA_TC=split $E $D/$1.gguf $D/$2-$c.ids /tmp/c.f32 --device cuda --kv f16 2>/dev/null
      echo "$1 $c split mode (f32-grade GEMMs and attention), f16 cache, vs HF :: $(/tmp/cmp /tmp/c.f32 $D/$2-$c.ref 1024)"
    done
  done
  $E $D/ta-f32.gguf $D/long16k.ids /tmp/o16.f32 --device cuda --kv f16 --ctx 16384 --batch 4096 2>/dev/null
  echo "tiny-a long16k in 4096-token batches, tensor cores vs HF :: $(/tmp/cmp /tmp/o16.f32 $D/long16k.ref 1024 $D/long16k.pos)"
  awk 'BEGIN{for(i=0;i<600;i++) printf "%d ", (i*7)%30000}' > /tmp/p600.txt
  for size in 0.5b 7b; do
    /tmp/fh1_synth $size bf16 /tmp/m.gguf > /dev/null 2>&1
    for mode in "" "--chunks 100,230"; do
      $E /tmp/m.gguf /tmp/p600.txt /tmp/a.f32 --device cuda --kv f16 $mode 2>/dev/null
      FALCON_H1_CUDA_ATT_MMA=0 $E /tmp/m.gguf /tmp/p600.txt /tmp/b.f32 --device cuda --kv f16 $mode 2>/dev/null
      FALCON_H1_CUDA_TC=split $E /tmp/m.gguf /tmp/p600.txt /tmp/c.f32 --device cuda --kv f16 $mode 2>/dev/null
      echo "$size bf16, 600 tokens [$mode], tensor cores vs f32 kernel :: $(/tmp/cmp /tmp/a.f32 /tmp/b.f32 32784) | default (bf16 GEMMs) vs split mode, f32 attention both :: $(/tmp/cmp /tmp/b.f32 /tmp/c.f32 32784)"
    done
    [ $size = 0.5b ] && head -c 1000 /tmp/p600.txt > /tmp/p150.txt && compute-sanitizer --tool memcheck $E /tmp/m.gguf /tmp/p150.txt /tmp/a.f32 --device cuda --kv f16 --chunks 70,40 2>&1 | tail -1
  done
fi
[ -n "$ATT_CHECK_ONLY" ] && exit 0
/tmp/fh1_synth 7b bf16 /tmp/m.gguf > /dev/null 2>&1
for rep in 1 2; do for s in 1 0; do
  echo "7b bf16 ATT_MMA=$s: $(FALCON_H1_CUDA_ATT_MMA=$s $E /tmp/m.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 32 2>&1 | tail -1)"
  echo "7b bf16 ATT_MMA=$s: $(FALCON_H1_CUDA_ATT_MMA=$s $E /tmp/m.gguf /tmp/p4096.txt /dev/null --device cuda --ctx 8192 --batch 4096 --bench 32 2>&1 | tail -1)"
done; done
for s in 1 0; do
  echo "7b bf16 ATT_MMA=$s depth 32768: $(FALCON_H1_CUDA_ATT_MMA=$s $E /tmp/m.gguf /tmp/p32k.txt /dev/null --device cuda --ctx 32800 --batch 4096 --bench 32 2>&1 | tail -1)"
done
rm -f /tmp/m.gguf

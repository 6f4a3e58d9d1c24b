#!/bin/bash
# Runs on the GPU machine: the prefill GEMM groups (one launch for the products that share a step:
# a layer's input projections, its two output projections, gate and up) and split-K (products cut
# along k, their slices added by the residual kernels). Checks: every fixture case against HF in
# split mode (f32-grade) with split-K on and off, in one batch and in 7 + 50 + rest chunks; the
# groups against one launch per product (FALCON_H1_CUDA_GROUP=0, expect identical logits);
# the default mode (two GEMM blocks an SM) and one block an SM (FALCON_H1_CUDA_WG_CTAS=1) against HF; real shapes
# with and without split-K; memcheck. Then prefill speed under each switch, with the GEMMs timed.
# Data: bench/gpu/data (carried). GG_SPEED_ONLY=1 skips the checks, GG_CHECK_ONLY=1 the speed runs;
# GG_MODELS: comma-separated "SIZE TYPE" models of the speed runs (default "7b bf16").
cd "$(dirname "$0")/../.."
source bench/gpu/check-prep.sh
if [ -z "$GG_SPEED_ONLY" ]; then
  for m in "ta-f32 tiny-a" "ta-bf16k tiny-a" "ta-bf16 tiny-a" "tb-f32 tiny-b" "tb-f32k tiny-b"; do set -- $m
    for c in chat long; do
      for mode in "" "--chunks 7,50"; do
        FALCON_H1_CUDA_TC=split $E $D/$1.gguf $D/$2-$c.ids /tmp/a.f32 --device cuda --kv f32 $mode 2>/dev/null
        FALCON_H1_CUDA_TC=split FALCON_H1_CUDA_SPLITK=0 $E $D/$1.gguf $D/$2-$c.ids /tmp/b.f32 --device cuda --kv f32 $mode 2>/dev/null
        FALCON_H1_CUDA_TC=split FALCON_H1_CUDA_SPLITK=0 FALCON_H1_CUDA_GROUP=0 $E $D/$1.gguf $D/$2-$c.ids /tmp/c.f32 --device cuda --kv f32 $mode 2>/dev/null
        $E $D/$1.gguf $D/$2-$c.ids /tmp/d.f32 --device cuda --kv f32 $mode 2>/dev/null
        FALCON_H1_CUDA_WG_CTAS=1 $E $D/$1.gguf $D/$2-$c.ids /tmp/e.f32 --device cuda --kv f32 $mode 2>/dev/null
        echo "$1 $c [$mode] split mode vs HF: split-K :: $(/tmp/cmp /tmp/a.f32 $D/$2-$c.ref 1024) | no split-K :: $(/tmp/cmp /tmp/b.f32 $D/$2-$c.ref 1024) | groups vs one launch each (expect 0) :: $(/tmp/cmp /tmp/b.f32 /tmp/c.f32 1024)"
        echo "$1 $c [$mode] default mode vs HF :: $(/tmp/cmp /tmp/d.f32 $D/$2-$c.ref 1024) | WG_CTAS=1 :: $(/tmp/cmp /tmp/e.f32 $D/$2-$c.ref 1024)"
      done
    done
  done
  FALCON_H1_CUDA_TC=split $E $D/ta-f32.gguf $D/long16k.ids /tmp/o16.f32 --device cuda --kv f32 --ctx 16384 --batch 1024 2>/dev/null
  echo "tiny-a long16k in 1024-token batches, split mode vs HF :: $(/tmp/cmp /tmp/o16.f32 $D/long16k.ref 1024 $D/long16k.pos)"
  compute-sanitizer --tool memcheck $E $D/ta-f32.gguf $D/tiny-a-long.ids /tmp/a.f32 --device cuda --kv f32 --chunks 7,90 2>&1 | tail -1
  compute-sanitizer --tool memcheck $E $D/ta-bf16.gguf $D/tiny-a-long.ids /tmp/a.f32 --device cuda --chunks 100 2>&1 | tail -1
  awk 'BEGIN{for(i=0;i<600;i++) printf "%d ", (i*7)%30000}' > /tmp/p600.txt
  for size in 0.5b 7b; do
    /tmp/fh1_synth $size bf16 /tmp/m.gguf > /dev/null 2>&1
    for tc in split bf16; do
      FALCON_H1_CUDA_TC=$tc $E /tmp/m.gguf /tmp/p600.txt /tmp/a.f32 --device cuda --chunks 512 2>/dev/null
      FALCON_H1_CUDA_TC=$tc FALCON_H1_CUDA_SPLITK=0 $E /tmp/m.gguf /tmp/p600.txt /tmp/b.f32 --device cuda --chunks 512 2>/dev/null
      FALCON_H1_CUDA_TC=$tc FALCON_H1_CUDA_WG_CTAS=1 $E /tmp/m.gguf /tmp/p600.txt /tmp/c.f32 --device cuda --chunks 512 2>/dev/null
      echo "$size bf16, 600 tokens (512 + 88), TC=$tc: split-K vs not :: $(/tmp/cmp /tmp/a.f32 /tmp/b.f32 32784) | WG_CTAS=1 vs 2 :: $(/tmp/cmp /tmp/c.f32 /tmp/a.f32 32784)"
    done
  done
fi
[ -n "$GG_CHECK_ONLY" ] && exit 0
IFS=, read -ra MODELS <<< "${GG_MODELS:-7b bf16}"
for spec in "${MODELS[@]}"; do set -- $spec
  /tmp/fh1_synth $1 $2 /tmp/m.gguf > /dev/null 2>&1
  for p in 512 4096; do
    for s in "FALCON_H1_CUDA_GROUP=0 FALCON_H1_CUDA_SPLITK=0 FALCON_H1_CUDA_WG_CTAS=1" "FALCON_H1_CUDA_SPLITK=0 FALCON_H1_CUDA_WG_CTAS=1" "FALCON_H1_CUDA_WG_CTAS=1" "FALCON_H1_CUDA_SPLITK=0" "FALCON_H1_CUDA_GROUP=1"; do
      [ $p = 4096 ] && [[ "$s" == *SPLITK=0* && "$s" != *GROUP=0* ]] && continue # split-K is off above 1024 tokens anyway
      echo "$1 $2 pp$p $s: $(env $s $E /tmp/m.gguf /tmp/p$p.txt /dev/null --device cuda --ctx 8192 --batch $p --bench 1 2>&1 | tail -1) | $(env $s FALCON_H1_CUDA_PROFILE=1 $E /tmp/m.gguf /tmp/p$p.txt /dev/null --device cuda --ctx 8192 --batch $p --bench 1 2>&1 | grep "profile T=$p" | tail -1)"
    done
  done
done
rm -f /tmp/m.gguf

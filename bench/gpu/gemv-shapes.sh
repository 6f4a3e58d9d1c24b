#!/bin/bash
# Decode GEMV shapes on real shapes: FALCON_H1_GEMV=R,U,BPS,SWIGLU (16-bit rows per block, vectors
# in flight per row and lane, resident blocks per SM or 0 for one block per row group, gate/up
# with the SwiGLU epilogue); the fused decode checked against HF and the unfused kernels first.
cd "$(dirname "$0")/../.."
source bench/gpu/build.sh; gcc -O2 -o /tmp/cmp bench/gpu/cmp.c -lm; gcc -O2 -o /tmp/fh1_synth csrc/tools/fh1_synth.c quant/quants.c -lm -lpthread
nvcc -O2 -o /tmp/bw bench/gpu/bw.cu && /tmp/bw
D=bench/gpu/data
for m in "ta-f32 tiny-a" "ta-bf16k tiny-a" "tb-f32 tiny-b" "tb-f32k tiny-b"; do set -- $m
  /tmp/fh1_eval $D/$1.gguf $D/$2-long.ids /tmp/o.f32 --device cuda --kv f32 --decode 2>/dev/null; echo "$1 long decode vs HF :: $(/tmp/cmp /tmp/o.f32 $D/$2-long.ref 1024)"; done
compute-sanitizer --tool memcheck /tmp/fh1_eval $D/tb-f32.gguf $D/tiny-b-chat.ids /tmp/o.f32 --device cuda --decode 2>&1 | tail -1
awk 'BEGIN{for(i=0;i<512;i++) printf "%d ", (i*7)%30000}' > /tmp/p512.txt; awk 'BEGIN{for(i=0;i<64;i++) printf "%d ", (i*7)%30000}' > /tmp/p64.txt
for spec in "7b bf16" "0.5b bf16"; do set -- $spec; /tmp/fh1_synth $1 $2 /tmp/m.gguf >/dev/null 2>&1
  /tmp/fh1_eval /tmp/m.gguf /tmp/p64.txt /tmp/a.f32 --device cuda --decode 2>/dev/null; FALCON_H1_CUDA_FUSED=0 /tmp/fh1_eval /tmp/m.gguf /tmp/p64.txt /tmp/b.f32 --device cuda --decode 2>/dev/null
  echo "$1 $2 64 tokens decoded, fused vs unfused :: $(/tmp/cmp /tmp/a.f32 /tmp/b.f32 1024)"
  for g in ${GEMV_SHAPES:-2,2,0,1 2,1,0,1 2,4,0,1 4,2,0,1 2,2,0,0 2,2,16,1 unfused 2,2,0,1}; do
    if [ $g = unfused ]; then e="FALCON_H1_CUDA_FUSED=0"; else e="FALCON_H1_GEMV=$g"; fi
    env $e /tmp/fh1_eval /tmp/m.gguf /tmp/p512.txt /dev/null --device cuda --ctx 4096 --bench 128 2>&1 | tail -1 | sed "s/^/$1 $2 $g: /; s/pp512 [0-9.]* t\/s, //"; done
done

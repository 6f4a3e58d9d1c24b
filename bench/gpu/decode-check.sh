#!/bin/bash
# Runs on the GPU machine: the fused decode path (FALCON_H1_CUDA_FUSED=1, the default) against HF
# and against the unfused kernels, token by token, then decode speed with and without it.
cd "$(dirname "$0")/../.."
source bench/gpu/build.sh; gcc -O2 -o /tmp/cmp bench/gpu/cmp.c -lm; gcc -O2 -o /tmp/fh1_synth csrc/tools/fh1_synth.c quant/quants.c -lm -lpthread
D=bench/gpu/data
for f in 1 0; do export FALCON_H1_CUDA_FUSED=$f
for m in "ta-f32 tiny-a" "ta-bf16k tiny-a" "ta-bf16 tiny-a" "tb-f32 tiny-b" "tb-f32k tiny-b"; do set -- $m
  for c in chat long; do /tmp/fh1_eval $D/$1.gguf $D/$2-$c.ids /tmp/o.f32 --device cuda --kv f32 --decode 2>/dev/null; echo "fused=$f $1 $c decode :: $(/tmp/cmp /tmp/o.f32 $D/$2-$c.ref 1024)"; done
done; done
unset FALCON_H1_CUDA_FUSED
/tmp/fh1_eval $D/ta-f32.gguf $D/long16k.ids /tmp/o16.f32 --device cuda --kv f32 --ctx 16384 --decode 2>&1 | tail -1; echo "long16k decode :: $(/tmp/cmp /tmp/o16.f32 $D/long16k.ref 1024 $D/long16k.pos)"
for q in ta-q8_0:tiny-a-long.ids:1024 mini-q4km:mini.ids:2048 mini-q6k:mini.ids:2048 mini-q5km:mini.ids:2048 mini-q4_0:mini.ids:2048 mini-q4_1:mini.ids:2048 mini-q5_0:mini.ids:2048 mini-q5_1:mini.ids:2048 mini-q8_0:mini.ids:2048; do IFS=: read f ids V <<< "$q"
  /tmp/fh1_eval $D/$f.gguf $D/$ids /tmp/c.f32 --device cpu --kv f32 2>/dev/null; /tmp/fh1_eval $D/$f.gguf $D/$ids /tmp/g.f32 --device cuda --kv f32 --decode 2>/dev/null
  echo "$f GPU decode vs CPU prefill :: $(/tmp/cmp /tmp/g.f32 /tmp/c.f32 $V)"; done
/tmp/fh1_eval $D/tb-f32.gguf $D/tiny-b-long.ids /tmp/o.f32 --device cuda --kv f32 --decode --gpu-layers 2 2>/dev/null; echo "tb gpu-layers 2 decode :: $(/tmp/cmp /tmp/o.f32 $D/tiny-b-long.ref 1024)"
compute-sanitizer --tool memcheck /tmp/fh1_eval $D/tb-f32.gguf $D/tiny-b-chat.ids /tmp/o.f32 --device cuda --decode 2>&1 | tail -1
compute-sanitizer --tool memcheck /tmp/fh1_eval $D/mini-q4km.gguf $D/mini.ids /tmp/o.f32 --device cuda --decode 2>&1 | tail -1
awk 'BEGIN{for(i=0;i<512;i++) printf "%d ", (i*7)%30000}' > /tmp/p512.txt
for spec in "7b bf16" "0.5b bf16" "1.5b-deep q4_k"; do set -- $spec; /tmp/fh1_synth $1 $2 /tmp/m.gguf >/dev/null 2>&1
  /tmp/fh1_eval /tmp/m.gguf /tmp/p512.txt /tmp/a.f32 --device cuda --ctx 1024 --decode >/dev/null 2>&1; FALCON_H1_CUDA_FUSED=0 /tmp/fh1_eval /tmp/m.gguf /tmp/p512.txt /tmp/b.f32 --device cuda --ctx 1024 --decode > /dev/null 2>&1
  echo "$1 $2 512 tokens decoded, fused vs unfused :: $(/tmp/cmp /tmp/a.f32 /tmp/b.f32 1024 | head -1)"
  for i in 1 2; do /tmp/fh1_eval /tmp/m.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 128 2>&1 | tail -1 | sed "s/^/$1 $2 fused: /"; FALCON_H1_CUDA_FUSED=0 /tmp/fh1_eval /tmp/m.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 128 2>&1 | tail -1 | sed "s/^/$1 $2 unfused: /"; done
done

#!/bin/bash
# Runs on the GPU machine: --gpu-layers (CPU + GPU), --split-mode layer (several GPUs), sampling
# on the GPU and the state round trip, every logits check against the HF reference (tiny fixtures)
# or the one-GPU run (real shapes). Needs bench/gpu/data (node bench/gpu/prepare.mjs).
cd "$(dirname "$0")/../.."
# the CPU side of the comparisons keeps f32 activations in prefill, as the GPU does (not the VNNI
# integer GEMM of Q8_0/Q4_K/Q6_K, which rounds them to 8 bits)
export FALCON_H1_INT8_GEMM=0
# the checks against HF need the f32-grade prefill GEMMs (the default rounds activations to bf16)
export FALCON_H1_CUDA_TC=split
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
source bench/gpu/build.sh
gcc -O2 -o /tmp/cmp bench/gpu/cmp.c -lm
gcc -O3 -std=gnu11 -ffp-contract=off -DFH1_CUDA -I/usr/local/cuda/include -o /tmp/sample-check bench/gpu/sample-check.c csrc/model.c csrc/context.c csrc/gguf.c csrc/sample.c csrc/cpu/*.c quant/quants.c /tmp/backend.o -L/usr/local/cuda/lib64 -lcudart_static -lstdc++ -ldl -lrt -lm -lpthread || exit 1
D=${FH1_GPU_DATA:-bench/gpu/data}
NGPU=$(nvidia-smi -L | wc -l)
SPLITS="none"; [ "$NGPU" -gt 1 ] && SPLITS="none layer"
echo "--- fixtures (4 layers): N layers on the GPU, the rest and (N <= 4) the head on the CPU; split over $NGPU GPU(s)"
for split in $SPLITS; do
  for ngl in 5 4 3 1; do
    for m in "ta-f32 tiny-a" "tb-f32 tiny-b"; do set -- $m
      for c in long; do
        for mode in "" "--decode" "--chunks 7,50"; do
          [ -f $D/$2-$c.ids ] || continue
          /tmp/fh1_eval $D/$1.gguf $D/$2-$c.ids /tmp/o.f32 --device cuda --kv f32 --gpu-layers $ngl --split-mode $split $mode 2>/tmp/err.txt || { cat /tmp/err.txt; continue; }
          echo "split=$split ngl=$ngl $1 $c [$mode] $(tail -1 /tmp/err.txt | sed 's/.*tokens, //;s/, [0-9]* threads.*//') :: $(/tmp/cmp /tmp/o.f32 $D/$2-$c.ref 1024)"
        done
      done
    done
  done
done
echo "--- sampler kernel vs CPU sampler, GPU-sampled generation, state round trip"
/tmp/sample-check $D/ta-f32.gguf
[ "$NGPU" -gt 1 ] && /tmp/sample-check $D/ta-f32.gguf --split-mode layer | tail -3
/tmp/sample-check $D/ta-f32.gguf --gpu-layers 2 | tail -3
gcc -O2 -o /tmp/fh1_synth csrc/tools/fh1_synth.c quant/quants.c -lm -lpthread
/tmp/fh1_synth 1.5b-deep q4_k /tmp/real.gguf 2>/dev/null
/tmp/sample-check /tmp/real.gguf
awk 'BEGIN{for(i=0;i<100;i++) printf "%d ", (i*37)%30000}' > /tmp/p100.txt
/tmp/fh1_eval /tmp/real.gguf /tmp/p100.txt /tmp/one.f32 --device cuda --kv f32 --split-mode none 2>&1 | tail -1
for opt in "--split-mode layer" "--gpu-layers 40" "--gpu-layers 66" "--gpu-layers 40 --split-mode layer"; do
  [ "$NGPU" -lt 2 ] && [[ "$opt" == *layer* ]] && continue
  /tmp/fh1_eval /tmp/real.gguf /tmp/p100.txt /tmp/o.f32 --device cuda --kv f32 $opt 2>/tmp/err.txt; tail -1 /tmp/err.txt
  echo "1.5b-deep q4_k $opt vs one GPU :: $(/tmp/cmp /tmp/o.f32 /tmp/one.f32 65536)"
done
rm -f /tmp/real.gguf
echo "--- compute-sanitizer memcheck (split / CPU+GPU / GPU sampling)"
[ "$NGPU" -gt 1 ] && compute-sanitizer --tool memcheck /tmp/fh1_eval $D/tb-f32.gguf $D/tiny-b-chat.ids /tmp/o.f32 --device cuda --split-mode layer --chunks 5,7 2>&1 | tail -1
compute-sanitizer --tool memcheck /tmp/fh1_eval $D/tb-f32.gguf $D/tiny-b-chat.ids /tmp/o.f32 --device cuda --gpu-layers 2 --decode 2>&1 | tail -1
compute-sanitizer --tool memcheck /tmp/sample-check $D/ta-f32.gguf 2>&1 | tail -1

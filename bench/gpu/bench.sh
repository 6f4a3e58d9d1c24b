#!/bin/bash
# GPU speed: random-weight models of the real shapes, prompt and generation tokens/s.
cd "$(dirname "$0")/../.."
source bench/gpu/prep.sh
# SPEC = "SIZE TYPE [32k]": pp512 + tg128, pp4096, and with 32k decode at depth 32768;
# NO_SAMPLING=1 skips the two sampled-decode runs (the speed matrix in bench/README.md)
for spec in "$@"; do set -- $spec
  /tmp/fh1_synth $1 $2 /tmp/m.gguf 2>&1 | tail -1
  echo "== $1 $2"; /tmp/fh1_eval /tmp/m.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 128 2>&1 | tail -1
  [ -n "$NO_TC" ] && FALCON_H1_CUDA_TC=0 FALCON_H1_CUDA_GRAPH=0 /tmp/fh1_eval /tmp/m.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 128 2>&1 | tail -1 | sed 's/^/no tensor cores, no graph: /'
  # decode with sampling (temp .8, top-k 40, top-p .95, min-p .05): chain on the GPU vs logits copied to the CPU
  if [ -z "$NO_SAMPLING" ]; then
    /tmp/fh1_eval /tmp/m.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 128 --sample 2>&1 | tail -1 | sed 's/^/sampling on the GPU: /'
    FALCON_H1_GPU_SAMPLING=0 /tmp/fh1_eval /tmp/m.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 128 --sample 2>&1 | tail -1 | sed 's/^/sampling on the CPU: /'
  fi
  [ "$(nvidia-smi -L | wc -l)" -gt 1 ] && /tmp/fh1_eval /tmp/m.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 128 --split-mode layer 2>&1 | tail -1 | sed 's/^/layer split: /'
  /tmp/fh1_eval /tmp/m.gguf /tmp/p4096.txt /dev/null --device cuda --ctx 8192 --batch 4096 --bench 32 2>&1 | tail -1
  [ "$3" = 32k ] && /tmp/fh1_eval /tmp/m.gguf /tmp/p32k.txt /dev/null --device cuda --ctx 32800 --batch 4096 --bench 32 2>&1 | tail -1 | sed 's/^/depth 32768: /'
  rm -f /tmp/m.gguf
done

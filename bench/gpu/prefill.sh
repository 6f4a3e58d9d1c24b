#!/bin/bash
# Prefill on tensor cores: pp512/pp4096 with the GEMMs timed (FALCON_H1_CUDA_PROFILE=1) in split
# mode (f32-grade) and in the default bf16-activation mode, plus tg128, for SPEC = "SIZE TYPE" models.
# The tensor-core rate is the GEMMs' useful FLOPs (2·T·N·K) over their summed kernel time.
cd "$(dirname "$0")/../.."
source bench/gpu/prep.sh
for spec in "$@"; do set -- $spec
  /tmp/fh1_synth $1 $2 /tmp/m.gguf 2>&1 | tail -1
  for tc in split bf16; do
    echo "== $1 $2 FALCON_H1_CUDA_TC=$tc"
    FALCON_H1_CUDA_TC=$tc /tmp/fh1_eval /tmp/m.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 128 2>&1 | tail -1
    FALCON_H1_CUDA_TC=$tc FALCON_H1_CUDA_PROFILE=1 /tmp/fh1_eval /tmp/m.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 1 2>&1 | grep 'profile T=512' | tail -1
    FALCON_H1_CUDA_TC=$tc /tmp/fh1_eval /tmp/m.gguf /tmp/p4096.txt /dev/null --device cuda --ctx 8192 --batch 4096 --bench 8 2>&1 | tail -1
    FALCON_H1_CUDA_TC=$tc FALCON_H1_CUDA_PROFILE=1 /tmp/fh1_eval /tmp/m.gguf /tmp/p4096.txt /dev/null --device cuda --ctx 8192 --batch 4096 --bench 1 2>&1 | grep 'profile T=4096' | tail -1
  done
  rm -f /tmp/m.gguf
done

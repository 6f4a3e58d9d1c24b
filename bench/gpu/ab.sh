#!/bin/bash
# A/B on the GPU machine: the working tree's CUDA backend against another version of
# csrc/cuda/backend.cu (first argument, e.g. `git show HEAD~1:csrc/cuda/backend.cu > bench/gpu/ab/old-backend.cu`,
# a git-ignored folder), on random-weight models of the real shapes: pp512 + tg128, each build twice, alternating.
cd "$(dirname "$0")/../.."
OLD=$1; shift
source bench/gpu/prep.sh
cp "$OLD" csrc/cuda/ab-old.cu # compiled next to the current one so its relative includes resolve
nvcc -O3 -std=c++17 -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90a,code=sm_90a -Xcompiler -fPIC -c csrc/cuda/ab-old.cu -o /tmp/backend_old.o || exit 1
rm -f csrc/cuda/ab-old.cu
gcc -O3 -std=gnu11 -ffp-contract=off -DFH1_CUDA -I/usr/local/cuda/include -o /tmp/fh1_eval_old csrc/tools/fh1_eval.c csrc/model.c csrc/context.c csrc/gguf.c csrc/sample.c csrc/cpu/*.c quant/quants.c /tmp/backend_old.o -L/usr/local/cuda/lib64 -lcudart_static -lstdc++ -ldl -lrt -lm -lpthread || exit 1
for spec in "$@"; do set -- $spec
  /tmp/fh1_synth $1 $2 /tmp/ab.gguf 2>&1 | tail -1
  for rep in 1 2; do for b in old new; do
    exe=/tmp/fh1_eval; [ $b = old ] && exe=/tmp/fh1_eval_old
    echo "$1 $2 $b: $($exe /tmp/ab.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 128 2>&1 | tail -1)"
  done; done
done
rm -f /tmp/ab.gguf

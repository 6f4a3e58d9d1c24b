#!/bin/bash
# Runs on the GPU machine: build the C core + CUDA backend, compare every fixture case with HF.
# Data: node bench/gpu/prepare.mjs (on a machine with Node), then carry bench/gpu/data to the GPU machine.
cd "$(dirname "$0")/../.."
# the CPU side of the comparisons keeps f32 activations in prefill, as the GPU does (not the VNNI
# integer GEMM of Q8_0/Q4_K/Q6_K, which rounds them to 8 bits)
export FALCON_H1_INT8_GEMM=0
set -x
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
source bench/gpu/build.sh
gcc -O2 -o /tmp/cmp bench/gpu/cmp.c -lm
gcc -O3 -std=gnu11 -ffp-contract=off -DFH1_CUDA -I/usr/local/cuda/include -o /tmp/gemv-check bench/gpu/gemv-check.c csrc/model.c csrc/context.c csrc/gguf.c csrc/sample.c \
  csrc/cpu/*.c quant/quants.c /tmp/backend.o -L/usr/local/cuda/lib64 -lcudart_static -lstdc++ -ldl -lrt -lm -lpthread || exit 1
set +x
echo "--- decode GEMV kernels of every quantized type against a double reference"
/tmp/gemv-check
D=${FH1_GPU_DATA:-bench/gpu/data}
# every case twice: prefill GEMMs on tensor cores in split mode (f32-grade; the default rounds
# activations to bf16, see the bf16 lines below) and on CUDA cores only
for tc in ${TC_MODES:-split 0}; do export FALCON_H1_CUDA_TC=$tc; echo "--- FALCON_H1_CUDA_TC=$tc"
for m in "ta-f32 tiny-a" "ta-bf16k tiny-a" "ta-bf16 tiny-a" "tb-f32 tiny-b" "tb-f32k tiny-b"; do set -- $m
  for c in chat short long; do
    for mode in "" "--decode" "--chunks 7,50"; do
      [ -f $D/$2-$c.ids ] || continue
      /tmp/fh1_eval $D/$1.gguf $D/$2-$c.ids /tmp/o.f32 --device cuda --kv f32 $mode 2>/tmp/err.txt || { cat /tmp/err.txt; continue; }
      echo "$1 $c [$mode] $(tail -1 /tmp/err.txt | sed 's/.*eval/eval/') :: $(/tmp/cmp /tmp/o.f32 $D/$2-$c.ref 1024)"
    done
  done
done
/tmp/fh1_eval $D/ta-f32.gguf $D/long16k.ids /tmp/o16.f32 --device cuda --kv f32 --ctx 16384 2>&1 | tail -1
echo "long16k :: $(/tmp/cmp /tmp/o16.f32 $D/long16k.ref 1024 $D/long16k.pos)"
# 4096-token batches: the SSD scan runs each in 2 segments of SSD_CHUNKS chunks
/tmp/fh1_eval $D/ta-f32.gguf $D/long16k.ids /tmp/o16.f32 --device cuda --kv f32 --ctx 16384 --batch 4096 2>&1 | tail -1
echo "long16k in 4096-token batches :: $(/tmp/cmp /tmp/o16.f32 $D/long16k.ref 1024 $D/long16k.pos)"
FALCON_H1_CUDA_SSD=0 /tmp/fh1_eval $D/ta-f32.gguf $D/tiny-a-long.ids /tmp/o.f32 --device cuda --kv f32 2>/dev/null
echo "ta-f32 long, prefill scan as the chunked recurrence (FALCON_H1_CUDA_SSD=0) :: $(/tmp/cmp /tmp/o.f32 $D/tiny-a-long.ref 1024)"
[ $tc = 0 ] && /tmp/fh1_eval $D/ta-f32.gguf $D/long16k.ids /tmp/o16.f32 --device cuda --kv f32 --ctx 16384 --decode 2>&1 | tail -1
[ $tc = 0 ] && echo "long16k decoded one token at a time (split-K attention) :: $(/tmp/cmp /tmp/o16.f32 $D/long16k.ref 1024 $D/long16k.pos)"
/tmp/fh1_eval $D/ta-f32.gguf $D/tiny-a-long.ids /tmp/o.f32 --device cuda 2>/dev/null; echo "ta-f32 long f16 KV :: $(/tmp/cmp /tmp/o.f32 $D/tiny-a-long.ref 1024)"
for q in ta-q8_0:tiny-a-long.ids:1024 mini-q4km:mini.ids:2048 mini-q6k:mini.ids:2048 mini-q5km:mini.ids:2048 mini-q4_0:mini.ids:2048 mini-q4_1:mini.ids:2048 mini-q5_0:mini.ids:2048 mini-q5_1:mini.ids:2048 mini-q8_0:mini.ids:2048; do IFS=: read f ids V <<< "$q"
  /tmp/fh1_eval $D/$f.gguf $D/$ids /tmp/c.f32 --device cpu --kv f32 2>/dev/null
  /tmp/fh1_eval $D/$f.gguf $D/$ids /tmp/g.f32 --device cuda --kv f32 2>/dev/null
  echo "$f GPU vs CPU :: $(/tmp/cmp /tmp/g.f32 /tmp/c.f32 $V)"
  # decode rounds x to int8 for these weights (dp4a GEMV) on both engines: the CPU's own decode
  # error is the yardstick; FALCON_H1_CUDA_INT8=0 keeps f32 activations on the GPU
  /tmp/fh1_eval $D/$f.gguf $D/$ids /tmp/g.f32 --device cuda --kv f32 --decode 2>/dev/null
  echo "$f GPU decoded token by token (int8 x) vs CPU prefill :: $(/tmp/cmp /tmp/g.f32 /tmp/c.f32 $V)"
  /tmp/fh1_eval $D/$f.gguf $D/$ids /tmp/d.f32 --device cpu --kv f32 --decode 2>/dev/null
  echo "$f CPU decoded token by token (int8 x) vs CPU prefill :: $(/tmp/cmp /tmp/d.f32 /tmp/c.f32 $V)"
  echo "$f GPU vs CPU, both decoded token by token (int8 x; per 32 on the GPU, per 256 for K-quants on the CPU) :: $(/tmp/cmp /tmp/g.f32 /tmp/d.f32 $V)"
  FALCON_H1_CUDA_FUSE_QUANT=0 /tmp/fh1_eval $D/$f.gguf $D/$ids /tmp/u.f32 --device cuda --kv f32 --decode 2>/dev/null
  /tmp/fh1_eval $D/$f.gguf $D/$ids /tmp/g.f32 --device cuda --kv f32 --decode 2>/dev/null
  echo "$f GPU decode, int8 x from k_quant_act vs from the producing kernels (expect 0) :: $(/tmp/cmp /tmp/u.f32 /tmp/g.f32 $V)"
  FALCON_H1_CUDA_INT8=0 /tmp/fh1_eval $D/$f.gguf $D/$ids /tmp/g.f32 --device cuda --kv f32 --decode 2>/dev/null
  echo "$f GPU decoded token by token (f32 x) vs CPU prefill :: $(/tmp/cmp /tmp/g.f32 /tmp/c.f32 $V)"
done
done
unset FALCON_H1_CUDA_TC
# the default prefill (activations rounded to bf16): its distance from HF, for the record
for m in "ta-f32 tiny-a" "ta-bf16 tiny-a" "tb-f32 tiny-b"; do set -- $m
  /tmp/fh1_eval $D/$1.gguf $D/$2-long.ids /tmp/o.f32 --device cuda --kv f32 2>/dev/null
  echo "$1 long, default bf16-activation prefill :: $(/tmp/cmp /tmp/o.f32 $D/$2-long.ref 1024)"
done
export FALCON_H1_CUDA_TC=split
# real shapes (d_state 128 and 256, full-size GEMM tiles): GPU vs CPU engine on random weights
gcc -O2 -o /tmp/fh1_synth csrc/tools/fh1_synth.c quant/quants.c -lm -lpthread
awk 'BEGIN{for(i=0;i<100;i++) printf "%d ", (i*37)%30000}' > /tmp/p100.txt
for spec in "0.5b bf16" "1.5b-deep q4_k"; do set -- $spec
  /tmp/fh1_synth $1 $2 /tmp/real.gguf 2>/dev/null
  /tmp/fh1_eval /tmp/real.gguf /tmp/p100.txt /tmp/g.f32 --device cuda --kv f32 2>/dev/null; /tmp/fh1_eval /tmp/real.gguf /tmp/p100.txt /tmp/c.f32 --device cpu --kv f32 2>/dev/null
  V=$([ $1 = 0.5b ] && echo 32784 || echo 65536)
  echo "$1 $2 (100-token prefill) GPU vs CPU :: $(/tmp/cmp /tmp/g.f32 /tmp/c.f32 $V)"
  FALCON_H1_CUDA_TC=0 /tmp/fh1_eval /tmp/real.gguf /tmp/p100.txt /tmp/g.f32 --device cuda --kv f32 2>/dev/null
  echo "$1 $2 (100-token prefill, CUDA cores only) GPU vs CPU :: $(/tmp/cmp /tmp/g.f32 /tmp/c.f32 $V)"
  # decode kernels at the real head sizes (64, 128; the fixtures have 16)
  /tmp/fh1_eval /tmp/real.gguf /tmp/p100.txt /tmp/g.f32 --device cuda --kv f32 --decode 2>/dev/null
  echo "$1 $2 (100 tokens decoded one at a time) GPU vs CPU prefill :: $(/tmp/cmp /tmp/g.f32 /tmp/c.f32 $V)"
  FALCON_H1_CUDA_FUSE_MIXER=0 /tmp/fh1_eval /tmp/real.gguf /tmp/p100.txt /tmp/u.f32 --device cuda --kv f32 --decode 2>/dev/null
  echo "$1 $2 decode, scan/attention and gate/merge launched apart vs side by side (expect 0) :: $(/tmp/cmp /tmp/u.f32 /tmp/g.f32 $V)"
  FALCON_H1_CUDA_GQA_FROM=1 /tmp/fh1_eval /tmp/real.gguf /tmp/p100.txt /tmp/u.f32 --device cuda --decode 2>/dev/null
  /tmp/fh1_eval /tmp/real.gguf /tmp/p100.txt /tmp/a.f32 --device cuda --decode 2>/dev/null
  echo "$1 $2 decode (f16 KV), attention per KV head vs per query head (rounding only) :: $(/tmp/cmp /tmp/u.f32 /tmp/a.f32 $V)"
  FALCON_H1_CUDA_FUSE_QUANT=0 /tmp/fh1_eval /tmp/real.gguf /tmp/p100.txt /tmp/u.f32 --device cuda --kv f32 --decode 2>/dev/null
  echo "$1 $2 decode, int8 x from k_quant_act vs from the producing kernels (expect 0) :: $(/tmp/cmp /tmp/u.f32 /tmp/g.f32 $V)"
  FALCON_H1_CUDA_FUSE_NORM=0 /tmp/fh1_eval /tmp/real.gguf /tmp/p100.txt /tmp/u.f32 --device cuda --kv f32 --decode 2>/dev/null
  echo "$1 $2 decode, residual adds and norms launched apart vs folded into the GEMVs (16-bit files: rounding only, not 0) :: $(/tmp/cmp /tmp/u.f32 /tmp/g.f32 $V)"
  [ $2 = bf16 ] || { /tmp/fh1_eval /tmp/real.gguf /tmp/p100.txt /tmp/d.f32 --device cpu --kv f32 --decode 2>/dev/null
    echo "$1 $2 (100 tokens decoded one at a time) CPU vs CPU prefill :: $(/tmp/cmp /tmp/d.f32 /tmp/c.f32 $V)"; }
done
# the shared memory a GeForce/L4-class card gives a block (99 KiB): no wgmma, 64-token GEMM tiles in
# split mode; the same bounds must hold
for tc in split bf16; do
  FALCON_H1_CUDA_SMEM=101376 FALCON_H1_CUDA_TC=$tc /tmp/fh1_eval $D/ta-f32.gguf $D/tiny-a-long.ids /tmp/o.f32 --device cuda --kv f32 2>/dev/null
  echo "ta-f32 long, 99 KiB of shared memory, FALCON_H1_CUDA_TC=$tc :: $(/tmp/cmp /tmp/o.f32 $D/tiny-a-long.ref 1024)"
  FALCON_H1_CUDA_SMEM=101376 FALCON_H1_CUDA_TC=$tc /tmp/fh1_eval /tmp/real.gguf /tmp/p100.txt /tmp/g.f32 --device cuda --kv f32 2>/dev/null
  echo "1.5b-deep q4_k 100-token prefill, 99 KiB of shared memory, FALCON_H1_CUDA_TC=$tc, GPU vs CPU :: $(/tmp/cmp /tmp/g.f32 /tmp/c.f32 65536)"
done
rm -f /tmp/real.gguf
# decode with the norms and residual adds launched apart, against HF (the fixture runs above fold them)
for m in "ta-f32 tiny-a" "tb-f32 tiny-b" "ta-bf16k tiny-a"; do set -- $m
  FALCON_H1_CUDA_FUSE_NORM=0 /tmp/fh1_eval $D/$1.gguf $D/$2-long.ids /tmp/o.f32 --device cuda --kv f32 --decode 2>/dev/null
  echo "$1 long --decode, FALCON_H1_CUDA_FUSE_NORM=0 :: $(/tmp/cmp /tmp/o.f32 $D/$2-long.ref 1024)"
done
# the build's compute_90 PTX (binding.gyp's -gencode set), JIT-compiled by the driver instead of the
# sm_90a code: what a GPU newer than Hopper runs
nvcc -O3 -std=c++17 -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90a,code=sm_90a -gencode arch=compute_90,code=compute_90 -Xcompiler -fPIC \
  -c csrc/cuda/backend.cu -o /tmp/backend-ptx.o && { PATH=$PATH:/usr/local/cuda/bin cuobjdump --list-ptx /tmp/backend-ptx.o | head -3; }
gcc -O3 -std=gnu11 -ffp-contract=off -DFH1_CUDA -I/usr/local/cuda/include -o /tmp/fh1_eval_ptx csrc/tools/fh1_eval.c csrc/model.c csrc/context.c csrc/gguf.c csrc/sample.c \
  csrc/cpu/*.c quant/quants.c /tmp/backend-ptx.o -L/usr/local/cuda/lib64 -lcudart_static -lstdc++ -ldl -lrt -lm -lpthread
for mode in "" "--decode"; do
  CUDA_FORCE_PTX_JIT=1 /tmp/fh1_eval_ptx $D/ta-f32.gguf $D/tiny-a-long.ids /tmp/o.f32 --device cuda --kv f32 $mode 2>/dev/null
  echo "ta-f32 long [$mode], PTX JIT-compiled (CUDA_FORCE_PTX_JIT=1) :: $(/tmp/cmp /tmp/o.f32 $D/tiny-a-long.ref 1024)"
done
echo "--- compute-sanitizer memcheck (tiny-b chat, prefill + decode)"
compute-sanitizer --tool memcheck --leak-check full /tmp/fh1_eval $D/tb-f32.gguf $D/tiny-b-chat.ids /tmp/o.f32 --device cuda --chunks 5,7 2>&1 | tail -4
compute-sanitizer --tool memcheck /tmp/fh1_eval $D/ta-f32.gguf $D/tiny-a-long.ids /tmp/o.f32 --device cuda --decode 2>&1 | tail -2
compute-sanitizer --tool memcheck /tmp/fh1_eval $D/mini-q4km.gguf $D/mini.ids /tmp/o.f32 --device cuda 2>&1 | tail -2
compute-sanitizer --tool memcheck /tmp/fh1_eval $D/ta-f32.gguf $D/tiny-a-long.ids /tmp/o.f32 --device cuda --chunks 7,50 2>&1 | tail -2

#!/bin/bash
# Runs on the GPU machine: the prefill scan in the SSD form (k_ssd_*, the default) against HF and
# against the chunked recurrence (FALCON_H1_CUDA_SSD=0) at the real head shapes, memcheck, then
# prefill speed with each form (forward and scan times from FALCON_H1_CUDA_PROFILE=1).
cd "$(dirname "$0")/../.."
source bench/gpu/check-prep.sh
echo "--- fixtures against HF (split mode: f32-grade GEMMs)"
for ssd in ${SSD_MODES:-1 0}; do
  for m in "ta-f32 tiny-a" "ta-bf16k tiny-a" "ta-bf16 tiny-a" "tb-f32 tiny-b" "tb-f32k tiny-b"; do set -- $m
    for mode in "" "--chunks 7,50"; do
      FALCON_H1_CUDA_TC=split FALCON_H1_CUDA_SSD=$ssd $E $D/$1.gguf $D/$2-long.ids /tmp/o.f32 --device cuda --kv f32 $mode 2>/dev/null
      echo "SSD=$ssd $1 long [$mode] :: $(/tmp/cmp /tmp/o.f32 $D/$2-long.ref 1024)"
    done
  done
  # 4096-token batches: each runs as 2 segments of SSD_CHUNKS chunks
  FALCON_H1_CUDA_TC=split FALCON_H1_CUDA_SSD=$ssd $E $D/ta-f32.gguf $D/long16k.ids /tmp/o16.f32 --device cuda --kv f32 --ctx 16384 --batch 4096 2>/dev/null
  echo "SSD=$ssd long16k in 4096-token batches :: $(/tmp/cmp /tmp/o16.f32 $D/long16k.ref 1024 $D/long16k.pos)"
done
echo "--- real shapes, 600-token prefill (9 full chunks and one of 24): SSD vs recurrence on the GPU, GPU vs CPU"
awk 'BEGIN{for(i=0;i<600;i++) printf "%d ", (i*37)%30000}' > /tmp/p600.txt
for spec in "0.5b bf16 32784" "1.5b-deep bf16 65536" "7b bf16 65536"; do set -- $spec
  /tmp/fh1_synth $1 $2 /tmp/real.gguf > /dev/null 2>&1
  FALCON_H1_CUDA_TC=split $E /tmp/real.gguf /tmp/p600.txt /tmp/g.f32 --device cuda --kv f32 2>/dev/null
  FALCON_H1_CUDA_TC=split FALCON_H1_CUDA_SSD=0 $E /tmp/real.gguf /tmp/p600.txt /tmp/r.f32 --device cuda --kv f32 2>/dev/null
  echo "$1 $2 SSD vs recurrence (GPU) :: $(/tmp/cmp /tmp/g.f32 /tmp/r.f32 $3)"
  [ $1 = 7b ] || { $E /tmp/real.gguf /tmp/p600.txt /tmp/c.f32 --device cpu --kv f32 2>/dev/null; echo "$1 $2 GPU (SSD) vs CPU :: $(/tmp/cmp /tmp/g.f32 /tmp/c.f32 $3)"; }
done
echo "--- compute-sanitizer memcheck (SSD prefill; after 7 + 50 tokens)"
compute-sanitizer --tool memcheck $E $D/ta-f32.gguf $D/tiny-a-long.ids /tmp/o.f32 --device cuda --chunks 7,50 2>&1 | tail -2
compute-sanitizer --tool memcheck $E $D/tb-f32.gguf $D/tiny-b-long.ids /tmp/o.f32 --device cuda 2>&1 | tail -2
echo "--- prefill speed (default bf16-activation GEMMs)"
for spec in ${SSD_SPECS:-"7b bf16" "0.5b bf16" "1.5b-deep bf16"}; do set -- $spec
  /tmp/fh1_synth $1 $2 /tmp/real.gguf > /dev/null 2>&1
  for ssd in 0 1; do
    echo "== $1 $2 FALCON_H1_CUDA_SSD=$ssd"
    FALCON_H1_CUDA_SSD=$ssd $E /tmp/real.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 1 2>&1 | tail -1
    FALCON_H1_CUDA_SSD=$ssd FALCON_H1_CUDA_PROFILE=1 $E /tmp/real.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 1 2>&1 | grep 'profile T=512' | tail -1
    FALCON_H1_CUDA_SSD=$ssd $E /tmp/real.gguf /tmp/p4096.txt /dev/null --device cuda --ctx 8192 --batch 4096 --bench 1 2>&1 | tail -1
    FALCON_H1_CUDA_SSD=$ssd FALCON_H1_CUDA_PROFILE=1 $E /tmp/real.gguf /tmp/p4096.txt /dev/null --device cuda --ctx 8192 --batch 4096 --bench 1 2>&1 | grep 'profile T=4096' | tail -1
  done
done
# per-kernel times of one 7B 4096-token prefill's first layer (Nsight Compute, where installed)
export PATH=$PATH:/usr/local/cuda/bin
if command -v ncu > /dev/null && [ -n "$SSD_NCU" ]; then
  /tmp/fh1_synth 7b bf16 /tmp/real.gguf > /dev/null 2>&1
  ncu --kernel-name regex:"k_ssd|k_scan_carry|k_scan_tiled" --launch-count 8 --section SpeedOfLight $E /tmp/real.gguf /tmp/p4096.txt /dev/null --device cuda --ctx 8192 --batch 4096 2>&1 |
    grep -E "^  k_|Duration|Compute \(SM\) Throughput|Memory Throughput"
fi
rm -f /tmp/real.gguf

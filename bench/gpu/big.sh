#!/bin/bash
# The 34B BF16 (68 GB, random weights, real shape) on a 2-GPU machine: layers split over both
# cards (--split-mode layer), pp512 + tg128, pp4096, and tg32 at depth 32768. Needs ~70 GB of disk.
cd "$(dirname "$0")/../.."
source bench/gpu/prep.sh
SPLIT="--split-mode layer"; [ "$(nvidia-smi -L | wc -l)" -gt 1 ] || SPLIT=""
df -h /tmp | tail -1
time /tmp/fh1_synth 34b ${1:-bf16} /tmp/big.gguf 2>&1 | tail -1
echo "== 34b ${1:-bf16} $SPLIT"
/tmp/fh1_eval /tmp/big.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 128 $SPLIT 2>&1 | tail -1
/tmp/fh1_eval /tmp/big.gguf /tmp/p4096.txt /dev/null --device cuda --ctx 8192 --batch 4096 --bench 32 $SPLIT 2>&1 | tail -1
/tmp/fh1_eval /tmp/big.gguf /tmp/p32k.txt /dev/null --device cuda --ctx 32800 --batch 4096 --bench 32 $SPLIT 2>&1 | tail -1 | sed 's/^/depth 32768: /'
rm -f /tmp/big.gguf

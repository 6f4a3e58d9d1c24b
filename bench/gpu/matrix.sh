#!/bin/bash
# GPU speed matrix of issue 8: for each SPEC = "SIZE TYPE" (random weights, real shapes) pp512 with
# tg128, pp4096, and a 32768-token prompt (4096-token ubatches) with tg32 at that depth. Lines go to
# stdout and, when set, to $OUT/matrix.txt as they come.
cd "$(dirname "$0")/../.."
source bench/gpu/prep.sh > /dev/null 2>&1 || exit 1
log() { echo "$1"; [ -n "$OUT" ] && echo "$1" >> "$OUT/matrix.txt"; }
log "$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), HBM copy: $(/tmp/bw 2>&1 | tail -1)"
for spec in "$@"; do set -- $spec
  /tmp/fh1_synth $1 $2 /tmp/m.gguf > /dev/null 2>&1 || { log "$1 $2: synth failed"; continue; }
  log "$1 $2 ($(stat -c %s /tmp/m.gguf) bytes)"
  log "  $(/tmp/fh1_eval /tmp/m.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 128 2>&1 | tail -1)"
  log "  $(/tmp/fh1_eval /tmp/m.gguf /tmp/p4096.txt /dev/null --device cuda --ctx 8192 --batch 4096 --bench 32 2>&1 | tail -1)"
  log "  depth 32768: $(/tmp/fh1_eval /tmp/m.gguf /tmp/p32k.txt /dev/null --device cuda --ctx 32800 --batch 4096 --bench 32 2>&1 | tail -1)"
  rm -f /tmp/m.gguf
done

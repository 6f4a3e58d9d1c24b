#!/bin/bash
# A/B of runtime switches on the GPU machine, one build: pp512 + tg128 of random-weight models of
# the real shapes under each setting, alternating, twice each.
#   bash bench/gpu/env-ab.sh "FALCON_H1_PDL=0 FALCON_H1_PDL=1" "7b bf16" "0.5b bf16"
cd "$(dirname "$0")/../.."
SETTINGS=$1; shift
source bench/gpu/prep.sh
for spec in "$@"; do set -- $spec
  /tmp/fh1_synth $1 $2 /tmp/ab.gguf 2>&1 | tail -1
  for rep in 1 2; do for s in $SETTINGS; do
    echo "$1 $2 $s: $(env $s /tmp/fh1_eval /tmp/ab.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 128 2>&1 | tail -1)"
  done; done
done
rm -f /tmp/ab.gguf

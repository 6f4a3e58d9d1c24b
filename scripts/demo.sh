#!/usr/bin/env bash
# The main job on a fresh checkout: convert the tiny Falcon-H1 fixture checkpoint to GGUF,
# inspect it, and evaluate a prompt's logits with the native engine.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${FALCON_H1_SHARED:-../shared}"
out="${TMPDIR:-/tmp}/falcon-h1-demo"
mkdir -p "$out"
bin/falcon-h1.js convert "$shared/fixtures/models/tiny-a/hf" -o "$out/tiny-a-f32.gguf" --outtype f32
bin/falcon-h1.js inspect "$out/tiny-a-f32.gguf" | head -7
bin/falcon-h1.js logits "$out/tiny-a-f32.gguf" --tokens 1,12,98,397,212 --last --top 5

# Sourced by the GPU check scripts (att-mma-check, gemm-group-check, gqa-check, ssd-check), from the
# repository root: builds as prep.sh does (quietly), then the logit comparer /tmp/cmp; sets E (the
# evaluator) and D (the fixture data carried from `node bench/gpu/prepare.mjs`). The CPU side of
# any comparison keeps f32 activations in prefill, as the GPU does.
export FALCON_H1_INT8_GEMM=0
source bench/gpu/prep.sh > /dev/null 2>&1 || exit 1
gcc -O2 -o /tmp/cmp bench/gpu/cmp.c -lm || exit 1
E=/tmp/fh1_eval D=${FH1_GPU_DATA:-bench/gpu/data}

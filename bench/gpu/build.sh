# Sourced by run.sh and bench.sh on the GPU machine: builds the C core with the CUDA backend
# into /tmp/fh1_eval (sm_80 and sm_90), from the repository root. FH1_BUILT=1: already built in
# this machine session, skip.
[ -n "$FH1_BUILT" ] && [ -x /tmp/fh1_eval ] && return 0
nvcc -O3 -std=c++17 -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90a,code=sm_90a -Xcompiler -fPIC -c csrc/cuda/backend.cu -o /tmp/backend.o || exit 1
gcc -O3 -std=gnu11 -ffp-contract=off -DFH1_CUDA -I/usr/local/cuda/include -o /tmp/fh1_eval csrc/tools/fh1_eval.c csrc/model.c csrc/context.c csrc/gguf.c csrc/sample.c csrc/cpu/*.c quant/quants.c /tmp/backend.o -L/usr/local/cuda/lib64 -lcudart_static -lstdc++ -ldl -lrt -lm -lpthread || exit 1

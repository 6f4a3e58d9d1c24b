# Sourced by the GPU benchmark scripts, from the repository root: builds the C core with the CUDA
# backend (/tmp/fh1_eval), the synthetic-model writer (/tmp/fh1_synth) and the bandwidth probe
# (/tmp/bw, run once), and writes the token-id prompts /tmp/p512.txt, /tmp/p4096.txt, /tmp/p32k.txt.
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
source bench/gpu/build.sh
gcc -O2 -o /tmp/fh1_synth csrc/tools/fh1_synth.c quant/quants.c -lm -lpthread || exit 1
nvcc -O2 -o /tmp/bw bench/gpu/bw.cu && /tmp/bw
for n in 512 4096 32768; do
  awk -v n=$n 'BEGIN{for(i=0;i<n;i++) printf "%d ", (i*7)%30000}' > /tmp/p$n.txt
done
cp /tmp/p32768.txt /tmp/p32k.txt

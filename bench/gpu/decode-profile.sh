#!/bin/bash
# Where a decode step's time goes: the 7B BF16 (random weights, real shape) decoded under Nsight
# Systems with graph nodes traced, then the per-kernel time summary; without nsys, under ncu
# (NCU=0: only tg128). SIZE (first argument) 7b by default.
cd "$(dirname "$0")/../.."
source bench/gpu/prep.sh
SIZE=${1:-7b}
/tmp/fh1_synth $SIZE bf16 /tmp/dp.gguf 2>&1 | tail -1
/tmp/fh1_eval /tmp/dp.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 128 2>&1 | tail -1
NSYS=$(command -v nsys || ls /usr/local/cuda/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys /usr/local/cuda/nsight-systems*/bin/nsys 2>/dev/null | head -1)
if [ -n "$NSYS" ]; then
  $NSYS profile --cuda-graph-trace=node -t cuda -o /tmp/dp --force-overwrite true /tmp/fh1_eval /tmp/dp.gguf /tmp/p512.txt /dev/null --device cuda --ctx 8192 --bench 64 > /dev/null 2>&1
  # kernels of the decode steps only: the prefill GEMM/attention/scan kernels show up with few instances
  $NSYS stats -q --report cuda_gpu_kern_sum --format csv /tmp/dp.nsys-rep 2>/dev/null | cut -c1-220
elif [ "${NCU:-1}" = 1 ]; then
  # ncu: every kernel of 3 decode steps (a 1-token prompt takes the decode path), launched one by
  # one (no graph), time per kernel name summed over the steps
  echo 1 > /tmp/p1.txt
  FALCON_H1_CUDA_GRAPH=0 ncu --csv --metrics gpu__time_duration.sum,dram__bytes_read.sum /tmp/fh1_eval /tmp/dp.gguf /tmp/p1.txt /dev/null --device cuda --ctx 8192 --bench 2 2>/dev/null > /tmp/ncu.csv
  [ -n "$OUT" ] && cp /tmp/ncu.csv "$OUT/"
  python3 - <<'PY'
import csv, re, collections
rows = [r for r in csv.reader(open('/tmp/ncu.csv')) if len(r) > 10]
hdr = rows[0]; rows = rows[1:]
ki, mi, vi, ui = hdr.index('Kernel Name'), hdr.index('Metric Name'), hdr.index('Metric Value'), hdr.index('Metric Unit')
t = collections.defaultdict(float); b = collections.defaultdict(float); n = collections.Counter()
for r in rows:
    name = re.sub(r'[<(].*', '', r[ki]).replace('void ', '')
    v = float(r[vi].replace(',', ''))
    if r[mi] == 'gpu__time_duration.sum':
        v *= {'nsecond': 1e-3, 'ns': 1e-3, 'usecond': 1.0, 'us': 1.0, 'msecond': 1e3, 'ms': 1e3}[r[ui]]
        t[name] += v; n[name] += 1
    else:
        v *= {'byte': 1, 'B': 1, 'Kbyte': 1e3, 'KB': 1e3, 'Mbyte': 1e6, 'MB': 1e6, 'Gbyte': 1e9, 'GB': 1e9}[r[ui]]
        b[name] += v
steps = max(n.get('k_embed', 0), 1)
tot = sum(t.values()) / steps
print(f'{steps} decode steps; kernel time per step {tot:.1f} us (sum of isolated kernel durations)')
for k in sorted(t, key=lambda k: -t[k]):
    print(f'{k:28s} {n[k] / steps:6.0f}/step {t[k] / steps:9.1f} us/step {100 * t[k] / steps / tot:5.1f}%  {b[k] / max(t[k], 1e-9) / 1e3:7.0f} GB/s')
PY
fi
rm -f /tmp/dp.gguf

import { readFileSync } from 'node:fs';
import { simdName } from '../../src/engine/engine.js';

function cpuinfo(): string {
  return process.platform === 'linux' ? readFileSync('/proc/cpuinfo', 'utf8') : '';
}

/** Whether this CPU can run the prefill of BF16 weights on bf16 activations (AVX512_BF16 under the AVX-512 kernels). */
export function hasBf16Dot(): boolean {
  return /\bavx512_bf16\b/.test(cpuinfo()) && simdName() === 'avx512';
}

/** Whether it does so by default for folded files: only on AMD, where vdpbf16ps outruns the f32 FMA (bf16_gemm_x86.h). */
export function hasBf16Prefill(): boolean {
  return hasBf16Dot() && /^vendor_id\s*:\s*AuthenticAMD$/m.test(cpuinfo());
}

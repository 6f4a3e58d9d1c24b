import { readFileSync } from 'node:fs';
import { simdName } from '../../src/engine/engine.js';

/** Whether this CPU runs the prefill of BF16 weights on bf16 activations (AVX512_BF16 under the AVX-512 kernels). */
export function hasBf16Prefill(): boolean {
  return process.platform === 'linux' && /\bavx512_bf16\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) && simdName() === 'avx512';
}

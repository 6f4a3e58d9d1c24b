// float32 → storage encodings used by convert (round to nearest even, as ggml and gguf-py do).

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function floatToBf16Bits(x: number): number {
  f32[0] = x;
  const u = u32[0];
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 64) & 0xffff; // quiet NaN
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

export function floatToHalfBits(x: number): number {
  f32[0] = x;
  const u = u32[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00; // overflow → inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && (r & 1))) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) r++; // carries into the exponent correctly
  return sign | r;
}

export function encodeF32(src: Float32Array): Uint8Array {
  return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
}

export function encodeBf16(src: Float32Array): Uint8Array {
  const out = new Uint16Array(src.length);
  const u = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) {
    const b = u[i];
    out[i] = (b & 0x7fffffff) > 0x7f800000 ? ((b >>> 16) | 64) & 0xffff : ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return new Uint8Array(out.buffer);
}

export function encodeF16(src: Float32Array): Uint8Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = floatToHalfBits(src[i]);
  return new Uint8Array(out.buffer);
}

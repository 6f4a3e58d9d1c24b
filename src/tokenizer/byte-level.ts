// GPT-2's reversible byte ↔ printable-character map used by byte-level BPE.

export const BYTE_TO_CHAR: string[] = [];
export const CHAR_TO_BYTE = new Map<string, number>();

{
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const cp = keep.includes(b) ? b : 256 + n++;
    BYTE_TO_CHAR[b] = String.fromCodePoint(cp);
    CHAR_TO_BYTE.set(BYTE_TO_CHAR[b], b);
  }
}

/** Inverse of the byte-level mapping for one token; a token with any character outside the map
 * (e.g. an added token's text) is taken as its own UTF-8, as tokenizers does. */
export function bytesFromByteLevel(s: string): Buffer {
  const out: number[] = [];
  for (const ch of s) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) return Buffer.from(s, 'utf8');
    out.push(b);
  }
  return Buffer.from(out);
}

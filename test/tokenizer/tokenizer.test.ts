import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { FIXTURES } from '../helpers/fixtures.js';

const NAMES = ['bpe-llama3', 'bpe-digits', 'bpe-gpt2'];

interface Case {
  text: string;
  ids: number[];
  tokens: string[];
  ids_with_special: number[];
  decoded: string;
  decoded_skip_special: string;
}

for (const name of NAMES) {
  describe(`tokenizer ${name} equals HF tokenizers`, () => {
    const dir = join(FIXTURES, 'tokenizers', name);
    const tok = Tokenizer.fromJson(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { encode: Case[] };
    for (const c of ref.encode) {
      it(JSON.stringify(c.text.slice(0, 40)), () => {
        const ids = tok.encode(c.text);
        expect(ids).toEqual(c.ids);
        expect(tok.tokens(ids)).toEqual(c.tokens);
        expect(tok.encode(c.text, { addSpecialTokens: true })).toEqual(c.ids_with_special);
        expect(tok.decode(c.ids)).toBe(c.decoded);
        expect(tok.decode(c.ids, { skipSpecialTokens: true })).toBe(c.decoded_skip_special);
      });
    }
  });
}

import { readGGUF } from '../../src/gguf/reader.js';
import { tokenizerFromGGUF } from '../../src/tokenizer/from-gguf.js';
import { modelDir } from '../helpers/fixtures.js';

describe('tokenizer from a GGUF without tokenizer.json (llama.cpp file)', () => {
  const tok = tokenizerFromGGUF(readGGUF(modelDir('tiny-a/llamacpp/model-f32.gguf')));
  const ref = JSON.parse(readFileSync(join(FIXTURES, 'tokenizers', 'bpe-llama3', 'reference.json'), 'utf8')) as { encode: Case[] };
  it('encodes and decodes every fixture string as HF does', () => {
    for (const c of ref.encode) {
      expect(tok.encode(c.text), c.text).toEqual(c.ids);
      expect(tok.decode(c.ids)).toBe(c.decoded);
      expect(tok.decode(c.ids, { skipSpecialTokens: true })).toBe(c.decoded_skip_special);
    }
  });
  it('encodes the e2e chat prompts', () => {
    const e2e = JSON.parse(readFileSync(join(modelDir('tiny-a'), 'e2e.json'), 'utf8'));
    for (const c of e2e.cases) expect(tok.encode(c.prompt_text)).toEqual(c.prompt_ids);
  });
});

describe('streaming detokenisation', () => {
  const tok = Tokenizer.fromJson(readFileSync(join(FIXTURES, 'tokenizers', 'bpe-gpt2', 'tokenizer.json'), 'utf8'));
  it('never prints a split multi-byte character, and the pieces add up to the full decode', () => {
    for (const text of ['猎鹰在山谷上空高高盘旋。', 'Emoji: 😀 👩‍👩‍👧 🇫🇷 ✈️', 'बाज़ घाटी के ऊपर', 'plain ascii text']) {
      const ids = tok.encode(text);
      const s = tok.decodeStream();
      let out = '';
      for (const id of ids) {
        const piece = s.push(id);
        expect(piece.includes('\uFFFD'), JSON.stringify(piece)).toBe(false);
        out += piece;
      }
      out += s.flush();
      expect(out).toBe(tok.decode(ids));
    }
  });
});

describe('special tokens and post-processing', () => {
  const digits = Tokenizer.fromJson(readFileSync(join(FIXTURES, 'tokenizers', 'bpe-digits', 'tokenizer.json'), 'utf8'));
  it('parseSpecial=false treats special-token text as text', () => {
    const a = digits.encode('<|im_start|>x');
    const b = digits.encode('<|im_start|>x', { parseSpecial: false });
    expect(a[0]).toBe(12);
    expect(b).not.toContain(12);
    expect(digits.decode(b)).toContain('<');
  });
  it('knows which tokenizers add a BOS', () => {
    expect(digits.addsBos).toBe(true);
    expect(Tokenizer.fromJson(readFileSync(join(FIXTURES, 'tokenizers', 'bpe-llama3', 'tokenizer.json'), 'utf8')).addsBos).toBe(false);
  });
});

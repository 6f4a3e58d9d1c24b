// The pipeline stages of a Hugging Face tokenizer.json, each built from its JSON description:
// normalizers (string → string), pre-tokenizers (pieces → pieces), decoders (tokens → tokens).

import { FalconError } from '../util/errors.js';
import { compilePattern, escapeRegex } from './regex.js';
import { BYTE_TO_CHAR, bytesFromByteLevel } from './byte-level.js';

type Json = Record<string, unknown>;

function bad(what: string, spec: unknown): never {
  throw new FalconError(`tokenizer.json: unsupported ${what} ${JSON.stringify(spec).slice(0, 120)}`);
}

function patternOf(p: unknown): RegExp {
  const o = p as { String?: string; Regex?: string };
  if (typeof o?.String === 'string') return new RegExp(escapeRegex(o.String), 'gu');
  if (typeof o?.Regex === 'string') return compilePattern(o.Regex);
  return bad('pattern', p);
}

// ---- normalizers -----------------------------------------------------------------------------

export type Normalizer = (s: string) => string;

export function buildNormalizer(spec: unknown): Normalizer | null {
  if (spec == null) return null;
  const n = spec as Json;
  switch (n.type) {
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = n.type as string;
      return (s) => s.normalize(form);
    }
    case 'Lowercase':
      return (s) => s.toLowerCase();
    case 'Replace': {
      const re = patternOf(n.pattern);
      const content = String(n.content ?? '');
      return (s) => s.replace(re, () => content);
    }
    case 'Prepend': {
      const pre = String(n.prepend ?? '');
      return (s) => (s.length ? pre + s : s);
    }
    case 'Strip': {
      const left = n.strip_left !== false;
      const right = n.strip_right !== false;
      return (s) => {
        let r = s;
        if (left) r = r.replace(/^\s+/u, '');
        if (right) r = r.replace(/\s+$/u, '');
        return r;
      };
    }
    case 'StripAccents':
      return (s) => s.replace(/\p{Mn}/gu, '');
    case 'Sequence': {
      const list = ((n.normalizers as unknown[]) ?? []).map(buildNormalizer).filter((x): x is Normalizer => !!x);
      return (s) => list.reduce((acc, f) => f(acc), s);
    }
    default:
      return bad('normalizer', spec);
  }
}

// ---- pre-tokenizers --------------------------------------------------------------------------

export type PreTokenizer = (pieces: string[]) => string[];

type Behavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/** Split one piece around the matches of `re`, combining them with the rest as `behavior` says. */
export function splitPiece(s: string, re: RegExp, behavior: Behavior, invert = false): string[] {
  const segs: { text: string; delim: boolean }[] = [];
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    if (m.index > last) segs.push({ text: s.slice(last, m.index), delim: invert });
    segs.push({ text: m[0], delim: !invert });
    last = m.index + m[0].length;
  }
  if (last < s.length) segs.push({ text: s.slice(last), delim: invert });
  const out: string[] = [];
  switch (behavior) {
    case 'Removed':
      for (const g of segs) if (!g.delim) out.push(g.text);
      break;
    case 'Isolated':
      for (const g of segs) out.push(g.text);
      break;
    case 'Contiguous': {
      let prevDelim = false;
      for (const g of segs) {
        if (g.delim && prevDelim) out[out.length - 1] += g.text;
        else out.push(g.text);
        prevDelim = g.delim;
      }
      break;
    }
    case 'MergedWithPrevious': {
      let prevDelim = true;
      for (const g of segs) {
        if (g.delim && out.length && !prevDelim) out[out.length - 1] += g.text;
        else out.push(g.text);
        prevDelim = g.delim;
      }
      break;
    }
    case 'MergedWithNext': {
      let carry = '';
      for (const g of segs) {
        if (g.delim) carry += g.text;
        else {
          out.push(carry + g.text);
          carry = '';
        }
      }
      if (carry) out.push(carry);
      break;
    }
  }
  return out.filter((x) => x.length > 0);
}

const GPT2_SPLIT = compilePattern("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
const PUNCT = /[\p{P}!-/:-@[-`{-~]/gu;
const WORD_CLASS = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
const WHITESPACE_WORDS = new RegExp(`[${WORD_CLASS}]+|[^${WORD_CLASS}\\s]+`, 'gu');

export function toByteLevel(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += BYTE_TO_CHAR[b];
  return out;
}

export function buildPreTokenizer(spec: unknown): PreTokenizer | null {
  if (spec == null) return null;
  const p = spec as Json;
  const flatMap = (f: (s: string) => string[]) => (pieces: string[]) => pieces.flatMap(f);
  switch (p.type) {
    case 'Split':
      return flatMap((s) => splitPiece(s, patternOf(p.pattern), (p.behavior as Behavior) ?? 'Isolated', !!p.invert));
    case 'ByteLevel': {
      const prefix = p.add_prefix_space === true;
      const useRegex = p.use_regex !== false;
      return (pieces) =>
        pieces
          .flatMap((s) => {
            const t = prefix && !s.startsWith(' ') ? ' ' + s : s;
            return useRegex ? splitPiece(t, GPT2_SPLIT, 'Isolated') : [t];
          })
          .map(toByteLevel);
    }
    case 'Digits':
      return flatMap((s) => splitPiece(s, /\p{N}/gu, p.individual_digits ? 'Isolated' : 'Contiguous'));
    case 'Punctuation':
      return flatMap((s) => splitPiece(s, PUNCT, (p.behavior as Behavior) ?? 'Isolated'));
    case 'Whitespace':
      return flatMap((s) => splitPiece(s, WHITESPACE_WORDS, 'Removed', true));
    case 'WhitespaceSplit':
      return flatMap((s) => splitPiece(s, /\s+/gu, 'Removed'));
    case 'Sequence': {
      const list = ((p.pretokenizers as unknown[]) ?? []).map(buildPreTokenizer).filter((x): x is PreTokenizer => !!x);
      return (pieces) => list.reduce((acc, f) => f(acc), pieces);
    }
    default:
      return bad('pre-tokenizer', spec);
  }
}

// ---- decoders --------------------------------------------------------------------------------

export type Decoder = (tokens: string[]) => string[];

export function buildDecoder(spec: unknown): Decoder | null {
  if (spec == null) return null;
  const d = spec as Json;
  switch (d.type) {
    case 'ByteLevel':
      // per token: its bytes if every character is in the byte map, else its own UTF-8 (added tokens)
      return (tokens) => [Buffer.concat(tokens.map(bytesFromByteLevel)).toString('utf8')];
    case 'Replace': {
      const re = patternOf(d.pattern);
      const content = String(d.content ?? '');
      return (tokens) => tokens.map((t) => t.replace(re, () => content));
    }
    case 'Strip': {
      const c = String(d.content ?? ' ');
      const start = Number(d.start ?? 0);
      const stop = Number(d.stop ?? 0);
      return (tokens) =>
        tokens.map((t) => {
          let a = 0;
          let b = t.length;
          for (let i = 0; i < start && t.startsWith(c, a); i++) a += c.length;
          for (let i = 0; i < stop && b - c.length >= a && t.slice(b - c.length, b) === c; i++) b -= c.length;
          return t.slice(a, b);
        });
    }
    case 'Fuse':
      return (tokens) => [tokens.join('')];
    case 'ByteFallback':
      return (tokens) => {
        const out: string[] = [];
        let bytes: number[] = [];
        const flush = () => {
          if (bytes.length) out.push(Buffer.from(bytes).toString('utf8'));
          bytes = [];
        };
        for (const t of tokens) {
          const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(t);
          if (m) bytes.push(parseInt(m[1], 16));
          else {
            flush();
            out.push(t);
          }
        }
        flush();
        return out;
      };
    case 'Metaspace': {
      const rep = String(d.replacement ?? '▁');
      const strip = d.prepend_scheme !== 'never' && d.add_prefix_space !== false;
      return (tokens) =>
        tokens.map((t, i) => {
          const r = t.split(rep).join(' ');
          return i === 0 && strip && r.startsWith(' ') ? r.slice(1) : r;
        });
    }
    case 'Sequence': {
      const list = ((d.decoders as unknown[]) ?? []).map(buildDecoder).filter((x): x is Decoder => !!x);
      return (tokens) => list.reduce((acc, f) => f(acc), tokens);
    }
    default:
      return bad('decoder', spec);
  }
}

// A Hugging Face tokenizer.json, evaluated with the same semantics as the `tokenizers` library:
// added tokens → normalizer → pre-tokenizer → BPE → post-processor; and the decoder chain back.

import { FalconError } from '../util/errors.js';
import { Bpe } from './bpe.js';
import { buildDecoder, buildNormalizer, buildPreTokenizer, type Decoder, type Normalizer, type PreTokenizer } from './components.js';
import { escapeRegex } from './regex.js';

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  singleWord: boolean;
}

export interface EncodeOptions {
  /** Add the post-processor's special tokens (e.g. a BOS). Default false. */
  addSpecialTokens?: boolean;
  /** Recognise special tokens written in the text (HF does; default true). */
  parseSpecial?: boolean;
}

interface TemplatePiece {
  special?: string;
  sequence?: boolean;
}

const IS_WS = /\s/u;
const IS_WORD = /[\p{L}\p{N}_]/u;

export class Tokenizer {
  readonly added: AddedToken[] = [];
  private addedById = new Map<number, AddedToken>();
  private addedByContent = new Map<string, AddedToken>();
  private idToToken: string[] = [];
  private normalizer: Normalizer | null;
  private preTokenizer: PreTokenizer | null;
  private decoder: Decoder | null;
  private bpe: Bpe;
  private template: { pieces: TemplatePiece[]; specials: Map<string, number[]> } | null = null;
  private matchers = new Map<string, RegExp | null>();

  constructor(readonly json: Record<string, unknown>) {
    const model = json.model as Record<string, unknown>;
    if (!model || model.type !== 'BPE') throw new FalconError(`tokenizer.json: model type ${JSON.stringify(model?.type)} is not supported (BPE only)`);
    const vocab = new Map<string, number>(Object.entries((model.vocab as Record<string, number>) ?? {}));
    const merges = ((model.merges as unknown[]) ?? []).map((m): [string, string] => {
      if (typeof m === 'string') {
        const i = m.indexOf(' ', 1);
        return [m.slice(0, i), m.slice(i + 1)];
      }
      return m as [string, string];
    });
    this.bpe = new Bpe({
      vocab,
      merges,
      unkToken: model.unk_token as string | null,
      continuingSubwordPrefix: model.continuing_subword_prefix as string | null,
      endOfWordSuffix: model.end_of_word_suffix as string | null,
      byteFallback: !!model.byte_fallback,
      ignoreMerges: !!model.ignore_merges,
      fuseUnk: !!model.fuse_unk,
    });
    for (const [t, id] of vocab) this.idToToken[id] = t;
    for (const a of (json.added_tokens as Record<string, unknown>[]) ?? []) {
      const tok: AddedToken = {
        id: a.id as number,
        content: a.content as string,
        special: !!a.special,
        lstrip: !!a.lstrip,
        rstrip: !!a.rstrip,
        normalized: !!a.normalized,
        singleWord: !!a.single_word,
      };
      this.added.push(tok);
      this.addedById.set(tok.id, tok);
      this.addedByContent.set(tok.content, tok);
      this.idToToken[tok.id] = tok.content;
    }
    this.normalizer = buildNormalizer(json.normalizer);
    this.preTokenizer = buildPreTokenizer(json.pre_tokenizer);
    this.decoder = buildDecoder(json.decoder);
    this.template = buildTemplate(json.post_processor);
  }

  static fromJson(text: string): Tokenizer {
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch (e) {
      throw new FalconError(`tokenizer.json: invalid JSON (${(e as Error).message})`);
    }
    if (!j || typeof j !== 'object') throw new FalconError('tokenizer.json: not an object');
    return new Tokenizer(j as Record<string, unknown>);
  }

  get vocabSize(): number {
    return this.idToToken.length;
  }

  tokenId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.bpe.vocab.get(token);
  }

  idToPiece(id: number): string | undefined {
    return this.idToToken[id];
  }

  isSpecial(id: number): boolean {
    return !!this.addedById.get(id)?.special;
  }

  addedToken(id: number): AddedToken | undefined {
    return this.addedById.get(id);
  }

  /** Whether the post-processor adds a leading special token (a BOS). */
  get addsBos(): boolean {
    return !!this.template && this.template.pieces.length > 0 && !!this.template.pieces[0].special;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const parseSpecial = opts.parseSpecial ?? true;
    const ids: number[] = [];
    // 1. added tokens matched on the raw text (normalized: false), 2. on the normalized rest
    for (const seg of this.splitAdded(text, false, parseSpecial)) {
      if (typeof seg === 'number') {
        ids.push(seg);
        continue;
      }
      const norm = this.normalizer ? this.normalizer(seg) : seg;
      for (const seg2 of this.splitAdded(norm, true, parseSpecial)) {
        if (typeof seg2 === 'number') ids.push(seg2);
        else {
          const pieces = this.preTokenizer ? this.preTokenizer([seg2]) : [seg2];
          for (const p of pieces) for (const id of this.bpe.tokenizeWord(p)) ids.push(id);
        }
      }
    }
    return opts.addSpecialTokens ? this.postProcess(ids) : ids;
  }

  tokens(ids: number[]): string[] {
    return ids.map((i) => this.idToToken[i] ?? '');
  }

  private postProcess(ids: number[]): number[] {
    if (!this.template) return ids;
    const out: number[] = [];
    for (const p of this.template.pieces) {
      if (p.sequence) out.push(...ids);
      else if (p.special) out.push(...(this.template.specials.get(p.special) ?? []));
    }
    return out;
  }

  /** Splits text into strings and added-token ids (leftmost-longest, with lstrip/rstrip/single_word). */
  private splitAdded(text: string, normalized: boolean, parseSpecial: boolean): (string | number)[] {
    const key = `${normalized}/${parseSpecial}`;
    let re = this.matchers.get(key);
    if (re === undefined) {
      const toks = this.added.filter((a) => a.normalized === normalized && (parseSpecial || !a.special) && a.content.length > 0);
      toks.sort((a, b) => b.content.length - a.content.length);
      re = toks.length ? new RegExp(toks.map((t) => escapeRegex(t.content)).join('|'), 'gu') : null;
      this.matchers.set(key, re);
    }
    if (!re || !text) return text ? [text] : [];
    const out: (string | number)[] = [];
    let last = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const tok = this.addedByContent.get(m[0])!;
      let start = m.index;
      let end = start + m[0].length;
      if (tok.singleWord) {
        const before = start > 0 ? text[start - 1] : '';
        const after = end < text.length ? text[end] : '';
        if ((before && IS_WORD.test(before)) || (after && IS_WORD.test(after))) continue;
      }
      if (tok.lstrip) while (start > last && IS_WS.test(text[start - 1])) start--;
      if (tok.rstrip) while (end < text.length && IS_WS.test(text[end])) end++;
      if (start > last) out.push(text.slice(last, start));
      out.push(tok.id);
      last = end;
      re.lastIndex = end;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }

  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    // As tokenizers does: every token (added ones included) goes through the decoder chain;
    // without a decoder, tokens are joined with spaces.
    const tokens: string[] = [];
    for (const id of ids) {
      const t = this.idToToken[id];
      if (t === undefined) continue;
      if (opts.skipSpecialTokens && this.addedById.get(id)?.special) continue;
      tokens.push(t);
    }
    return this.decoder ? this.decoder(tokens).join('') : tokens.join(' ');
  }

  /** Incremental decoder: feed ids one by one, get text only once characters are complete. */
  decodeStream(opts: { skipSpecialTokens?: boolean } = {}): TokenStream {
    return new TokenStream(this, opts.skipSpecialTokens ?? false);
  }
}

export class TokenStream {
  private ids: number[] = [];
  private emitted = '';

  constructor(
    private tok: Tokenizer,
    private skip: boolean,
  ) {}

  /** Returns the new text made complete by this id ('' while a character is still split). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.tok.decode(this.ids, { skipSpecialTokens: this.skip });
    // hold back a trailing replacement character: it is usually an incomplete UTF-8 sequence
    const stable = text.endsWith('\uFFFD') ? text.slice(0, -1) : text;
    if (!stable.startsWith(this.emitted)) {
      // an earlier piece changed meaning (rare); emit what differs from here on
      const out = stable.slice(this.emitted.length);
      this.emitted = stable;
      return out;
    }
    const out = stable.slice(this.emitted.length);
    this.emitted = stable;
    if (this.ids.length > 64 && !text.endsWith('\uFFFD')) {
      // keep the window short: decoding is only context-dependent inside a character
      this.ids = [];
      this.emitted = '';
    }
    return out;
  }

  /** Whatever is still held back (e.g. a truly invalid byte at the end). */
  flush(): string {
    const text = this.tok.decode(this.ids, { skipSpecialTokens: this.skip });
    const out = text.slice(this.emitted.length);
    this.ids = [];
    this.emitted = '';
    return out;
  }
}

function buildTemplate(spec: unknown): { pieces: TemplatePiece[]; specials: Map<string, number[]> } | null {
  if (spec == null) return null;
  const p = spec as Record<string, unknown>;
  switch (p.type) {
    case 'ByteLevel':
      return null;
    case 'TemplateProcessing': {
      const pieces: TemplatePiece[] = ((p.single as Record<string, { id: string }>[]) ?? []).map((x) =>
        x.SpecialToken ? { special: x.SpecialToken.id } : { sequence: true },
      );
      const specials = new Map<string, number[]>();
      for (const [k, v] of Object.entries((p.special_tokens as Record<string, { ids: number[] }>) ?? {})) specials.set(k, v.ids);
      return { pieces, specials };
    }
    case 'RobertaProcessing':
    case 'BertProcessing': {
      const cls = p.cls as [string, number];
      const sep = p.sep as [string, number];
      return {
        pieces: [{ special: cls[0] }, { sequence: true }, { special: sep[0] }],
        specials: new Map([
          [cls[0], [cls[1]]],
          [sep[0], [sep[1]]],
        ]),
      };
    }
    case 'Sequence': {
      for (const x of (p.processors as unknown[]) ?? []) {
        const t = buildTemplate(x);
        if (t) return t;
      }
      return null;
    }
    default:
      throw new FalconError(`tokenizer.json: unsupported post-processor ${JSON.stringify(p.type)}`);
  }
}

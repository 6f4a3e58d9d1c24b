// Builds llama.cpp's gpt2-style tokenizer metadata from a Hugging Face tokenizer.json, plus the
// exact tokenizer.json itself (so our tokenizer can reproduce HF's behaviour from the GGUF alone).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GGUFEntry } from '../gguf/reader.js';
import { Keys } from '../gguf/schema.js';
import { kv } from '../gguf/writer.js';
import { BadFileError } from '../util/errors.js';
import type { FalconH1Config } from './hf-config.js';
import { readJsonFile } from './hf-config.js';

export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

interface AddedToken {
  id: number;
  content: string;
  special?: boolean;
  normalized?: boolean;
}

function looksSpecial(t: string): boolean {
  return (t.startsWith('<|') && t.endsWith('|>')) || (t.startsWith('<｜') && t.endsWith('｜>')) || ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(t);
}

function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

export interface VocabResult {
  entries: GGUFEntry[];
  tokenizerJson: string;
  /** Ids that end a turn: eos, generation_config eos ids. */
  eosIds: number[];
}

export function buildVocabEntries(dir: string, cfg: FalconH1Config): VocabResult {
  const tokPath = join(dir, 'tokenizer.json');
  if (!existsSync(tokPath)) throw new BadFileError(dir, 'no tokenizer.json');
  const tokenizerJson = readFileSync(tokPath, 'utf8');
  const tok = readJsonFile(tokPath) as { model?: { type?: string; vocab?: Record<string, number>; merges?: unknown[] }; added_tokens?: AddedToken[]; post_processor?: unknown };
  if (!tok.model || tok.model.type !== 'BPE' || !tok.model.vocab || !Array.isArray(tok.model.merges)) {
    throw new BadFileError(tokPath, 'expected a BPE model with vocab and merges');
  }
  const V = cfg.vocabSize;
  const tokens: (string | undefined)[] = new Array(V);
  const added = new Map<number, AddedToken>();
  for (const [t, id] of Object.entries(tok.model.vocab)) {
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new BadFileError(tokPath, `token id ${id} of ${JSON.stringify(t)} is outside vocab_size ${V}`);
    tokens[id] = t;
  }
  for (const a of tok.added_tokens ?? []) {
    if (!Number.isInteger(a.id) || a.id < 0 || a.id >= V) throw new BadFileError(tokPath, `added token id ${a.id} is outside vocab_size ${V}`);
    tokens[a.id] = a.content;
    added.set(a.id, a);
  }
  const types: number[] = new Array(V);
  const list: string[] = new Array(V);
  for (let i = 0; i < V; i++) {
    const t = tokens[i];
    if (t === undefined) {
      list[i] = `[PAD${i}]`;
      types[i] = TokenType.UNUSED;
      continue;
    }
    list[i] = t;
    const a = added.get(i);
    types[i] = a ? (a.special || looksSpecial(t) ? TokenType.CONTROL : TokenType.USER_DEFINED) : TokenType.NORMAL;
  }

  const merges = tok.model.merges.map((m) => {
    if (typeof m === 'string') return m;
    if (Array.isArray(m) && m.length === 2) return m.map((p: string) => p.replace(/ /g, '\u0120')).join(' ');
    throw new BadFileError(tokPath, `bad merge ${JSON.stringify(m)}`);
  });

  const entries: GGUFEntry[] = [
    kv.str(Keys.tokModel, 'gpt2'),
    kv.str(Keys.tokPre, 'falcon-h1'),
    kv.strArr(Keys.tokTokens, list),
    kv.i32Arr(Keys.tokTypes, types),
    kv.strArr(Keys.tokMerges, merges),
  ];

  // Special ids: tokenizer_config strings matched against added tokens, else config.json ids.
  const tcPath = join(dir, 'tokenizer_config.json');
  const tc = existsSync(tcPath) ? (readJsonFile(tcPath) as Record<string, unknown>) : {};
  const byContent = new Map<string, number>();
  for (const a of added.values()) byContent.set(a.content, a.id);
  const cfgIds: Record<string, number | undefined> = {
    bos: cfg.bosTokenId,
    eos: typeof cfg.eosTokenId === 'number' ? cfg.eosTokenId : cfg.eosTokenId?.[0],
    pad: cfg.padTokenId,
  };
  const ids: Record<string, number | undefined> = {};
  const keyOf: Record<string, string> = { bos: Keys.tokBos, eos: Keys.tokEos, unk: Keys.tokUnk, sep: Keys.tokSep, pad: Keys.tokPad };
  for (const k of ['bos', 'eos', 'unk', 'sep', 'pad']) {
    const content = tokenContent(tc[`${k}_token`]);
    let id = content !== undefined ? (byContent.get(content) ?? tok.model.vocab[content]) : undefined;
    if (id === undefined) id = cfgIds[k];
    if (id !== undefined && id >= 0 && id < V) {
      ids[k] = id;
      entries.push(kv.u32(keyOf[k], id));
    }
  }
  if (typeof tc.add_bos_token === 'boolean') entries.push(kv.bool(Keys.tokAddBos, tc.add_bos_token));
  if (typeof tc.add_eos_token === 'boolean') entries.push(kv.bool(Keys.tokAddEos, tc.add_eos_token));

  let template = typeof tc.chat_template === 'string' ? tc.chat_template : undefined;
  const jinjaPath = join(dir, 'chat_template.jinja');
  if (!template && existsSync(jinjaPath)) template = readFileSync(jinjaPath, 'utf8');
  if (template) entries.push(kv.str(Keys.chatTemplate, template));

  // Turn-ending ids: the tokenizer's eos, generation_config's eos list, and <|im_end|> if present.
  const eos = new Set<number>();
  if (ids.eos !== undefined) eos.add(ids.eos);
  const gcPath = join(dir, 'generation_config.json');
  if (existsSync(gcPath)) {
    const gc = readJsonFile(gcPath) as { eos_token_id?: number | number[] };
    const g = gc.eos_token_id;
    for (const id of Array.isArray(g) ? g : g === undefined ? [] : [g]) if (Number.isInteger(id) && id >= 0 && id < V) eos.add(id);
  }
  const imEnd = byContent.get('<|im_end|>');
  if (imEnd !== undefined) eos.add(imEnd);
  return { entries, tokenizerJson, eosIds: [...eos] };
}

// The tokenizer of a GGUF file: the exact tokenizer.json we embed (tokenizer.huggingface.json), or,
// for llama.cpp's and TII's files, an equivalent one rebuilt from tokenizer.ggml.* metadata.

import { getArray, getBool, getNumber, getString, type GGUFFile } from '../gguf/reader.js';
import { Keys } from '../gguf/schema.js';
import { BadFileError } from '../util/errors.js';
import { Tokenizer } from './tokenizer.js';

const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3_PRE = new Set(['falcon-h1', 'llama3', 'llama-bpe', 'falcon3', 'llama-v3']);
const CONTROL = 3;
const USER_DEFINED = 4;

export function tokenizerFromGGUF(f: GGUFFile): Tokenizer {
  const embedded = getString(f, Keys.hfTokenizerJson);
  if (embedded) return Tokenizer.fromJson(embedded);

  const model = getString(f, Keys.tokModel);
  if (model !== 'gpt2') throw new BadFileError(f.path, `tokenizer model '${model ?? '(none)'}' is not supported (byte-level BPE 'gpt2' only)`);
  const tokens = getArray(f, Keys.tokTokens) as string[] | undefined;
  const merges = (getArray(f, Keys.tokMerges) as string[] | undefined) ?? [];
  if (!tokens) throw new BadFileError(f.path, 'no tokenizer.ggml.tokens');
  const types = (getArray(f, Keys.tokTypes) as number[] | undefined) ?? [];
  const pre = getString(f, Keys.tokPre) ?? 'default';

  const vocab: Record<string, number> = {};
  const added: Record<string, unknown>[] = [];
  tokens.forEach((t, id) => {
    if (types[id] === CONTROL || types[id] === USER_DEFINED) {
      added.push({ id, content: t, special: types[id] === CONTROL, lstrip: false, rstrip: false, normalized: false, single_word: false });
    }
    if (!(t in vocab)) vocab[t] = id;
  });
  const llama3 = LLAMA3_PRE.has(pre);
  const json: Record<string, unknown> = {
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: llama3
      ? {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: LLAMA3_SPLIT }, behavior: 'Isolated', invert: false },
            { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
          ],
        }
      : { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', vocab, merges, ignore_merges: llama3, byte_fallback: false, unk_token: null },
  };
  // HF's Falcon-H1 tokenizer adds no BOS; only an explicit add_bos_token turns it on.
  const bos = getNumber(f, Keys.tokBos);
  if (getBool(f, Keys.tokAddBos) === true && bos !== undefined && tokens[bos] !== undefined) {
    json.post_processor = {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: tokens[bos], type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [],
      special_tokens: { [tokens[bos]]: { id: tokens[bos], ids: [bos], tokens: [tokens[bos]] } },
    };
  }
  return new Tokenizer(json);
}

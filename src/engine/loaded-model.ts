// A model ready for text: the native weights, the tokenizer and chat template from the same GGUF,
// and the ids that end a turn.

import { readGGUF, getArray, getNumber, getString } from '../gguf/reader.js';
import { modelInfo, type ModelInfo } from '../gguf/model-info.js';
import { Keys } from '../gguf/schema.js';
import { ChatTemplate, FALCON_H1_FALLBACK_TEMPLATE } from '../tokenizer/chat.js';
import { tokenizerFromGGUF } from '../tokenizer/from-gguf.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { Model } from './engine.js';

export interface LoadedModel {
  path: string;
  model: Model;
  info: ModelInfo;
  tokenizer: Tokenizer;
  template: ChatTemplate;
  hasOwnTemplate: boolean;
  bosToken: string;
  eosToken: string;
  stopTokens: number[];
}

export async function loadModel(path: string, opts: { chatTemplate?: string } = {}): Promise<LoadedModel> {
  const f = readGGUF(path);
  const info = modelInfo(f);
  const tokenizer = tokenizerFromGGUF(f);
  const own = getString(f, Keys.chatTemplate);
  const template = new ChatTemplate(opts.chatTemplate ?? own ?? FALCON_H1_FALLBACK_TEMPLATE);
  const bos = getNumber(f, Keys.tokBos);
  const eos = getNumber(f, Keys.tokEos);
  const stops = new Set<number>();
  if (eos !== undefined) stops.add(eos);
  for (const id of (getArray(f, Keys.tokEosIds) as number[] | undefined) ?? []) stops.add(id);
  const imEnd = tokenizer.tokenId('<|im_end|>');
  if (imEnd !== undefined) stops.add(imEnd);
  const model = await Model.load(path);
  return {
    path,
    model,
    info,
    tokenizer,
    template,
    hasOwnTemplate: !!own || !!opts.chatTemplate,
    bosToken: bos !== undefined ? (tokenizer.idToPiece(bos) ?? '') : '',
    eosToken: eos !== undefined ? (tokenizer.idToPiece(eos) ?? '') : '',
    stopTokens: [...stops],
  };
}

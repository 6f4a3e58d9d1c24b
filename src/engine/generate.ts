// Generation as one async iterator of records (STYLE.md): the native loop samples and decodes;
// token ids arrive here in batches and are turned into text, with stop strings checked on text.

import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { Context } from './engine.js';
import type { NativeGenerateResult, NativeSamplingParams } from './native.js';

export type SamplingParams = NativeSamplingParams;

export interface GenerateOptions {
  nPredict?: number;
  stopTokens?: number[];
  stopStrings?: string[];
  sampling?: SamplingParams;
}

export type StopReason = NativeGenerateResult['stop'] | 'stop-string';

export type GenerationEvent =
  | { type: 'text'; text: string; ids: number[] }
  | {
      type: 'done';
      stop: StopReason;
      stopToken?: number;
      nPrompt: number;
      nGen: number;
      promptMs: number;
      genMs: number;
      ids: number[];
      text: string;
    };

/** Longest suffix of `s` that is a proper prefix of some stop string (held back until resolved). */
function heldBack(s: string, stops: string[]): number {
  let keep = 0;
  for (const st of stops) for (let n = Math.min(st.length - 1, s.length); n > keep; n--) if (s.endsWith(st.slice(0, n))) keep = n;
  return keep;
}

export async function* generate(ctx: Context, tokenizer: Tokenizer, prompt: number[], o: GenerateOptions = {}): AsyncGenerator<GenerationEvent> {
  const queue: number[][] = [];
  let wake: (() => void) | null = null;
  let finished: NativeGenerateResult | null = null;
  let failed: unknown = null;
  const p = ctx.native
    .generate(Int32Array.from(prompt), { ...o.sampling, nPredict: o.nPredict ?? -1, stopTokens: Int32Array.from(o.stopTokens ?? []) }, (ids) => {
      queue.push(Array.from(ids));
      wake?.();
    })
    .then(
      (r) => {
        finished = r;
        wake?.();
      },
      (e) => {
        failed = e;
        wake?.();
      },
    );
  const stream = tokenizer.decodeStream();
  const stops = (o.stopStrings ?? []).filter((s) => s.length > 0);
  const allIds: number[] = [];
  let text = ''; // everything decoded so far
  let emitted = 0; // chars of `text` already yielded
  let stoppedByString = false;
  try {
    for (;;) {
      if (!queue.length && !finished && !failed) await new Promise<void>((r) => (wake = r));
      wake = null;
      if (failed) throw failed;
      while (queue.length && !stoppedByString) {
        const ids = queue.shift()!;
        for (const id of ids) {
          allIds.push(id);
          text += stream.push(id);
        }
        if (stops.length) {
          const hit = Math.min(...stops.map((s) => text.indexOf(s, Math.max(0, emitted - s.length + 1))).filter((i) => i >= 0));
          if (Number.isFinite(hit)) {
            stoppedByString = true;
            text = text.slice(0, hit);
            ctx.cancel();
          }
        }
        const end = stoppedByString ? text.length : text.length - heldBack(text, stops);
        if (end > emitted) {
          yield { type: 'text', text: text.slice(emitted, end), ids };
          emitted = end;
        }
      }
      if (stoppedByString) queue.length = 0; // the rest was generated after the stop string
      if (finished && !queue.length) break;
    }
    await p;
    if (failed) throw failed;
    const r = finished! as NativeGenerateResult;
    if (!stoppedByString) {
      text += stream.flush();
      if (text.length > emitted) yield { type: 'text', text: text.slice(emitted), ids: [] };
    }
    yield {
      type: 'done',
      stop: stoppedByString ? 'stop-string' : r.stop,
      stopToken: r.stopToken >= 0 ? r.stopToken : undefined,
      nPrompt: r.nPrompt,
      nGen: r.nGen,
      promptMs: r.promptMs,
      genMs: r.genMs,
      ids: allIds,
      text,
    };
  } finally {
    if (!finished && !failed) {
      ctx.cancel();
      await p;
    }
  }
}

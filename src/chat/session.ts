// A chat session over one context, respecting the recurrent state: a new turn evaluates only
// its new tokens (the Mamba state and KV cache carry the history), each turn boundary keeps a
// state checkpoint so /undo and /regen restore instantly, and an overflowing conversation drops
// its oldest turns and re-prefills once, saying so.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { Context } from '../engine/engine.js';
import { generate, type GenerationEvent, type SamplingParams } from '../engine/generate.js';
import type { LoadedModel } from '../engine/loaded-model.js';
import type { ChatMessage } from '../tokenizer/chat.js';
import { AtomicFile } from '../util/atomic-file.js';
import { BadFileError, FalconError } from '../util/errors.js';

export interface Checkpoint {
  /** messages.length when taken */
  nMessages: number;
  tokens: number[];
  /** text the state corresponds to */
  stateText: string;
  state: Buffer;
}

export interface TurnStats {
  promptTokens: number;
  genTokens: number;
  promptMs: number;
  genMs: number;
  stop: string;
}

export interface SessionOptions {
  system?: string;
  sampling: SamplingParams;
  nPredict: number;
  /** Checkpoints kept (and their total bytes): the oldest are dropped first. */
  maxCheckpoints?: number;
  maxCheckpointBytes?: number;
  notice?: (msg: string) => void;
}

const SESSION_MAGIC = 'falcon-h1-session';
const SESSION_VERSION = 1;

/** Identity of a model file: size + hash of its first MiB (the header, tensor table, first data). */
export function modelIdentity(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(1 << 20);
    const n = readSync(fd, b, 0, b.length, 0);
    return `${statSync(path).size}:${createHash('sha256').update(b.subarray(0, n)).digest('hex').slice(0, 32)}`;
  } finally {
    closeSync(fd);
  }
}

export class ChatSession {
  messages: ChatMessage[] = [];
  /** The text whose tokens are in the context (rendered prompt + generated reply). */
  private stateText = '';
  /** The exact token ids in the context, in order (prompt deltas and generated ids). */
  tokens: number[] = [];
  private checkpoints: Checkpoint[] = [];
  lastStats: TurnStats | undefined;

  constructor(
    readonly lm: LoadedModel,
    readonly ctx: Context,
    public o: SessionOptions,
  ) {
    if (o.system) this.messages.push({ role: 'system', content: o.system });
  }

  get nPast(): number {
    return this.ctx.nPast;
  }

  get checkpointBytes(): number {
    return this.checkpoints.reduce((s, c) => s + c.state.length, 0);
  }

  private render(messages: ChatMessage[], genPrompt: boolean): string {
    return this.lm.template.render(messages, { addGenerationPrompt: genPrompt, bosToken: this.lm.bosToken, eosToken: this.lm.eosToken });
  }

  private keepCheckpoint(): void {
    this.checkpoints.push({ nMessages: this.messages.length, stateText: this.stateText, tokens: [...this.tokens], state: this.ctx.saveState() });
    const maxN = this.o.maxCheckpoints ?? 16;
    const maxB = this.o.maxCheckpointBytes ?? 2 * 2 ** 30;
    while (this.checkpoints.length > maxN || (this.checkpoints.length > 1 && this.checkpointBytes > maxB)) this.checkpoints.shift();
  }

  /** Feeds the text that turns the current state into `target` (only the new part if it extends it). */
  private async advanceTo(target: string): Promise<void> {
    if (this.stateText && target.startsWith(this.stateText)) {
      const delta = target.slice(this.stateText.length);
      if (delta) {
        const ids = this.lm.tokenizer.encode(delta, { parseSpecial: true });
        if (this.ctx.nPast + ids.length + this.reserve() <= this.ctx.nCtx) {
          await this.ctx.decode(ids);
          this.tokens.push(...ids);
          this.stateText = target;
          return;
        }
      } else return;
    }
    await this.refill(target);
  }

  private reserve(): number {
    return Math.min(this.o.nPredict > 0 ? this.o.nPredict : 256, Math.floor(this.ctx.nCtx / 4));
  }

  /** Re-prefills from scratch, dropping the oldest turns after the system prompt until it fits. */
  private async refill(target: string): Promise<void> {
    let ids = this.lm.tokenizer.encode(target, { parseSpecial: true });
    let dropped = 0;
    while (ids.length + this.reserve() > this.ctx.nCtx) {
      const first = this.messages.findIndex((m) => m.role !== 'system');
      const lastUser = this.messages.map((m) => m.role).lastIndexOf('user');
      if (first < 0 || first >= lastUser) {
        throw new FalconError(`this message alone needs ${ids.length} tokens; the context holds ${this.ctx.nCtx} (raise -c)`, 4);
      }
      // drop one exchange: the oldest user message and the replies that follow it
      let end = first + 1;
      while (end < lastUser && this.messages[end].role !== 'user') end++;
      this.messages.splice(first, end - first);
      dropped += end - first;
      target = this.render(this.messages, true);
      ids = this.lm.tokenizer.encode(target, { parseSpecial: true });
    }
    if (dropped) {
      this.checkpoints = [];
      this.o.notice?.(`context full: dropped the ${dropped} oldest message${dropped > 1 ? 's' : ''} and re-read the conversation (${ids.length} tokens)`);
    }
    this.ctx.reset();
    await this.ctx.decode(ids);
    this.tokens = ids;
    this.stateText = target;
  }

  /** Adds a user message and streams the reply. */
  async *send(text: string): AsyncGenerator<GenerationEvent> {
    this.keepCheckpoint(); // before the user turn: /undo returns here
    this.messages.push({ role: 'user', content: text });
    yield* this.reply();
  }

  /** Generates the assistant reply to the conversation as it stands. */
  private async *reply(): AsyncGenerator<GenerationEvent> {
    const t0 = performance.now();
    const target = this.render(this.messages, true);
    const before = this.ctx.nPast;
    await this.advanceTo(target);
    const promptTokens = this.ctx.nPast - before;
    const promptMs = performance.now() - t0;
    this.keepCheckpoint(); // after the prompt: /regen returns here
    const room = this.ctx.nCtx - this.ctx.nPast - 1;
    let text = '';
    let done: Extract<GenerationEvent, { type: 'done' }> | undefined;
    for await (const ev of generate(this.ctx, this.lm.tokenizer, [], {
      nPredict: this.o.nPredict > 0 ? Math.min(this.o.nPredict, room) : room,
      stopTokens: this.lm.stopTokens,
      sampling: this.o.sampling,
    })) {
      if (ev.type === 'text') text += ev.text;
      else done = ev;
      yield ev;
    }
    // the state now holds the prompt and every generated token (the stop token is not decoded)
    this.stateText = target + this.lm.tokenizer.decode(done?.ids ?? []);
    this.tokens.push(...(done?.ids ?? []));
    this.messages.push({ role: 'assistant', content: text });
    this.lastStats = { promptTokens, genTokens: done?.nGen ?? 0, promptMs, genMs: done?.genMs ?? 0, stop: done?.stop ?? 'length' };
  }

  private restore(c: Checkpoint): void {
    this.ctx.loadState(c.state);
    this.stateText = c.stateText;
    this.tokens = [...c.tokens];
  }

  /** Removes the last exchange and restores the state from before it, without re-prefill. */
  undo(): boolean {
    const lastUser = this.messages.map((m) => m.role).lastIndexOf('user');
    if (lastUser < 0) return false;
    const cp = [...this.checkpoints].reverse().find((c) => c.nMessages === lastUser);
    this.messages.splice(lastUser);
    this.checkpoints = this.checkpoints.filter((c) => c.nMessages <= lastUser);
    if (cp) {
      this.restore(cp);
      this.checkpoints = this.checkpoints.filter((c) => c !== cp);
    } else this.stateText = '\u0000'; // no checkpoint left: the next turn re-prefills
    return true;
  }

  /** Replaces the last reply with a new one, from the checkpoint taken after its prompt. */
  async *regenerate(): AsyncGenerator<GenerationEvent> {
    const last = this.messages.length - 1;
    if (last < 0 || this.messages[last].role !== 'assistant') throw new FalconError('nothing to regenerate');
    this.messages.pop();
    const cp = [...this.checkpoints].reverse().find((c) => c.nMessages === this.messages.length);
    if (cp) {
      this.restore(cp);
      this.checkpoints = this.checkpoints.filter((c) => c !== cp);
    }
    yield* this.reply();
  }

  clear(): void {
    this.messages = this.messages.filter((m) => m.role === 'system');
    this.checkpoints = [];
    this.ctx.reset();
    this.stateText = '';
    this.tokens = [];
  }

  setSystem(text: string): void {
    this.messages = this.messages.filter((m) => m.role !== 'system');
    if (text) this.messages.unshift({ role: 'system', content: text });
    this.checkpoints = [];
    this.stateText = '\u0000'; // history changed at its start: the next turn re-prefills
  }

  /** Writes messages, settings and the live state, versioned and checksummed. */
  save(path: string): void {
    const header = Buffer.from(
      JSON.stringify({
        magic: SESSION_MAGIC,
        version: SESSION_VERSION,
        model: modelIdentity(this.lm.path),
        messages: this.messages,
        stateText: this.stateText,
        tokens: this.tokens,
        sampling: this.o.sampling,
        nPredict: this.o.nPredict,
      }),
    );
    const state = this.ctx.saveState();
    const len = Buffer.alloc(8);
    len.writeUInt32LE(header.length, 0);
    len.writeUInt32LE(state.length, 4);
    const body = Buffer.concat([len, header, state]);
    const f = new AtomicFile(path);
    try {
      f.write(body);
      f.write(createHash('sha256').update(body).digest());
      f.commit();
    } catch (e) {
      f.abort();
      throw e;
    }
  }

  /** Resumes a saved session; without re-prefill when the model file is the same. */
  async load(path: string): Promise<'restored' | 'replayed'> {
    const all = readFileSync(path);
    if (all.length < 40) throw new BadFileError(path, 'not a session file (too short)');
    const body = all.subarray(0, all.length - 32);
    if (!createHash('sha256').update(body).digest().equals(all.subarray(all.length - 32))) throw new BadFileError(path, 'session file is corrupt (checksum mismatch)');
    const hl = body.readUInt32LE(0);
    const sl = body.readUInt32LE(4);
    if (8 + hl + sl !== body.length) throw new BadFileError(path, 'session file is corrupt (lengths)');
    const h = JSON.parse(body.subarray(8, 8 + hl).toString('utf8'));
    if (h.magic !== SESSION_MAGIC) throw new BadFileError(path, 'not a falcon-h1 session file');
    if (h.version !== SESSION_VERSION) throw new BadFileError(path, `session version ${h.version} is not supported`);
    this.messages = h.messages;
    this.o.sampling = h.sampling ?? this.o.sampling;
    this.o.nPredict = h.nPredict ?? this.o.nPredict;
    this.checkpoints = [];
    if (h.model === modelIdentity(this.lm.path)) {
      try {
        this.ctx.loadState(body.subarray(8 + hl));
        this.stateText = h.stateText;
        this.tokens = h.tokens ?? [];
        return 'restored';
      } catch {
        /* e.g. another KV type or a smaller context: replay instead */
      }
    }
    this.ctx.reset();
    this.stateText = '';
    await this.refill(this.render(this.messages, false));
    return 'replayed';
  }
}

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatTemplate, FALCON_H1_FALLBACK_TEMPLATE } from '../../src/tokenizer/chat.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { FIXTURES } from '../helpers/fixtures.js';

for (const name of ['bpe-llama3', 'bpe-digits', 'bpe-gpt2']) {
  describe(`chat template of ${name} renders as transformers does`, () => {
    const dir = join(FIXTURES, 'tokenizers', name);
    const cfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    const tok = Tokenizer.fromJson(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    const tpl = new ChatTemplate(cfg.chat_template);
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));
    ref.chat.forEach((c: { messages: { role: string; content: string }[]; tools?: unknown[]; add_generation_prompt: boolean; rendered: string; ids: number[] }, i: number) => {
      it(`conversation ${i}${c.tools ? ' (tools)' : ''}`, () => {
        const text = tpl.render(c.messages, { addGenerationPrompt: c.add_generation_prompt, tools: c.tools, bosToken: cfg.bos_token, eosToken: cfg.eos_token });
        expect(text).toBe(c.rendered);
        expect(tok.encode(text)).toEqual(c.ids);
      });
    });
  });
}

it('the fallback template produces Falcon-H1 ChatML', () => {
  const t = new ChatTemplate(FALCON_H1_FALLBACK_TEMPLATE);
  expect(t.render([{ role: 'system', content: 'S' }, { role: 'user', content: 'Hi' }], { bosToken: '<|begin_of_text|>' })).toBe(
    '<|begin_of_text|><|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
  );
});

// Chat templates: the model's Jinja template rendered with @huggingface/jinja (the same engine
// family transformers.js uses), with a Falcon-H1 ChatML fallback for files without a template.

import { Template } from '@huggingface/jinja';
import { FalconError } from '../util/errors.js';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface RenderOptions {
  addGenerationPrompt?: boolean;
  tools?: unknown[];
  bosToken?: string;
  eosToken?: string;
}

/** Falcon-H1 Instruct's format (spec §7): BOS, ChatML turns, optional generation prompt. */
export const FALCON_H1_FALLBACK_TEMPLATE =
  "{{ bos_token }}{%- for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}" +
  '{%- if add_generation_prompt %}<|im_start|>assistant\n{% endif %}';

export class ChatTemplate {
  private template: Template;

  constructor(readonly source: string) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new FalconError(`chat template does not parse: ${(e as Error).message}`);
    }
  }

  render(messages: ChatMessage[], o: RenderOptions = {}): string {
    try {
      return this.template.render({
        messages,
        add_generation_prompt: o.addGenerationPrompt ?? true,
        tools: o.tools,
        bos_token: o.bosToken ?? '',
        eos_token: o.eosToken ?? '',
      });
    } catch (e) {
      throw new FalconError(`chat template failed to render: ${(e as Error).message}`);
    }
  }
}

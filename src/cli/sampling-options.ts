// Sampling and context flags shared by `run` and `chat`, named as in llama.cpp.

import type { Command } from 'commander';
import type { SamplingParams } from '../engine/generate.js';
import { parseFloatOption, parseIntOption } from './options.js';

export interface SamplingFlags {
  temp: string;
  topK: string;
  topP: string;
  minP: string;
  repeatPenalty: string;
  repeatLastN: string;
  presencePenalty: string;
  frequencyPenalty: string;
  seed?: string;
}

export function addSamplingOptions(c: Command): Command {
  return c
    .option('--temp <t>', 'temperature; 0 = greedy', '0.8')
    .option('--top-k <k>', 'keep the k most likely tokens (0 = off)', '40')
    .option('--top-p <p>', 'nucleus sampling threshold (1 = off)', '0.95')
    .option('--min-p <p>', 'drop tokens below p × the top probability (0 = off)', '0.05')
    .option('--repeat-penalty <x>', 'penalise repeated tokens (1 = off)', '1.0')
    .option('--repeat-last-n <n>', 'window of past tokens for the penalties (-1 = all)', '64')
    .option('--presence-penalty <x>', 'presence penalty (0 = off)', '0')
    .option('--frequency-penalty <x>', 'frequency penalty (0 = off)', '0')
    .option('--seed <n>', 'random seed (default: random)');
}

export function samplingFrom(o: SamplingFlags): SamplingParams {
  return {
    temp: parseFloatOption('--temp', o.temp),
    topK: parseIntOption('--top-k', o.topK, 0),
    topP: parseFloatOption('--top-p', o.topP),
    minP: parseFloatOption('--min-p', o.minP),
    repeatPenalty: parseFloatOption('--repeat-penalty', o.repeatPenalty),
    repeatLastN: parseIntOption('--repeat-last-n', o.repeatLastN, -1),
    presencePenalty: parseFloatOption('--presence-penalty', o.presencePenalty),
    frequencyPenalty: parseFloatOption('--frequency-penalty', o.frequencyPenalty),
    seed: o.seed !== undefined ? parseIntOption('--seed', o.seed, 0, 2 ** 52) : Math.floor(Math.random() * 2 ** 32),
  };
}

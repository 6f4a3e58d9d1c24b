import { SHAPES, type ModelShape } from '../../src/bench/shapes.js';

// A small model with 256-wide rows, so every K-quant applies without fallbacks.
export const MINI256: ModelShape = { ...SHAPES['0.5b'], name: 'mini256', hidden: 256, layers: 8, heads: 4, kvHeads: 2, headDim: 64, ffn: 512, dSsm: 256, ssmHeads: 4, dState: 32, vocab: 2048, ssmRmsNorm: true, context: 4096 };

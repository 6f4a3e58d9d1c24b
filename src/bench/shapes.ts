// The released Falcon-H1 shapes (spec falcon-h1-model.md §6), for random-weight benchmark models.
// Parameter counts match llama.cpp's report for the same shapes (0.5B = 521.4 M, 1.5B-Deep = 1.555 B,
// 7B = 7.586 B). 1.5B-Deep's intermediate size is not published: 3072 is what reproduces 1.555 B.

export interface ModelShape {
  name: string;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  dSsm: number;
  ssmHeads: number;
  dState: number;
  groups: number;
  dConv: number;
  vocab: number;
  ssmRmsNorm: boolean;
  context: number;
}

export const SHAPES: Record<string, ModelShape> = {
  '0.5b': { name: 'Falcon-H1-0.5B (synthetic)', hidden: 1024, layers: 36, heads: 8, kvHeads: 2, headDim: 64, ffn: 2048, dSsm: 1536, ssmHeads: 24, dState: 128, groups: 1, dConv: 4, vocab: 32784, ssmRmsNorm: false, context: 16384 },
  '1.5b': { name: 'Falcon-H1-1.5B (synthetic)', hidden: 2048, layers: 24, heads: 8, kvHeads: 2, headDim: 128, ffn: 4608, dSsm: 3072, ssmHeads: 48, dState: 256, groups: 1, dConv: 4, vocab: 65537, ssmRmsNorm: true, context: 131072 },
  '1.5b-deep': { name: 'Falcon-H1-1.5B-Deep (synthetic)', hidden: 1280, layers: 66, heads: 6, kvHeads: 2, headDim: 128, ffn: 3072, dSsm: 1536, ssmHeads: 24, dState: 256, groups: 1, dConv: 4, vocab: 65536, ssmRmsNorm: true, context: 131072 },
  '3b': { name: 'Falcon-H1-3B (synthetic)', hidden: 2560, layers: 32, heads: 10, kvHeads: 2, headDim: 128, ffn: 6144, dSsm: 4096, ssmHeads: 32, dState: 256, groups: 1, dConv: 4, vocab: 65536, ssmRmsNorm: true, context: 131072 },
  '7b': { name: 'Falcon-H1-7B (synthetic)', hidden: 3072, layers: 44, heads: 12, kvHeads: 2, headDim: 128, ffn: 12288, dSsm: 3072, ssmHeads: 24, dState: 256, groups: 1, dConv: 4, vocab: 130048, ssmRmsNorm: true, context: 262144 },
  '34b': { name: 'Falcon-H1-34B (synthetic)', hidden: 5120, layers: 72, heads: 20, kvHeads: 4, headDim: 128, ffn: 21504, dSsm: 4096, ssmHeads: 32, dState: 256, groups: 2, dConv: 4, vocab: 261120, ssmRmsNorm: true, context: 262144 },
};

// Where a context runs, shared by every command that evaluates a model; flags as in llama.cpp
// (-ngl/--gpu-layers, --split-mode, --main-gpu).

import { type Command, Option } from 'commander';
import type { ContextOptions } from '../engine/engine.js';
import { UsageError } from '../util/errors.js';
import { parseIntOption } from './options.js';

export interface DeviceFlags {
  device: 'auto' | 'cpu' | 'cuda' | 'metal';
  gpuLayers: string;
  splitMode: 'auto' | 'none' | 'layer';
  mainGpu: string;
}

export function addDeviceOptions(c: Command): Command {
  return c
    .addOption(
      new Option('--device <device>', 'where to run: auto (a GPU when one is usable), cpu, cuda or metal (macOS builds)').choices(['auto', 'cpu', 'cuda', 'metal']).default('auto'),
    )
    .option('--gpu-layers <n>', 'with CUDA (-ngl): run the last N layers on the GPU(s) and the rest on the CPU; N > layers also moves the head (all = everything)', 'all')
    .addOption(
      new Option('--split-mode <mode>', 'several GPUs: none (one GPU, --main-gpu), layer (runs of layers per GPU, sized by free memory), auto (layer only when one GPU is too small)')
        .choices(['auto', 'none', 'layer'])
        .default('auto'),
    )
    .option('--main-gpu <i>', 'the GPU used without a split', '0');
}

export function deviceFrom(o: DeviceFlags): Pick<ContextOptions, 'device' | 'gpuLayers' | 'splitMode' | 'mainGpu'> {
  const gpuLayers = o.gpuLayers === 'all' ? -1 : parseIntOption('--gpu-layers', o.gpuLayers, 0, 100000);
  if (o.device === 'cpu' && gpuLayers > 0) throw new UsageError('--gpu-layers needs --device cuda or auto');
  return { device: o.device, gpuLayers, splitMode: o.splitMode, mainGpu: parseIntOption('--main-gpu', o.mainGpu, 0, 64) };
}

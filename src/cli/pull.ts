import { Command } from 'commander';
import { copyFileSync, mkdirSync, realpathSync, renameSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import cliProgress from 'cli-progress';
import { fetchModel } from '../hub/fetch-model.js';
import { parseRepoRef, pull, type PullOptions } from '../hub/pull.js';
import type { RemoteFile } from '../hub/download.js';
import { formatBytes, useColor } from '../util/progress.js';
import { dropFromPageCache } from '../util/page-cache.js';
import { ExitCode } from '../util/errors.js';
import { onInterrupt } from './interrupt.js';
import { parseIntOption } from './options.js';

/** Per-file bars plus a total on a terminal; a plain line every few seconds otherwise. */
export function pullProgress(quiet: boolean): Pick<PullOptions, 'onStart' | 'onFileBytes' | 'onFileDone'> & { stop(): void } {
  if (quiet) return { stop() {} };
  const tty = !!process.stderr.isTTY;
  let multi: cliProgress.MultiBar | undefined;
  let total: cliProgress.SingleBar | undefined;
  const bars = new Map<string, cliProgress.SingleBar>();
  let done = 0;
  let all = 0;
  let last = 0;
  const t0 = Date.now();
  return {
    onStart(files: RemoteFile[]) {
      all = files.reduce((s, f) => s + f.size, 0);
      if (!tty) return;
      multi = new cliProgress.MultiBar(
        { stream: process.stderr, format: '{name} [{bar}] {percentage}% | {done}/{size} | {speed} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: false, barsize: 24 },
        useColor() ? cliProgress.Presets.shades_classic : cliProgress.Presets.legacy,
      );
      total = multi.create(all, 0, { name: 'total'.padEnd(28), done: '0 B', size: formatBytes(all), speed: '' });
      for (const f of files) bars.set(f.path, multi.create(f.size, 0, { name: f.path.slice(-28).padEnd(28), done: '0 B', size: formatBytes(f.size), speed: '' }));
    },
    onFileBytes(f: RemoteFile, n: number) {
      done += n;
      const speed = `${formatBytes(done / Math.max(0.001, (Date.now() - t0) / 1000))}/s`;
      if (tty) {
        const b = bars.get(f.path);
        b?.increment(n, { done: formatBytes(Math.max(0, (b.getProgress() * f.size) | 0)), speed });
        total?.update(done, { done: formatBytes(done), speed });
      } else if (Date.now() - last > 5000) {
        last = Date.now();
        process.stderr.write(`pull: ${formatBytes(done)} / ${formatBytes(all)} (${speed})\n`);
      }
    },
    onFileDone(f: RemoteFile, downloaded: boolean) {
      if (tty) bars.get(f.path)?.update(f.size, { done: formatBytes(f.size), speed: downloaded ? '' : 'cached' });
      else process.stderr.write(`pull: ${f.path} ${downloaded ? 'downloaded' : 'already cached'} (${formatBytes(f.size)})\n`);
    },
    stop() {
      multi?.stop();
    },
  };
}

/** Copies files (resolving the cache's links) under `dir`, keeping their paths relative to `base`. */
function copyInto(dir: string, files: string[], base: string): string[] {
  return files.map((f) => {
    const dst = join(dir, relative(base, f));
    mkdirSync(dirname(dst), { recursive: true });
    const tmp = `${dst}.tmp-${process.pid}`;
    copyFileSync(realpathSync(f), tmp);
    renameSync(tmp, dst);
    // a copied GGUF is written like any other: let its first load read it in large folios
    if (dst.endsWith('.gguf')) dropFromPageCache(dst);
    return dst;
  });
}

export function pullCommand(): Command {
  return new Command('pull')
    .description('download a Falcon-H1 checkpoint (or one GGUF) from the Hugging Face Hub into the shared HF cache')
    .argument('<repo>', 'org/name[:revision], e.g. tiiuae/Falcon-H1-0.5B-Instruct')
    .option('--include <glob>', 'download files matching this glob instead of the checkpoint set (repeatable)', (v: string, a: string[]) => [...a, v], [] as string[])
    .option('--gguf <quant>', 'download the GGUF of this quantization from a -GGUF repo, e.g. Q4_K_M')
    .option('--quantize <type>', 'then convert and quantize to one GGUF (e.g. Q4_K_M, bf16) and print its path')
    .option('--token <token>', 'Hugging Face token (default: HF_TOKEN, HF_TOKEN_PATH, HF_HOME/token)')
    .option('--offline', 'use the cache only (also HF_HUB_OFFLINE=1)')
    .option('--connections <n>', 'parallel range requests per large file', '4')
    .option('-o, --output-dir <dir>', 'also copy the downloaded files (or the GGUF) into this directory, like --local-dir')
    .option('--json', 'print a JSON summary on stdout')
    .option('-q, --quiet', 'no progress output')
    .action(async (spec: string, o: { include: string[]; gguf?: string; quantize?: string; token?: string; offline?: boolean; connections: string; outputDir?: string; json?: boolean; quiet?: boolean }) => {
      const ref = parseRepoRef(spec);
      const abort = new AbortController();
      onInterrupt(() => abort.abort(new Error('interrupted')));
      const progress = pullProgress(!!o.quiet);
      const opts: PullOptions & { quantize?: string } = {
        include: o.include,
        gguf: o.gguf,
        token: o.token,
        offline: o.offline,
        connections: parseIntOption('--connections', o.connections, 1, 64),
        signal: abort.signal,
        log: (m) => process.stderr.write(`pull: ${m}\n`),
        ...progress,
      };
      try {
        if (o.quantize) {
          const r = await fetchModel(spec, { ...opts, quantize: o.quantize, log: (m) => process.stderr.write(`${m}\n`) });
          progress.stop();
          const path = o.outputDir ? copyInto(o.outputDir, [r.path], dirname(r.path))[0] : r.path;
          if (o.json) process.stdout.write(JSON.stringify({ ...r.pulled, gguf: path }) + '\n');
          else process.stdout.write(`${path}\n`);
          return;
        }
        const r = await pull(ref, opts);
        progress.stop();
        if (o.outputDir) {
          copyInto(o.outputDir, r.files.map((f) => f.local), r.snapshot);
          for (const f of r.files) f.local = join(o.outputDir, f.path);
          r.snapshot = o.outputDir;
        }
        if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
        else process.stdout.write(`${o.gguf ? r.files[0].local : r.snapshot}\n`);
      } catch (e) {
        progress.stop();
        if (abort.signal.aborted) {
          process.stderr.write('\ninterrupted: partial files are kept and the next pull resumes them\n');
          process.exit(ExitCode.INTERRUPTED);
        }
        throw e;
      } finally {
        onInterrupt(null);
      }
    });
}

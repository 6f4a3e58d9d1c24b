import cliProgress from 'cli-progress';

export interface Progress {
  setTotal(total: number): void;
  update(done: number, detail?: string): void;
  stop(): void;
}

export function useColor(): boolean {
  return !process.env.NO_COLOR && !!process.stderr.isTTY;
}

/**
 * A progress bar on stderr when it is a terminal; otherwise a plain line every few seconds, so
 * logs stay readable. Data never goes to stdout.
 */
export function createProgress(label: string, total: number, quiet = false): Progress {
  if (quiet) return { setTotal() {}, update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} [{bar}] {percentage}% | {value}/{total} | {detail}`,
        hideCursor: true,
        clearOnComplete: false,
        barsize: 30,
      },
      useColor() ? cliProgress.Presets.shades_classic : cliProgress.Presets.legacy,
    );
    bar.start(total, 0, { detail: '' });
    return {
      setTotal: (n) => bar.setTotal(n),
      update: (done, detail = '') => bar.update(done, { detail }),
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    setTotal(n) {
      total = n;
    },
    update(done, detail = '') {
      const now = Date.now();
      if (now - last >= 5000 || done === total) {
        last = now;
        process.stderr.write(`${label}: ${done}/${total}${detail ? ` ${detail}` : ''}\n`);
      }
    },
    stop() {},
  };
}

export function formatBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(2)} ${u[i]}`;
}

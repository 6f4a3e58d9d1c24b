import { Command } from 'commander';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, listCachedRepos, removeCachedRepo } from '../hub/cache.js';
import { parseRepoRef } from '../hub/pull.js';
import { formatBytes } from '../util/progress.js';
import { BadFileError } from '../util/errors.js';

function convertedFiles(dir: string): { path: string; bytes: number }[] {
  const base = join(dir, 'falcon-h1');
  if (!existsSync(base)) return [];
  return readdirSync(base).flatMap((commit) =>
    readdirSync(join(base, commit))
      .filter((f) => f.endsWith('.gguf'))
      .map((f) => ({ path: join(base, commit, f), bytes: statSync(join(base, commit, f)).size })),
  );
}

export function lsCommand(): Command {
  return new Command('ls')
    .description('list models in the Hugging Face cache and the GGUF files made from them')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      const repos = listCachedRepos(cacheRoot()).map((r) => ({ ...r, converted: convertedFiles(r.dir) }));
      if (o.json) {
        process.stdout.write(JSON.stringify(repos) + '\n');
        return;
      }
      if (!repos.length) process.stderr.write(`no models in ${cacheRoot()}\n`);
      for (const r of repos) {
        process.stdout.write(`${r.repo}\t${formatBytes(r.bytes)}\t${Object.entries(r.refs).map(([k, v]) => `${k}=${v.slice(0, 8)}`).join(' ')}\n`);
        for (const c of r.converted) process.stdout.write(`  ${c.path}\t${formatBytes(c.bytes)}\n`);
      }
    });
}

export function rmCommand(): Command {
  return new Command('rm')
    .description('remove a model (downloads and converted files) from the cache')
    .argument('<repo>', 'org/name')
    .action((spec: string) => {
      const { repo } = parseRepoRef(spec);
      if (!removeCachedRepo(cacheRoot(), repo)) throw new BadFileError(repo, `not in the cache (${cacheRoot()})`);
      process.stderr.write(`removed ${repo}\n`);
    });
}

import { describe, expect, it, beforeAll, afterAll, beforeEach } from 'vitest';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startHub, repoFromDir, type HubServer } from '../helpers/hub-server.js';
import { cliAsync } from '../helpers/cli.js';
import { modelDir, tempDir } from '../helpers/fixtures.js';
import { pull, parseRepoRef } from '../../src/hub/pull.js';
import { cacheRoot } from '../../src/hub/cache.js';
import { findToken } from '../../src/hub/token.js';

const COMMIT_A = 'a'.repeat(40);
const COMMIT_B = 'b'.repeat(40);
const COMMIT_G = 'c'.repeat(40);

let hub: HubServer;
beforeAll(async () => {
  hub = await startHub({
    'tiiuae/tiny-a': repoFromDir(modelDir('tiny-a/hf'), COMMIT_A),
    'tiiuae/tiny-b': repoFromDir(modelDir('tiny-b/hf'), COMMIT_B),
    'tiiuae/tiny-a-GGUF': repoFromDir(modelDir('tiny-a/llamacpp'), COMMIT_G, (f) => f.replace('model-f32', 'tiny-a-F32').replace('model-bf16', 'tiny-a-BF16')),
    'secret/tiny-a': { ...repoFromDir(modelDir('tiny-a/hf'), COMMIT_A), private: true },
  });
});
afterAll(async () => hub.close());
beforeEach(() => {
  hub.faults = {};
  hub.log.length = 0;
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const opts = (cacheDir: string) => ({ cacheDir, endpoint: hub.endpoint, backoffMs: 20, connections: 3, parallelThreshold: 50_000 });

describe('pull into the HF cache layout', () => {
  it('downloads a sharded checkpoint, verified, as blobs + snapshot links + refs/main', async () => {
    const cache = tempDir();
    const r = await pull(parseRepoRef('tiiuae/tiny-b'), opts(cache));
    expect(r.commit).toBe(COMMIT_B);
    const repoDir = join(cache, 'models--tiiuae--tiny-b');
    expect(readFileSync(join(repoDir, 'refs', 'main'), 'utf8')).toBe(COMMIT_B);
    const srcFiles = readdirSync(modelDir('tiny-b/hf'));
    expect(r.files.map((f) => f.path).sort()).toEqual(srcFiles.sort());
    for (const f of srcFiles) {
      const snap = join(repoDir, 'snapshots', COMMIT_B, f);
      expect(lstatSync(snap).isSymbolicLink()).toBe(true);
      expect(readlinkSync(snap).startsWith('../../blobs/')).toBe(true);
      expect(readFileSync(snap)).toEqual(readFileSync(join(modelDir('tiny-b/hf'), f)));
    }
    // LFS files are stored under their sha256
    const shard = readFileSync(join(modelDir('tiny-b/hf'), 'model-00001-of-00022.safetensors'));
    expect(existsSync(join(repoDir, 'blobs', sha256(shard)))).toBe(true);
    // a second pull downloads nothing
    hub.log.length = 0;
    const again = await pull(parseRepoRef('tiiuae/tiny-b'), opts(cache));
    expect(again.files.every((f) => !f.downloaded)).toBe(true);
    expect(hub.fileRequests()).toBe(0);
  });

  it('resumes a cut connection (single stream and parallel ranges) to identical bytes', async () => {
    const cache = tempDir();
    hub.faults.cutAfter = { bytes: 100_000, times: 3 };
    const r = await pull(parseRepoRef('tiiuae/tiny-a'), opts(cache));
    const want = readFileSync(join(modelDir('tiny-a/hf'), 'model.safetensors'));
    expect(readFileSync(r.files.find((f) => f.path === 'model.safetensors')!.local)).toEqual(want);
    const ranges = hub.log.filter((l) => l.server === 'cdn' && l.url.endsWith('model.safetensors')).map((l) => l.headers.range);
    expect(ranges.some((x) => x && !/^bytes=(0|279288|558576)-/.test(String(x)))).toBe(true); // a mid-part resume
  });

  it('retries 429 (honouring Retry-After) and 500', async () => {
    const cache = tempDir();
    hub.faults.tooMany = { times: 2, retryAfter: 1 };
    hub.faults.serverError = { times: 2 };
    const t0 = Date.now();
    const r = await pull(parseRepoRef('tiiuae/tiny-a'), opts(cache));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(r.files.length).toBe(6);
  });

  it('a hash mismatch never leaves a blob in the cache', async () => {
    const cache = tempDir();
    hub.faults.corrupt = 'model.safetensors';
    await expect(pull(parseRepoRef('tiiuae/tiny-a'), opts(cache))).rejects.toThrow(/model.safetensors: checksum mismatch twice/);
    const blobs = readdirSync(join(cache, 'models--tiiuae--tiny-a', 'blobs'));
    const want = sha256(readFileSync(join(modelDir('tiny-a/hf'), 'model.safetensors')));
    expect(blobs.filter((b) => b.startsWith(want))).toEqual([]);
  });

  it('unknown repos and revisions are clear errors', async () => {
    await expect(pull(parseRepoRef('tiiuae/nope'), opts(tempDir()))).rejects.toThrow(/tiiuae\/nope@main: not found \(HTTP 404\)/);
    await expect(pull(parseRepoRef('tiiuae/tiny-a:v9'), opts(tempDir()))).rejects.toThrow(/tiiuae\/tiny-a@v9: not found/);
  });

  it('two concurrent pulls of the same repo leave a consistent cache (lock files)', async () => {
    const cache = tempDir();
    hub.faults.slowMs = 2;
    const [a, b] = await Promise.all([pull(parseRepoRef('tiiuae/tiny-b'), opts(cache)), pull(parseRepoRef('tiiuae/tiny-b'), opts(cache))]);
    expect(a.commit).toBe(b.commit);
    for (const f of a.files) expect(readFileSync(f.local)).toEqual(readFileSync(join(modelDir('tiny-b/hf'), f.path)));
    const left = readdirSync(join(cache, 'models--tiiuae--tiny-b', 'blobs')).filter((n) => n.includes('.lock') || n.includes('.incomplete'));
    expect(left).toEqual([]);
  });
});

describe('tokens, cache root and offline mode', () => {
  it('finds the token like huggingface_hub and never sends it to the CDN', async () => {
    const home = tempDir();
    writeFileSync(join(home, 'token'), 'from-file\n');
    expect(findToken(undefined, { HF_HOME: home })).toBe('from-file');
    expect(findToken(undefined, { HF_HOME: home, HF_TOKEN: 'env' })).toBe('env');
    expect(findToken('flag', { HF_TOKEN: 'env' })).toBe('flag');
    expect(cacheRoot({ HF_HUB_CACHE: '/x' })).toBe('/x');
    expect(cacheRoot({ HF_HOME: '/h' })).toBe('/h/hub');
    expect(cacheRoot({ XDG_CACHE_HOME: '/c' })).toBe('/c/huggingface/hub');

    const cache = tempDir();
    const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache };
    const denied = await cliAsync(['pull', 'secret/tiny-a', '-q'], { env });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/access denied \(HTTP 401\); set HF_TOKEN/);
    hub.log.length = 0;
    const ok = await cliAsync(['pull', 'secret/tiny-a', '--json'], { env: { ...env, HF_TOKEN: hub.token } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout + ok.stderr).not.toContain(hub.token);
    expect(hub.log.filter((l) => l.server === 'hub').every((l) => l.headers.authorization === `Bearer ${hub.token}`)).toBe(true);
    const cdn = hub.log.filter((l) => l.server === 'cdn');
    expect(cdn.length).toBeGreaterThan(0);
    expect(cdn.every((l) => l.headers.authorization === undefined)).toBe(true);
  });

  it('offline mode works from the cache and fails clearly without it', async () => {
    const cache = tempDir();
    const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache };
    expect((await cliAsync(['pull', 'tiiuae/tiny-a', '-q'], { env })).code).toBe(0);
    hub.log.length = 0;
    const off = await cliAsync(['pull', 'tiiuae/tiny-a', '--offline', '--json'], { env });
    expect(off.code, off.stderr).toBe(0);
    expect(JSON.parse(off.stdout).commit).toBe(COMMIT_A);
    expect(hub.log).toEqual([]);
    const none = await cliAsync(['pull', 'tiiuae/tiny-b'], { env: { ...env, HF_HUB_OFFLINE: '1' } });
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/offline: tiiuae\/tiny-b@main is not in the cache/);
  });
});

describe('GGUF repos, --quantize, run with a repo id, ls and rm', () => {
  it('-o copies the checkpoint into a directory as well', async () => {
    const cache = tempDir();
    const out = join(tempDir(), 'local');
    const r = await cliAsync(['pull', 'tiiuae/tiny-a', '-o', out, '-q'], { env: { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    expect(lstatSync(join(out, 'model.safetensors')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(out, 'model.safetensors'))).toEqual(readFileSync(join(modelDir('tiny-a/hf'), 'model.safetensors')));
  });

  it('--gguf picks the matching file of a -GGUF repo', async () => {
    const cache = tempDir();
    const r = await cliAsync(['pull', 'tiiuae/tiny-a-GGUF', '--gguf', 'bf16', '-q'], { env: { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/snapshots\/c{40}\/tiny-a-BF16\.gguf$/);
    const bad = await cliAsync(['pull', 'tiiuae/tiny-a-GGUF', '--gguf', 'Q3_K_S'], { env: { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no GGUF matching 'Q3_K_S' .*tiny-a-F32.gguf/);
  });

  it('pull --quantize converts once; run accepts the repo id; ls lists and rm removes', async () => {
    const cache = tempDir();
    const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache };
    const q = await cliAsync(['pull', 'tiiuae/tiny-a', '--quantize', 'Q8_0', '-q'], { env });
    expect(q.code, q.stderr).toBe(0);
    const gguf = q.stdout.trim();
    expect(gguf).toMatch(/models--tiiuae--tiny-a\/falcon-h1\/a{40}\/tiny-a-q8_0\.gguf$/);
    expect(existsSync(gguf)).toBe(true);
    const run = await cliAsync(['run', 'tiiuae/tiny-a:Q8_0', '-p', 'Hi', '-n', '4', '--temp', '0', '--ignore-eos'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.length).toBeGreaterThan(1);
    const ls = await cliAsync(['ls', '--json'], { env });
    const repos = JSON.parse(ls.stdout);
    expect(repos.map((r: { repo: string }) => r.repo)).toEqual(['tiiuae/tiny-a']);
    expect(repos[0].converted[0].path).toBe(gguf);
    expect((await cliAsync(['rm', 'tiiuae/tiny-a'], { env })).code).toBe(0);
    expect(existsSync(join(cache, 'models--tiiuae--tiny-a'))).toBe(false);
    expect((await cliAsync(['rm', 'tiiuae/tiny-a'], { env })).code).toBe(3);
  });

  it('Ctrl-C leaves resumable partial files and exits 130', async () => {
    const cache = tempDir();
    hub.faults.slowMs = 100;
    const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache };
    const r = await cliAsync(['pull', 'tiiuae/tiny-a', '--connections', '1'], { env, killAfterMs: 1500 });
    expect(r.code).toBe(130);
    const blobs = readdirSync(join(cache, 'models--tiiuae--tiny-a', 'blobs'));
    expect(blobs.some((b) => b.endsWith('.incomplete'))).toBe(true);
    hub.faults.slowMs = 0;
    hub.log.length = 0;
    const again = await cliAsync(['pull', 'tiiuae/tiny-a', '-q'], { env });
    expect(again.code).toBe(0);
    expect(hub.log.some((l) => l.server === 'cdn' && /^bytes=[1-9]/.test(String(l.headers.range ?? '')))).toBe(true);
  });
});

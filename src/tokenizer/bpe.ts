// The BPE model of tokenizer.json: merges applied by rank with a heap (no quadratic loop on long
// words), per-word results cached, ignore_merges, byte_fallback, continuing_subword_prefix and
// end_of_word_suffix.

export interface BpeOptions {
  vocab: Map<string, number>;
  merges: [string, string][];
  unkToken?: string | null;
  continuingSubwordPrefix?: string | null;
  endOfWordSuffix?: string | null;
  byteFallback?: boolean;
  ignoreMerges?: boolean;
  fuseUnk?: boolean;
}

class MinHeap {
  private a: number[] = []; // packed as [rank, pos] pairs
  push(rank: number, pos: number): void {
    const a = this.a;
    a.push(rank, pos);
    let i = a.length / 2 - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[2 * p] < rank || (a[2 * p] === rank && a[2 * p + 1] <= pos)) break;
      a[2 * i] = a[2 * p];
      a[2 * i + 1] = a[2 * p + 1];
      i = p;
    }
    a[2 * i] = rank;
    a[2 * i + 1] = pos;
  }
  pop(): [number, number] | undefined {
    const a = this.a;
    if (!a.length) return undefined;
    const top: [number, number] = [a[0], a[1]];
    const lr = a[a.length - 2];
    const lp = a[a.length - 1];
    a.length -= 2;
    const n = a.length / 2;
    if (n) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && (a[2 * (c + 1)] < a[2 * c] || (a[2 * (c + 1)] === a[2 * c] && a[2 * (c + 1) + 1] < a[2 * c + 1]))) c++;
        if (a[2 * c] > lr || (a[2 * c] === lr && a[2 * c + 1] >= lp)) break;
        a[2 * i] = a[2 * c];
        a[2 * i + 1] = a[2 * c + 1];
        i = c;
      }
      a[2 * i] = lr;
      a[2 * i + 1] = lp;
    }
    return top;
  }
}

export class Bpe {
  readonly vocab: Map<string, number>;
  private ranks = new Map<string, number>();
  private cache = new Map<string, number[]>();
  private unkId: number | undefined;

  constructor(private o: BpeOptions) {
    this.vocab = o.vocab;
    o.merges.forEach(([a, b], i) => {
      const key = `${a} ${b}`;
      if (!this.ranks.has(key)) this.ranks.set(key, i);
    });
    this.unkId = o.unkToken ? o.vocab.get(o.unkToken) : undefined;
  }

  /** Token ids of one pre-token (already byte-level mapped when the pipeline uses ByteLevel). */
  tokenizeWord(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const ids = this.compute(word);
    if (this.cache.size < 200_000) this.cache.set(word, ids);
    return ids;
  }

  private compute(word: string): number[] {
    const o = this.o;
    const suffix = o.endOfWordSuffix ?? '';
    if (o.ignoreMerges) {
      const id = this.vocab.get(word + suffix);
      if (id !== undefined) return [id];
    }
    const prefix = o.continuingSubwordPrefix ?? '';
    const chars = Array.from(word);
    const sym: string[] = [];
    const unknown: boolean[] = [];
    chars.forEach((ch, i) => {
      let s = (i > 0 ? prefix : '') + ch;
      if (i === chars.length - 1) s += suffix;
      sym.push(s);
      unknown.push(!this.vocab.has(s));
    });
    const n = sym.length;
    const next = Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const prev = Array.from({ length: n }, (_, i) => i - 1);
    const alive = new Array(n).fill(true);
    const heap = new MinHeap();
    const rankOf = (i: number, j: number): number | undefined => {
      if (unknown[i] || unknown[j]) return undefined;
      return this.ranks.get(`${sym[i]} ${sym[j]}`);
    };
    for (let i = 0; i + 1 < n; i++) {
      const r = rankOf(i, i + 1);
      if (r !== undefined) heap.push(r, i);
    }
    for (let top = heap.pop(); top; top = heap.pop()) {
      const [rank, i] = top;
      const j = next[i];
      if (!alive[i] || j < 0 || rankOf(i, j) !== rank) continue; // stale entry
      const merged = sym[i] + (prefix && sym[j].startsWith(prefix) ? sym[j].slice(prefix.length) : sym[j]);
      sym[i] = merged;
      unknown[i] = !this.vocab.has(merged);
      alive[j] = false;
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      if (prev[i] >= 0) {
        const r = rankOf(prev[i], i);
        if (r !== undefined) heap.push(r, prev[i]);
      }
      if (next[i] >= 0) {
        const r = rankOf(i, next[i]);
        if (r !== undefined) heap.push(r, i);
      }
    }
    const out: number[] = [];
    let lastUnk = false;
    for (let i = 0; i >= 0 && i < n; i = next[i]) {
      const id = this.vocab.get(sym[i]);
      if (id !== undefined) {
        out.push(id);
        lastUnk = false;
        continue;
      }
      if (o.byteFallback) {
        const bytes = Buffer.from(sym[i].slice(i > 0 ? prefix.length : 0), 'utf8');
        const ids = [...bytes].map((b) => this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
        if (ids.every((x) => x !== undefined)) {
          out.push(...(ids as number[]));
          lastUnk = false;
          continue;
        }
      }
      if (this.unkId !== undefined) {
        if (!(o.fuseUnk && lastUnk)) out.push(this.unkId);
        lastUnk = true;
      }
    }
    return out;
  }
}

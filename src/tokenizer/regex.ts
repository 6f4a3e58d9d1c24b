// Hugging Face tokenizers compile Split patterns with Oniguruma; JavaScript's RegExp (with the `u`
// flag) understands the same \p{..} classes and look-aheads, but Node 20 has no inline modifier
// groups. `(?i:...)` is rewritten into an equivalent group with explicit [xX] classes.

export function translatePattern(pattern: string): string {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    if (pattern.startsWith('(?i:', i)) {
      // copy the group body, making ASCII letters outside classes case-insensitive
      let depth = 1;
      let j = i + 4;
      let body = '';
      let inClass = false;
      while (j < pattern.length && depth > 0) {
        const ch = pattern[j];
        if (ch === '\\') {
          body += pattern.slice(j, j + 2);
          j += 2;
          continue;
        }
        if (inClass) {
          if (ch === ']') inClass = false;
          body += /[a-zA-Z]/.test(ch) ? ch.toLowerCase() + ch.toUpperCase() : ch;
        } else if (ch === '[') {
          inClass = true;
          body += ch;
        } else if (ch === '(') {
          depth++;
          body += ch;
        } else if (ch === ')') {
          depth--;
          if (depth > 0) body += ch;
        } else if (/[a-zA-Z]/.test(ch)) {
          body += `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
        } else {
          body += ch;
        }
        j++;
      }
      out += `(?:${body})`;
      i = j;
      continue;
    }
    if (pattern[i] === '\\') {
      out += pattern.slice(i, i + 2);
      i += 2;
      continue;
    }
    out += pattern[i++];
  }
  return out;
}

export function compilePattern(pattern: string): RegExp {
  return new RegExp(translatePattern(pattern), 'gu');
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

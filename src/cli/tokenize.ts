import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { readGGUF } from '../gguf/reader.js';
import { tokenizerFromGGUF } from '../tokenizer/from-gguf.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { UsageError } from '../util/errors.js';
import { readStdin } from '../util/stdin.js';

export function tokenizeCommand(): Command {
  return new Command('tokenize')
    .description('print the token ids of a text (from a GGUF model or a tokenizer.json)')
    .argument('<tokenizer>', 'GGUF model file or tokenizer.json')
    .argument('[text]', "text to tokenize; '-' or nothing reads stdin")
    .option('--ids', 'print only the ids, one line, comma-separated (default)')
    .option('--json', 'print [{id, piece}] as JSON')
    .option('--special', 'parse special-token text such as <|im_start|> into its id')
    .option('--add-special', "apply the tokenizer's post-processor (e.g. add a BOS)")
    .action(async (src: string, text: string | undefined, o: { json?: boolean; special?: boolean; addSpecial?: boolean }) => {
      const tok = src.endsWith('.json') ? Tokenizer.fromJson(readFileSync(src, 'utf8')) : tokenizerFromGGUF(readGGUF(src));
      let input = text;
      if (input === undefined || input === '-') {
        if (process.stdin.isTTY) throw new UsageError('no text: give TEXT or pipe it on stdin');
        input = await readStdin();
      }
      const ids = tok.encode(input, { parseSpecial: !!o.special, addSpecialTokens: !!o.addSpecial });
      if (o.json) process.stdout.write(JSON.stringify(ids.map((id) => ({ id, piece: tok.idToPiece(id) }))) + '\n');
      else process.stdout.write(ids.join(',') + '\n');
    });
}

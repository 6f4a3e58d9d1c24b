// Entry point: builds the command tree and owns the exit code. Subcommands throw typed errors;
// only this file turns them into a one-line message and an exit status.

import { Command, CommanderError } from 'commander';
import { removePendingTempFiles } from '../util/atomic-file.js';
import { ExitCode, FalconError } from '../util/errors.js';
import { currentInterruptHandler } from './interrupt.js';
import { convertCommand } from './convert.js';
import { inspectCommand } from './inspect.js';
import { logitsCommand } from './logits.js';
import { benchCommand } from './bench.js';
import { runCommand } from './run.js';
import { chatCommand } from './chat.js';
import { pullCommand } from './pull.js';
import { lsCommand, rmCommand } from './ls.js';
import { quantizeCommand } from './quantize.js';
import { perplexityCommand } from './perplexity.js';
import { tokenizeCommand } from './tokenize.js';

const VERSION = '0.1.0';

export function buildProgram(): Command {
  const program = new Command('falcon-h1')
    .description('Run TII Falcon-H1 hybrid models (attention ‖ Mamba-2) locally from GGUF files')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.addCommand(convertCommand());
  program.addCommand(inspectCommand());
  program.addCommand(quantizeCommand());
  program.addCommand(perplexityCommand());
  program.addCommand(logitsCommand());
  program.addCommand(runCommand());
  program.addCommand(chatCommand());
  program.addCommand(pullCommand());
  program.addCommand(lsCommand());
  program.addCommand(rmCommand());
  program.addCommand(tokenizeCommand());
  program.addCommand(benchCommand());
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  process.on('SIGINT', () => {
    const h = currentInterruptHandler();
    if (h) return h();
    removePendingTempFiles();
    process.stderr.write('\ninterrupted\n');
    process.exit(ExitCode.INTERRUPTED);
  });
  process.on('SIGTERM', () => {
    removePendingTempFiles();
    process.exit(143);
  });
  // A closed stdout pipe (`| head`) ends quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(ExitCode.OK);
    throw e;
  });
  try {
    // llama.cpp's multi-letter short flag, which commander cannot declare
    await buildProgram().parseAsync(argv.map((a) => (a === '-ngl' ? '--gpu-layers' : a)));
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.OK;
  } catch (e) {
    removePendingTempFiles();
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.OK;
      return ExitCode.USAGE;
    }
    if (e instanceof FalconError) {
      process.stderr.write(`falcon-h1: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as NodeJS.ErrnoException;
    if (err && (err.code === 'ENOSPC' || err.code === 'EACCES' || err.code === 'EROFS' || err.code === 'ENOENT')) {
      process.stderr.write(`falcon-h1: ${err.message}\n`);
      return ExitCode.FAILURE;
    }
    process.stderr.write(`falcon-h1: internal error: ${err?.stack ?? String(e)}\n`);
    return ExitCode.FAILURE;
  }
}

// Typed errors: each carries an exit code, so the CLI entry point alone decides how the process ends.

export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  BAD_INPUT: 3, // model or input file missing or invalid
  OUT_OF_CONTEXT: 4,
  INTERRUPTED: 130,
} as const;

export class FalconError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.FAILURE,
  ) {
    super(message);
    this.name = 'FalconError';
  }
}

/** A file we were asked to read is malformed, truncated or unsupported. */
export class BadFileError extends FalconError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`, ExitCode.BAD_INPUT);
    this.name = 'BadFileError';
  }
}

export class UsageError extends FalconError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
    this.name = 'UsageError';
  }
}

/** Errors a user can act on. The CLI prints `message` (no stack unless --debug) and exits with `exitCode`. */

/** Exit codes: 0 success, 1 a model or test failed, 2 usage, project or connection error. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export class TmError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TmError';
  }
}

/** A project file is wrong: names the file (and line when known). */
export function projectError(file: string, message: string, line?: number): TmError {
  return new TmError(`${file}${line ? `:${line}` : ''}: ${message}`);
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

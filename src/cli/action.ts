import type { CheckOptions } from '../api/check.js';
import { EXIT_FAILED, EXIT_OK, TmError } from '../core/errors.js';
import { faultMessage } from '../core/fault-message.js';

let exitCode = EXIT_OK;

/** The exit code of the command that ran (set by `action`). */
export function commandExitCode(): number {
  return exitCode;
}

/** Runs a command and turns its outcome into the exit code; user errors print one line, no stack. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number>) {
  return async (...args: A) => {
    try {
      exitCode = await fn(...args);
    } catch (err) {
      exitCode = reportError(err);
    }
  };
}

export function reportError(err: unknown): number {
  const debug = process.argv.includes('--debug');
  const fault = faultMessage(err);
  if (fault) {
    process.stderr.write(`Error: ${fault}\n`);
    if (debug && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return err instanceof TmError ? err.exitCode : EXIT_FAILED;
  }
  if (err instanceof TmError) {
    process.stderr.write(`Error: ${err.message}\n`);
    if (debug && err.cause instanceof Error) process.stderr.write(`${err.cause.stack}\n`);
    return err.exitCode;
  }
  process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
  if (debug && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  else process.stderr.write('(run with --debug for the stack trace)\n');
  return EXIT_FAILED;
}

/**
 * `--check` of `tm run` and `tm build`: `tm check` on the same selection, before anything opens the target.
 * A model that does not bind would fail the run anyway, after other models were written: exit 1 (a model
 * failed, as a run would say), not 2 (the project loads; only its SQL is wrong).
 */
export async function checkedFirst(options: CheckOptions): Promise<boolean> {
  const { check } = await import('../api/check.js');
  const outcome = await check(options);
  if (outcome.exitCode !== EXIT_OK) process.stderr.write('Error: tm check found problems (above); nothing was run\n');
  return outcome.exitCode === EXIT_OK;
}

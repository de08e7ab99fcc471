import { cancelRequested, committedModels, requestCancel } from './cancel.js';

/** How long a cancelled run may take to roll back and clean up before the process exits anyway (the promise is 5 s). */
const DEADLINE_MS = 4_500;

/** What must still happen when the process exits at once (synchronous: nothing else runs after it). */
const lastWords = new Set<() => void>();

/** Registers `write` to run just before a forced exit (the deadline, or a second signal); returns the function that unregisters it. */
export function beforeForcedExit(write: () => void): () => void {
  lastWords.add(write);
  return () => lastWords.delete(write);
}

function exitNow(code: number): never {
  for (const write of lastWords) {
    try {
      write();
    } catch {
      /* exiting anyway: what could not be written is not written */
    }
  }
  process.exit(code);
}

export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}

/** `Interrupted by SIGTERM: models committed: a, b; the rest are as they were` */
export function interruptedLine(signal: NodeJS.Signals, committed: readonly string[]): string {
  return committed.length
    ? `Interrupted by ${signal}: models committed: ${committed.join(', ')}; the rest are as they were`
    : `Interrupted by ${signal}: no model committed; every model is as it was`;
}

export interface InterruptibleOptions {
  /**
   * What the first signal does instead of cancelling (`--every`: finish the cycle, then stop);
   * the next signal then cancels.
   */
  readonly onFirstSignal?: (signal: NodeJS.Signals) => void;
  readonly write?: (line: string) => void;
}

/**
 * Runs a command so that SIGINT/SIGTERM stop it cleanly: the run is cancelled (statements in flight
 * cancelled, the model in progress rolled back, nothing new started), its connections and folders are
 * cleaned up as on any exit, one line says which models committed, and the exit code is 130 (SIGINT)
 * or 143 (SIGTERM). If that takes longer than the deadline, or another signal comes, the process exits
 * at once: PostgreSQL rolls back what the closed connections left open, an exit hook removes the
 * folders, and the next run drops any staging table.
 */
export async function interruptible(work: () => Promise<number>, options: InterruptibleOptions = {}): Promise<number> {
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  let firstSeen = false;
  let reported = false;
  const report = (signal: NodeJS.Signals) => {
    if (!reported) write(interruptedLine(signal, committedModels()));
    reported = true;
    return signalExitCode(signal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (options.onFirstSignal && !firstSeen) {
      firstSeen = true;
      options.onFirstSignal(signal);
      return;
    }
    const pending = cancelRequested();
    if (pending) exitNow(report(pending));
    write(`tm: ${signal} received: stopping (statements in flight cancelled; again to stop at once)`);
    void requestCancel(signal);
    setTimeout(() => {
      write(`tm: cleanup did not finish within ${DEADLINE_MS / 1000}s; exiting (the next run drops what is left)`);
      exitNow(report(signal));
    }, DEADLINE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const code = await work();
    const signal = cancelRequested();
    return signal ? report(signal) : code;
  } catch (err) {
    const signal = cancelRequested();
    if (signal) return report(signal);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

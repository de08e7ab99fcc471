import type { RunOptions } from '../api/run.js';
import { EXIT_OK } from '../core/errors.js';
import { interruptible } from '../core/signals.js';

/**
 * `tm run --every <duration>`: cycles until SIGINT or SIGTERM, which end the loop after the current
 * cycle (exit 0); a second signal stops the cycle in progress as a single run stops (130/143).
 */
export async function runEveryFromCli(options: RunOptions & { readonly quiet?: boolean; readonly alertCommand?: string; readonly alertAfter?: number }, every: string, watch = false): Promise<number> {
  const { parseDuration, runEvery, watchSources } = await import('../api/run-loop.js');
  const everyMs = parseDuration(every);
  const log = (line: string) => process.stdout.write(line + '\n');
  const wake = watch ? await watchSources(options, log) : undefined;
  const controller = new AbortController();
  const finishCycle = (signal: NodeJS.Signals) => {
    process.stdout.write(`tm: ${signal} received, stopping after the current cycle (again to stop now)\n`);
    controller.abort();
  };
  return interruptible(async () => {
    process.stdout.write(watch ? `tm: watching the local sources (and listing every ${every}) until SIGINT or SIGTERM\n` : `tm: running every ${every} until SIGINT or SIGTERM\n`);
    const outcome = await runEvery({ ...options, everyMs, signal: controller.signal, wake });
    process.stdout.write(`tm: stopped after ${outcome.cycles} cycle${outcome.cycles === 1 ? '' : 's'} (${outcome.failures} failed)\n`);
    return EXIT_OK;
  }, { onFirstSignal: finishCycle });
}

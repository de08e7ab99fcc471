import type { Command } from 'commander';
import { interruptible } from '../../core/signals.js';
import { EXIT_FAILED } from '../../core/errors.js';
import { action, checkedFirst } from '../action.js';
import { commonOptions, parseThreads, parseWholeNumber, withCommon, withSelection, withDeferTo, withStateFrom, type GlobalFlags, type SelectionFlags } from '../options.js';
import { runEveryFromCli } from '../run-every.js';

interface RunFlags extends GlobalFlags, SelectionFlags {
  readonly threads?: number;
  readonly fullRefresh?: boolean;
  readonly now?: string;
  readonly every?: string;
  readonly quiet?: boolean;
  readonly alertCommand?: string;
  readonly watch?: boolean;
  readonly alertAfter?: number;
  readonly wait?: boolean;
  readonly dryRun?: boolean;
  readonly showSql?: boolean;
  readonly deferTo?: string;
  readonly check?: boolean;
}

export function registerRunCommand(program: Command): void {
  withDeferTo(withStateFrom(withSelection(withCommon(program.command('run').description('build the selected models into the target')))))
    .option('--threads <n>', "models to run at once (default: the target's threads)", parseThreads)
    .option('--full-refresh', 'rebuild incremental models from scratch (their rows and source state)')
    .option('--now <timestamp>', 'wall-clock time to use (UTC), for tests and backfills')
    .option('--every <duration>', 'run again and again, e.g. 5s, 500ms, 2m (until SIGINT/SIGTERM; failed cycles are retried with backoff)')
    .option('--quiet', 'with --every: print nothing for idle cycles (one line with the time by default)')
    .option('--watch', 'run a cycle as soon as a file lands in a local source folder (file-system notifications; --every, default 30s, is then the safety-net listing)')
    .option('--alert-command <cmd>', 'with --every: run this shell command with each alert as JSON on stdin (clock stalled, no new files, failing cycles, and their recovery)')
    .option('--alert-after <n>', 'with --every: failed cycles in a row, or cycles bringing files without moving the stream clock, before an alert (default 3)', (v: string) => parseWholeNumber('--alert-after', v))
    .option('--wait', 'wait for models another tm process is running, instead of skipping them')
    .option('--dry-run', 'print the plan (each model, its action and why, windows, files) and write nothing to the target')
    .option('--show-sql', "with --dry-run: print each model's SQL as it would run")
    .option('--check', 'first bind the selected models against their contracts (tm check); on a problem, exit 1 before touching the target')
    .action(
      action(async (flags: RunFlags) => {
        const options = {
          ...commonOptions(flags), select: flags.select, exclude: flags.exclude, stateFrom: flags.stateFrom, deferTo: flags.deferTo, threads: flags.threads, fullRefresh: flags.fullRefresh,
          now: flags.now, wait: flags.wait, dryRun: flags.dryRun, showSql: flags.showSql,
        };
        if (flags.check && !(await checkedFirst(options))) return EXIT_FAILED;
        if ((flags.every !== undefined || flags.watch) && !flags.dryRun) {
          return runEveryFromCli({ ...options, quiet: flags.quiet, alertCommand: flags.alertCommand, alertAfter: flags.alertAfter }, flags.every ?? '30s', flags.watch);
        }
        // SIGINT/SIGTERM stop the run within seconds: statements in flight cancelled, nothing half-written (130/143).
        const { run } = await import('../../api/run.js');
        return interruptible(async () => (await run(options)).exitCode);
      }),
    );
}

import type { Command } from 'commander';
import { interruptible } from '../../core/signals.js';
import { EXIT_FAILED } from '../../core/errors.js';
import { action, checkedFirst } from '../action.js';
import { commonOptions, parseThreads, withCommon, withSelection, withDeferTo, withStateFrom, type GlobalFlags, type SelectionFlags } from '../options.js';

type Flags = GlobalFlags & SelectionFlags & {
  threads?: number;
  now?: string;
  storeFailures?: boolean;
  junit?: string;
};

function withTestOptions(cmd: Command): Command {
  return withStateFrom(withSelection(withCommon(cmd)))
    .option('--threads <n>', 'nodes to run at once (default: the target\'s threads)', parseThreads)
    .option('--now <timestamp>', 'wall-clock time to use (UTC): what recency tests and source rules compare with')
    .option('--store-failures', 'keep each test\'s failing rows in the audit schema (<schema>_tm_audit), replaced on each run')
    .option('--junit <path>', 'also write the results as JUnit XML, for CI');
}

/** `tm test` and `tm build` (data quality): exit 0 all passed (warnings allowed), 1 a test or model failed, 2 usage or connection error. */
export function registerQualityCommands(program: Command): void {
  withTestOptions(program.command('test').description('run the data tests of the selected models and sources against the target'))
    .option('--unit', "run the models' unit tests instead (unit_tests: in their YAML): fixture inputs through the real pipeline into a throwaway PGlite, no target needed")
    .action(
      action(async (flags: Flags & { unit?: boolean }) => {
        if (flags.unit) {
          const { unitTest } = await import('../../api/unit-test.js');
          return (await unitTest({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, junit: flags.junit })).exitCode;
        }
        const { test } = await import('../../api/test.js');
        const outcome = await test({
          ...commonOptions(flags), select: flags.select, exclude: flags.exclude, stateFrom: flags.stateFrom, threads: flags.threads, now: flags.now,
          storeFailures: flags.storeFailures, junit: flags.junit,
        });
        return outcome.exitCode;
      }),
    );

  withDeferTo(withTestOptions(program.command('build').description('run the selected models and their tests in DAG order; a failed test skips what is built on its models')))
    .option('--full-refresh', 'rebuild incremental models from scratch (their rows and source state)')
    .option('--dry-run', 'print the plan of the models and write nothing to the target')
    .option('--show-sql', "with --dry-run: print each model's SQL as it would run")
    .option('--check', 'first bind the selected models against their contracts (tm check); on a problem, exit 1 before touching the target')
    .action(
      action(async (flags: Flags & { fullRefresh?: boolean; dryRun?: boolean; showSql?: boolean; deferTo?: string; check?: boolean }) => {
        const options = {
          ...commonOptions(flags), select: flags.select, exclude: flags.exclude, stateFrom: flags.stateFrom, threads: flags.threads, now: flags.now,
          fullRefresh: flags.fullRefresh, deferTo: flags.deferTo, storeFailures: flags.storeFailures, junit: flags.junit, dryRun: flags.dryRun, showSql: flags.showSql,
        };
        if (flags.check && !(await checkedFirst(options))) return EXIT_FAILED;
        // SIGINT/SIGTERM stop a build as they stop a run (130/143).
        const { build } = await import('../../api/build.js');
        return interruptible(async () => (await build(options)).exitCode);
      }),
    );
}

import { Command, CommanderError, Option } from 'commander';
import { parseVarsOption, type CommonOptions } from '../api/project-context.js';
import { compile } from '../api/compile.js';
import { debug } from '../api/debug.js';
import { ls } from '../api/ls.js';
import { run } from '../api/run.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, TmError } from '../errors.js';
import { interruptible } from '../execute/signals.js';
import { registerExtraCommands } from './extra-commands.js';
import { runEveryFromCli } from './run-every.js';

interface GlobalFlags {
  projectDir?: string;
  target?: string;
  vars?: string;
  debug?: boolean;
}

export function commonOptions(flags: GlobalFlags): CommonOptions {
  return { projectDir: flags.projectDir, target: flags.target, vars: parseVarsOption(flags.vars) };
}

/** Options every command takes. */
export function withCommon(cmd: Command): Command {
  return cmd
    .option('--project-dir <dir>', 'tm project folder (default: current folder)')
    .option('-t, --target <name>', 'target from profiles.yml (default: its default_target)')
    .option('--vars <json>', `project variables as JSON, e.g. '{"hot_lookback_minutes": 30}'`)
    .option('--debug', 'print stack traces of errors');
}

export function withSelection(cmd: Command): Command {
  return cmd
    .option('-s, --select <criteria...>', 'nodes to include: names, tag:x, path:dir, +ancestors, descendants+ (space = union, comma = intersection)')
    .option('--exclude <criteria...>', 'nodes to leave out (same grammar)');
}

function parseThreads(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new TmError(`--threads must be a whole number >= 1, got '${value}'`);
  return n;
}

let exitCode = EXIT_OK;
let debugErrors = process.argv.includes('--debug');

/** Runs an action and turns its outcome into an exit code; user errors print one line, no stack. */
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
  if (err instanceof TmError) {
    process.stderr.write(`Error: ${err.message}\n`);
    if (debugErrors && err.cause instanceof Error) process.stderr.write(`${err.cause.stack}\n`);
    return err.exitCode;
  }
  process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
  if (debugErrors && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  else process.stderr.write('(run with --debug for the stack trace)\n');
  return EXIT_FAILED;
}

const program = new Command('tm')
  .description('tm: declarative SQL transforms from a Parquet lake (local or S3) to PostgreSQL marts, computed in DuckDB')
  .version('0.1.0')
  .showHelpAfterError('(run tm --help for usage)')
  .exitOverride();

withSelection(withCommon(program.command('run').description('build the selected models into the target')))
  .option('--threads <n>', 'models to run at once (default: the target\'s threads)', parseThreads)
  .option('--full-refresh', 'rebuild incremental models from scratch (their rows and source state)')
  .option('--now <timestamp>', 'wall-clock time to use (UTC), for tests and backfills')
  .option('--every <duration>', 'run again and again, e.g. 5s, 500ms, 2m (until SIGINT/SIGTERM; failed cycles are retried with backoff)')
  .option('--wait', 'wait for models another tm process is running, instead of skipping them')
  .action(
    action(async (flags: GlobalFlags & { select?: string[]; exclude?: string[]; threads?: number; fullRefresh?: boolean; now?: string; every?: string; wait?: boolean }) => {
      debugErrors = Boolean(flags.debug);
      const options = { ...commonOptions(flags), select: flags.select, exclude: flags.exclude, threads: flags.threads, fullRefresh: flags.fullRefresh, now: flags.now, wait: flags.wait };
      if (flags.every !== undefined) return runEveryFromCli(options, flags.every);
      return interruptible(async () => (await run(options)).exitCode); // rel: SIGINT/SIGTERM stop the run cleanly (130/143)
    }),
  );

withSelection(withCommon(program.command('compile').description('render the selected models to target/compiled/ (no database needed)')))
  .option('--now <timestamp>', 'wall-clock time to render with (UTC)')
  .action(
    action(async (flags: GlobalFlags & { select?: string[]; exclude?: string[]; now?: string }) => {
      await compile({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, now: flags.now });
      return EXIT_OK;
    }),
  );

withSelection(withCommon(program.command('ls').description('list the selected nodes, one per line, in run order')))
  .addOption(new Option('--output <format>', 'output format').choices(['name', 'json', 'path']).default('name'))
  .addOption(new Option('--resource-type <kinds...>', 'kinds of node to list').choices(['model', 'test', 'source']))
  .action(
    action(async (flags: GlobalFlags & { select?: string[]; exclude?: string[]; output: string; resourceType?: ('model' | 'test' | 'source')[] }) => {
      const nodes = await ls({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, kinds: flags.resourceType });
      for (const n of nodes) process.stdout.write((flags.output === 'json' ? JSON.stringify(n) : flags.output === 'path' ? n.path : n.name) + '\n');
      return EXIT_OK;
    }),
  );

withCommon(program.command('debug').description('check the project, the profile, the target connection and DuckDB')).action(
  action(async (flags: GlobalFlags) => {
    const checks = await debug(commonOptions(flags));
    for (const c of checks) process.stdout.write(`  ${c.ok ? 'OK   ' : 'ERROR'} ${c.name}: ${c.detail}\n`);
    const ok = checks.every((c) => c.ok) && checks.length >= 4;
    process.stdout.write(ok ? 'All checks passed.\n' : 'Some checks failed.\n');
    return ok ? EXIT_OK : EXIT_USAGE;
  }),
);

registerExtraCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    exitCode = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  } else {
    exitCode = reportError(err);
  }
}
process.exitCode = exitCode;

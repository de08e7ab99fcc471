#!/usr/bin/env node
/** `node dist/generator/cli.js --out DIR ...`: TripClick-like curated click stream generator. */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS, GeneratorOptionError, generateStream, parseIsoDate, type GenerateOptions } from './generate.js';
import { generateLive } from './live.js';

function intArg(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${name} must be an integer`);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be in [${min}, ${max}]`);
    return n;
  };
}

function numArg(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}]`);
    }
    return n;
  };
}

function dateArg(value: string): string {
  try {
    parseIsoDate(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

interface CliOptions {
  out: string;
  days?: number;
  eventsPerDay?: number;
  seed: number;
  startDate?: string;
  preset?: 'tripclick';
  scale?: number;
  lateFraction?: number;
  duplicateFraction?: number;
  burstsPerDay?: number;
  invalidFraction?: number;
  force?: boolean;
  live?: boolean;
  intervalSec?: number;
  durationSec?: number;
  eventsPerSec?: number;
  verbose?: boolean;
}

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('generate')
    .description('Generate a TripClick-like curated click stream: <out>/event_date=YYYY-MM-DD/*.parquet')
    .option('--out <dir>', 'output root', 'data/curated_stream')
    .option('--days <n>', `days to generate (default ${DEFAULTS.days})`, intArg('--days', 1, 40_000))
    .option('--events-per-day <n>', `mean events per day (default ${DEFAULTS.eventsPerDay})`, intArg('--events-per-day', 0, 50_000_000))
    .option('--seed <n>', 'seed', intArg('--seed', 0, Number.MAX_SAFE_INTEGER), DEFAULTS.seed)
    .option('--start-date <YYYY-MM-DD>', 'first day (default: --days days before 2020-11-01)', dateArg)
    .addOption(new Option('--preset <name>', 'full TripClick scale: 2013-01-01..2020-10-31, 5,272,064 events').choices(['tripclick']))
    .addOption(new Option('--scale <n>', 'multiply the number of events (e.g. 10 with --preset tripclick: 52.7M events)').argParser(numArg('--scale', 0.001, 1000)))
    .option('--late-fraction <x>', `share of late events (default ${DEFAULTS.lateFraction})`, numArg('--late-fraction', 0, 1))
    .option('--duplicate-fraction <x>', `share of replayed duplicates (default ${DEFAULTS.duplicateFraction})`, numArg('--duplicate-fraction', 0, 1))
    .option('--bursts-per-day <x>', `mean click bursts per day (default ${DEFAULTS.burstsPerDay})`, numArg('--bursts-per-day', 0, 100))
    .option('--invalid-fraction <x>', `share of contract-breaking rows (default ${DEFAULTS.invalidFraction})`, numArg('--invalid-fraction', 0, 1))
    .option('--force', 'delete the contents of a non-empty --out first (batch mode)')
    .option('--live', 'live mode: write a small file every --interval-sec seconds until SIGINT/SIGTERM (appends to --out)')
    .option('--interval-sec <n>', 'live: seconds between files (default 3)', numArg('--interval-sec', 0.05, 3600))
    .option('--duration-sec <n>', 'live: stop after this many seconds', numArg('--duration-sec', 0, 1e9))
    .option('--events-per-sec <n>', 'live: mean ordinary clicks per second (default 5)', numArg('--events-per-sec', 0, 100_000))
    .option('--verbose', 'print progress to stderr')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');

  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      return 2;
    }
    throw err;
  }
  const opts = program.opts<CliOptions>();
  try {
    if (opts.live) {
      const batchOnly: [keyof CliOptions, string][] = [
        ['days', '--days'], ['eventsPerDay', '--events-per-day'], ['startDate', '--start-date'], ['preset', '--preset'],
        ['duplicateFraction', '--duplicate-fraction'], ['burstsPerDay', '--bursts-per-day'], ['invalidFraction', '--invalid-fraction'],
        ['force', '--force'],
      ];
      const bad = batchOnly.filter(([k]) => opts[k] !== undefined).map(([, f]) => f);
      if (bad.length > 0) throw new UsageError(`${bad.join(', ')} cannot be used with --live`);
      const t0 = Date.now();
      const result = await generateLive({
        out: opts.out,
        intervalSec: opts.intervalSec,
        durationSec: opts.durationSec,
        seed: opts.seed,
        eventsPerSec: opts.eventsPerSec,
        lateFraction: opts.lateFraction,
      });
      console.log(`live: ${result.files} files, ${result.rows} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return 0;
    }
    const liveOnly: [keyof CliOptions, string][] = [['intervalSec', '--interval-sec'], ['durationSec', '--duration-sec'], ['eventsPerSec', '--events-per-sec']];
    const badLive = liveOnly.filter(([k]) => opts[k] !== undefined).map(([, f]) => f);
    if (badLive.length > 0) throw new UsageError(`${badLive.join(', ')}: live-mode options, add --live`);
    if (opts.preset && (opts.days !== undefined || opts.eventsPerDay !== undefined || opts.startDate !== undefined)) {
      throw new UsageError('--preset tripclick fixes --days, --events-per-day and --start-date; do not pass them');
    }
    const genOptions: GenerateOptions = {
      out: opts.out,
      days: opts.days,
      eventsPerDay: opts.eventsPerDay,
      seed: opts.seed,
      startDate: opts.startDate,
      preset: opts.preset,
      scale: opts.scale,
      lateFraction: opts.lateFraction,
      duplicateFraction: opts.duplicateFraction,
      burstsPerDay: opts.burstsPerDay,
      invalidFraction: opts.invalidFraction,
      force: opts.force ?? false,
      onProgress: opts.verbose ? (m) => process.stderr.write(`[generate] ${m}\n`) : undefined,
    };
    const t0 = Date.now();
    const r = await generateStream(genOptions);
    const seconds = (Date.now() - t0) / 1000;
    console.log(
      `generated ${r.files} files, ${r.events} events (${r.rows} rows: ${r.duplicateRows} replayed, ${r.lateEvents} late, ` +
        `${r.invalidRows} invalid; ${r.sessions} sessions, ${r.bursts} bursts), ${r.days} days ${r.firstDate}..${r.lastDate} ` +
        `in ${seconds.toFixed(1)} s -> ${opts.out}`,
    );
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof GeneratorOptionError) {
      process.stderr.write(`generate: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`generate: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`generate: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

import path from 'node:path';
import { durationMs } from '../core/duration.js';
import { TmError } from '../core/errors.js';
import type { Log } from '../core/progress.js';
import { alertSink, LoopAlerts } from './loop-alerts.js';
import { loadProjectContext } from './project-context.js';
import { watchFolders, type Wakeup } from './file-wakeup.js';
import { openCycleRunner } from './cycle-runner.js';
import type { RunOptions } from './run.js';

export interface RunLoopOptions extends RunOptions {
  /** Time from the start of one cycle to the start of the next. */
  readonly everyMs: number;
  /** Ends the loop after the current cycle (SIGINT/SIGTERM in the CLI). */
  readonly signal?: AbortSignal;
  /** Stops after this many cycles (tests, benchmarks). */
  readonly maxCycles?: number;
  /** Longest wait after failures (backoff doubles from `everyMs`), default max(everyMs, 60 s). */
  readonly maxBackoffMs?: number;
  /** Idle cycles (nothing new in the stream) print nothing instead of one line. */
  readonly quiet?: boolean;
  /** Cycles in a row that fail, or bring files without moving the stream clock, before an alert (default 3). */
  readonly alertAfter?: number;
  /** A shell command run with each alert's JSON on stdin. */
  readonly alertCommand?: string;
  /** `--watch`: a cycle starts as soon as this wakes; `everyMs` is then the safety-net period. */
  readonly wake?: Wakeup;
  /** Called after each cycle with its duration. */
  readonly onCycle?: (cycle: CycleReport) => void;
}

export interface CycleReport {
  readonly cycle: number;
  readonly ok: boolean;
  readonly ms: number;
}

export interface RunLoopOutcome {
  readonly cycles: number;
  readonly failures: number;
}

/**
 * `tm run --every <duration>`: one run after another (see openCycleRunner: the project and the
 * connections are kept between cycles). A failing cycle (a model error, a lost connection) is
 * logged and retried after a growing pause, and the loop goes on; the next good cycle fills the gap
 * (H starts from the last snapshot a model reached). The signal ends the loop after the cycle in progress.
 */
export async function runEvery(options: RunLoopOptions): Promise<RunLoopOutcome> {
  const log: Log = options.log ?? ((line) => process.stdout.write(line + '\n'));
  const maxBackoff = options.maxBackoffMs ?? Math.max(options.everyMs, 60_000);
  const cycleLog = new CycleLog(log);
  const runner = openCycleRunner({ ...options, log: (line) => cycleLog.line(line) });
  const alerts = new LoopAlerts(options.alertAfter ?? 3);
  const sink = alertSink(log, options.alertCommand);
  let cycles = 0;
  let failures = 0;
  let streak = 0;
  let woke: 'file' | 'timer' | undefined;
  try {
    while (!options.signal?.aborted && (options.maxCycles === undefined || cycles < options.maxCycles)) {
      cycleLog.start(cycles + 1);
      const result = await runner.cycle();
      const idle = result.ok && result.outcome?.plan?.idle === true;
      cycleLog.end(idle, idle && !options.quiet ? `tm: ${new Date().toISOString()} cycle ${cycles + 1} idle: stream clock ${result.outcome?.plan?.clock ?? '-'} unchanged, nothing written (${(result.ms / 1000).toFixed(2)}s)` : undefined);
      if (result.error) log(`Error: ${result.error}`);
      if (woke === 'timer' && result.ok && !idle) log('tm: the safety-net listing found changes the file notifications missed');
      cycles++;
      sink.send(alerts.observe({ cycle: cycles, ok: result.ok, error: result.error, clock: result.outcome?.plan?.clock, freshness: result.outcome?.freshness }));
      options.onCycle?.({ cycle: cycles, ok: result.ok, ms: result.ms });
      let pause: number;
      if (result.ok) {
        streak = 0;
        pause = Math.max(0, options.everyMs - result.ms);
      } else {
        failures++;
        streak++;
        pause = Math.min(maxBackoff, options.everyMs * 2 ** streak);
        log(`tm: cycle ${cycles} failed; retrying in ${(pause / 1000).toFixed(1)}s`);
      }
      if (options.maxCycles !== undefined && cycles >= options.maxCycles) break;
      if (options.wake && result.ok) woke = await options.wake.wait(options.everyMs, options.signal);
      else {
        woke = undefined;
        await sleep(pause, options.signal);
      }
    }
  } finally {
    await runner.close();
    options.wake?.close();
    await sink.drain();
  }
  return { cycles, failures };
}

/**
 * `--watch`: wakes on changes under the project's local source folders. S3 sources are not watched:
 * the safety-net period lists them (docs/freshness.md says how S3 event notifications would feed this).
 */
export async function watchSources(options: RunOptions, log: Log): Promise<Wakeup> {
  const ctx = await loadProjectContext(options);
  const dirs = [...ctx.manifest.sources.values()].filter((s) => !s.location.startsWith('s3://')).map((s) => path.resolve(ctx.project.projectDir, s.location));
  return watchFolders([...new Set(dirs)], log);
}

/**
 * The output of a loop's cycles: a cycle that does work prints as a single run does, under a line with
 * its time; an idle one (the stream clock unchanged) prints one line, or nothing with --quiet, instead of
 * a line per model (a 5 s loop would print ~120k lines a day). Lines wait until the plan says which.
 */
export class CycleLog {
  private held: string[] = [];
  private streaming = false;
  private idle = false;
  private cycle = 0;

  constructor(private readonly log: Log) {}

  start(cycle: number): void {
    this.cycle = cycle;
    this.held = [];
    this.streaming = false;
    this.idle = false;
  }

  line(line: string): void {
    if (this.streaming) return this.log(line);
    this.held.push(line);
    // The clock line is printed once the plan is made: it says whether the cycle has work.
    if (/^tm: stream clock .* unchanged, 0 of/.test(line)) this.idle = true;
    else if (/^tm: stream clock /.test(line) || !this.idle && /^\s*\d+ of \d+ /.test(line)) this.flush();
  }

  /** A cycle ends: an idle one prints `idleLine` (or nothing); any other prints what it held. */
  end(idle: boolean, idleLine: string | undefined): void {
    if (idle && this.idle) {
      if (idleLine) this.log(idleLine);
    } else if (!this.streaming) this.flush();
    this.held = [];
  }

  private flush(): void {
    this.log(`tm: ${new Date().toISOString()} cycle ${this.cycle}`);
    for (const held of this.held) this.log(held);
    this.held = [];
    this.streaming = true;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Parses `--every`: `500ms`, `5s`, `2m`, `1h`, or a number of seconds. */
export function parseDuration(text: string): number {
  const n = durationMs(text);
  if (n === undefined) throw new TmError(`--every '${text}' is not a duration (e.g. 5s, 500ms, 2m)`);
  if (n < 10) throw new TmError(`--every must be at least 10ms, got '${text}'`);
  return n;
}

import { stat } from 'node:fs/promises';
import path from 'node:path';
import { TmError, errorMessage } from '../errors.js';
import type { Log } from '../execute/progress.js';
import { listFiles } from '../project/walk.js';
import { loadProjectContext, type ProjectContext } from './project-context.js';
import { run, type RunOptions } from './run.js';
import { openRuntime, type Runtime } from './runtime.js';

export interface RunLoopOptions extends RunOptions {
  /** Time from the start of one cycle to the start of the next. */
  readonly everyMs: number;
  /** Ends the loop after the current cycle (SIGINT/SIGTERM in the CLI). */
  readonly signal?: AbortSignal;
  /** Stops after this many cycles (tests, benchmarks). */
  readonly maxCycles?: number;
  /** Longest wait after failures (backoff doubles from `everyMs`), default max(everyMs, 60 s). */
  readonly maxBackoffMs?: number;
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
 * `tm run --every <duration>`: one run after another. A failing cycle (a model error, a lost
 * connection) is logged and retried after a growing pause, and the loop goes on; the next good
 * cycle fills the gap (H starts from the last snapshot a model reached). The signal ends the loop
 * after the cycle in progress. The parsed project and the connections are kept from one cycle to
 * the next (the project is parsed again when one of its files changes; connections are opened
 * again after a failed cycle).
 */
export async function runEvery(options: RunLoopOptions): Promise<RunLoopOutcome> {
  const log: Log = options.log ?? ((line) => process.stdout.write(line + '\n'));
  const maxBackoff = options.maxBackoffMs ?? Math.max(options.everyMs, 60_000);
  let cycles = 0;
  let failures = 0;
  let streak = 0;
  let kept: { context: ProjectContext; runtime?: Runtime; fingerprint: string } | undefined;
  const dropRuntime = async () => {
    await kept?.runtime?.close().catch(() => undefined);
    if (kept) kept.runtime = undefined;
  };
  try {
    while (!options.signal?.aborted && (options.maxCycles === undefined || cycles < options.maxCycles)) {
      const started = performance.now();
      let ok: boolean;
      try {
        const fingerprint = kept ? await projectFingerprint(kept.context) : '';
        if (!kept || fingerprint !== kept.fingerprint) {
          await dropRuntime();
          const context = await loadProjectContext(options);
          kept = { context, fingerprint: await projectFingerprint(context) };
        }
        kept.runtime ??= await openRuntime(kept.context.project.projectDir, options.target, options.threads);
        // --full-refresh rebuilds once, in the first cycle.
        const outcome = await run({ ...options, fullRefresh: cycles === 0 ? options.fullRefresh : false, keep: { context: kept.context, runtime: kept.runtime } });
        ok = outcome.exitCode === 0;
      } catch (err) {
        log(`Error: ${err instanceof TmError ? err.message : errorMessage(err)}`);
        ok = false;
      }
      if (!ok) await dropRuntime();
      cycles++;
      const ms = performance.now() - started;
      options.onCycle?.({ cycle: cycles, ok, ms });
      let pause: number;
      if (ok) {
        streak = 0;
        pause = Math.max(0, options.everyMs - ms);
      } else {
        failures++;
        streak++;
        pause = Math.min(maxBackoff, options.everyMs * 2 ** streak);
        log(`tm: cycle ${cycles} failed; retrying in ${(pause / 1000).toFixed(1)}s`);
      }
      if (options.maxCycles !== undefined && cycles >= options.maxCycles) break;
      await sleep(pause, options.signal);
    }
  } finally {
    await dropRuntime();
  }
  return { cycles, failures };
}

/** Names, sizes and times of the project's files: a change makes the loop parse the project again. */
async function projectFingerprint(ctx: ProjectContext): Promise<string> {
  const p = ctx.project;
  const files = [path.join(p.projectDir, 'project.yml'), path.join(p.projectDir, 'profiles.yml')];
  for (const dir of [...p.modelPaths, ...p.macroPaths, ...p.testPaths]) files.push(...(await listFiles(path.join(p.projectDir, dir), ['.sql', '.yml', '.yaml', '.hbs', '.js', '.mjs'])));
  const parts = await Promise.all(files.map(async (f) => {
    const s = await stat(f).catch(() => undefined);
    return `${f}:${s?.size ?? -1}:${s?.mtimeMs ?? -1}`;
  }));
  return parts.join('\n');
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
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new TmError(`--every '${text}' is not a duration (e.g. 5s, 500ms, 2m)`);
  const n = Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000);
  if (n < 10) throw new TmError(`--every must be at least 10ms, got '${text}'`);
  return n;
}

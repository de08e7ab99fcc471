import { stat } from 'node:fs/promises';
import path from 'node:path';
import { TmError, errorMessage } from '../core/errors.js';
import { faultMessage } from '../core/fault-message.js';
import { listFiles } from '../project/walk.js';
import { loadProjectContext, type ProjectContext } from './project-context.js';
import { run, type RunOptions, type RunOutcome } from './run.js';
import { openRuntime, type Runtime } from './runtime.js';

/** One cycle of a timer loop: its outcome, or the error that stopped it, and its duration. */
export interface CycleResult {
  readonly ok: boolean;
  readonly ms: number;
  readonly outcome?: RunOutcome;
  /** One-line message when the cycle failed before or outside the models (project, connection, source). */
  readonly error?: string;
}

/** Runs cycles of `tm run` that share a parsed project and open connections. */
export interface CycleRunner {
  cycle(): Promise<CycleResult>;
  close(): Promise<void>;
}

/**
 * What `tm run --every` runs each cycle, usable on its own (benchmarks: time one cycle that picks up
 * one new file). The project is parsed once and again when one of its files changes; the connections
 * (PostgreSQL pool, DuckDB, the source cache it attaches) stay open between cycles and are opened
 * again after a failed cycle. `--full-refresh` applies to the first cycle only.
 */
export function openCycleRunner(options: RunOptions): CycleRunner {
  let kept: { context: ProjectContext; runtime?: Runtime; fingerprint: string } | undefined;
  let cycles = 0;
  const dropRuntime = async () => {
    await kept?.runtime?.close().catch(() => undefined);
    if (kept) kept.runtime = undefined;
  };
  return {
    async cycle() {
      const started = performance.now();
      let result: Omit<CycleResult, 'ms'>;
      try {
        const fingerprint = kept ? await projectFingerprint(kept.context) : '';
        if (!kept || fingerprint !== kept.fingerprint) {
          await dropRuntime();
          const context = await loadProjectContext(options);
          kept = { context, fingerprint: await projectFingerprint(context) };
        }
        kept.runtime ??= await openRuntime(kept.context.project.projectDir, options.target, options.threads, { log: options.log });
        const outcome = await run({ ...options, fullRefresh: cycles === 0 ? options.fullRefresh : false, keep: { context: kept.context, runtime: kept.runtime } });
        result = { ok: outcome.exitCode === 0, outcome };
      } catch (err) {
        result = { ok: false, error: faultMessage(err) ?? (err instanceof TmError ? err.message : errorMessage(err)) };
      }
      cycles++;
      if (!result.ok) await dropRuntime();
      return { ...result, ms: performance.now() - started };
    },
    close: dropRuntime,
  };
}

/** Names, sizes and times of the project's files: a change makes the runner parse the project again. */
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

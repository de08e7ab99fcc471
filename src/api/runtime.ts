import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { openEngineTable } from '../engines/compute/index.js';
import type { EngineTable } from '../engines/compute/types.js';
import { quoteIdent } from '../core/sql-quote.js';
import { openTargetOf } from '../engines/open-target.js';
import { withSession, type Target, type TargetSession } from '../engines/target.js';
import { onCancel } from '../core/cancel.js';
import type { Log } from '../core/progress.js';
import { openRunFolders } from '../execute/scratch.js';
import { loadTargetConfig, type TargetConfig } from '../project/load-profile.js';
import { applicationNameOf, openRunRegistry, type RunRegistry } from '../state/run-registry.js';

/** The open connections of one command: the target database and the compute engines (a DuckDB, the target). */
export interface Runtime {
  /** Id of this run (of the process's runtime, across `--every` cycles): names its folders, lock and backends. */
  readonly runId: string;
  readonly config: TargetConfig;
  readonly target: Target;
  /** The table of compute engines `engine:` names; `engines.sources` reads the source files. */
  readonly engines: EngineTable;
  close(): Promise<void>;
}

/** A run's identity, when the target is opened for one: its backends' application_name and its scratch folder. */
export interface RunScope {
  readonly runId: string;
  readonly scratchDir: string;
}

export async function openTarget(config: TargetConfig, threads: number, run?: RunScope): Promise<Target> {
  // Each running model may hold one session and borrow more to build indexes in parallel.
  return openTargetOf(config, { maxSessions: Math.max(4, threads * 2 + 1), applicationName: run ? applicationNameOf(run.runId) : undefined, scratchDir: run?.scratchDir });
}

const stdoutLog: Log = (line) => process.stdout.write(line + '\n');

export interface RuntimeOptions {
  /** Progress lines (the cleanup of dead runs); default stdout. */
  readonly log?: Log;
  /**
   * False for a dry run: writes nothing to the target (no schema, no run registry, no cleanup of
   * dead runs' staging tables, which the next real run does).
   */
  readonly write?: boolean;
  /**
   * Writes to the target (its schema, the run registry) wait for this: the connections open while the
   * project is parsed, and a project that fails to load leaves the target untouched.
   */
  readonly writesAfter?: Promise<unknown>;
  /** The target to open, instead of profiles.yml's (a unit test's throwaway PGlite). */
  readonly config?: TargetConfig;
}

/**
 * Opens what a run needs, and first cleans what dead runs left: their scratch and spill folders
 * (execute/scratch.ts) and their staging tables (state/run-registry.ts), one line each when there were any.
 */
export async function openRuntime(projectDir: string, targetName: string | undefined, threadsOverride?: number, options: RuntimeOptions = {}): Promise<Runtime> {
  const log = options.log ?? stdoutLog;
  const write = options.write ?? true;
  const config = options.config ?? (await loadTargetConfig(projectDir, targetName));
  const threads = threadsOverride ?? config.threads;
  await mkdir(config.duckdb.tempDirectory, { recursive: true });
  const runId = randomBytes(8).toString('hex');
  // Spill files get a folder per run: DuckDB names them alike, and two tm processes on one project
  // (a hot loop and a cold run) must never read each other's.
  const { folders, removed } = openRunFolders(runId, config.duckdb.tempDirectory, config.spark?.output);
  if (removed.length) log(`tm: removed ${removed.length} scratch folder${removed.length === 1 ? '' : 's'} left by runs that died (${removed.join(', ')})`);
  const undo: (() => Promise<unknown> | unknown)[] = [() => folders.remove()];
  const closeAll = async () => {
    for (const step of undo.splice(0).reverse()) await Promise.resolve().then(step).catch(() => undefined);
  };
  try {
    const opened = await openTarget(config, threads, { runId, scratchDir: folders.tmp });
    undo.push(() => opened.close());
    // Fail fast, before any work, when the target cannot be reached.
    await withSession(opened, (session) => session.query('SELECT 1'));
    const spark = config.spark && folders.output ? { connect: config.spark.connect, conf: config.spark.conf, runOutput: folders.output } : undefined;
    const engines = await openEngineTable({ ...config.duckdb, tempDirectory: folders.spill, removeTempDirectoryOnClose: true }, opened, spark);
    undo.push(() => engines.close());
    if (write) {
      await options.writesAfter;
      await withSession(opened, (session) => ensureTargetSchema(session, opened.schema));
    }
    const registry: RunRegistry | undefined = write ? await openRunRegistry(opened, runId, log) : undefined;
    if (registry) undo.push(() => registry.close());
    const target: Target = registry ? { ...opened, staging: registry } : opened;
    // A signal cancels the statements in flight: PostgreSQL's from another session, DuckDB's by interrupt.
    if (registry) undo.push(onCancel(() => registry.cancelInFlight()));
    undo.push(onCancel(() => engines.interrupt()));
    return { runId, config, target, engines, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/**
 * Creates the target schema once, before models run: models creating it concurrently race in
 * pg_namespace (duplicate key). Another process winning the race is fine.
 */
async function ensureTargetSchema(session: TargetSession, schema: string): Promise<void> {
  const [row] = await session.query<{ ok: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS ok`, [schema]);
  if (row?.ok) return;
  try {
    await session.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  } catch (err) {
    if (!['23505', '42P06'].includes((err as { code?: string }).code ?? '')) throw err;
  }
}

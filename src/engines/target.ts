/** The target database (PostgreSQL or PGlite): a small interface, as Kysely's drivers are. */

import { qualifiedName } from '../core/sql-quote.js';

/**
 * Makes DuckDB write the rows as headerless CSV: to the file `path`, or, when `chunked`,
 * into the folder `path` as several files of bounded size. Resolves to the rows written (core/copy-check.ts).
 */
export type CsvWriter = (path: string, chunked: boolean) => Promise<number>;

export interface TargetSession {
  /** Runs exactly one statement (the extended protocol: `a; b` is an error). */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs one or more statements without parameters. */
  exec(sql: string): Promise<void>;
  /**
   * `COPY table (columns) FROM STDIN (FORMAT csv)` fed by `write`; returns rows copied, which must equal the rows written.
   * Rows go from DuckDB's CSV writer to the server without passing through JavaScript objects.
   */
  copyCsvIn(table: string, columns: readonly string[], write: CsvWriter, options?: CopyOptions): Promise<number>;
  /** `COPY (query) TO STDOUT (FORMAT csv, HEADER)` into a local file, for reading target rows in DuckDB. */
  copyCsvOut(query: string, file: string): Promise<number>;
  release(): Promise<void>;
}

export interface CopyOptions {
  /** The model being loaded: names the `during-copy` pause point (tests kill runs there). */
  readonly model?: string;
}

/** A connection outside the pool, for the life of a run: it holds the run's advisory lock. */
export interface DedicatedSession {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** True once the connection failed (the server restarted, the backend was terminated). */
  readonly lost: () => boolean;
  close(): Promise<void>;
}

/**
 * Staging relations belong to a run (see state/run-registry.ts): recorded in the transaction that
 * creates them, forgotten in the one that swaps them in or drops them.
 */
export interface RunStaging {
  readonly runId: string;
  record(tx: TargetSession, schema: string, name: string): Promise<void>;
  forget(tx: TargetSession, schema: string, name: string): Promise<void>;
}

export interface Target {
  readonly kind: 'postgres' | 'pglite';
  /** Target name from profiles.yml. */
  readonly name: string;
  readonly database: string;
  readonly schema: string;
  /** Where it is, for messages (never holds a password). */
  readonly label: string;
  /** Sessions that may work at once (1 for PGlite). */
  readonly maxSessions: number;
  /** Whether advisory locks mean anything (several processes can reach the database). */
  readonly sharedByProcesses: boolean;
  acquire(): Promise<TargetSession>;
  /** PostgreSQL only: a connection of its own (same application_name as the pool's). */
  readonly openDedicated?: () => Promise<DedicatedSession>;
  /** The run's scratch folder (execute/scratch.ts) when the target was opened for a run. */
  readonly scratchDir?: string;
  /** The run's registry of staging relations, when the target was opened for a run. */
  readonly staging?: RunStaging;
  close(): Promise<void>;
}

/** Runs `work` on a session of its own, released afterwards. */
export async function withSession<T>(target: Target, work: (session: TargetSession) => Promise<T>): Promise<T> {
  const session = await target.acquire();
  try {
    return await work(session);
  } finally {
    await session.release();
  }
}

export async function transaction<T>(session: TargetSession, work: (session: TargetSession) => Promise<T>): Promise<T> {
  await session.exec('BEGIN');
  try {
    const result = await work(session);
    await session.exec('COMMIT');
    return result;
  } catch (err) {
    await session.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** `"schema"."name"` */
export const qualified = qualifiedName;

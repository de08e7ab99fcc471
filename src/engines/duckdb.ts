import { rmSync } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { throwIfCancelled } from '../core/cancel.js';

export interface DuckDbSettings {
  /** DuckDB memory cap, e.g. `1GB`; beyond it DuckDB spills to `tempDirectory`. */
  readonly memoryLimit: string;
  readonly threads?: number;
  readonly tempDirectory: string;
  /**
   * A database file for the run's tables (deleted on close). With a file, DuckDB keeps large tables
   * compressed and evicts them to disk under the memory cap; without one, everything stays in memory.
   */
  readonly databaseFile?: string;
  /** Remove `tempDirectory` on close: only for a folder made for this database alone (never a shared one). */
  readonly removeTempDirectoryOnClose?: boolean;
}

/** One DuckDB connection: statements run one at a time on it. */
export interface DuckSession {
  run(sql: string): Promise<void>;
  /** Rows as JSON-safe objects (timestamps and big integers as strings). For small results only. */
  all<R = Record<string, unknown>>(sql: string): Promise<R[]>;
  close(): void;
}

/** An in-memory DuckDB database; tables created in it are shared by all its sessions. */
export interface DuckDb {
  connect(): Promise<DuckSession>;
  /** Interrupts the statements running on every session (a run cancelled by a signal). */
  interrupt(): void;
  close(): void;
}

export async function openDuckDb(settings: DuckDbSettings): Promise<DuckDb> {
  const options: Record<string, string> = {
    memory_limit: settings.memoryLimit,
    temp_directory: settings.tempDirectory,
    preserve_insertion_order: 'false',
    // tm reads each file once per run into a table; DuckDB's cache of file contents would only take memory
    // from the capped pool (measured: 290MB for 6,445 files).
    enable_external_file_cache: 'false',
  };
  if (settings.threads) options.threads = String(settings.threads);
  const instance = await DuckDBInstance.create(settings.databaseFile ?? ':memory:', options);
  const sessions: DuckDBConnection[] = [];
  return {
    async connect() {
      const connection = await instance.connect();
      sessions.push(connection);
      // The spec pins every timestamp to UTC; TimeZone can only be set once ICU is loaded, i.e. per connection.
      await connection.run(`SET TimeZone = 'UTC'`);
      return {
        async run(sql) {
          // Once the run is cancelled no new statement starts (an interrupt only stops the running ones).
          throwIfCancelled();
          await connection.run(sql);
        },
        async all<R>(sql: string) {
          throwIfCancelled();
          const reader = await connection.runAndReadAll(sql);
          return reader.getRowObjectsJson() as unknown as R[];
        },
        close() {
          connection.closeSync();
        },
      };
    },
    interrupt() {
      for (const s of sessions) {
        try {
          s.interrupt();
        } catch {
          /* closed */
        }
      }
    },
    close() {
      for (const s of sessions) {
        try {
          s.closeSync();
        } catch {
          /* already closed */
        }
      }
      instance.closeSync();
      if (settings.databaseFile) for (const f of [settings.databaseFile, `${settings.databaseFile}.wal`]) rmSync(f, { force: true });
      if (settings.removeTempDirectoryOnClose) rmSync(settings.tempDirectory, { recursive: true, force: true });
    },
  };
}

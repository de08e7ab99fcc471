import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PreparedSource } from '../sources/prepare-source.js';
import { writeJsonAtomic } from './write-json.js';

export const RUN_RESULTS_SCHEMA = 'tm/run-results/v1';

export interface NodeResult {
  readonly unique_id: string;
  readonly name: string;
  readonly kind: 'model' | 'test' | 'source';
  readonly status: 'success' | 'error' | 'skipped' | 'pass' | 'warn' | 'fail';
  readonly execution_time_s: number;
  /** Part of execution_time_s spent waiting for DuckDB, busy with other models' queries. */
  readonly queued_s?: number;
  readonly started_at?: string;
  readonly completed_at?: string;
  readonly rows?: number;
  readonly message?: string;
  /** Rows left out of this node's inputs, per source contract rule. */
  readonly rows_excluded?: Readonly<Record<string, number>>;
  readonly compiled_path?: string;
  readonly [key: string]: unknown;
}

export interface RunResults {
  readonly command: string;
  readonly target: string;
  readonly started_at: string;
  readonly elapsed_s: number;
  readonly results: readonly NodeResult[];
  readonly sources?: readonly unknown[];
  /** Why the run stopped before it finished (a signal, a failed source read or quarantine). */
  readonly error?: string;
}

/** `target/run_results.json`, written atomically. */
export async function writeRunResults(targetDir: string, run: RunResults): Promise<void> {
  await writeJsonAtomic(path.join(targetDir, 'run_results.json'), resultsDocument(run));
}

/** The same, synchronously: for a process exiting at once. */
export function writeRunResultsSync(targetDir: string, run: RunResults): void {
  const file = path.join(targetDir, 'run_results.json');
  mkdirSync(targetDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(resultsDocument(run), null, 2) + '\n');
  renameSync(tmp, file);
}

function resultsDocument(run: RunResults): Record<string, unknown> {
  return { metadata: { schema: RUN_RESULTS_SCHEMA, generated_at: new Date().toISOString() }, ...run };
}

/** A prepared source in `run_results.json`: what was read and what its contract left out. */
export function sourceSummary(s: PreparedSource): Record<string, unknown> {
  return {
    name: s.name, files: s.files.length, unreadable_files: s.unreadableFiles, rows_read: s.rowsRead,
    valid_rows: s.validRows, duplicates: s.duplicates, rows_excluded: s.excluded, clock: s.clock, excluded_by_file: s.excludedByFile,
  };
}

import path from 'node:path';
import { duckTypeFor } from './type-map.js';
import type { ColumnSpec } from '../manifest/types.js';
import type { DuckSession } from './duckdb.js';
import { quoteIdent, quoteLiteral } from '../core/sql-quote.js';
import type { Target, TargetSession } from './target.js';
import { writeDuckCsv } from './copy-check.js';

/** Where table rows come from and go to, typed by a contract's columns. */
export interface TableCopy {
  /** Columns to copy, with their PostgreSQL types (DuckDB types are derived). */
  readonly columns: readonly ColumnSpec[];
  /** DuckDB table created (replaced) with the rows. */
  readonly into: string;
  /** Scratch folder for the CSV in between. */
  readonly scratch: string;
}

/**
 * Copies a target relation's rows into a DuckDB table, through a CSV file (COPY TO STDOUT, then
 * DuckDB's CSV reader with the contract's types). `from` undefined creates the table empty.
 */
export async function copyTargetToDuck(session: DuckSession, target: Target, from: string | undefined, copy: TableCopy): Promise<void> {
  const types = copy.columns.map((c) => `${quoteIdent(c.name)} ${duckTypeFor(c.type)}`).join(', ');
  if (from === undefined) {
    await session.run(`CREATE OR REPLACE TABLE ${quoteIdent(copy.into)} (${types})`);
    return;
  }
  const file = path.join(copy.scratch, `${copy.into}.csv`);
  const t = await target.acquire();
  try {
    await t.copyCsvOut(`SELECT ${copy.columns.map((c) => quoteIdent(c.name)).join(', ')} FROM ${from}`, file);
  } finally {
    await t.release();
  }
  const columns = copy.columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(duckTypeFor(c.type))}`).join(', ');
  // PostgreSQL's CSV writes NULL unquoted and an empty string as "": DuckDB reads "" as NULL unless told not to.
  await session.run(`CREATE OR REPLACE TABLE ${quoteIdent(copy.into)} AS SELECT * FROM read_csv(${quoteLiteral(file)}, header = true, allow_quoted_nulls = false, columns = {${columns}})`);
}

/**
 * Streams a DuckDB table into a target table with COPY FROM STDIN: DuckDB writes CSV to a scratch
 * file (PGlite reads it in 32 MB chunks), so rows never become JavaScript objects. Returns the rows copied.
 */
export function copyDuckToTarget(session: DuckSession, duckTable: string, into: TargetSession, table: string, columns: readonly string[]): Promise<number> {
  return into.copyCsvIn(table, columns, (dest, chunked) => writeDuckCsv(session, quoteIdent(duckTable), dest, chunked));
}

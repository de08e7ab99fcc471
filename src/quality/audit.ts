/**
 * The audit schema: failing rows of tests (`--store-failures`) and quarantined source rows, kept in
 * the target next to the marts as `<target schema>_tm_audit`, so two schemas of one database never share it.
 */
import type { SqlSession } from '../engines/compute/types.js';
import { quoteIdent } from '../core/sql-quote.js';
import { writeDuckCsv } from '../engines/copy-check.js';
import { qualified, type Target, type TargetSession } from '../engines/target.js';
import { ensureSchema, pgName } from '../materialize/ddl.js';

export function auditSchemaOf(targetSchema: string): string {
  return pgName(`${targetSchema}_tm_audit`);
}

export function auditTable(targetSchema: string, name: string): string {
  return qualified(auditSchemaOf(targetSchema), pgName(name));
}

/** Made once, before the tests that store failures run side by side (they would race to create it). */
export async function ensureAuditSchema(target: Target): Promise<void> {
  const session = await target.acquire();
  try {
    // Outside a transaction: a schema another process makes at the same moment is no error.
    await ensureSchema(session, auditSchemaOf(target.schema));
  } finally {
    await session.release();
  }
}

export interface DuckColumn {
  readonly name: string;
  /** PostgreSQL type of the column. */
  readonly pgType: string;
  /** DuckDB expression that yields a value PostgreSQL reads from CSV as `pgType`. */
  readonly select: string;
}

/** The columns of a DuckDB query, typed for PostgreSQL; types PostgreSQL has no match for travel as text. */
export async function describeDuckQuery(duck: SqlSession, sql: string): Promise<DuckColumn[]> {
  const described = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`);
  return described.map((d) => {
    const pgType = pgTypeForDuck(d.column_type);
    const column = quoteIdent(d.column_name);
    return { name: d.column_name, pgType: pgType ?? 'TEXT', select: pgType ? column : `CAST(${column} AS VARCHAR) AS ${column}` };
  });
}

const SIMPLE_TYPES: Readonly<Record<string, string>> = {
  VARCHAR: 'TEXT', BOOLEAN: 'BOOLEAN', TINYINT: 'SMALLINT', SMALLINT: 'SMALLINT', INTEGER: 'INTEGER', BIGINT: 'BIGINT',
  UTINYINT: 'SMALLINT', USMALLINT: 'INTEGER', UINTEGER: 'BIGINT', UBIGINT: 'NUMERIC', HUGEINT: 'NUMERIC', UHUGEINT: 'NUMERIC',
  FLOAT: 'REAL', DOUBLE: 'DOUBLE PRECISION', DATE: 'DATE', TIME: 'TIME', TIMESTAMP: 'TIMESTAMP', TIMESTAMP_S: 'TIMESTAMP',
  TIMESTAMP_MS: 'TIMESTAMP', TIMESTAMP_NS: 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ', INTERVAL: 'INTERVAL', UUID: 'UUID',
};

export function pgTypeForDuck(duckType: string): string | undefined {
  const t = duckType.trim().toUpperCase();
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (decimal) return `NUMERIC(${decimal[1]},${decimal[2]})`;
  return SIMPLE_TYPES[t];
}

/**
 * Creates `table` (which must not exist) with the query's columns and copies its rows in, on the
 * caller's session (so inside the caller's transaction). Returns the rows copied.
 */
export async function copyDuckQueryToNewTable(duck: SqlSession, session: TargetSession, sql: string, table: string, extraColumns: readonly DuckColumn[] = []): Promise<number> {
  const columns = [...(await describeDuckQuery(duck, sql)), ...extraColumns];
  await session.exec(`CREATE TABLE ${table} (${columns.map((c) => `${quoteIdent(c.name)} ${c.pgType}`).join(', ')})`);
  return copyDuckQueryInto(duck, session, `SELECT ${columns.map((c) => c.select).join(', ')} FROM (${sql}) AS q`, table, columns.map((c) => c.name));
}

/** COPYs a DuckDB query's rows into an existing table, as CSV: no rows pass through JavaScript. */
export async function copyDuckQueryInto(duck: SqlSession, session: TargetSession, sql: string, table: string, columns: readonly string[]): Promise<number> {
  return session.copyCsvIn(table, columns, (dest, chunked) => writeDuckCsv(duck, `(${sql})`, dest, chunked));
}

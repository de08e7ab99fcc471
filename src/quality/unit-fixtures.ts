/**
 * The inputs of a unit test, made real: a source's rows become Parquet files in a throwaway folder laid out
 * like its location (Hive folders included), an upstream model's rows a table in the target, created from
 * its contract. The model then runs over them as it runs over real data.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { projectError } from '../core/errors.js';
import { quoteIdent, quoteLiteral } from '../core/sql-quote.js';
import type { SqlSession } from '../engines/compute/types.js';
import type { TargetSession } from '../engines/target.js';
import { createTableSql } from '../materialize/ddl.js';
import type { FixtureRow, ModelNode, SourceNode } from '../manifest/types.js';

/** A YAML value as a SQL literal (DuckDB and PostgreSQL read these alike; the column's CAST gives the type). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return quoteLiteral(value.toISOString().replace('T', ' ').replace('Z', ''));
  return quoteLiteral(String(value));
}

/** `key=value` folders of a file path under a Hive-partitioned location. */
function partitionsOf(file: string): Map<string, string> {
  return new Map(file.split('/').slice(0, -1).flatMap((seg) => (/^[^=]+=.*$/.test(seg) ? [[seg.slice(0, seg.indexOf('=')), seg.slice(seg.indexOf('=') + 1)] as [string, string]] : [])));
}

/**
 * Files of a source's fixture: the `files` as given, and `rows` one file per day of its date partition
 * (`<date_partition>=<day>/rows.parquet`; the day taken from the clock column when the row has none).
 */
export function fixtureFiles(source: SourceNode, files: Readonly<Record<string, readonly FixtureRow[]>>, rows: readonly FixtureRow[]): Map<string, readonly FixtureRow[]> {
  const out = new Map(Object.entries(files));
  const part = source.hivePartitioning ? source.datePartition : undefined;
  for (const row of rows) {
    const day = part ? String(row[part] ?? (source.clockColumn ? String(row[source.clockColumn] ?? '') : '')).slice(0, 10) : '';
    const file = part && day ? `${part}=${day}/rows.parquet` : 'rows.parquet';
    out.set(file, [...(out.get(file) ?? []), row]);
  }
  return out;
}

/** Writes each fixture file as Parquet under `folder`, with the source's declared columns (Hive folder columns left to the path). */
export async function writeSourceFixture(duck: SqlSession, source: SourceNode, folder: string, files: ReadonlyMap<string, readonly FixtureRow[]>, where: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (const [file, rows] of files) {
    if (file.includes('..') || path.isAbsolute(file)) throw projectError(where, `fixture file '${file}' must be a path under the source's location`);
    const inPath = partitionsOf(file);
    const columns = source.columns.filter((c) => !inPath.has(c.name));
    for (const row of rows) {
      const unknown = Object.keys(row).find((k) => !source.columns.some((c) => c.name === k));
      if (unknown) throw projectError(where, `source '${source.name}' has no column '${unknown}' (fixture file '${file}')`);
    }
    const select = rows.length
      ? rows.map((r) => `SELECT ${columns.map((c) => `CAST(${literal(r[c.name])} AS ${c.type}) AS ${quoteIdent(c.name)}`).join(', ')}`).join('\nUNION ALL ')
      : `SELECT ${columns.map((c) => `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`).join(', ')} WHERE false`;
    const full = path.join(folder, file);
    await mkdir(path.dirname(full), { recursive: true });
    await duck.run(`COPY (${select}) TO ${quoteLiteral(full)} (FORMAT parquet)`);
  }
}

/** Creates an upstream model's table in the target from its contract, holding the fixture's rows. */
export async function seedRefTable(session: TargetSession, schema: string, model: ModelNode, rows: readonly FixtureRow[], where: string): Promise<void> {
  const table = `${quoteIdent(schema)}.${quoteIdent(model.name)}`;
  await session.exec(createTableSql(table, model));
  if (!rows.length) return;
  for (const row of rows) {
    const unknown = Object.keys(row).find((k) => !model.columns.some((c) => c.name === k));
    if (unknown) throw projectError(where, `model '${model.name}' has no column '${unknown}' in its contract`);
  }
  const values = rows.map((r) => `(${model.columns.map((c) => `CAST(${literal(r[c.name])} AS ${c.type})`).join(', ')})`);
  await session.exec(`INSERT INTO ${table} (${model.columns.map((c) => quoteIdent(c.name)).join(', ')}) VALUES ${values.join(', ')}`);
}

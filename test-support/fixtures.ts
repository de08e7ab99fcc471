import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** One click event as a fixture row; undefined optional fields become NULL ('' stays ''). */
export interface FixtureEvent {
  readonly dedup_key: string | null;
  readonly event_ts: string | null;
  readonly session_id: string | null;
  readonly document_id: number | null;
  readonly title?: string | null;
  readonly clinical_areas?: string | null;
  readonly url?: string | null;
  readonly doi?: string | null;
  readonly keywords?: string | null;
}

const lit = (v: string | number | null | undefined, type: string) =>
  v === null || v === undefined ? `CAST(NULL AS ${type})` : typeof v === 'number' ? `CAST(${v} AS ${type})` : `CAST('${v.replace(/'/g, "''")}' AS ${type})`;

/**
 * Writes the events to `<root>/event_date=<day>/<name>` as Parquet, with the curated stream's column types.
 * The file appears atomically (written under a dot name, then renamed), as upstream writers do.
 */
export async function writeEventsFile(root: string, day: string, name: string, events: readonly FixtureEvent[], options: { omitColumns?: readonly string[] } = {}): Promise<string> {
  const dir = path.join(root, `event_date=${day}`);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  const tmp = path.join(dir, `.${name}.tmp`);
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    const columns: [string, string][] = [
      ['dedup_key', 'VARCHAR'], ['event_ts', 'TIMESTAMP'], ['session_id', 'VARCHAR'], ['document_id', 'INTEGER'], ['url', 'VARCHAR'],
      ['title', 'VARCHAR'], ['doi', 'VARCHAR'], ['clinical_areas', 'VARCHAR'], ['keywords', 'VARCHAR'],
    ];
    const kept = columns.filter(([c]) => !options.omitColumns?.includes(c));
    const rows = events.map((e) => `(${kept.map(([c, t]) => lit((e as unknown as Record<string, string | number | null | undefined>)[c], t)).join(', ')})`);
    const body = rows.length ? `SELECT * FROM (VALUES ${rows.join(', ')}) AS v(${kept.map(([c]) => c).join(', ')})` : `SELECT ${kept.map(([c, t]) => `CAST(NULL AS ${t}) AS ${c}`).join(', ')} WHERE false`;
    await con.run(`COPY (${body}) TO '${tmp.replace(/'/g, "''")}' (FORMAT parquet)`);
  } finally {
    con.closeSync();
    instance.closeSync();
  }
  await rename(tmp, file);
  return file;
}

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetRows } from '../src/engines/compute/parquet-rows.js';
import { openDuckDb, type DuckDb, type DuckSession } from '../src/engines/duckdb.js';
import { openPostgresTarget } from '../src/engines/postgres.js';
import { qualified, withSession, type Target } from '../src/engines/target.js';
import type { ModelNode } from '../src/manifest/types.js';
import { freshSchema, pgUrl } from '../test-support/harness.js';

// An engine that leaves a model's result as Parquet (Spark) hands it to the target through DuckDB: the
// files are checked and cast to the contract, then copied in.
const model = {
  name: 'by_day', path: 'models/by_day.sql', yamlPath: 'models/by_day.yml',
  columns: [{ name: 'day', type: 'DATE' }, { name: 'clicks', type: 'INT' }, { name: 'label', type: 'VARCHAR(20)' }],
} as unknown as ModelNode;

let tmp: string;
let duck: DuckDb;
let session: DuckSession;
let schema: { schema: string; drop: () => Promise<void> };
let target: Target;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tm-parquet-rows-'));
  duck = await openDuckDb({ memoryLimit: '256MB', threads: 1, tempDirectory: path.join(tmp, 'spill') });
  session = await duck.connect();
  schema = await freshSchema('parquet_rows');
  target = await openPostgresTarget({ name: 'test', url: pgUrl, schema: schema.schema, maxSessions: 2 });
});

afterAll(async () => {
  session.close();
  duck.close();
  await target.close();
  await schema.drop();
  await rm(tmp, { recursive: true, force: true });
});

async function writeParquet(name: string, select: string): Promise<string> {
  const file = path.join(tmp, `${name}.parquet`);
  await session.run(`COPY (${select}) TO '${file}' (FORMAT parquet)`);
  return file;
}

describe('Parquet rows for the target', () => {
  it('loads the files cast to the contract, columns in any order, NULLs and empty strings kept apart', async () => {
    const a = await writeParquet('a', `SELECT 'x' AS label, CAST(5 AS BIGINT) AS clicks, DATE '2020-01-01' AS day UNION ALL SELECT '', 7, DATE '2020-01-02'`);
    const b = await writeParquet('b', `SELECT NULL::VARCHAR AS label, CAST(9 AS BIGINT) AS clicks, DATE '2020-01-03' AS day`);
    const table = qualified(schema.schema, 'by_day');
    await withSession(target, (s) => s.exec(`CREATE TABLE ${table} (day DATE, clicks INT, label VARCHAR(20))`));
    const rows = await parquetRows(session, model, [a, b]);
    const copied = await withSession(target, (s) => rows.loadInto(s, table));
    await rows.release();
    expect(copied).toBe(3);
    const back = await withSession(target, (s) => s.query<{ day: string; clicks: number; label: string | null }>(`SELECT day::text AS day, clicks, label FROM ${table} ORDER BY day`));
    expect(back).toEqual([{ day: '2020-01-01', clicks: 5, label: 'x' }, { day: '2020-01-02', clicks: 7, label: '' }, { day: '2020-01-03', clicks: 9, label: null }]);
  });

  it('files whose columns differ from the contract fail, naming the model and the columns', async () => {
    const file = await writeParquet('extra', `SELECT DATE '2020-01-01' AS day, 1 AS clicks, 'x' AS label, 2 AS surplus`);
    await expect(parquetRows(session, model, file)).rejects.toThrow(/model 'by_day'.*not in the contract 'surplus'/);
  });

  it('a value that does not fit the contract type fails the load, never wraps', async () => {
    const file = await writeParquet('overflow', `SELECT DATE '2020-01-01' AS day, CAST(9000000000 AS BIGINT) AS clicks, 'x' AS label`);
    const table = qualified(schema.schema, 'by_day_overflow');
    await withSession(target, (s) => s.exec(`CREATE TABLE ${table} (day DATE, clicks INT, label VARCHAR(20))`));
    const rows = await parquetRows(session, model, file);
    await expect(withSession(target, (s) => rows.loadInto(s, table))).rejects.toThrow(/out of range|overflow|Conversion/i);
    await rows.release();
  });
});

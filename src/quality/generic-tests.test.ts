import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, type DuckDb, type DuckSession } from '../engines/duckdb.js';
import { genericTests } from './generic-tests.js';

/** Each built-in test's query on DuckDB (where source and temp-model tests run): exact failing-row counts. */
describe('generic test queries in DuckDB', () => {
  let db: DuckDb;
  let duck: DuckSession;
  const now = "TIMESTAMP '2020-11-01 12:00:00'";

  beforeAll(async () => {
    db = await openDuckDb({ memoryLimit: '256MB', tempDirectory: os.tmpdir(), threads: 1 });
    duck = await db.connect();
    await duck.run(`CREATE TABLE t AS SELECT * FROM (VALUES
      (1, 'a', 10, 1, TIMESTAMP '2020-11-01 11:00:00'),
      (2, 'b', 20, 1, TIMESTAMP '2020-11-01 11:30:00'),
      (2, 'c', 30, 2, TIMESTAMP '2020-11-01 11:40:00'),
      (NULL, 'a', -5, 2, NULL),
      (4, NULL, 101, 9, TIMESTAMP '2020-11-01 09:00:00')) AS v(id, status, price, parent, ts)`);
    await duck.run(`CREATE TABLE parents AS SELECT * FROM (VALUES (1), (2)) AS v(id)`);
  });
  afterAll(() => db?.close());

  const failing = async (name: string, args: Record<string, unknown>, column?: string): Promise<number> => {
    const sql = genericTests[name].sql({ relation: 't', column, args, relationOf: (n) => n.name, now });
    const [row] = await duck.all<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM (${sql})`);
    return row.n;
  };

  it('counts the rows (or keys) each test rejects', async () => {
    expect(await failing('not_null', {}, 'id')).toBe(1);
    expect(await failing('unique', {}, 'id')).toBe(1); // one duplicated key; NULL ignored
    expect(await failing('unique', { columns: ['id', 'parent'] })).toBe(0);
    expect(await failing('unique', { columns: ['status', 'parent'] })).toBe(0);
    expect(await failing('accepted_values', { values: ['a', 'b'] }, 'status')).toBe(1); // 'c'; NULL passes
    expect(await failing('accepted_values', { values: [10, 20, 30] }, 'price')).toBe(2);
    expect(await failing('relationships', { to: 'parents', field: 'id' }, 'parent')).toBe(1);
    expect(await failing('accepted_range', { min: 0, max: 100 }, 'price')).toBe(2);
    expect(await failing('accepted_range', { min: 10, max: 30, inclusive: false }, 'price')).toBe(4);
    expect(await failing('accepted_range', { max: 'parent * 100' }, 'price')).toBe(0);
    expect(await failing('expression', { expr: 'price > 0' })).toBe(1);
    expect(await failing('expression', { expr: 'ts IS NOT NULL' })).toBe(1);
    expect(await failing('expression', { expr: 'status <> \'z\'' })).toBe(1); // NULL is not TRUE
    expect(await failing('row_count', { min: 1, max: 5 })).toBe(0);
    expect(await failing('row_count', { max: 4 })).toBe(1);
    expect(await failing('recency', { minutes: 30 }, 'ts')).toBe(0);
    expect(await failing('recency', { minutes: 15 }, 'ts')).toBe(1);
    expect(await failing('recency', { hours: 1 }, 'ts')).toBe(0);
  });
});

import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../duckdb.js';
import { batchQueries } from './batches.js';

describe('batchQueries', () => {
  it('one query without batches', () => {
    expect(batchQueries('SELECT 1 AS d', undefined)).toEqual(['SELECT 1 AS d']);
  });

  it('the batches together give every row exactly once, NULL days included', async () => {
    const duck = await openDuckDb({ memoryLimit: '256MB', tempDirectory: path.join(os.tmpdir(), `tm-batch-${process.pid}`), removeTempDirectoryOnClose: true });
    const s = await duck.connect();
    try {
      const sql = `SELECT d, count(*) AS n FROM (SELECT DATE '2020-01-01' + CAST(i % 10 AS INTEGER) AS d FROM range(100) t(i) UNION ALL SELECT NULL) GROUP BY d`;
      const queries = batchQueries(sql, { column: 'd', bounds: ['2020-01-03', '2020-01-06'] });
      expect(queries).toHaveLength(3);
      await s.run(`CREATE TABLE r AS ${queries[0]}`);
      for (const q of queries.slice(1)) await s.run(`INSERT INTO r ${q}`);
      const [whole] = await s.all<{ rows: number; sum: number; nulls: number }>(`SELECT count(*)::INT AS rows, sum(n)::INT AS sum, count(*) FILTER (WHERE d IS NULL)::INT AS nulls FROM r`);
      expect(whole).toEqual({ rows: 11, sum: 101, nulls: 1 });
      const [first] = await s.all<{ rows: number }>(`SELECT count(*)::INT AS rows FROM (${queries[0]})`);
      expect(first.rows).toBe(3);
    } finally {
      s.close();
      duck.close();
    }
  });
});

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { openSourceEngine } from '../engines/compute/index.js';
import { quoteLiteral } from '../core/sql-quote.js';
import { SAMPLE_DAYS } from './template.js';

/**
 * The sample orders, written by DuckDB as Parquet files Hive-partitioned by `order_date`
 * (`data/orders/order_date=YYYY-MM-DD/*.parquet`): 24 orders over three days, one order sent twice,
 * one with a negative amount and one with an unknown status, so the source contract has work to do.
 */
export async function writeSampleOrders(projectDir: string): Promise<readonly string[]> {
  const out = path.join(projectDir, 'data', 'orders');
  await mkdir(path.dirname(out), { recursive: true });
  const duck = await openSourceEngine({ memoryLimit: '256MB', threads: 1, tempDirectory: path.join(projectDir, '.tm', 'duckdb_tmp') });
  try {
    const session = await duck.connect();
    const first = quoteLiteral(`${SAMPLE_DAYS[0]} 08:00:00`);
    await session.run(`
      COPY (
        WITH good AS (
          SELECT i AS order_id,
                 CAST(100 + (i * 7) % 9 AS BIGINT) AS customer_id,
                 CASE WHEN i % 10 = 0 THEN 'cancelled' WHEN i % 3 = 0 THEN 'shipped' ELSE 'placed' END AS status,
                 round(15 + (i * 37) % 160 + (i % 4) * 0.25, 2) AS amount,
                 TIMESTAMP ${first} + to_minutes(i * 150) AS ordered_at
          FROM range(1, 25) t(i)
        ),
        odd(order_id, customer_id, status, amount, ordered_at) AS (
          VALUES (25, 101, 'placed', -5.0, TIMESTAMP ${first} + INTERVAL 28 HOUR),
                 (26, 102, 'lost', 20.0, TIMESTAMP ${first} + INTERVAL 49 HOUR),
                 (3, 127, 'shipped', 126.75, TIMESTAMP ${first} + INTERVAL 465 MINUTE)
        )
        SELECT CAST(order_id AS BIGINT) AS order_id, CAST(customer_id AS BIGINT) AS customer_id, status,
               CAST(amount AS DOUBLE) AS amount, ordered_at, CAST(ordered_at AS DATE) AS order_date
        FROM (SELECT * FROM good UNION ALL SELECT * FROM odd)
        ORDER BY ordered_at
      ) TO ${quoteLiteral(out)} (FORMAT parquet, PARTITION_BY (order_date))`);
    const rows = await session.all<{ file: string }>(`SELECT file FROM glob(${quoteLiteral(path.join(out, '*', '*.parquet'))}) ORDER BY file`);
    session.close();
    return rows.map((r) => path.relative(projectDir, r.file).split(path.sep).join('/'));
  } finally {
    duck.close();
  }
}

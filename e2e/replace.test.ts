import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/api/run.js';
import { freshSchema, pgUrl, queryRows, tempDir, withPg } from '../test-support/harness.js';
import { writeMiniProject } from '../test-support/mini-project.js';

async function writeData(dir: string, rows: number): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  await con.run(`COPY (SELECT i AS id, 'g' || (i % 10) AS grp, i * 2 AS amount FROM range(${rows}) t(i)) TO '${dir}/part.parquet' (FORMAT parquet)`);
  con.closeSync();
  instance.closeSync();
}

const schemaYml = `models:
  - name: m
    config: { materialized: replace }
    primary_key: [id]
    indexes: [[grp]]
    columns:
      - { name: id, type: BIGINT }
      - { name: grp, type: VARCHAR(10) }
      - { name: amount, type: INT }
`;

describe('replace materialization', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let project: Awaited<ReturnType<typeof tempDir>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  const modelFile = () => path.join(project.dir, 'models', 'm.sql');
  const runOnce = (lines: string[] = []) => run({ projectDir: project.dir, log: (l) => lines.push(l) });

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('replace'));
    project = await tempDir();
    data = await tempDir();
    await writeData(data.dir, 100_000);
    await writeMiniProject(project.dir, { dataDir: data.dir, models: { m: 'SELECT id, grp, amount FROM {{source "events"}}' }, schemaYml });
    process.env.TM_PG_URL = pgUrl;
    process.env.TM_PG_SCHEMA = schema;
    const first = await runOnce();
    expect(first.exitCode).toBe(0);
    await withPg(async (c) => {
      await c.query(`DO $$ BEGIN CREATE ROLE tm_test_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
      await c.query(`GRANT USAGE ON SCHEMA ${schema} TO tm_test_reader`);
      await c.query(`GRANT SELECT ON ${schema}.m TO tm_test_reader`);
      await c.query(`CREATE VIEW ${schema}.v AS SELECT grp, count(*) AS n FROM ${schema}.m GROUP BY grp`);
      await c.query(`CREATE VIEW ${schema}.vv AS SELECT sum(n) AS total FROM ${schema}.v`);
      await c.query(`GRANT SELECT ON ${schema}.vv TO tm_test_reader`);
    });
  });

  afterAll(async () => {
    await drop?.();
    await project?.remove();
    await data?.remove();
  });

  it('swaps in the new table while a reader never sees it empty or missing; key, indexes, grants and views survive', async () => {
    await writeData(data.dir, 120_000);
    const reader = new pg.Client({ connectionString: pgUrl });
    await reader.connect();
    const seen: number[] = [];
    const errors: string[] = [];
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        try {
          // A dashboard reads the table or a view in a statement of its own.
          const table = await reader.query(`SELECT count(*)::int AS n FROM ${schema}.m`);
          const view = await reader.query(`SELECT total::int AS t FROM ${schema}.vv`);
          seen.push(table.rows[0].n);
          if (![100_000, 120_000].includes(view.rows[0].t)) errors.push(`view total ${view.rows[0].t}`);
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    })();
    const outcome = await runOnce();
    // Keep reading a little after the swap, so the reader sees the new table too.
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await loop;
    await reader.end();
    expect(outcome.exitCode).toBe(0);
    expect(errors).toEqual([]);
    expect(seen.length).toBeGreaterThan(5);
    expect(new Set(seen)).toEqual(new Set([100_000, 120_000]));
    expect(seen.at(-1)).toBe(120_000);
    const constraints = await queryRows<{ def: string }>(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '${schema}.m'::regclass`);
    expect(constraints.map((c) => c.def)).toEqual(['PRIMARY KEY (id)']);
    const indexes = await queryRows<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'm' ORDER BY 1`, [schema]);
    expect(indexes.map((i) => i.indexname)).toEqual(['m__grp_idx', 'm_pkey']);
    const grants = await queryRows<{ table_name: string }>(
      `SELECT table_name FROM information_schema.role_table_grants WHERE grantee = 'tm_test_reader' AND table_schema = $1 AND privilege_type = 'SELECT' ORDER BY 1`,
      [schema],
    );
    expect(grants.map((g) => g.table_name)).toEqual(['m', 'vv']);
    expect(await queryRows(`SELECT total::int AS total FROM ${schema}.vv`)).toEqual([{ total: 120_000 }]);
  });

  it('a failing run leaves the old table and no staging table behind', async () => {
    const leftovers = () => queryRows(`SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename LIKE '%__tm_%'`, [schema]);
    // Duplicate keys: the unique index build fails after the load.
    await writeFile(modelFile(), 'SELECT id % 10 AS id, grp, amount FROM {{source "events"}}');
    let lines: string[] = [];
    let outcome = await runOnce(lines);
    expect(outcome.exitCode).toBe(1);
    expect(lines.join('\n')).toMatch(/model 'm': its rows break the unique key: Key \(id\)=\(\d\) is duplicated/);
    expect(await queryRows(`SELECT count(*)::int AS n FROM ${schema}.m`)).toEqual([{ n: 120_000 }]);
    expect(await leftovers()).toEqual([]);

    // Output that does not match the contract names the columns.
    await writeFile(modelFile(), 'SELECT id, grp, amount, 1 AS extra FROM {{source "events"}}');
    lines = [];
    outcome = await runOnce(lines);
    expect(outcome.exitCode).toBe(1);
    expect(lines.join('\n')).toContain(`output columns do not match its contract: not in the contract 'extra'`);

    // A value that does not fit the declared INT is an error, never a silent wrap.
    await writeFile(modelFile(), 'SELECT id, grp, amount * 100000 AS amount FROM {{source "events"}}');
    lines = [];
    outcome = await runOnce(lines);
    expect(outcome.exitCode).toBe(1);
    expect(lines.join('\n')).toMatch(/out of range|can't be cast/i);
    expect(await queryRows(`SELECT count(*)::int AS n, max(amount)::int AS top FROM ${schema}.m`)).toEqual([{ n: 120_000, top: 239_998 }]);
    expect(await leftovers()).toEqual([]);
  });

  it('a model with engine: postgres runs inside the target, reading another model there', async () => {
    await writeFile(modelFile(), 'SELECT id, grp, amount FROM {{source "events"}}');
    await writeFile(path.join(project.dir, 'models', 'm_summary.sql'), 'SELECT grp, count(*) AS n, sum(amount) AS total FROM {{ref "m"}} GROUP BY grp');
    await writeFile(
      path.join(project.dir, 'models', 'summary.yml'),
      `models:
  - name: m_summary
    config: { materialized: replace, engine: postgres }
    primary_key: [grp]
    columns:
      - { name: grp, type: VARCHAR(10) }
      - { name: n, type: INT }
      - { name: total, type: BIGINT }
`,
    );
    const lines: string[] = [];
    const outcome = await run({ projectDir: project.dir, select: ['m_summary'], log: (l) => lines.push(l) });
    expect(outcome.exitCode, lines.join('\n')).toBe(0);
    expect(await queryRows(`SELECT grp, n, total::bigint::text AS total FROM ${schema}.m_summary ORDER BY grp LIMIT 2`)).toEqual([
      { grp: 'g0', n: 12_000, total: String(Array.from({ length: 12_000 }, (_, i) => i * 10 * 2).reduce((a, b) => a + b, 0)) },
      { grp: 'g1', n: 12_000, total: String(Array.from({ length: 12_000 }, (_, i) => (i * 10 + 1) * 2).reduce((a, b) => a + b, 0)) },
    ]);
  });
});

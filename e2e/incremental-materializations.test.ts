import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/api/run.js';
import { freshSchema, pgUrl, queryRows, tempDir } from '../test-support/harness.js';

/**
 * The upsert, snapshot and append materializations on a small generic project (no TripClick, no
 * clock): keys, duplicate keys in one run, idempotent re-runs, retention, full refresh; on
 * PostgreSQL and on PGlite.
 */
const SCHEMA_YML = `
models:
  - name: totals
    config: { materialized: upsert, unique_key: [grp] }
    primary_key: [grp]
    columns: [{ name: grp, type: VARCHAR(10) }, { name: total, type: BIGINT }]
  - name: dups
    config: { materialized: upsert, unique_key: [grp] }
    columns: [{ name: grp, type: VARCHAR(10) }, { name: amount, type: BIGINT }]
  - name: ledger
    config: { materialized: append, unique_key: [id] }
    columns: [{ name: id, type: BIGINT }, { name: grp, type: VARCHAR(10) }, { name: amount, type: BIGINT }]
  - name: counts
    description: one snapshot per run (taken at the wall clock); snapshots older than 2 hours are deleted
    config:
      materialized: snapshot
      snapshot_key: taken_at
      retention: { column: taken_at, keep_after: "{{now}} - INTERVAL '2 hours'" }
    primary_key: [taken_at, grp]
    columns: [{ name: taken_at, type: TIMESTAMP }, { name: grp, type: VARCHAR(10) }, { name: n, type: INT }]
`;

const MODELS: Record<string, string> = {
  totals: `SELECT grp, sum(amount) AS total FROM {{source "events"}} GROUP BY grp`,
  dups: `SELECT grp, amount FROM {{source "events"}}`,
  ledger: `SELECT id, grp, amount FROM {{source "events"}}`,
  counts: `SELECT {{now}} AS taken_at, grp, count(*) AS n FROM {{source "events"}} GROUP BY grp`,
};

describe('incremental materializations', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let duck: Awaited<ReturnType<DuckDBInstance['connect']>>;
  const dataDir = () => path.join(dir.dir, 'data');

  const writeRows = async (name: string, rows: [number, string, number][]) => {
    const values = rows.map(([id, g, a]) => `(${id}, '${g}', ${a})`).join(', ');
    await duck.run(`COPY (SELECT * FROM (VALUES ${values}) t(id, grp, amount)) TO '${path.join(dataDir(), name)}' (FORMAT parquet)`);
  };
  const tm = async (select: string[], now: string, extra: { target?: string; fullRefresh?: boolean } = {}) => {
    const lines: string[] = [];
    const outcome = await run({ projectDir: dir.dir, target: extra.target ?? 'pg', select, now, fullRefresh: extra.fullRefresh, log: (l) => lines.push(l) });
    return { code: outcome.exitCode, out: lines.join('\n') };
  };

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('inc'));
    dir = await tempDir();
    await mkdir(path.join(dir.dir, 'models'), { recursive: true });
    await mkdir(dataDir(), { recursive: true });
    await writeFile(
      path.join(dir.dir, 'project.yml'),
      `name: mini\nsources:\n  events:\n    location: ${JSON.stringify(dataDir())}\n    hive_partitioning: false\n    columns:\n      - { name: id, type: BIGINT }\n      - { name: grp, type: VARCHAR }\n      - { name: amount, type: BIGINT }\n`,
    );
    await writeFile(
      path.join(dir.dir, 'profiles.yml'),
      `default_target: pg\ntargets:\n  pg: { type: postgres, url: "{{ env 'TM_PG_URL' }}", schema: "{{ env 'TM_PG_SCHEMA' }}", threads: 2 }\n  lite: { type: pglite, path: .tm/lite }\n`,
    );
    await writeFile(path.join(dir.dir, 'models', 'schema.yml'), SCHEMA_YML);
    for (const [name, sql] of Object.entries(MODELS)) await writeFile(path.join(dir.dir, 'models', `${name}.sql`), sql);
    duck = await (await DuckDBInstance.create(':memory:')).connect();
    process.env.TM_PG_URL = pgUrl;
    process.env.TM_PG_SCHEMA = schema;
    await writeRows('a.parquet', [[1, 'a', 10], [2, 'b', 5]]);
  });
  afterAll(async () => {
    duck?.closeSync();
    await drop?.();
    await dir?.remove();
  });

  const rows = (sql: string) => queryRows(sql.replaceAll('$s', schema));

  it('upsert, append and snapshot create their tables with keys and load the first batch', async () => {
    const r = await tm(['totals', 'ledger', 'counts'], '2021-01-01 10:00:00');
    expect(r.code, r.out).toBe(0);
    expect(await rows(`SELECT grp, total FROM $s.totals ORDER BY grp`)).toEqual([{ grp: 'a', total: '10' }, { grp: 'b', total: '5' }]);
    expect(await rows(`SELECT id, amount FROM $s.ledger ORDER BY id`)).toEqual([{ id: '1', amount: '10' }, { id: '2', amount: '5' }]);
    expect(await rows(`SELECT taken_at::text, grp, n FROM $s.counts ORDER BY grp`)).toEqual([
      { taken_at: '2021-01-01 10:00:00', grp: 'a', n: 1 },
      { taken_at: '2021-01-01 10:00:00', grp: 'b', n: 1 },
    ]);
    const keys = await rows(`SELECT conrelid::regclass::text AS t, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = '$s'::regnamespace AND contype = 'p' ORDER BY 1`);
    expect(keys.map((k) => `${String(k.t).split('.').pop()} ${k.def}`)).toEqual(['counts PRIMARY KEY (taken_at, grp)', 'ledger PRIMARY KEY (id)', 'totals PRIMARY KEY (grp)']);
  });

  it('a new file: upsert recomputes, append inserts only new keys, snapshot adds one and retention drops old ones', async () => {
    await writeRows('b.parquet', [[2, 'b', 999], [3, 'a', 1], [4, 'c', 7]]); // id 2 again: append keeps the first
    const r = await tm(['totals', 'ledger', 'counts'], '2021-01-01 13:00:00');
    expect(r.code, r.out).toBe(0);
    expect(await rows(`SELECT grp, total FROM $s.totals ORDER BY grp`)).toEqual([{ grp: 'a', total: '11' }, { grp: 'b', total: '1004' }, { grp: 'c', total: '7' }]);
    expect(await rows(`SELECT id, amount FROM $s.ledger ORDER BY id`)).toEqual([{ id: '1', amount: '10' }, { id: '2', amount: '5' }, { id: '3', amount: '1' }, { id: '4', amount: '7' }]);
    expect(await rows(`SELECT DISTINCT taken_at::text FROM $s.counts`)).toEqual([{ taken_at: '2021-01-01 13:00:00' }]);
  });

  it('a re-run with no new file writes nothing (and says so)', async () => {
    const before = await rows(`SELECT * FROM $s.ledger ORDER BY id`);
    const r = await tm(['totals', 'ledger', 'counts'], '2021-01-01 13:30:00');
    expect(r.code, r.out).toBe(0);
    expect(r.out.match(/no new files \(checked\)/g)).toHaveLength(3);
    expect(await rows(`SELECT * FROM $s.ledger ORDER BY id`)).toEqual(before);
    expect(await rows(`SELECT DISTINCT taken_at::text FROM $s.counts`)).toEqual([{ taken_at: '2021-01-01 13:00:00' }]);
  });

  it('duplicate keys within one run are an error that names the key; nothing is written', async () => {
    const r = await tm(['dups'], '2021-01-01 14:00:00');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/model 'dups': 2 rows of this run have the same unique key \((grp = a|grp = b)\)/);
    expect(await rows(`SELECT to_regclass('$s.dups') AS t`)).toEqual([{ t: null }]);
  });

  it('--full-refresh rebuilds an append model from scratch', async () => {
    await duck.run(`SELECT 1`);
    await queryRows(`DELETE FROM ${schema}.ledger WHERE id = 4`);
    const r = await tm(['ledger'], '2021-01-01 15:00:00', { fullRefresh: true });
    expect(r.code, r.out).toBe(0);
    expect((await rows(`SELECT id FROM $s.ledger ORDER BY id`)).map((x) => x.id)).toEqual(['1', '2', '3', '4']);
  });

  it('works the same on PGlite (no advisory locks needed in one process)', async () => {
    const r = await tm(['totals', 'ledger'], '2021-01-01 16:00:00', { target: 'lite' });
    expect(r.code, r.out).toBe(0);
    const again = await tm(['totals', 'ledger'], '2021-01-01 16:01:00', { target: 'lite' });
    expect(again.out.match(/no new files \(checked\)/g)).toHaveLength(2);
  });
});

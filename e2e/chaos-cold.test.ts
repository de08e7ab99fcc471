import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgUrl, queryRows, runCli, tempDir } from '../test-support/harness.js';
import { writeMiniProject } from '../test-support/mini-project.js';
import { entriesOf, spawnTm, stagingLeft, until, type Proc } from '../test-support/processes.js';

/**
 * Chaos suite, cold tier: real tm processes on the real PostgreSQL, killed (SIGKILL), cut off
 * (pg_terminate_backend) and signalled (SIGINT/SIGTERM) at each write phase of a `replace`, with a
 * reader polling the marts all along. After each, and after the next run: the marts equal a clean
 * build of the data (nothing lost, nothing doubled), no staging relation, no scratch file. Each
 * process gets this file's own TMPDIR, so "no scratch file" means an empty folder.
 */

const schemaYml = `models:
  - name: m
    config: { materialized: replace }
    primary_key: [id]
    indexes: [[grp]]
    columns:
      - { name: id, type: BIGINT }
      - { name: grp, type: VARCHAR(10) }
      - { name: amount, type: BIGINT }
  - name: m_by_grp
    config: { materialized: replace }
    primary_key: [grp]
    columns:
      - { name: grp, type: VARCHAR(10) }
      - { name: n, type: INT }
      - { name: total, type: BIGINT }
`;

/** Version v of the data: 20,000 + 1,000 v rows, amount = id * v. */
const rowsOf = (v: number) => 20_000 + 1_000 * v;
const totalOf = (v: number) => String((BigInt(rowsOf(v)) * BigInt(rowsOf(v) - 1) / 2n) * BigInt(v));

async function writeData(dir: string, v: number): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  await con.run(`COPY (SELECT i AS id, 'g' || (i % 10) AS grp, i * ${v} AS amount FROM range(${rowsOf(v)}) t(i)) TO '${dir}/part.parquet' (FORMAT parquet)`);
  con.closeSync();
  instance.closeSync();
}

interface Marts { m: { n: number; ids: number; total: string }; byGrp: { groups: number; n: number; total: string } }
const want = (v: number): Marts => ({ m: { n: rowsOf(v), ids: rowsOf(v), total: totalOf(v) }, byGrp: { groups: 10, n: rowsOf(v), total: totalOf(v) } });

describe('chaos: cold replace runs killed, cut off and signalled at every write phase', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let project: Awaited<ReturnType<typeof tempDir>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let version = 1;
  const running: Proc[] = [];
  const env = () => ({ TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema, TMPDIR: tmp.dir });
  const args = (...more: string[]) => ['run', '--project-dir', project.dir, ...more];
  const spill = () => path.join(project.dir, '.tm', 'duckdb_tmp');
  const spawn = (extraEnv: Record<string, string>, ...more: string[]) => {
    const p = spawnTm(args(...more), { ...env(), ...extraEnv });
    running.push(p);
    return p;
  };
  const marts = async (): Promise<Marts> => {
    const [m] = await queryRows<Marts['m']>(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, sum(amount)::text AS total FROM ${schema}.m`);
    const [g] = await queryRows<Marts['byGrp']>(`SELECT count(*)::int AS groups, sum(n)::int AS n, sum(total)::text AS total FROM ${schema}.m_by_grp`);
    return { m, byGrp: g };
  };
  /** After a run: marts of data version v, and nothing left behind. */
  const expectClean = async (v: number) => {
    expect(await marts()).toEqual(want(v));
    expect(await stagingLeft(schema)).toEqual([]);
    expect(await entriesOf(tmp.dir)).toEqual([]);
    expect(await entriesOf(spill())).toEqual([]);
  };
  const nextRun = async () => {
    const r = await runCli(args(), { env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    return r.stdout;
  };

  // A dashboard polls both marts through every test: never missing, never empty, never a mix.
  let reader: pg.Client;
  let readerStop = false;
  let readerLoop: Promise<void>;
  const readerSaw = { reads: 0, problems: [] as string[] };

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('chaos_cold'));
    project = await tempDir();
    data = await tempDir();
    tmp = await tempDir('tm-chaos-tmp-');
    await writeData(data.dir, version);
    await writeMiniProject(project.dir, {
      dataDir: data.dir,
      models: { m: 'SELECT id, grp, amount FROM {{source "events"}}', m_by_grp: 'SELECT grp, count(*) AS n, sum(amount) AS total FROM {{ref "m"}} GROUP BY grp' },
      schemaYml,
    });
    await nextRun();
    await expectClean(version);
    reader = new pg.Client({ connectionString: pgUrl });
    await reader.connect();
    const validCounts = () => new Set([rowsOf(version - 1), rowsOf(version), rowsOf(version + 1)]);
    readerLoop = (async () => {
      while (!readerStop) {
        try {
          const a = await reader.query(`SELECT count(*)::int AS n FROM ${schema}.m`);
          const b = await reader.query(`SELECT sum(n)::int AS n FROM ${schema}.m_by_grp`);
          readerSaw.reads++;
          for (const n of [a.rows[0].n, b.rows[0].n]) if (!validCounts().has(n)) readerSaw.problems.push(`read ${n} rows`);
        } catch (err) {
          readerSaw.problems.push((err as Error).message);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  });

  afterAll(async () => {
    readerStop = true;
    await readerLoop;
    await reader?.end();
    for (const p of running) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await drop?.();
    for (const d of [project, data, tmp]) await d?.remove();
  });

  it('SIGKILL before COPY, during COPY, before the swap, inside it and after it: marts stay whole; the next run drops the staging table and the scratch folders', async () => {
    for (const point of ['before-copy', 'during-copy', 'before-swap', 'in-swap', 'after-swap']) {
      const before = version;
      await writeData(data.dir, ++version);
      const p = spawn({ TM_PAUSE_AT: `${point}:m` });
      await p.waitFor(new RegExp(`tm-paused ${point} m`));
      p.child.kill('SIGKILL');
      expect((await p.exited).signal).toBe('SIGKILL');
      const killed = await marts();
      // m committed only when killed after its swap; m_by_grp (after m) never did.
      expect(killed.m, point).toEqual(want(point === 'after-swap' ? version : before).m);
      expect(killed.byGrp, point).toEqual(want(before).byGrp);
      const staged = point !== 'after-swap';
      expect((await stagingLeft(schema)).length, point).toBe(staged ? 2 : 0); // the table and its record
      expect((await entriesOf(tmp.dir)).filter((e) => e.startsWith('tm-run-')), point).toHaveLength(1);
      expect((await entriesOf(spill())).filter((e) => e.startsWith('run-')), point).toHaveLength(1);

      const out = await nextRun();
      if (staged) expect(out, point).toMatch(/tm: dropped 1 staging table left by 1 run that died \(m__tm_new_[0-9a-f]+\)/);
      expect(out, point).toMatch(/tm: removed 2 scratch folders left by runs that died/);
      await expectClean(version);
    }
    expect(readerSaw.problems).toEqual([]);
  });

  it('the connection killed with pg_terminate_backend during a COPY and during the swap: the model fails, the old table stays, the run cleans its own staging', async () => {
    for (const point of ['during-copy', 'in-swap']) {
      const before = version;
      await writeData(data.dir, ++version);
      const go = path.join(data.dir, `go-${point}`);
      const p = spawn({ TM_PAUSE_AT: `${point}:m`, TM_PAUSE_UNTIL: go });
      await p.waitFor(new RegExp(`tm-paused ${point} m`));
      // The run's own backends: named tm:<run id>; the one working on this schema's m.
      const backends = await queryRows<{ pid: number; app: string }>(
        `SELECT pid, application_name AS app FROM pg_stat_activity
          WHERE application_name LIKE 'tm:%' AND state <> 'idle' AND query LIKE $1`,
        [`%${schema}%`],
      );
      expect(backends.length, point).toBe(1);
      expect(backends[0].app).toMatch(/^tm:[0-9a-f]{16}$/);
      await queryRows(`SELECT pg_terminate_backend($1)`, [backends[0].pid]);
      await writeFile(go, '');
      const exit = await p.exited;
      expect(exit.code, p.output()).toBe(1);
      expect(p.output(), point).toMatch(/m \.+ ERROR/);
      expect(await marts(), point).toEqual(want(before));
      // The run itself dropped the staging table it could not drop on the lost connection, and its folders.
      expect(await stagingLeft(schema)).toEqual([]);
      expect(await entriesOf(tmp.dir)).toEqual([]);
      await rm(go);
      await nextRun();
      await expectClean(version);
    }
    expect(readerSaw.problems).toEqual([]);
  });

  it('SIGTERM before the swap and SIGINT during a PostgreSQL statement and a DuckDB query: stopped within 5 s, 143/130, one line, nothing left', async () => {
    const before = version;
    await writeData(data.dir, ++version);
    let p = spawn({ TM_PAUSE_AT: 'before-swap:m' });
    await p.waitFor(/tm-paused before-swap m/);
    let sent = performance.now();
    p.child.kill('SIGTERM');
    let exit = await p.exited;
    expect(exit.code, p.output()).toBe(143);
    expect(exit.at - sent).toBeLessThan(5_000);
    expect(p.output()).toMatch(/Interrupted by SIGTERM: no model committed; every model is as it was/);
    expect(await marts()).toEqual(want(before));
    expect(await stagingLeft(schema)).toEqual([]);
    expect(await entriesOf(tmp.dir)).toEqual([]);
    expect(await entriesOf(spill())).toEqual([]);

    // m commits, then m_by_grp's load into PostgreSQL sleeps: the signal cancels it from another session.
    await writeFile(path.join(project.dir, 'models', 'm_by_grp.sql'), 'SELECT grp, count(*) AS n, sum(amount) AS total FROM {{ref "m"}}, (SELECT pg_sleep(60)) AS s GROUP BY grp');
    await writeFile(path.join(project.dir, 'models', 'schema.yml'), schemaYml.replace('name: m_by_grp\n    config: { materialized: replace }', 'name: m_by_grp\n    config: { materialized: replace, engine: postgres }'));
    try {
      p = spawn({});
      await until(async () => (await queryRows(`SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'tm:%' AND query LIKE '%pg_sleep%' AND query LIKE $1`, [`%${schema}%`])).length > 0, 'the pg_sleep statement');
      sent = performance.now();
      p.child.kill('SIGINT');
      exit = await p.exited;
      expect(exit.code, p.output()).toBe(130);
      expect(exit.at - sent).toBeLessThan(5_000);
      expect(p.output()).not.toMatch(/did not finish/);
      expect(p.output()).toMatch(/Interrupted by SIGINT: models committed: m; the rest are as they were/);
      expect((await marts()).m).toEqual(want(version).m);
      expect((await marts()).byGrp).toEqual(want(before).byGrp);
      expect(await stagingLeft(schema)).toEqual([]);
      expect(await entriesOf(tmp.dir)).toEqual([]);
    } finally {
      await writeFile(path.join(project.dir, 'models', 'schema.yml'), schemaYml);
    }

    // A DuckDB query that would run for minutes: interrupted.
    await writeFile(path.join(project.dir, 'models', 'm_by_grp.sql'), 'SELECT grp, count(*) AS n, sum(amount) + (SELECT count(*) FROM range(100000000000) r(x) WHERE x % 7 = 11) AS total FROM {{ref "m"}} GROUP BY grp');
    p = spawn({}, '--select', 'm_by_grp');
    await p.waitFor(/selected/);
    await new Promise((r) => setTimeout(r, 1500));
    sent = performance.now();
    p.child.kill('SIGINT');
    exit = await p.exited;
    expect(exit.code, p.output()).toBe(130);
    expect(exit.at - sent).toBeLessThan(5_000);
    expect(p.output()).not.toMatch(/did not finish/);
    expect(p.output()).toMatch(/Interrupted by SIGINT: no model committed/);
    expect(await entriesOf(tmp.dir)).toEqual([]);
    expect(await entriesOf(spill())).toEqual([]);

    await writeFile(path.join(project.dir, 'models', 'm_by_grp.sql'), 'SELECT grp, count(*) AS n, sum(amount) AS total FROM {{ref "m"}} GROUP BY grp');
    await nextRun();
    await expectClean(version);
    expect(readerSaw.problems).toEqual([]);
    expect(readerSaw.reads).toBeGreaterThan(20);
  });

  it('two runs of one selection at once on an empty target: both exit 0 (one skips, or with --wait waits), marts built once and right', async () => {
    for (const wait of [false, true]) {
      const empty = `${schema}_race${wait ? 'w' : ''}`;
      try {
        const both = [0, 1].map(() => runCli(args(...(wait ? ['--wait'] : [])), { env: { ...env(), TM_PG_SCHEMA: empty } }));
        const [a, b] = await Promise.all(both);
        expect(a.code, a.stdout + a.stderr).toBe(0);
        expect(b.code, b.stdout + b.stderr).toBe(0);
        const out = a.stdout + b.stdout;
        expect(out).not.toMatch(/ERROR|duplicate key/);
        // Each model is built by one run at a time: without --wait the other skips it.
        if (!wait) expect((out.match(/m \.+ CREATE/g) ?? []).length + (out.match(/is being run by another tm process \(lock on m held\)/g) ?? []).length).toBe(2);
        const [m] = await queryRows<Marts['m']>(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, sum(amount)::text AS total FROM ${empty}.m`);
        expect(m).toEqual(want(version).m);
        expect(await stagingLeft(empty)).toEqual([]);
      } finally {
        await queryRows(`DROP SCHEMA IF EXISTS ${empty}, ${empty}__tm_state CASCADE`);
      }
    }
    expect(await entriesOf(tmp.dir)).toEqual([]);
  });

  it('the embedded PGlite target is one process\'s: a second process gets a clear error naming the first; a killed holder\'s lock is taken over', async () => {
    const first = spawn({ TM_PAUSE_AT: 'before-copy:m' }, '--target', 'lite');
    await first.waitFor(/tm-paused before-copy m/);
    const second = await runCli(args('--target', 'lite'), { env: env() });
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`Error: the PGlite database at .*lite is in use by another process \\(pid ${first.child.pid}, 'tm run --project-dir`));
    first.child.kill('SIGKILL');
    await first.exited;
    const third = await runCli(args('--target', 'lite'), { env: env() });
    expect(third.code, third.stdout + third.stderr).toBe(0);
    expect(third.stdout).toMatch(/dropped 1 staging table left by 1 run that died/);
    expect(third.stdout).toMatch(/m_by_grp \.+ CREATE/);
    expect(await entriesOf(tmp.dir)).toEqual([]);
    expect(await entriesOf(spill())).toEqual([]);
  });
});

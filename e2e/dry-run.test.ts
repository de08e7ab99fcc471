import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, pgUrl, queryRows, runCli, tempDir, withPg } from '../test-support/harness.js';
import { stream, traffic, type Stream } from '../test-support/hot-fixture.js';

/** `tm run --dry-run` prints the plan and writes nothing; `tm compile` marks what only a run knows. */
describe('the plan, printed', () => {
  const schema = `t_dry_${Math.random().toString(36).slice(2, 8)}`;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let s: Stream;
  const D = '2020-11-10';
  const env = () => ({ TM_CURATED_PATH: data.dir, TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema });
  const tm = (...args: string[]) => runCli([...args, '--project-dir', project.dir, '--target', 'prod'], { env: env() });
  const schemasOfTest = () => queryRows<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 ORDER BY 1`, [`${schema}%`]);
  const stateRows = () => queryRows(`SELECT model, clock_reached::text, run_id, files_seen FROM ${schema}__tm_state.models ORDER BY model`);

  beforeAll(async () => {
    project = await copyProject();
    data = await tempDir();
    s = stream(data.dir);
    await s.write(D, 'a.parquet', traffic(`${D} 10:00:00`, 30, 20_000, 0));
  });
  afterAll(async () => {
    await withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${schema}, ${schema}__tm_state, ${schema}_tm_audit CASCADE`));
    await project?.remove();
    await data?.remove();
  });

  it('on an empty target: prints each model with its action and why, and creates no schema, table or row', async () => {
    const hot = await tm('run', '--select', 'hot', '--now', `${D} 10:31:00`, '--dry-run');
    expect(hot.code, hot.stdout + hot.stderr).toBe(0);
    expect(hot.stdout).toMatch(/stream clock C 2020-11-10 10:29:40/);
    expect(hot.stdout).toMatch(/source curated_stream: window from 2020-11-08 \(of 1 partitions\), 1 file of 2020-11-10/);
    expect(hot.stdout).toMatch(/mart_realtime_traffic_minute\s+build upsert\s+first run \(H 2020-11-10 10:14:00; reads 1 file of 2020-11-10/);
    expect(hot.stdout).toMatch(/4 to build, 0 to check, 0 to skip\nDry run: nothing was written to the target\./);
    const cold = await tm('build', '--select', 'cold', '--now', `${D} 10:31:00`, '--dry-run');
    expect(cold.code, cold.stdout + cold.stderr).toBe(0);
    expect(cold.stdout).toMatch(/mart_daily_traffic\s+build replace\s+first run \(reads 1 file of 2020-11-10/);
    expect(cold.stdout).toMatch(/reconcile_traffic_minute\s+check upsert\s+nothing to reconcile: mart_realtime_traffic_minute did not exist before this run \(its first build reads all the data\)/);
    // tm build's tests are plan steps: the dry run lists each, with the models it runs after.
    expect(cold.stdout).toMatch(/\n {2}test not_null_mart_daily_traffic_\w+ after mart_daily_traffic/);
    expect(cold.stdout).toMatch(/\d+ to build, \d+ to check, \d+ to skip, \d+ tests\nDry run: nothing was written to the target\./);
    expect(await schemasOfTest()).toEqual([]);
  });

  it('after a run: says what is new and shows the SQL it would run, leaving marts and state untouched', async () => {
    const first = await tm('run', '--select', 'hot', '--now', `${D} 10:31:00`);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const idle = await tm('run', '--select', 'hot', '--now', `${D} 10:32:00`, '--dry-run');
    expect(idle.stdout).toMatch(/unchanged: nothing new/);
    expect(idle.stdout).toMatch(/mart_realtime_top_docs_1h\s+check snapshot\s+no new files/);

    await s.write(D, 'b.parquet', traffic(`${D} 10:30:00`, 5, 20_000, 7));
    const before = { state: await stateRows(), minutes: await queryRows(`SELECT * FROM ${schema}.mart_realtime_traffic_minute ORDER BY 1`) };
    const plan = await tm('run', '--select', 'hot', '--now', `${D} 10:36:00`, '--dry-run', '--show-sql');
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/mart_realtime_traffic_minute\s+build upsert\s+1 new file \(H 2020-11-10 10:14:00; reads 2 files of 2020-11-10 .*; incremental\)/);
    expect(plan.stdout).toContain("      | WHERE event_ts >= TIMESTAMP '2020-11-10 10:14:00' AND event_ts <= TIMESTAMP '2020-11-10 10:34:40'");
    expect(await stateRows()).toEqual(before.state);
    expect(await queryRows(`SELECT * FROM ${schema}.mart_realtime_traffic_minute ORDER BY 1`)).toEqual(before.minutes);

    const real = await tm('run', '--select', 'hot', '--now', `${D} 10:36:00`);
    expect(real.stdout).toMatch(/mart_realtime_traffic_minute \.+ UPSERT \d+ rows/);
    expect(await stateRows()).not.toEqual(before.state);
  });

  it('tm compile needs no database and marks the values only a run knows', async () => {
    const out = await runCli(['compile', '--project-dir', project.dir, '--select', 'mart_realtime_traffic_minute', '--now', `${D} 12:00:00`], { env: { TM_CURATED_PATH: data.dir, TM_PG_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    expect(out.code, out.stderr).toBe(0);
    const sql = await readFile(path.join(project.dir, 'target', 'compiled', 'models', 'hot', 'mart_realtime_traffic_minute.sql'), 'utf8');
    expect(sql).toContain("event_ts >= TIMESTAMP '2020-11-10 11:45:00' /* stand-in for {{hot_start}}: known at run time */");
    expect(sql).toContain("TIMESTAMP '2020-11-10 12:00:00.000' /* stand-in for {{clock}}: known at run time */");
  });

  it('a run of a project that fails to load writes nothing to the target (the connections open meanwhile)', async () => {
    const yml = path.join(project.dir, 'models', 'hot', 'schema.yml');
    const original = await readFile(yml, 'utf8');
    const other = `${schema}_bad`;
    try {
      await writeFile(yml, original.replace('materialized: upsert', 'materialized: upsertx'));
      const bad = await runCli(['run', '--select', 'hot', '--project-dir', project.dir, '--target', 'prod'], { env: { ...env(), TM_PG_SCHEMA: other } });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^Error: models\/hot\/schema\.yml:\d+: models\[\w+\]\.config\.materialized: 'upsertx' is not one of .* \(did you mean 'upsert'\?\)/);
      expect(await queryRows(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${other}%`])).toEqual([]);
    } finally {
      await writeFile(yml, original);
    }
  });

  it('kind configs are checked at load, with the file and line', async () => {
    const yml = path.join(project.dir, 'models', 'hot', 'schema.yml');
    const original = await readFile(yml, 'utf8');
    try {
      await writeFile(yml, original.replace(`lookback_minutes: "{{var 'hot_lookback_minutes'}}"`, 'lookback_minutes: soon'));
      const bad = await runCli(['ls', '--project-dir', project.dir]);
      expect(bad.code).toBe(2);
      const line = original.split('\n').findIndex((l) => l.includes('lookback_minutes: "{{var')) + 1;
      expect(bad.stderr.trim()).toBe(`Error: models/hot/schema.yml:${line}: model 'mart_realtime_traffic_minute': config lookback_minutes must be a number >= 0, got 'soon'`);
      await writeFile(yml, original.replace('      materialized: upsert\n      unique_key: [event_minute]\n      tags: [hot]', '      materialized: upsert\n      unique_key: [event_minute]\n      as_view: true\n      tags: [hot]'));
      const wrongKind = await runCli(['ls', '--project-dir', project.dir]);
      expect(wrongKind.code).toBe(2);
      expect(wrongKind.stderr).toMatch(/models\/hot\/schema\.yml:\d+: model 'mart_realtime_traffic_minute': config as_view applies to temp models, not upsert/);
    } finally {
      await writeFile(yml, original);
    }
  });
});

import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expected, FIXTURE_NOW, martOrder, writeColdFixture } from '../test-support/cold-fixture.js';
import { writeEventsFile } from '../test-support/fixtures.js';
import { copyProject, runCli, tempDir } from '../test-support/harness.js';
import { startOwnPostgres, type OwnPostgres } from '../test-support/own-postgres.js';
import { entriesOf, spawnTm, type Proc } from '../test-support/processes.js';

/**
 * A real PostgreSQL restart (`pg_ctl restart -m fast`: every backend terminated, the server down for
 * a moment) in the middle of a cold full refresh, of a partition-aware run and of a hot `--every`
 * loop, on a cluster this file starts for itself. A single run fails with one line naming the lost
 * connection and leaves the marts as they were; the loop retries and goes on; the next run cleans
 * what was left and its marts equal a clean build.
 */
describe('PostgreSQL restarted mid-run (a cluster of the test\'s own)', () => {
  let server: OwnPostgres;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const running: Proc[] = [];
  let seq = 0;
  const env = (schema: string, over: Record<string, string> = {}) => ({ TM_CURATED_PATH: data.dir, TM_PG_URL: server.url, TM_PG_SCHEMA: schema, TMPDIR: tmp.dir, ...over });
  const args = (select: string, ...more: string[]) => ['run', '--project-dir', project.dir, '--target', 'prod', '--select', select, '--now', FIXTURE_NOW, ...more];
  const query = async <R>(sql: string): Promise<R[]> => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      return (await client.query(sql)).rows as R[];
    } finally {
      await client.end();
    }
  };
  const coldMarts = async (schema: string) => {
    const out: Record<string, unknown> = {};
    for (const mart of Object.keys(expected) as (keyof typeof expected)[]) out[mart] = await query(`SELECT * FROM ${schema}.${mart} ORDER BY ${martOrder[mart]}`);
    return out;
  };
  const hotMarts = async (schema: string) => ({
    minute: await query(`SELECT event_minute::text, total_clicks, unique_sessions, unique_docs FROM ${schema}.mart_realtime_traffic_minute ORDER BY 1`),
    topDocs: await query(`SELECT snapshot_ts::text, rank, document_id, title, click_count, unique_sessions FROM ${schema}.mart_realtime_top_docs_1h ORDER BY 1, 2`),
    trend: await query(`SELECT snapshot_ts::text, clinical_area, click_count, unique_sessions, trend_pct FROM ${schema}.mart_realtime_clinical_trend_24h ORDER BY 1, 2`),
  });
  const staging = (schema: string) => query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = '${schema}' AND tablename LIKE '%\\_\\_tm\\_%'`);
  const ok = async (schema: string, a: readonly string[]) => {
    const r = await runCli(a, { env: env(schema) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    return r.stdout + r.stderr;
  };
  /** Runs `a` paused at `pauseAt`, restarts the server there, lets it go on: it must fail with one clear line. */
  const restartedAt = async (schema: string, a: readonly string[], pauseAt: string): Promise<string> => {
    const release = path.join(tmp.dir, `release-${++seq}`);
    const p = spawnTm(a, env(schema, { TM_PAUSE_AT: pauseAt, TM_PAUSE_UNTIL: release }));
    running.push(p);
    await p.waitFor(/tm-paused/);
    await server.restart();
    await writeFile(release, '');
    const { code } = await p.exited;
    await rm(release);
    const out = p.output();
    expect(code, out).toBe(1);
    expect(out).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
    expect(out).toMatch(/lost the connection to PostgreSQL/);
    return out;
  };
  /** The lines that say what failed: one per failed model (or the run's one error line). */
  const errorLines = (out: string) => out.split('\n').filter((l) => /lost the connection to PostgreSQL/.test(l));

  beforeAll(async () => {
    server = await startOwnPostgres();
    project = await copyProject();
    data = await tempDir();
    tmp = await tempDir('tm-restart-tmp-');
    await writeColdFixture(data.dir);
  }, 120_000);
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await server?.remove();
    for (const d of [project, data, tmp]) await d?.remove();
  });

  it('cold full refresh: fails with one line naming the lost connection, marts as they were; the next run cleans up and builds right', async () => {
    await ok('cold_a', args('cold'));
    const before = await coldMarts('cold_a');
    expect(Object.values(before).every((rows) => (rows as unknown[]).length > 0)).toBe(true);
    const out = await restartedAt('cold_a', args('cold', '--full-refresh'), 'before-swap:mart_daily_traffic');
    expect(errorLines(out).length, out).toBeGreaterThanOrEqual(1);
    expect(await coldMarts('cold_a')).toEqual(before);
    const next = await ok('cold_a', args('cold'));
    expect(next).toMatch(/dropped \d+ staging tables? left by \d+ runs? that died/);
    expect(await staging('cold_a')).toEqual([]);
    await ok('clean_a', args('cold', '--full-refresh'));
    expect(await coldMarts('cold_a')).toEqual(await coldMarts('clean_a'));
    expect(await entriesOf(tmp.dir)).toEqual([]);
  });

  it('partition-aware run: the changed day is not half-replaced; the next run recomputes it', async () => {
    await ok('cold_b', args('cold'));
    const before = await coldMarts('cold_b');
    await writeEventsFile(data.dir, '2020-03-02', 'extra.parquet', [{ dedup_key: 'x1', event_ts: '2020-03-02 09:00:00', session_id: 'sx', document_id: 105, title: 'T105' }]);
    try {
      const out = await restartedAt('cold_b', args('cold'), 'before-commit:mart_daily_traffic');
      expect(out).toMatch(/1 changed day read of \d+ files listed/);
      // Each model commits on its own: those that failed are as they were, those that said OK hold the new day.
      const failed = [...out.matchAll(/ERROR (mart_\w+)/g)].map((m) => m[1]).filter((m) => m in before);
      expect(failed).toContain('mart_daily_traffic');
      const now = await coldMarts('cold_b');
      for (const m of failed) expect(now[m], m).toEqual(before[m]);
      await ok('cold_b', args('cold'));
      await ok('clean_b', args('cold', '--full-refresh'));
      expect(await coldMarts('cold_b')).toEqual(await coldMarts('clean_b'));
      expect((await coldMarts('cold_b')).mart_daily_traffic).not.toEqual(before.mart_daily_traffic);
    } finally {
      await rm(path.join(data.dir, 'event_date=2020-03-02', 'extra.parquet'));
    }
  });

  it('hot --every loop: survives a restart in the middle of a cycle (the cycle fails, a retry) and goes on; its marts equal a clean build', async () => {
    const release = path.join(tmp.dir, 'release-loop');
    await ok('clean_c', args('hot')); // the reference: the same two runs, before and after the new file
    const loopArgs = ['run', '--project-dir', project.dir, '--target', 'prod', '--select', 'hot', '--now', FIXTURE_NOW, '--every', '500ms'];
    const loop = spawnTm(loopArgs, env('hot_c', { TM_PAUSE_AT: 'before-copy:mart_realtime_traffic_minute', TM_PAUSE_UNTIL: release }));
    running.push(loop);
    await loop.waitFor(/tm-paused/);
    await server.restart();
    await writeFile(release, '');
    await loop.waitFor(/cycle 1 failed; retrying in \d/);
    const failed = loop.output();
    await loop.waitFor(/Finished \d+ models in [\d.]+s: \d+ OK, 0 error/, { from: failed.length });
    const mark = loop.output().length;
    await writeEventsFile(data.dir, '2020-03-02', 'late.parquet', [{ dedup_key: 'late1', event_ts: '2020-03-02 23:00:00', session_id: 'sl', document_id: 106, title: 'T106' }]);
    try {
      await loop.waitFor(/stream clock 2020-03-02 23:00:00 \(snapshot[\s\S]*Finished \d+ models in [\d.]+s: \d+ OK, 0 error/, { from: mark });
      loop.child.kill('SIGINT');
      const { code } = await loop.exited;
      const out = loop.output();
      expect(code, out).toBe(0);
      expect(out).not.toMatch(/\n\s+at .*:\d+:\d+\)?\n/);
      // The failed cycle said why in one line.
      expect(failed.split('\n').filter((l) => /lost the connection to PostgreSQL/.test(l)).length, failed).toBeGreaterThanOrEqual(1);
      await ok('clean_c', args('hot'));
      expect((await hotMarts('clean_c')).minute.length).toBeGreaterThan(1);
      expect(await hotMarts('hot_c')).toEqual(await hotMarts('clean_c'));
      expect(await staging('hot_c')).toEqual([]);
    } finally {
      await rm(path.join(data.dir, 'event_date=2020-03-02', 'late.parquet'));
    }
  });
});

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, freshSchema, pgUrl, queryRows, runCli, tempDir } from '../test-support/harness.js';
import { stream, traffic, type Stream } from '../test-support/hot-fixture.js';
import { EMPTY_STATE, hotRun, type HotState } from '../test-support/hot-reference.js';
import { entriesOf, spawnTm, stagingLeft, type Proc } from '../test-support/processes.js';

/**
 * Chaos suite, hot tier: real tm processes on the real PostgreSQL, killed with SIGKILL at each write
 * phase of an upsert (before COPY, during COPY, before the commit, after it). After each, the marts
 * and the state are as they were (or, after the commit, hold that model's new rows); after the next
 * run they equal the reference build. No staging relation, no scratch file (this file's own TMPDIR).
 */
describe('chaos: hot upsert runs killed at every write phase; first runs at once', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let s: Stream;
  let expected: HotState = EMPTY_STATE;
  const D = '2020-11-10';
  const running: Proc[] = [];
  const env = (over: Record<string, string> = {}) => ({ TM_CURATED_PATH: data.dir, TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema, TMPDIR: tmp.dir, ...over });
  const hotArgs = (now: string) => ['run', '--project-dir', project.dir, '--target', 'prod', '--select', 'hot', '--now', now];
  const marts = async (target = schema) => ({
    minute: await queryRows(`SELECT event_minute::text, total_clicks, unique_sessions, unique_docs, updated_at::text FROM ${target}.mart_realtime_traffic_minute ORDER BY 1`),
    topDocs: await queryRows(`SELECT snapshot_ts::text, rank, document_id, title, click_count, unique_sessions FROM ${target}.mart_realtime_top_docs_1h ORDER BY 1, 2`),
    trend: await queryRows(`SELECT snapshot_ts::text, clinical_area, click_count, unique_sessions, trend_pct FROM ${target}.mart_realtime_clinical_trend_24h ORDER BY 1, 2`),
    anomalies: await queryRows(`SELECT detected_ts::text, session_id, window_start::text, window_end::text, click_count, severity FROM ${target}.mart_realtime_anomaly_sessions ORDER BY 1, 2`),
  });
  const marts4 = (h: HotState) => ({ minute: h.minute, topDocs: h.topDocs, trend: h.trend, anomalies: h.anomalies });
  const state = () => queryRows(`SELECT m.*, (SELECT count(*) FROM ${schema}__tm_state.files f WHERE f.model = m.model) AS files FROM ${schema}__tm_state.models m ORDER BY model`);
  const noScratch = async () => {
    expect(await entriesOf(tmp.dir)).toEqual([]);
    expect(await entriesOf(path.join(project.dir, '.tm', 'duckdb_tmp'))).toEqual([]);
  };

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('chaos_hot'));
    project = await copyProject();
    data = await tempDir();
    tmp = await tempDir('tm-chaos-tmp-');
    s = stream(data.dir);
    await s.write(D, 'b1.parquet', traffic(`${D} 10:00:00`, 31, 20_000, 0));
    const first = await runCli(hotArgs(`${D} 10:31:00`), { env: env() });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expected = hotRun(expected, s.visible(), `${D} 10:31:00`);
    expect(await marts()).toEqual(marts4(expected));
  });
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await drop?.();
    for (const d of [project, data, tmp]) await d?.remove();
  });

  it('SIGKILL before COPY, during COPY, before and after the commit of an upsert: nothing lost, nothing doubled', async () => {
    const points = ['before-copy', 'during-copy', 'before-commit', 'after-commit'];
    for (const [i, point] of points.entries()) {
      const now = `${D} 10:${String(32 + i).padStart(2, '0')}:00`;
      await s.write(D, `k${i}.parquet`, traffic(`${D} 10:${String(31 + i).padStart(2, '0')}:00`, 1, 5_000, 100 * (i + 1)));
      const martsBefore = await marts();
      const stateBefore = await state();
      const p = spawnTm(hotArgs(now), env({ TM_PAUSE_AT: `${point}:mart_realtime_traffic_minute` }));
      running.push(p);
      await p.waitFor(new RegExp(`tm-paused ${point} mart_realtime_traffic_minute`));
      p.child.kill('SIGKILL');
      expect((await p.exited).signal).toBe('SIGKILL');
      const minuteState = async () => (await state()).find((r) => r.model === 'mart_realtime_traffic_minute');
      if (point === 'after-commit') {
        expect((await minuteState())?.last_change_at, point).toBe(now);
      } else {
        expect((await marts()).minute, point).toEqual(martsBefore.minute);
        expect(await minuteState(), point).toEqual(stateBefore.find((r) => r.model === 'mart_realtime_traffic_minute'));
      }
      expect(await stagingLeft(schema)).toEqual([]);

      const next = await runCli(hotArgs(now), { env: env() });
      expect(next.code, next.stdout + next.stderr).toBe(0);
      expect(next.stdout, point).toMatch(/tm: removed 2 scratch folders left by runs that died/);
      expected = hotRun(expected, s.visible(), now);
      expect(await marts(), point).toEqual(marts4(expected));
      await noScratch();
    }
  });

  it('two first runs of the hot tier at once on an empty target: both exit 0, marts right', async () => {
    const empty = `${schema}_race`;
    try {
      const [a, b] = await Promise.all([0, 1].map(() => runCli(hotArgs(`${D} 10:36:00`), { env: env({ TM_PG_SCHEMA: empty }) })));
      expect(a.code, a.stdout + a.stderr).toBe(0);
      expect(b.code, b.stdout + b.stderr).toBe(0);
      expect(a.stdout + a.stderr + b.stdout + b.stderr).not.toMatch(/ERROR|duplicate key|already exists/);
      expect(await marts(empty)).toEqual(marts4(hotRun(EMPTY_STATE, s.visible(), `${D} 10:36:00`)));
      expect(await stagingLeft(empty)).toEqual([]);
    } finally {
      await queryRows(`DROP SCHEMA IF EXISTS ${empty}, ${empty}__tm_state, ${empty}_tm_audit CASCADE`);
    }
    await noScratch();
  });
});

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeEventsParquet, type EventRow } from '../generator/parquet-writer.js';
import { build } from '../src/api/build.js';
import { run } from '../src/api/run.js';
import { test as tmTest } from '../src/api/test.js';
import { copyProject, freshSchema, pgUrl, queryRows, runCli, tempDir, withPg } from '../test-support/harness.js';

/**
 * The TripClick tests of the hot marts and of reconciliation, on marts built by a hot run and then
 * `tm build` (hot, cold and every test): all pass, then each planted defect is caught with its count.
 */
describe('TripClick hot-mart tests', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  const NOW = '2020-11-10T10:22:00Z'; // the newest event is at 10:20
  let seq = 0;

  /** `count` clicks of `session` from `start`, every `everySec`, cycling through `docs`. */
  const clicks = (session: string, start: string, count: number, everySec: number, docs: readonly number[], areas: string): EventRow[] => {
    const t0 = Date.parse(`${start.replace(' ', 'T')}Z`);
    return Array.from({ length: count }, (_, i) => ({
      dedup_key: `q${String(++seq).padStart(6, '0')}`,
      event_ts: new Date(t0 + i * everySec * 1000).toISOString().replace('T', ' ').replace('Z', ''),
      session_id: session.padEnd(24, '0'),
      document_id: docs[i % docs.length],
      title: `Document ${docs[i % docs.length]}`,
      clinical_areas: areas,
    }));
  };
  const write = async (date: string, name: string, rows: readonly EventRow[]) => {
    await mkdir(path.join(data.dir, `event_date=${date}`), { recursive: true });
    await writeEventsParquet(path.join(data.dir, `event_date=${date}`, name), rows);
  };

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('qhot'));
    project = await copyProject();
    data = await tempDir('tm-qhot-data-');
    Object.assign(process.env, { TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema, TM_CURATED_PATH: data.dir });
    // The day before: an area seen only then (its trend row will have click_count 0), evening traffic.
    await write('2020-11-09', 'a.parquet', [
      ...clicks('prev', '2020-11-09 08:00:00', 2, 60, [7], 'Urology'),
      ...clicks('eve', '2020-11-09 20:00:00', 24, 600, [1, 2, 3], ',Cardiology'),
    ]);
    const hot = await run({ projectDir: project.dir, target: 'prod', select: ['hot'], now: '2020-11-09T23:55:00Z', log: () => undefined });
    expect(hot.exitCode).toBe(0);
    // The day itself: traffic, a new area (trend NULL) and a burst of 120 clicks in 4 minutes (CRITICAL).
    await write('2020-11-10', 'b.parquet', [
      ...clicks('day', '2020-11-10 00:05:00', 42, 900, [1, 2, 3, 4], 'Cardiology, Neurology'),
      ...clicks('burst', '2020-11-10 10:00:00', 120, 2, [5], ',Oncology'),
    ]);
  });
  afterAll(async () => {
    for (const suffix of ['_tm_audit', '__tm_state']) await queryRows(`DROP SCHEMA IF EXISTS ${schema}${suffix} CASCADE`).catch(() => undefined);
    await drop?.();
    await project?.remove();
    await data?.remove();
  });

  const hotTests = [
    'keys_of_mart_realtime_traffic_minute', 'keys_of_mart_realtime_top_docs_1h', 'keys_of_mart_realtime_clinical_trend_24h', 'keys_of_mart_realtime_anomaly_sessions', 'keys_of_mart_hot_cold_drift',
    'anomaly_episodes_well_formed', 'anomaly_severity_matches_clicks', 'clinical_trend_null_exactly_without_previous',
    'reconciled_minutes_match_cold_counts', 'top_docs_rank_order', 'top_docs_ranks_without_gaps',
    'traffic_minute_counts_consistent', 'traffic_minute_recency',
  ];

  it('builds hot and cold marts with every test passing', async () => {
    const lines: string[] = [];
    const outcome = await build({ projectDir: project.dir, target: 'prod', now: NOW, log: (l) => lines.push(l) });
    expect(outcome.exitCode, lines.join('\n')).toBe(0);
    expect(outcome.tests.filter((t) => t.status !== 'pass').map((t) => t.test.name)).toEqual([]);
    expect(outcome.tests.map((t) => t.test.name)).toEqual(expect.arrayContaining(hotTests));
    // What the planted defects below rely on.
    expect(await queryRows(`SELECT severity, click_count FROM ${schema}.mart_realtime_anomaly_sessions`)).toEqual([{ severity: 'CRITICAL', click_count: 120 }]);
    expect(await queryRows(`SELECT clinical_area, click_count, trend_pct FROM ${schema}.mart_realtime_clinical_trend_24h WHERE snapshot_ts = '2020-11-10 10:20' AND (click_count = 0 OR trend_pct IS NULL) ORDER BY 1`)).toEqual([
      { clinical_area: 'Cardiology', click_count: 65, trend_pct: null }, // all of it since 11-09 20:00, in the current window
      { clinical_area: 'Neurology', click_count: 41, trend_pct: null }, // the 10:20 click is at S, outside [S - 24 h, S)
      { clinical_area: 'Oncology', click_count: 120, trend_pct: null },
      { clinical_area: 'Urology', click_count: 0, trend_pct: '-100.00' },
    ]);
    expect(await queryRows(`SELECT event_date FROM ${schema}.mart_hot_cold_drift`)).toEqual([{ event_date: '2020-11-09' }]);
  });

  it('catches each planted defect with its count', async () => {
    await withPg(async (c) => {
      // In the latest snapshot only: the last rank jumps (a gap), and is out of order.
      await c.query(`UPDATE ${schema}.mart_realtime_top_docs_1h SET rank = rank + 10 WHERE snapshot_ts = '2020-11-10 10:20' AND rank = (SELECT max(rank) FROM ${schema}.mart_realtime_top_docs_1h WHERE snapshot_ts = '2020-11-10 10:20')`);
      await c.query(`UPDATE ${schema}.mart_realtime_anomaly_sessions SET severity = 'WARNING'`);
      await c.query(`UPDATE ${schema}.mart_realtime_clinical_trend_24h SET trend_pct = NULL WHERE click_count = 0 AND snapshot_ts = '2020-11-10 10:20'`);
      await c.query(`UPDATE ${schema}.mart_realtime_traffic_minute SET total_clicks = total_clicks + 1 WHERE event_minute = (SELECT min(event_minute) FROM ${schema}.mart_realtime_traffic_minute)`);
    });
    const outcome = await tmTest({ projectDir: project.dir, target: 'prod', now: NOW, log: () => undefined });
    expect(outcome.exitCode).toBe(1);
    expect(Object.fromEntries(outcome.outcomes.filter((o) => o.status !== 'pass').map((o) => [o.test.name, `${o.status} ${o.failures}`]))).toEqual({
      top_docs_ranks_without_gaps: 'fail 1',
      top_docs_rank_order: 'fail 1',
      anomaly_severity_matches_clicks: 'fail 1',
      clinical_trend_null_exactly_without_previous: 'fail 1',
      reconciled_minutes_match_cold_counts: 'fail 1',
    });
  });

  it('warns (exit 0) when the hot traffic table is older than its SLA', async () => {
    const res = await runCli(['test', '--select', 'traffic_minute_recency', '--target', 'prod', '--now', '2020-11-10T10:40:00Z'], { cwd: project.dir });
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/1 of 1 WARN {2}traffic_minute_recency \.+ 1 failing in/);
  });
});

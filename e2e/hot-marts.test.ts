import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/api/run.js';
import { copyProject, freshSchema, pgUrl, queryRows, tempDir } from '../test-support/harness.js';
import { clicks, stream, traffic, type Stream } from '../test-support/hot-fixture.js';
import { EMPTY_STATE, hotRun, reconcile, type DriftRow, type HotState } from '../test-support/hot-reference.js';

/**
 * Successive hot runs over files that arrive in batches (late files within and beyond the lookback,
 * a replayed file, a burst that crosses a 5-minute boundary and grows from WARNING to CRITICAL,
 * upstream compaction), each compared with an independent TypeScript reading of the spec; then
 * the cold run's reconciliation and drift.
 */
describe('hot marts: incremental runs on the real PostgreSQL', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let s: Stream;
  let expected: HotState = EMPTY_STATE;
  let drift: DriftRow[] = [];
  const D = '2020-11-10';

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('hot'));
    project = await copyProject();
    data = await tempDir();
    s = stream(data.dir);
    process.env.TM_PG_URL = pgUrl;
    process.env.TM_PG_SCHEMA = schema;
    process.env.TM_CURATED_PATH = data.dir;
  });
  afterAll(async () => {
    await drop?.();
    await project?.remove();
    await data?.remove();
  });

  const tm = async (select: string, now: string, extra: { fullRefresh?: boolean } = {}) => {
    const lines: string[] = [];
    const outcome = await run({ projectDir: project.dir, target: 'prod', select: [select], now, log: (l) => lines.push(l), ...extra });
    expect(outcome.exitCode, lines.join('\n')).toBe(0);
    return lines.join('\n');
  };
  const num = (rows: Record<string, unknown>[]) =>
    rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) && !k.endsWith('_id') ? Number(v) : v])));
  const tables = async () => ({
    minute: num(await queryRows(`SELECT * FROM ${schema}.mart_realtime_traffic_minute ORDER BY event_minute`)),
    topDocs: num(await queryRows(`SELECT * FROM ${schema}.mart_realtime_top_docs_1h ORDER BY snapshot_ts, rank`)),
    trend: num(await queryRows(`SELECT * FROM ${schema}.mart_realtime_clinical_trend_24h ORDER BY snapshot_ts, clinical_area`)),
    anomalies: num(await queryRows(`SELECT * FROM ${schema}.mart_realtime_anomaly_sessions ORDER BY detected_ts, session_id`)),
  });
  const expectMarts = async (state: HotState) => {
    const t = await tables();
    expect(t.minute).toEqual(state.minute);
    expect(t.topDocs).toEqual(state.topDocs);
    expect(t.trend).toEqual(state.trend);
    expect(t.anomalies).toEqual(state.anomalies);
  };

  it('a cold run before any hot run reconciles nothing and succeeds', async () => {
    await s.write('2020-11-09', 'yesterday.parquet', [
      // in the previous 24 hours of the first snapshot (S = 10:30): [11-08 10:30, 11-09 10:30)
      ...clicks('y0000000000000000000000a', '2020-11-09 08:00:00', 32, 1000, [900], ',Rheumatology'),
      ...clicks('y0000000000000000000000b', '2020-11-09 09:00:00', 3, 1000, [901], 'Dermatology'),
      // in the current 24 hours
      ...clicks('y0000000000000000000000c', '2020-11-09 20:00:00', 3, 1000, [901], 'Dermatology, Urology'),
    ]);
    await s.write(D, 'b1.parquet', [
      ...traffic(`${D} 10:00:00`, 31, 20_000, 0),
      ...clicks('o0000000000000000000000a', `${D} 10:10:00`, 1, 1000, [902], 'Rheumatology'),
      // excluded by the contract: NULL session, an event 9 minutes ahead of the wall clock, a wrong date folder
      { dedup_key: 'bad1', event_ts: `${D} 10:12:00`, session_id: null, document_id: 1 },
      { dedup_key: 'future1', event_ts: `${D} 10:40:00`, session_id: 'f0000000000000000000000a', document_id: 2 },
      { dedup_key: 'wrongday', event_ts: '2020-11-11 10:00:00', session_id: 'w0000000000000000000000a', document_id: 3 },
      // two copies of one click: the earliest counts
      { dedup_key: 'dup1', event_ts: `${D} 10:29:00`, session_id: 'd0000000000000000000000a', document_id: 4, title: 'late copy' },
      { dedup_key: 'dup1', event_ts: `${D} 10:28:00`, session_id: 'd0000000000000000000000a', document_id: 4, title: 'early copy' },
    ]);
    await tm('cold', `${D} 10:31:00`);
    const drifts = await queryRows(`SELECT * FROM ${schema}.mart_hot_cold_drift`);
    expect(drifts).toEqual([]);
    const minute = await queryRows(`SELECT to_regclass($1) AS t`, [`${schema}.mart_realtime_traffic_minute`]);
    expect(minute[0].t).toBeNull();
  });

  it('run 1 (first run): H = S - L; marts equal the reference', async () => {
    const out = await tm('hot', `${D} 10:31:00`);
    expect(out).toMatch(/4 of 4 incremental models to update/);
    const first = hotRun(expected, s.visible(), `${D} 10:31:00`);
    expect(first.hotStart).toBe(Date.parse(`${D}T10:15:00Z`));
    expected = first;
    await expectMarts(expected);
    // an area with 32 events in the previous 24 hours and 1 now: -96.875 % rounds away from zero;
    // 3 then 3: 0.00; none before: NULL
    const trend = await queryRows<{ clinical_area: string; click_count: number; trend_pct: string | null }>(
      `SELECT clinical_area, click_count, trend_pct FROM ${schema}.mart_realtime_clinical_trend_24h WHERE clinical_area IN ('Rheumatology', 'Dermatology', 'Urology') ORDER BY 1`,
    );
    expect(trend).toEqual([
      { clinical_area: 'Dermatology', click_count: 3, trend_pct: '0.00' },
      { clinical_area: 'Rheumatology', click_count: 1, trend_pct: '-96.88' },
      { clinical_area: 'Urology', click_count: 3, trend_pct: null },
    ]);
  });

  it('run 2: new batch, a late file within the lookback (counted) and one beyond H (not), a burst starts', async () => {
    await s.write(D, 'b2.parquet', [...traffic(`${D} 10:31:00`, 10, 20_000, 100), ...clicks('burst00000000000000000001', `${D} 10:37:00`, 30, 6000, [7, 8])]);
    await s.write(D, 'late-a.parquet', [...clicks('l0000000000000000000000a', `${D} 10:20:10`, 2, 1000, [5]), ...clicks('l0000000000000000000000b', `${D} 10:05:00`, 1, 1000, [5])]);
    await tm('hot', `${D} 10:41:00`);
    expected = hotRun(expected, s.visible(), `${D} 10:41:00`);
    await expectMarts(expected);
    const m = await queryRows<{ event_minute: string; total_clicks: number }>(`SELECT event_minute::text, total_clicks FROM ${schema}.mart_realtime_traffic_minute WHERE event_minute IN ('${D} 10:05', '${D} 10:20')`);
    expect(m.map((r) => r.event_minute)).toEqual([`${D} 10:20:00`]);
  });

  it('run 3: a replayed duplicate file and a burst crossing 10:40 make one WARNING episode', async () => {
    const b2 = s.files.get(`${data.dir}/event_date=${D}/b2.parquet`)!;
    await s.write(D, 'b2-replay.parquet', b2.rows);
    await s.write(D, 'b3.parquet', [...traffic(`${D} 10:41:00`, 4, 20_000, 200), ...clicks('burst00000000000000000001', `${D} 10:40:00`, 30, 3000, [7, 9])]);
    await tm('hot', `${D} 10:46:00`);
    expected = hotRun(expected, s.visible(), `${D} 10:46:00`);
    await expectMarts(expected);
    expect(expected.anomalies).toHaveLength(1);
    expect(expected.anomalies[0]).toMatchObject({ session_id: 'burst00000000000000000001', severity: 'WARNING' });
  });

  it('run 4: the burst grows to CRITICAL in the same row (detected_ts kept); a late event beyond H is missed', async () => {
    const before = await queryRows<{ detected_ts: string }>(`SELECT detected_ts::text FROM ${schema}.mart_realtime_anomaly_sessions`);
    await s.write(D, 'b4.parquet', [...traffic(`${D} 10:45:00`, 5, 20_000, 300), ...clicks('burst00000000000000000001', `${D} 10:44:00`, 80, 750, [7])]);
    await s.write(D, 'late-b.parquet', clicks('l0000000000000000000000c', `${D} 10:20:40`, 1, 1000, [6]));
    await tm('hot', `${D} 10:51:00`);
    expected = hotRun(expected, s.visible(), `${D} 10:51:00`);
    await expectMarts(expected);
    const after = await queryRows<{ detected_ts: string; severity: string }>(`SELECT detected_ts::text, severity FROM ${schema}.mart_realtime_anomaly_sessions`);
    expect(after).toEqual([{ detected_ts: before[0].detected_ts, severity: 'CRITICAL' }]);
  });

  it('a re-run on the same files changes nothing: no mart row written, the check recorded', async () => {
    const before = await tables();
    const state = await queryRows(`SELECT model, clock_reached::text, last_change_at::text, last_check_at::text FROM ${schema}__tm_state.models ORDER BY model`);
    const out = await tm('hot', `${D} 10:52:00`);
    expect(out).toMatch(/0 of 4 incremental models to update/);
    expect(out.match(/no new files \(checked\)/g)).toHaveLength(4);
    expect(await tables()).toEqual(before);
    const after = await queryRows<{ model: string; last_check_at: string; last_change_at: string }>(`SELECT model, clock_reached::text, last_change_at::text, last_check_at::text FROM ${schema}__tm_state.models ORDER BY model`);
    expect(after.map((r) => ({ ...r, last_check_at: undefined }))).toEqual(state.map((r) => ({ ...r, last_check_at: undefined })));
    expect(after.filter((r) => r.model.startsWith('mart_realtime')).every((r) => r.last_check_at === `${D} 10:52:00`)).toBe(true);
  });

  it('upstream compaction: files replaced by one file with the same events are forgotten, the marts stay right', async () => {
    const b2 = s.files.get(`${data.dir}/event_date=${D}/b2.parquet`)!;
    await s.remove(D, 'b2.parquet');
    await s.remove(D, 'b2-replay.parquet');
    await s.write(D, 'compacted-0001.parquet', b2.rows);
    await tm('hot', `${D} 10:53:00`);
    expected = hotRun(expected, s.visible(), `${D} 10:53:00`);
    await expectMarts(expected);
    const files = await queryRows<{ uri: string }>(`SELECT uri FROM ${schema}__tm_state.files WHERE uri LIKE '%b2%'`);
    expect(files).toEqual([]);
  });

  it('next day, then the cold run reconciles the full day: drift counts the missed late event', async () => {
    await s.write('2020-11-11', 'n1.parquet', traffic('2020-11-11 00:00:00', 10, 30_000, 400));
    await tm('hot', '2020-11-11 00:12:00');
    expected = hotRun(expected, s.visible(), '2020-11-11 00:12:00');
    await expectMarts(expected);

    await tm('cold', '2020-11-11 00:13:00');
    const rec = reconcile(expected, drift, s.visible(), '2020-11-11 00:13:00');
    drift = rec.drift;
    expected = { ...expected, minute: rec.minute };
    expect(drift).toEqual([expect.objectContaining({ event_date: D, drift_clicks: 1 })]);
    expect(num(await queryRows(`SELECT event_date::text, hot_clicks, cold_clicks, drift_clicks, reconciled_at::text FROM ${schema}.mart_hot_cold_drift ORDER BY 1`))).toEqual(drift);
    await expectMarts(expected);
  });

  it('a second cold run on the same data keeps hot_clicks and changes only reconciled_at and updated_at', async () => {
    await tm('cold', '2020-11-11 00:20:00');
    const rec = reconcile(expected, drift, s.visible(), '2020-11-11 00:20:00');
    expect(rec.drift.map((d) => ({ ...d, reconciled_at: undefined }))).toEqual(drift.map((d) => ({ ...d, reconciled_at: undefined })));
    expect(num(await queryRows(`SELECT event_date::text, hot_clicks, cold_clicks, drift_clicks, reconciled_at::text FROM ${schema}.mart_hot_cold_drift ORDER BY 1`))).toEqual(rec.drift);
    expected = { ...expected, minute: rec.minute };
    await expectMarts(expected);
  });

  it('a cold --full-refresh rewrites the reconciled days from all data and keeps their minute rows', async () => {
    await tm('cold', '2020-11-11 00:20:30', { fullRefresh: true });
    // The drift table starts over: the day's hot rows are the reconciled ones now.
    const rec = reconcile(expected, [], s.visible(), '2020-11-11 00:20:30');
    expect(rec.minute.filter((m) => String(m.event_minute).startsWith(D)).length).toBeGreaterThan(0);
    expect(num(await queryRows(`SELECT event_date::text, hot_clicks, cold_clicks, drift_clicks, reconciled_at::text FROM ${schema}.mart_hot_cold_drift ORDER BY 1`))).toEqual(rec.drift);
    expected = { ...expected, minute: rec.minute };
    await expectMarts(expected);
  });

  it('--full-refresh rebuilds the incremental models from scratch (rows and source state): H = S - L again', async () => {
    await tm('hot', '2020-11-11 00:21:00', { fullRefresh: true });
    const fresh = hotRun(EMPTY_STATE, s.visible(), '2020-11-11 00:21:00');
    await expectMarts(fresh);
    const state = await queryRows(`SELECT hot_start::text, files_seen FROM ${schema}__tm_state.models WHERE model = 'mart_realtime_traffic_minute'`);
    // S = 00:09 (the newest event is at 00:09:30), H = S - 15 min: the files of 2020-11-10 and 2020-11-11
    expect(state).toEqual([{ hot_start: '2020-11-10 23:54:00', files_seen: s.visible().filter((f) => f.folderDate >= '2020-11-10').length }]);
  });
});

import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, freshSchema, pgUrl, queryRows, runCli, tempDir } from '../test-support/harness.js';
import { clicks, stream, traffic, type Stream } from '../test-support/hot-fixture.js';
import { spawnTm, type Proc } from '../test-support/processes.js';
import { EMPTY_STATE, hotRun, type HotState } from '../test-support/hot-reference.js';

describe('hot runs as real processes: kill, concurrency, --every, status', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let s: Stream;
  let expected: HotState = EMPTY_STATE;
  const D = '2020-11-10';
  const running: Proc[] = [];
  const env = () => ({ TM_CURATED_PATH: data.dir, TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema });
  const hotArgs = (now: string, ...more: string[]) => ['run', '--project-dir', project.dir, '--target', 'prod', '--select', 'hot', '--now', now, ...more];

  const marts = async () => ({
    minute: await queryRows(`SELECT event_minute::text, total_clicks, unique_sessions, unique_docs, updated_at::text FROM ${schema}.mart_realtime_traffic_minute ORDER BY 1`),
    topDocs: await queryRows(`SELECT snapshot_ts::text, rank, document_id, title, click_count, unique_sessions FROM ${schema}.mart_realtime_top_docs_1h ORDER BY 1, 2`),
    trend: await queryRows(`SELECT snapshot_ts::text, clinical_area, click_count, unique_sessions, trend_pct FROM ${schema}.mart_realtime_clinical_trend_24h ORDER BY 1, 2`),
    anomalies: await queryRows(`SELECT detected_ts::text, session_id, window_start::text, window_end::text, click_count, severity FROM ${schema}.mart_realtime_anomaly_sessions ORDER BY 1, 2`),
  });
  const state = () => queryRows(`SELECT m.*, (SELECT count(*) FROM ${schema}__tm_state.files f WHERE f.model = m.model) AS files FROM ${schema}__tm_state.models m ORDER BY model`);
  const expectMarts = async (want: HotState) => {
    const got = await marts();
    expect(got.minute).toEqual(want.minute);
    expect(got.topDocs).toEqual(want.topDocs);
    expect(got.trend).toEqual(want.trend);
    expect(got.anomalies).toEqual(want.anomalies);
  };

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('hotcli'));
    project = await copyProject();
    data = await tempDir();
    s = stream(data.dir);
    await s.write(D, 'b1.parquet', [...traffic(`${D} 10:00:00`, 31, 20_000, 0), ...clicks('burst00000000000000000002', `${D} 10:24:00`, 55, 2000, [3])]);
    const first = await runCli(hotArgs(`${D} 10:31:00`), { env: env() });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expected = hotRun(expected, s.visible(), `${D} 10:31:00`);
  });
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await drop?.();
    await project?.remove();
    await data?.remove();
  });

  it('a run killed with SIGKILL before its commit leaves every mart and the state as they were; the next run completes', async () => {
    await expectMarts(expected);
    const martsBefore = await marts();
    const stateBefore = await state();
    await s.write(D, 'b2.parquet', traffic(`${D} 10:31:00`, 9, 20_000, 100));
    const p = spawnTm(hotArgs(`${D} 10:41:00`, '--threads', '1'), { ...env(), TM_PAUSE_AT: 'before-commit' });
    await p.waitFor(/tm-paused before-commit/);
    p.child.kill('SIGKILL');
    expect((await p.exited).signal).toBe('SIGKILL');
    expect(await marts()).toEqual(martsBefore);
    expect(await state()).toEqual(stateBefore);

    const next = await runCli(hotArgs(`${D} 10:41:00`), { env: env() });
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout).toMatch(/4 of 4 incremental models to update/);
    expected = hotRun(expected, s.visible(), `${D} 10:41:00`);
    await expectMarts(expected);
  });

  it('a model killed while its siblings committed still sees its files as new in the next run', async () => {
    await s.write(D, 'b3.parquet', traffic(`${D} 10:40:00`, 5, 20_000, 200));
    const p = spawnTm(hotArgs(`${D} 10:46:00`), { ...env(), TM_PAUSE_AT: 'before-commit:mart_realtime_traffic_minute' });
    await p.waitFor(/tm-paused before-commit mart_realtime_traffic_minute/);
    // the three other models commit while the minute model waits
    for (let i = 0; i < 100; i++) {
      const rows = await queryRows<{ n: string }>(`SELECT count(*) AS n FROM ${schema}__tm_state.models WHERE last_change_at = '${D} 10:46:00'`);
      if (Number(rows[0].n) === 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    p.child.kill('SIGKILL');
    await p.exited;
    const next = await runCli(hotArgs(`${D} 10:46:00`), { env: env() });
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout).toMatch(/1 of 4 incremental models to update/);
    expect(next.stdout).toMatch(/mart_realtime_traffic_minute \.+ UPSERT/);
    expected = hotRun(expected, s.visible(), `${D} 10:46:00`);
    await expectMarts(expected);
  });

  it('two concurrent runs never process one model twice: the second skips (exit 0), --wait waits and finds nothing new', async () => {
    await s.write(D, 'b4.parquet', traffic(`${D} 10:45:00`, 5, 20_000, 300));
    const go = path.join(data.dir, '..', `${path.basename(data.dir)}-go`);
    const a = spawnTm(hotArgs(`${D} 10:51:00`), { ...env(), TM_PAUSE_AT: 'before-commit:mart_realtime_traffic_minute', TM_PAUSE_UNTIL: go });
    running.push(a);
    await a.waitFor(/tm-paused before-commit mart_realtime_traffic_minute/);
    const b = await runCli(hotArgs(`${D} 10:52:00`), { env: env() });
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(b.stdout.match(/is being run by another tm process/g)).toHaveLength(4);
    expect(b.stdout.match(/SKIP/g)).toHaveLength(4);
    const c = spawnTm(hotArgs(`${D} 10:53:00`, '--wait'), env());
    running.push(c);
    await c.waitFor(/models selected/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(c.output()).not.toMatch(/incremental models to update/); // still waiting for A's locks
    await writeFile(go, '');
    expect((await a.exited).code, a.output()).toBe(0);
    await rm(go, { force: true });
    expect((await c.exited).code, c.output()).toBe(0);
    expect(c.output()).toMatch(/0 of 4 incremental models to update/);
    const rows = await queryRows<{ model: string; last_change_at: string; last_check_at: string }>(
      `SELECT model, last_change_at::text, last_check_at::text FROM ${schema}__tm_state.models WHERE model LIKE 'mart_realtime%' ORDER BY 1`,
    );
    expect(rows.every((r) => r.last_change_at === `${D} 10:51:00` && r.last_check_at === `${D} 10:53:00`)).toBe(true);
    expected = hotRun(expected, s.visible(), `${D} 10:51:00`);
    await expectMarts(expected);
  });

  it('--every: cycles pick up new files, idle cycles write nothing, a failing cycle is retried, SIGTERM stops after the cycle (exit 0)', async () => {
    const p = spawnTm(hotArgs(`${D} 11:00:00`, '--every', '300ms'), env());
    running.push(p);
    // A cycle that did work ends with its summary; an idle one prints one line with the time instead.
    const cycleEnd = /Finished 4 models|cycle \d+ idle: stream clock .* unchanged, nothing written/;
    await p.waitFor(cycleEnd);
    const runId = async () => (await queryRows<{ run_id: string }>(`SELECT run_id FROM ${schema}__tm_state.models WHERE model = 'mart_realtime_traffic_minute'`))[0].run_id;
    const idle = await runId();
    // Idle cycles print one line with the time, not a line per model.
    await p.waitFor((o) => (o.match(/cycle \d+ idle: stream clock .* unchanged, nothing written/g) ?? []).length >= 2);
    expect(p.output()).not.toMatch(/ 0 of 4 incremental models to update/);
    expect(await runId()).toBe(idle); // no new file: no rows written
    await s.write(D, 'b5.parquet', traffic(`${D} 10:50:00`, 5, 20_000, 400));
    for (let i = 0; i < 200 && (await runId()) === idle; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await runId()).not.toBe(idle);
    expected = hotRun(expected, s.visible(), `${D} 11:00:00`);
    await expectMarts(expected);
    // The cycle that picked up the file printed its lines under one with its time.
    await p.waitFor(/^tm: \d{4}-\d\d-\d\dT[\d:.]+Z cycle \d+\n[\s\S]*Finished 4 models/m);

    await rename(data.dir, `${data.dir}-away`);
    await p.waitFor(/failed; retrying in/);
    await rename(`${data.dir}-away`, data.dir);
    await p.waitFor(cycleEnd, { from: p.output().length });
    p.child.kill('SIGTERM');
    const exit = await p.exited;
    expect(exit.code, p.output()).toBe(0);
    expect(p.output()).toMatch(/source folder not found/);
    expect(p.output()).toMatch(/SIGTERM received, stopping after the current cycle[\s\S]*stopped after \d+ cycles \(1 failed\)/);
  });

  it('tm status: exit 0 within the SLA, 1 when late or never run, 2 when the database cannot be reached', async () => {
    const status = (now: string, extraEnv: Record<string, string> = {}) =>
      runCli(['status', '--project-dir', project.dir, '--target', 'prod', '--select', 'hot', '--now', now], { env: { ...env(), ...extraEnv } });
    const ok = await status(`${D} 11:02:00`);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    // pipeline lag 2m (since the last success), data lag 7m 20s (since the clock reached); the files are newer than --now: arrival lag 0s
    expect(ok.stdout).toMatch(/mart_realtime_traffic_minute\s+2020-11-10 11:00:00\s+2m 00s\s+7m 20s\s+0s\s+2020-11-10 10:54:40\s+5m\s+OK/);
    const late = await status(`${D} 11:06:00`);
    expect(late.code).toBe(1);
    expect(late.stdout).toMatch(/mart_realtime_top_docs_1h .* LATE/);
    expect(late.stdout).toMatch(/ERROR mart_realtime_top_docs_1h: past its SLA of 5m \(last success 6m 00s ago\)/);
    expect(late.stdout).toMatch(/4 freshness problems/);
    const never = await status(`${D} 11:02:00`, { TM_PG_SCHEMA: `${schema}_none` });
    expect(never.code).toBe(1);
    expect(never.stdout).toMatch(/NEVER RUN/);
    const down = await status(`${D} 11:02:00`, { TM_PG_URL: 'postgres://postgres:secret@127.0.0.1:1/test' });
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/cannot connect to PostgreSQL at 127\.0\.0\.1:1\/test: connection refused/);
    expect(down.stderr).not.toMatch(/secret/);
  });
});

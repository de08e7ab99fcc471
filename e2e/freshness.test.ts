import { cp, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, freshSchema, pgUrl, queryRows, runCli, tempDir } from '../test-support/harness.js';
import { stream, traffic, type Stream } from '../test-support/hot-fixture.js';
import { spawnTm, type Proc } from '../test-support/processes.js';

/**
 * The three lags on a stalled stream, with thresholds in the project's YAML: the loop keeps checking
 * (pipeline lag small) while no event arrives (data lag grows) and no file lands (arrival lag grows).
 * File times are set on the stream's own timeline, so `--now` drives every lag.
 */
describe('freshness: pipeline, data and arrival lag', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let s: Stream;
  const D = '2020-11-10';
  const running: Proc[] = [];
  const env = () => ({ TM_CURATED_PATH: data.dir, TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema });
  const hot = (now: string, ...more: string[]) => runCli(['run', '--project-dir', project.dir, '--target', 'prod', '--select', 'hot', '--now', now, ...more], { env: env() });
  const status = (now: string, ...more: string[]) => runCli(['status', '--project-dir', project.dir, '--target', 'prod', '--select', 'hot', '--now', now, ...more], { env: env() });
  const freshness = (now: string, ...more: string[]) => runCli(['source', 'freshness', '--project-dir', project.dir, '--target', 'prod', '--now', now, ...more], { env: env() });
  const landed = async (file: string, at: string) => {
    const t = new Date(`${at.replace(' ', 'T')}Z`);
    await utimes(file, t, t);
  };

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('fresh'));
    project = await copyProject();
    // Thresholds: the minute mart's data lag, the stream's arrival lag.
    const models = path.join(project.dir, 'models/hot/schema.yml');
    const yml = await readFile(models, 'utf8');
    await writeFile(models, yml.replace(/(- name: mart_realtime_traffic_minute[\s\S]*?\n(\s+)sla_minutes: 5\n)/, '$1$2freshness: {data_lag: {warn_after: 5m, error_after: 15m}}\n'));
    const projectYml = path.join(project.dir, 'project.yml');
    await writeFile(projectYml, (await readFile(projectYml, 'utf8')).replace(/\n  curated_stream:\n/, '\n  curated_stream:\n    freshness:\n      arrival_lag: {warn_after: 10m, error_after: {count: 1, period: hour}}\n'));
    data = await tempDir();
    s = stream(data.dir);
    await landed(await s.write(D, 'b1.parquet', traffic(`${D} 10:00:00`, 30, 20_000, 0)), `${D} 10:30:30`);
    const first = await hot(`${D} 10:31:00`);
    expect(first.code, first.stdout + first.stderr).toBe(0);
  });
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await drop?.();
    await project?.remove();
    await data?.remove();
  });

  it('a live stream is fresh: exit 0, every lag under its threshold', async () => {
    const ok = await status(`${D} 10:33:00`);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    // C = 10:29:40 (the newest event): data lag 3m 20s; the last success 2m ago; the file landed 2m 30s ago
    expect(ok.stdout).toMatch(/mart_realtime_traffic_minute\s+2020-11-10 10:31:00\s+2m 00s\s+3m 20s\s+2m 30s\s+2020-11-10 10:29:40\s+5m\s+OK/);
    expect(ok.stdout).toMatch(/curated_stream\s+2020-11-10 10:31:00\s+2m 00s\s+3m 20s\s+2m 30s\s+2020-11-10 10:29:40\s+2020-11-10 10:30:30\s+OK/);
    expect(ok.stdout).toMatch(/All models and sources fresh/);
  });

  it('a stalled stream: the loop keeps checking (pipeline lag 0s), the data lag crosses its threshold and tm status exits 1 naming it', async () => {
    const check = await hot(`${D} 11:00:00`);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/0 of 4 incremental models to update/);
    const late = await status(`${D} 11:00:00`);
    expect(late.code, late.stdout + late.stderr).toBe(1);
    expect(late.stdout).toMatch(/mart_realtime_traffic_minute\s+2020-11-10 11:00:00\s+0s\s+30m 20s ERROR\s+29m 30s\s+/);
    expect(late.stdout).toMatch(/^ERROR mart_realtime_traffic_minute: data lag 30m 20s > error_after 15m 00s$/m);
    expect(late.stdout).toMatch(/^WARN source curated_stream: arrival lag 29m 30s > warn_after 10m 00s$/m);
    expect(late.stdout).not.toMatch(/pipeline lag .* >/);

    const json = await status(`${D} 11:00:00`, '--output', 'json');
    expect(json.code).toBe(1);
    const body = JSON.parse(json.stdout) as { models: { name: string; status: string; lags: Record<string, { seconds: number; state: string }> }[] };
    const minute = body.models.find((m) => m.name === 'mart_realtime_traffic_minute')!;
    expect(minute.status).toBe('error');
    expect(minute.lags.pipeline_lag).toMatchObject({ seconds: 0, state: 'ok' });
    expect(minute.lags.data_lag).toMatchObject({ seconds: 1820, state: 'error' });
    expect(minute.lags.arrival_lag).toMatchObject({ seconds: 1770, state: 'none' });

    // The run's own record carries the lags as of the run.
    const results = JSON.parse(await readFile(path.join(project.dir, 'target', 'run_results.json'), 'utf8')) as { results: Record<string, unknown>[] };
    expect(results.results.find((r) => r.name === 'mart_realtime_traffic_minute')).toMatchObject({ pipeline_lag_s: 0, data_lag_s: 1820, arrival_lag_s: 1770, freshness: 'error', crossed: ['data_lag'] });

    // A replay of old data measured against the stream's own newest event: no data lag.
    const replay = await status(`${D} 11:00:00`, '--relative-to', 'stream', '--output', 'json');
    const replayed = (JSON.parse(replay.stdout) as typeof body).models.find((m) => m.name === 'mart_realtime_traffic_minute')!;
    expect(replayed.lags.data_lag).toMatchObject({ seconds: 0, state: 'ok' });
  });

  it('tm source freshness: exit 0 fresh, 1 past a threshold, 2 when the database cannot be reached; --output json', async () => {
    const fresh = await freshness(`${D} 10:35:00`);
    expect(fresh.code, fresh.stdout + fresh.stderr).toBe(0);
    expect(fresh.stdout).toMatch(/curated_stream\s+2020-11-10 11:00:00\s+0s\s+5m 20s\s+4m 30s\s+/);
    expect(fresh.stdout).toMatch(/All sources fresh/);
    const stale = await freshness(`${D} 11:25:00`, '--output', 'json');
    expect(stale.code).toBe(1);
    const body = JSON.parse(stale.stdout) as { sources: { name: string; status: string; lags: Record<string, { seconds: number; state: string }> }[] };
    expect(body.sources).toHaveLength(1);
    expect(body.sources[0]).toMatchObject({ name: 'curated_stream', status: 'warn', newestFileAt: `${D} 10:30:30` });
    expect(body.sources[0].lags.arrival_lag).toMatchObject({ seconds: 3270, state: 'warn', warn_after_s: 600, error_after_s: 3600 });
    const gone = await freshness(`${D} 11:25:00`, '--select', 'source:curated_stream');
    expect(gone.stdout).toMatch(/^WARN source curated_stream: arrival lag 54m 30s > warn_after 10m 00s$/m);
    const hourLate = await freshness(`${D} 11:31:00`);
    expect(hourLate.code).toBe(1);
    expect(hourLate.stdout).toMatch(/^ERROR source curated_stream: arrival lag 1h 00m > error_after 1h 00m$/m);
    const down = await runCli(['source', 'freshness', '--project-dir', project.dir, '--target', 'prod'], { env: { ...env(), TM_PG_URL: 'postgres://postgres:secret@127.0.0.1:1/test' } });
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/cannot connect to PostgreSQL/);
    expect(down.stderr).not.toMatch(/secret/);
  });

  it('--every: alerts when no file arrives, when files arrive but the stream clock stalls, and once when each recovers; --alert-command gets JSON', async () => {
    const sink = path.join(data.dir, '..', `${path.basename(data.dir)}-alerts.jsonl`);
    const p = spawnTm(['run', '--project-dir', project.dir, '--target', 'prod', '--select', 'hot', '--now', `${D} 11:00:00`, '--every', '300ms',
      '--alert-after', '2', '--alert-command', `cat >> '${sink}'`], env());
    running.push(p);
    await p.waitFor(/tm: ALERT no_new_files curated_stream: no new file in source curated_stream for 1770s/);
    // Files land (now), but hold only events older than C: the clock stays at 10:29:40.
    const cycles = () => (p.output().match(/Finished 4 models/g) ?? []).length;
    for (const [i, name] of ['old1.parquet', 'old2.parquet', 'old3.parquet'].entries()) {
      const before = cycles();
      await s.write(D, name, traffic(`${D} 10:0${i}:10`, 1, 20_000, 500 + i * 10));
      await p.waitFor(() => cycles() > before);
      if (/ALERT clock_stalled/.test(p.output())) break;
    }
    await p.waitFor(/tm: ALERT clock_stalled: stream clock stalled at 2020-11-10 10:29:40 while new files arrive \(2 cycles with new files/);
    expect(p.output()).toMatch(/tm: RECOVERED no_new_files curated_stream: source curated_stream receives files again/);
    await s.write(D, 'new.parquet', traffic(`${D} 10:40:00`, 2, 20_000, 900));
    await p.waitFor(/tm: RECOVERED clock_stalled: stream clock moves again \(2020-11-10 10:29:40 -> 2020-11-10 10:41:40\)/);
    p.child.kill('SIGTERM');
    expect((await p.exited).code, p.output()).toBe(0);
    expect(p.output().match(/ALERT clock_stalled/g)).toHaveLength(1);
    const alerts = (await readFile(sink, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { alert: string; state: string; source?: string; details: Record<string, unknown> });
    expect(alerts.map((a) => `${a.alert}:${a.state}`)).toEqual(['no_new_files:firing', 'no_new_files:recovered', 'clock_stalled:firing', 'clock_stalled:recovered']);
    expect(alerts[0]).toMatchObject({ source: 'curated_stream', details: { arrival_lag_s: 1770 } });
    expect(alerts[2].details).toMatchObject({ clock: `${D} 10:29:40`, cycles_with_files: 2 });
  });

  it('--watch: a new file wakes a cycle at once (the safety-net period is 30s); a folder swapped under the watcher is caught by the safety-net listing', async () => {
    const clock = async () => (await queryRows<{ c: string }>(`SELECT clock_reached::text AS c FROM ${schema}__tm_state.models WHERE model = 'mart_realtime_traffic_minute'`))[0].c;
    const watchTm = (every: string) => spawnTm(['run', '--project-dir', project.dir, '--target', 'prod', '--select', 'hot', '--now', `${D} 11:00:00`, '--watch', '--every', every], env());
    const cycleEnd = /Finished 4 models|cycle \d+ idle/;
    const visibleWithin = async (want: string, ms: number) => {
      const t0 = performance.now();
      while ((await clock()) !== want) {
        if (performance.now() - t0 > ms) throw new Error(`clock still ${await clock()} after ${ms} ms, want ${want}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return performance.now() - t0;
    };

    const a = watchTm('30s');
    running.push(a);
    await a.waitFor(cycleEnd);
    expect(a.output()).toMatch(/tm: watching the local sources \(and listing every 30s\)/);
    await s.write(D, 'w1.parquet', traffic(`${D} 10:50:00`, 1, 20_000, 1000));
    expect(await visibleWithin(`${D} 10:50:40`, 5000)).toBeLessThan(5000);
    a.child.kill('SIGTERM');
    expect((await a.exited).code, a.output()).toBe(0);

    // The source folder is replaced while watched (as a remount or a network share does): its notifications stop.
    const b = watchTm('2s');
    running.push(b);
    await b.waitFor(cycleEnd);
    await cp(data.dir, `${data.dir}-new`, { recursive: true });
    await rename(data.dir, `${data.dir}-old`);
    await rename(`${data.dir}-new`, data.dir);
    await new Promise((r) => setTimeout(r, 300));
    await s.write(D, 'w2.parquet', traffic(`${D} 10:55:00`, 1, 20_000, 1100));
    await visibleWithin(`${D} 10:55:40`, 15_000);
    await b.waitFor(/tm: the safety-net listing found changes the file notifications missed/);
    b.child.kill('SIGTERM');
    expect((await b.exited).code, b.output()).toBe(0);
    await rm(`${data.dir}-old`, { recursive: true, force: true });
  });
});

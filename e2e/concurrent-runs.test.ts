import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expected, FIXTURE_NOW, martOrder, writeColdFixture } from '../test-support/cold-fixture.js';
import { writeEventsFile } from '../test-support/fixtures.js';
import { copyProject, queryRows, runCli, pgUrl, tempDir } from '../test-support/harness.js';
import { spawnTm, stagingLeft, until, type Proc } from '../test-support/processes.js';

/**
 * Runs started at the same moment on one schema: every process exits 0, each model that writes is
 * run by exactly one of them (the one holding its lock) and the others print, one line each, which
 * they skipped; the marts equal those of a single run. To make the runs overlap for sure, every
 * process pauses before its first write (TM_PAUSE_AT) until the test releases them, which it does
 * once every process has either paused (it holds locks) or exited (it held none).
 */

const COLD = ['stg_events', 'mart_session_analysis', 'mart_daily_traffic', 'mart_clinical_areas', 'mart_popular_documents', 'mart_hot_cold_drift', 'reconcile_traffic_minute'];
const HOT = ['mart_realtime_traffic_minute', 'mart_realtime_top_docs_1h', 'mart_realtime_clinical_trend_24h', 'mart_realtime_anomaly_sessions'];
/** The table whose lock each model that writes takes (a reconciliation takes the table it rewrites). */
const LOCK_OF: Record<string, string> = { reconcile_traffic_minute: 'mart_realtime_traffic_minute' };

const numeric = (rows: Record<string, unknown>[]) =>
  rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) && k !== 'session_id' ? Number(v) : v])));

describe('concurrent runs on one schema: each model run by one process, the others skip it, all exit 0', () => {
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const schemas: string[] = [];
  const running: Proc[] = [];
  let seq = 0;

  const newSchema = (): string => {
    const s = `t_conc_${Math.random().toString(36).slice(2, 8)}`;
    schemas.push(s);
    return s;
  };
  const env = (schema: string, over: Record<string, string> = {}) => ({ TM_CURATED_PATH: data.dir, TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema, TMPDIR: tmp.dir, ...over });
  const args = (select: string, ...more: string[]) => ['run', '--project-dir', project.dir, '--target', 'prod', '--select', select, '--now', FIXTURE_NOW, ...more];

  /** Starts every run at once, holds the lock holders at their first write until all others are done, then lets them finish. */
  async function race(schema: string, runs: readonly (readonly string[])[], pauseAt: string): Promise<{ code: number | null; out: string }[]> {
    const release = path.join(tmp.dir, `release-${++seq}`);
    const procs = runs.map((a) => spawnTm(a, env(schema, { TM_PAUSE_AT: pauseAt, TM_PAUSE_UNTIL: release })));
    running.push(...procs);
    const done = procs.map(() => false);
    procs.forEach((p, i) => void p.exited.then(() => (done[i] = true)));
    await until(async () => procs.every((p, i) => done[i] || p.output().includes('tm-paused')), 'every run paused or done', 90_000);
    await writeFile(release, '');
    const exits = await Promise.all(procs.map((p) => p.exited));
    return procs.map((p, i) => ({ code: exits[i].code, out: p.output() }));
  }

  /** Models the output says another process held: the announcement and the SKIP line, both. */
  const skippedIn = (out: string, models: readonly string[]) =>
    models.filter((m) => m !== 'stg_events').filter((m) => {
      const announced = new RegExp(`tm: ${m} is being run by another tm process \\(lock on ${LOCK_OF[m] ?? m} held\\): skipped`).test(out);
      const line = new RegExp(`SKIP\\s+${m} \\.+ another tm process holds its lock`).test(out);
      expect(announced, `${m}: the announcement and the SKIP line go together\n${out}`).toBe(line);
      return line;
    });

  /** Every writer is run by exactly one process (OK there, never ERROR anywhere) and skipped by the others. */
  function expectOneRunnerEach(results: { code: number | null; out: string }[], models: readonly string[]): void {
    for (const r of results) {
      expect(r.code, r.out).toBe(0);
      expect(r.out).not.toMatch(/ERROR|Error:|\n\s+at /);
    }
    for (const m of models.filter((x) => x !== 'stg_events')) {
      const runners = results.filter((r) => !skippedIn(r.out, [m]).length);
      expect(runners.length, `${m} run by ${runners.length} processes:\n${results.map((r) => r.out).join('\n----\n')}`).toBe(1);
      expect(runners[0].out).toMatch(new RegExp(`OK\\s+${m} `));
    }
  }

  const coldMarts = async (schema: string) => {
    const out: Record<string, unknown> = {};
    for (const mart of Object.keys(expected) as (keyof typeof expected)[]) out[mart] = numeric(await queryRows(`SELECT * FROM ${schema}.${mart} ORDER BY ${martOrder[mart]}`));
    return out;
  };
  const hotMarts = async (schema: string) => ({
    minute: await queryRows(`SELECT event_minute::text, total_clicks, unique_sessions, unique_docs FROM ${schema}.mart_realtime_traffic_minute ORDER BY 1`),
    topDocs: await queryRows(`SELECT snapshot_ts::text, rank, document_id, title, click_count, unique_sessions FROM ${schema}.mart_realtime_top_docs_1h ORDER BY 1, 2`),
    trend: await queryRows(`SELECT snapshot_ts::text, clinical_area, click_count, unique_sessions, trend_pct FROM ${schema}.mart_realtime_clinical_trend_24h ORDER BY 1, 2`),
    anomalies: await queryRows(`SELECT detected_ts::text, session_id, window_start::text, window_end::text, click_count, severity FROM ${schema}.mart_realtime_anomaly_sessions ORDER BY 1, 2`),
  });
  const single = async (schema: string, a: readonly string[]) => {
    const r = await runCli(a, { env: env(schema) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  };

  let hotReference: Awaited<ReturnType<typeof hotMarts>>;

  beforeAll(async () => {
    project = await copyProject();
    data = await tempDir();
    tmp = await tempDir('tm-conc-tmp-');
    await writeColdFixture(data.dir);
    const reference = newSchema();
    await single(reference, args('hot'));
    hotReference = await hotMarts(reference);
  });
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    for (const s of schemas) await queryRows(`DROP SCHEMA IF EXISTS ${s}, ${s}__tm_state, ${s}_tm_audit CASCADE`);
    for (const d of [project, data, tmp]) await d?.remove();
  });

  for (const n of [2, 3]) {
    it(`${n} cold runs at once: first runs, later runs, --full-refresh`, async () => {
      const schema = newSchema();
      const cold = Array.from({ length: n }, () => args('cold'));
      expectOneRunnerEach(await race(schema, cold, 'before-copy'), COLD);
      expect(await coldMarts(schema)).toEqual(expected);

      // Later runs: a new day lands; the holders recompute it, the others skip.
      await writeEventsFile(data.dir, '2020-02-20', `late-${n}.parquet`, [{ dedup_key: `late${n}`, event_ts: '2020-02-20 08:00:00', session_id: 'late', document_id: 900 }]);
      try {
        expectOneRunnerEach(await race(schema, cold, 'before-commit'), COLD);
        const after = (await coldMarts(schema)).mart_daily_traffic as { event_date: string }[];
        expect(after.map((r) => r.event_date)).toEqual(['2020-02-20', '2020-03-01', '2020-03-02']);
      } finally {
        await rm(path.join(data.dir, 'event_date=2020-02-20'), { recursive: true });
      }

      expectOneRunnerEach(await race(schema, Array.from({ length: n }, () => args('cold', '--full-refresh')), 'before-copy'), COLD);
      expect(await coldMarts(schema)).toEqual(expected);
      expect(await stagingLeft(schema)).toEqual([]);
    });
  }

  it('3 hot runs at once, first and later (--full-refresh): marts equal a single run', async () => {
    const schema = newSchema();
    const hot = [0, 1, 2].map(() => args('hot'));
    expectOneRunnerEach(await race(schema, hot, 'before-copy'), HOT);
    expect(await hotMarts(schema)).toEqual(hotReference);
    expectOneRunnerEach(await race(schema, [0, 1, 2].map(() => args('hot', '--full-refresh')), 'before-copy'), HOT);
    expect(await hotMarts(schema)).toEqual(hotReference);
    expect(await stagingLeft(schema)).toEqual([]);
  });

  it('a hot and a cold run at once share the minute table: one of them writes it, both exit 0', async () => {
    const schema = newSchema();
    await single(schema, args('hot'));
    const results = await race(schema, [args('hot', '--full-refresh'), args('cold')], 'before-copy');
    for (const r of results) expect(r.code, r.out).toBe(0);
    // The minute table's lock: the hot run's upsert or the cold run's reconciliation, never both.
    const holders = results.filter((r, i) => !skippedIn(r.out, [i === 0 ? 'mart_realtime_traffic_minute' : 'reconcile_traffic_minute']).length);
    expect(holders.length, results.map((r) => r.out).join('\n----\n')).toBe(1);
    expect(await coldMarts(schema)).toEqual(expected);
    // Once both have run on their own again, the marts are those of that sequence on a fresh schema.
    await single(schema, args('cold'));
    await single(schema, args('hot'));
    const fresh = newSchema();
    for (const sel of ['hot', 'cold', 'hot']) await single(fresh, args(sel));
    expect(await hotMarts(schema)).toEqual(await hotMarts(fresh));
    expect(await stagingLeft(schema)).toEqual([]);
  });
});

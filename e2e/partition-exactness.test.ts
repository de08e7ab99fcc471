import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/api/run.js';
import { writeEventsFile } from '../test-support/fixtures.js';
import { copyProject, freshSchema, pgUrl, queryRows, tempDir, withPg } from '../test-support/harness.js';
import { copyAt, dayEvents, writePartitionFixture } from '../test-support/partition-fixture.js';
import type { FixtureEvent } from '../test-support/fixtures.js';

/**
 * Partition-aware cold runs against full rebuilds of the same files, row for row, after each kind of
 * change: a late file in an old day, a replay that moves an event to an earlier day, compaction, a
 * deleted day, rows made valid by the wall clock moving, a model change, nothing at all. Schema `inc`
 * keeps its state from run to run (partition-aware);
 * schema `full` has its marts rebuilt from every file. Both also hold a hot minute table, so reconciliation and drift are compared too.
 */
const MARTS: Record<string, string[]> = {
  mart_session_analysis: ['session_id', 'event_date', 'click_count', 'unique_docs', 'first_click_ts', 'last_click_ts', 'session_duration_sec'],
  mart_daily_traffic: ['event_date', 'total_events', 'unique_sessions', 'unique_documents', 'peak_hour'],
  mart_clinical_areas: ['event_date', 'clinical_area', 'search_count', 'unique_sessions'],
  mart_popular_documents: ['event_date', 'document_id', 'title', 'view_count', 'unique_sessions'],
  mart_realtime_traffic_minute: ['event_minute', 'total_clicks', 'unique_sessions', 'unique_docs', 'updated_at'],
  mart_hot_cold_drift: ['event_date', 'hot_clicks', 'cold_clicks', 'drift_clicks', 'reconciled_at'],
};

describe('partition-aware cold runs equal full rebuilds', () => {
  let inc: Awaited<ReturnType<typeof freshSchema>>;
  let full: Awaited<ReturnType<typeof freshSchema>>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let byDay: Record<string, FixtureEvent[]>;
  let now = '2020-03-06T00:30:00Z';

  const tm = async (schema: string, args: { select?: string; fullRefresh?: boolean; dryRun?: boolean } = {}) => {
    process.env.TM_PG_SCHEMA = schema;
    const lines: string[] = [];
    const outcome = await run({ projectDir: project.dir, target: 'prod', select: [args.select ?? 'cold'], now, log: (l) => lines.push(l), fullRefresh: args.fullRefresh, dryRun: args.dryRun });
    expect(outcome.exitCode, lines.join('\n')).toBe(0);
    return { output: lines.join('\n'), plan: outcome.plan! };
  };

  /** Rows in one schema and not the other, both ways, per mart (must all be 0), and the row counts. */
  const differences = async () =>
    withPg(async (c) => {
      const out: Record<string, { diff: number; rows: number; detail: string }> = {};
      for (const [mart, cols] of Object.entries(MARTS)) {
        const list = cols.join(', ');
        const a = `${inc.schema}.${mart}`;
        const b = `${full.schema}.${mart}`;
        const r = await c.query<{ d: string; n: string }>(
          `SELECT ((SELECT count(*) FROM (SELECT ${list} FROM ${a} EXCEPT ALL SELECT ${list} FROM ${b}) x) +
                   (SELECT count(*) FROM (SELECT ${list} FROM ${b} EXCEPT ALL SELECT ${list} FROM ${a}) y))::text AS d,
                  (SELECT count(*) FROM ${a})::text AS n`,
        );
        let detail = '';
        if (r.rows[0].d !== '0') {
          const shown = await c.query(`(SELECT 'inc' AS side, ${list} FROM ${a} EXCEPT ALL SELECT 'inc', ${list} FROM ${b}) UNION ALL (SELECT 'full', ${list} FROM ${b} EXCEPT ALL SELECT 'full', ${list} FROM ${a}) LIMIT 10`);
          detail = JSON.stringify(shown.rows);
        }
        out[mart] = { diff: Number(r.rows[0].d), rows: Number(r.rows[0].n), detail };
      }
      return out;
    });

  /** One step: the partition-aware run, a full rebuild of the same files, then every mart compared. */
  const step = async (expectRead: RegExp) => {
    const partial = await tm(inc.schema);
    // The reference: the marts' state forgotten, so they are rebuilt from every file (reconciliation and
    // drift keep theirs: hot_clicks is taken once, as in the partition-aware schema).
    await withPg((c) => c.query(`DELETE FROM ${full.schema}__tm_state.models WHERE model LIKE 'mart\\_%' AND model NOT IN ('mart_hot_cold_drift')`));
    const reference = await tm(full.schema);
    expect(reference.output).toMatch(/every file read \(mart_\w+: first run\)/);
    const diffs = await differences();
    for (const [mart, d] of Object.entries(diffs)) expect(d.diff, `${mart} differs from a full rebuild: ${d.detail}\n${partial.output}`).toBe(0);
    expect(diffs.mart_daily_traffic.rows).toBeGreaterThan(0);
    expect(partial.output).toMatch(expectRead);
    return partial;
  };

  beforeAll(async () => {
    inc = await freshSchema('pinc');
    full = await freshSchema('pfull');
    project = await copyProject();
    data = await tempDir();
    byDay = await writePartitionFixture(data.dir);
    process.env.TM_PG_URL = pgUrl;
    process.env.TM_CURATED_PATH = data.dir;
    // The hot tier first (its minute table holds the last minutes of 03-05), then a new day arrives,
    // so every cold run reconciles 03-05 from the days it reads.
    await tm(inc.schema, { select: 'hot' });
    await tm(full.schema, { select: 'hot' });
    await writeEventsFile(data.dir, '2020-03-06', 'part-0.parquet', dayEvents('2020-03-06', 12, 'a', { hourFrom: 0 }).map((e) => copyAt(e, e.event_ts!.replace(/ \d\d:/, ' 00:'))));
    now = '2020-03-06T01:00:00Z';
  }, 120_000);

  afterAll(async () => {
    await inc?.drop();
    await full?.drop();
    await project?.remove();
    await data?.remove();
  });

  it('first run: every file read, equal to a full rebuild', async () => {
    const first = await step(/every file read \(mart_\w+: first run\)/);
    expect(first.plan.steps.find((s) => s.model.name === 'mart_daily_traffic')?.reason).toBe('first run');
  });

  it('a late file in an old day: that day (and the reconciled one) recomputed, the dry run names the days', async () => {
    await writeEventsFile(data.dir, '2020-03-02', 'late-0.parquet', dayEvents('2020-03-02', 4, 'late'));
    const dry = await tm(inc.schema, { dryRun: true });
    expect(dry.output).toMatch(/partition-aware: 2 days read \(2020-03-02, 2020-03-05\)/);
    expect(dry.output).toMatch(/mart_daily_traffic\s+build replace\s+1 new file: 2 days to recompute .*replaces event_date 2020-03-02, 2020-03-05/);
    await step(/2 changed days read/);
  });

  it('a replayed copy with an earlier event_ts moves the event to its own day (and out of the old one)', async () => {
    const moved = byDay['2020-03-04'][7];
    await writeEventsFile(data.dir, '2020-03-01', 'replay-1.parquet', [copyAt(moved, '2020-03-01 23:00:00', 'moved earlier')]);
    const out = await step(/3 changed days read/);
    // 03-01 by its new file, 03-04 by the key index (it held the other copy), 03-05 reconciled.
    const daily = out.plan.steps.find((s) => s.model.name === 'mart_daily_traffic');
    expect(daily?.kind === 'partitioned' ? daily.partitions?.parts : undefined).toEqual(['2020-03-01', '2020-03-04', '2020-03-05']);
  });

  it('compaction: two files of a day replaced by one with the same events', async () => {
    const day = '2020-03-03';
    const events = byDay[day];
    await rm(path.join(data.dir, `event_date=${day}`, 'part-0.parquet'));
    await rm(path.join(data.dir, `event_date=${day}`, 'part-1.parquet'));
    await writeEventsFile(data.dir, day, 'compacted-0.parquet', events);
    await step(/changed days read/);
  });

  it("a deleted day's folder: its events are gone, and an event copied from it returns to its other day", async () => {
    // 03-02's replay-0 holds the winning (earlier) copy of a 03-03 event: with 03-02 gone it counts on 03-03 again.
    await rm(path.join(data.dir, 'event_date=2020-03-02'), { recursive: true });
    await step(/changed days read/);
    const days = await queryRows<{ d: string }>(`SELECT event_date::text AS d FROM ${inc.schema}.mart_daily_traffic ORDER BY 1`);
    expect(days.map((r) => r.d)).not.toContain('2020-03-02');
  });

  it('rows left out as in the future count once the wall clock passes them', async () => {
    await writeEventsFile(data.dir, '2020-03-06', 'part-1.parquet', [
      { dedup_key: 'future-1', event_ts: '2020-03-06 09:00:00', session_id: 'sf', document_id: 7, title: 'from the future', clinical_areas: 'Oncology' },
    ]);
    await step(/changed days read/);
    const before = await queryRows<{ n: string }>(`SELECT count(*)::text AS n FROM ${inc.schema}.mart_session_analysis WHERE session_id = 'sf'`);
    expect(before[0].n).toBe('0');
    now = '2020-03-06T10:00:00Z';
    await step(/1 changed day read|changed days? read/);
    const after = await queryRows<{ n: string }>(`SELECT count(*)::text AS n FROM ${inc.schema}.mart_session_analysis WHERE session_id = 'sf'`);
    expect(after[0].n).toBe('1');
  });

  it('a model change rebuilds that model in full; with nothing else changed the others only check', async () => {
    const file = path.join(project.dir, 'models', 'cold', 'mart_daily_traffic.sql');
    await appendFile(file, '\n-- changed\n');
    const out = await step(/every file read \(mart_daily_traffic: model changed\)/);
    const steps = new Map(out.plan.steps.map((s) => [s.model.name, s]));
    expect(steps.get('mart_daily_traffic')?.action).toBe('build');
    expect(steps.get('mart_popular_documents')?.action).toBe('check');
    await writeFile(file, (await readFile(file, 'utf8')).replace('\n-- changed\n', ''));
  });

  it('a rebuild computed in batches of days (a tiny batch budget) equals the one-query rebuild', async () => {
    process.env.TM_DUCKDB_BATCH_INPUT = '1KB';
    try {
      const rebuilt = await tm(inc.schema, { fullRefresh: true });
      const daily = rebuilt.plan.steps.find((s) => s.model.name === 'mart_daily_traffic');
      expect(daily?.kind === 'partitioned' ? daily.batches?.bounds.length : undefined).toBeGreaterThan(2);
      expect(rebuilt.output).toMatch(/mart_daily_traffic \.+ CREATE \d+ rows \(\d+ batches of days\)/);
    } finally {
      delete process.env.TM_DUCKDB_BATCH_INPUT;
    }
    await step(/no file changed in \d+ files; no data read|changed days? read/);
  });

  it('nothing changed: no data read, every partition-aware mart only checks', async () => {
    await tm(inc.schema); // the model change above reverted: that model rebuilds once more
    const out = await step(/no file changed in \d+ files; no data read|1 changed day read|changed days read/);
    const again = await tm(inc.schema);
    expect(again.output).toMatch(/source curated_stream: (no file changed|.*1 changed day read)/);
    for (const name of ['mart_session_analysis', 'mart_daily_traffic', 'mart_clinical_areas', 'mart_popular_documents']) {
      expect(again.plan.steps.find((s) => s.model.name === name)?.action, out.output).toBe('check');
    }
  });
});

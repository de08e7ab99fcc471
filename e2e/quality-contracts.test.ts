import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUtc, writeEventsParquet, type EventRow } from '../generator/parquet-writer.js';
import { run } from '../src/api/run.js';
import { test as tmTest } from '../src/api/test.js';
import { copyProject, freshSchema, pgUrl, queryRows, runCli, tempDir, withPg } from '../test-support/harness.js';

/**
 * The TripClick source contract on every run: a bad row of each kind and two unusable files. Bad rows
 * are excluded, counted per rule and per file, and quarantined (with file and rule) in the target's
 * audit schema without duplicates on re-runs; the marts come from the good rows only. Then the
 * project's own tests: all pass on these marts, and each planted defect is caught with its count.
 */
describe('source contract and the TripClick tests', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let other: Awaited<ReturnType<typeof freshSchema>>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  const NOW = '2020-11-02T06:00:00Z';
  const day = (d: string) => path.join(data.dir, `event_date=${d}`);
  const ev = (dedup_key: string | null, event_ts: string | null, session_id: string | null, document_id: number | null, title = '', clinical_areas: string | null = ''): EventRow =>
    ({ dedup_key, event_ts, session_id, document_id, title, clinical_areas });
  const sA = 'aaaaaaaaaaaaaaaaaaaaaaaa';
  const sB = 'bbbbbbbbbbbbbbbbbbbbbbbb';
  const sC = 'cccccccccccccccccccccccc';

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('qcontract'));
    other = await freshSchema('qcontract2');
    project = await copyProject();
    data = await tempDir('tm-qcontract-data-');
    Object.assign(process.env, { TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema, TM_CURATED_PATH: data.dir });
    await mkdir(day('2020-11-01'), { recursive: true });
    await mkdir(day('2020-11-02'), { recursive: true });
    await writeEventsParquet(path.join(day('2020-11-01'), 'good.parquet'), [
      ev('k1', '2020-11-01 09:00:00', sA, 10, 'T10 first', ',Cardiology'),
      ev('k2', '2020-11-01 09:10:00', sA, 11, 'T11', 'Cardiology, Neurology'),
      ev('k3', '2020-11-01 10:30:00', sB, 10, 'T10 second', ''),
      ev('k4', '2020-11-01 10:45:30', sB, 12, 'T12', null),
      ev('k5', '2020-11-01 23:59:59', sC, 10, 'T10 latest', ',Cardiology ,Cardiology'),
    ]);
    // A replayed copy of k2, later: the earliest valid copy wins.
    await writeEventsParquet(path.join(day('2020-11-01'), 'replay.parquet'), [ev('k2', '2020-11-01 09:20:00', sA, 11, 'T11 replayed', 'Oncology')]);
    await writeEventsParquet(path.join(day('2020-11-01'), 'bad.parquet'), [
      ev(null, '2020-11-01 09:00:00', sA, 10),
      ev('b2', null, sA, 10),
      ev('b3', '2020-11-01 09:00:00', null, 10),
      ev('b4', '2020-11-01 09:00:00', sA, null),
      ev('b5', '2020-11-01 09:00:00', 'x'.repeat(51), 10),
      ev('b6', '2020-11-02 01:00:00', sA, 10), // in the 2020-11-01 folder
    ]);
    // More than 5 minutes ahead of --now.
    await writeEventsParquet(path.join(day('2020-11-02'), 'bad2.parquet'), [ev('b7', '2020-11-02 06:05:01', sA, 10)]);
    await writeFile(path.join(day('2020-11-01'), 'broken.parquet'), 'this is not a Parquet file');
    const conn = await connectUtc();
    try {
      const file = path.join(day('2020-11-01'), 'nosession.parquet').replaceAll("'", "''");
      await conn.run(`COPY (SELECT 'n1' AS dedup_key, TIMESTAMP '2020-11-01 09:00:00' AS event_ts, 10 AS document_id) TO '${file}' (FORMAT parquet)`);
    } finally {
      conn.closeSync();
    }
  });
  afterAll(async () => {
    for (const s of [schema, other?.schema]) {
      for (const suffix of ['_tm_audit', '__tm_state']) await queryRows(`DROP SCHEMA IF EXISTS ${s}${suffix} CASCADE`).catch(() => undefined);
    }
    await drop?.();
    await other?.drop();
    await project?.remove();
    await data?.remove();
  });

  const quarantine = (s: string) =>
    queryRows<{ dedup_key: string | null; _tm_file: string; _tm_rule: string }>(`SELECT dedup_key, _tm_file, _tm_rule FROM ${s}_tm_audit.quarantine_curated_stream ORDER BY _tm_rule, dedup_key`);
  const expectedQuarantine = () => [
    { dedup_key: 'b6', _tm_file: path.join(day('2020-11-01'), 'bad.parquet'), _tm_rule: 'event_date_mismatch' },
    { dedup_key: 'b7', _tm_file: path.join(day('2020-11-02'), 'bad2.parquet'), _tm_rule: 'event_ts_in_future' },
    { dedup_key: null, _tm_file: path.join(day('2020-11-01'), 'bad.parquet'), _tm_rule: 'null_dedup_key' },
    { dedup_key: 'b4', _tm_file: path.join(day('2020-11-01'), 'bad.parquet'), _tm_rule: 'null_document_id' },
    { dedup_key: 'b2', _tm_file: path.join(day('2020-11-01'), 'bad.parquet'), _tm_rule: 'null_event_ts' },
    { dedup_key: 'b3', _tm_file: path.join(day('2020-11-01'), 'bad.parquet'), _tm_rule: 'null_session_id' },
    { dedup_key: 'b5', _tm_file: path.join(day('2020-11-01'), 'bad.parquet'), _tm_rule: 'session_id_too_long' },
  ];

  it('excludes, counts, reports and quarantines the bad rows, skips unreadable files, and builds the marts from the good rows', async () => {
    const res = await runCli(['run', '--select', 'cold', '--target', 'prod', '--now', NOW], { cwd: project.dir });
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain(
      'source curated_stream: 6 files (2 unreadable), 13 rows read, 5 valid, 1 duplicate, 7 excluded [null_dedup_key 1, null_event_ts 1, ' +
        'null_session_id 1, null_document_id 1, session_id_too_long 1, event_date_mismatch 1, event_ts_in_future 1]',
    );
    expect(res.stdout).toMatch(/skipped file .*broken\.parquet: cannot read Parquet: /);
    expect(res.stdout).toContain(`skipped file ${path.join(day('2020-11-01'), 'nosession.parquet')}: required column 'session_id' is missing`);
    expect(res.stdout).toContain(
      '    excluded from event_date=2020-11-01/bad.parquet: null_dedup_key 1, null_event_ts 1, null_session_id 1, null_document_id 1, session_id_too_long 1, event_date_mismatch 1\n' +
        '    excluded from event_date=2020-11-02/bad2.parquet: event_ts_in_future 1\n',
    );
    expect(res.stdout).toContain(`quarantined 7 excluded rows of curated_stream in "${schema}_tm_audit"."quarantine_curated_stream"`);

    const results = JSON.parse(await readFile(path.join(project.dir, 'target', 'run_results.json'), 'utf8'));
    const source = results.sources[0];
    expect(source).toMatchObject({ name: 'curated_stream', files: 6, rows_read: 13, valid_rows: 5, duplicates: 1 });
    expect(source.rows_excluded).toEqual({ null_dedup_key: 1, null_event_ts: 1, null_session_id: 1, null_document_id: 1, session_id_too_long: 1, event_date_mismatch: 1, event_ts_in_future: 1 });
    expect(source.excluded_by_file).toEqual(
      expectedQuarantine()
        .map((q) => ({ file: q._tm_file, rule: q._tm_rule, rows: 1 }))
        .sort((a, b) => ruleOrder.indexOf(a.rule) - ruleOrder.indexOf(b.rule)),
    );
    expect(source.unreadable_files.map((f: { uri: string }) => path.basename(f.uri)).sort()).toEqual(['broken.parquet', 'nosession.parquet']);
    expect(source.quarantine).toEqual({ table: `"${schema}_tm_audit"."quarantine_curated_stream"`, rows: 7, files: 6 });
    expect(await quarantine(schema)).toEqual(expectedQuarantine());

    expect(await queryRows(`SELECT * FROM ${schema}.mart_daily_traffic`)).toEqual([
      { event_date: '2020-11-01', total_events: 5, unique_sessions: 3, unique_documents: 3, peak_hour: 9 },
    ]);
    expect(await queryRows(`SELECT session_id, click_count, unique_docs, session_duration_sec FROM ${schema}.mart_session_analysis ORDER BY session_id`)).toEqual([
      { session_id: sA, click_count: 2, unique_docs: 2, session_duration_sec: 600 },
      { session_id: sB, click_count: 2, unique_docs: 2, session_duration_sec: 930 },
      { session_id: sC, click_count: 1, unique_docs: 1, session_duration_sec: 0 },
    ]);
    expect(await queryRows(`SELECT document_id, title, view_count, unique_sessions FROM ${schema}.mart_popular_documents ORDER BY document_id`)).toEqual([
      { document_id: 10, title: 'T10 latest', view_count: 3, unique_sessions: 3 },
      { document_id: 11, title: 'T11', view_count: 1, unique_sessions: 1 },
      { document_id: 12, title: 'T12', view_count: 1, unique_sessions: 1 },
    ]);
    expect(await queryRows(`SELECT clinical_area, search_count, unique_sessions FROM ${schema}.mart_clinical_areas ORDER BY clinical_area`)).toEqual([
      { clinical_area: 'Cardiology', search_count: 3, unique_sessions: 2 },
      { clinical_area: 'Neurology', search_count: 1, unique_sessions: 1 },
    ]);
  });

  it('replaces the quarantine rows of the files it reads again, and keeps each target schema apart', async () => {
    const lines: string[] = [];
    const again = await run({ projectDir: project.dir, target: 'prod', select: ['cold'], now: NOW, log: (l) => lines.push(l) });
    expect(again.exitCode, lines.join('\n')).toBe(0);
    expect(await quarantine(schema)).toEqual(expectedQuarantine());

    process.env.TM_PG_SCHEMA = other.schema;
    try {
      const elsewhere = await run({ projectDir: project.dir, target: 'prod', select: ['cold'], now: NOW, log: () => undefined });
      expect(elsewhere.exitCode).toBe(0);
    } finally {
      process.env.TM_PG_SCHEMA = schema;
    }
    expect(await quarantine(other.schema)).toEqual(expectedQuarantine());
    expect(await quarantine(schema)).toHaveLength(7);
  });

  it("runs the project's tests: all pass on these marts, and each planted defect is caught with its count", async () => {
    const select = ['cold', 'stg_events', 'source:curated_stream'];
    const passing = await tmTest({ projectDir: project.dir, target: 'prod', select, now: NOW, log: () => undefined });
    expect(passing.outcomes.filter((o) => o.status !== 'pass').map((o) => `${o.test.name}: ${o.status} ${o.message ?? o.failures}`)).toEqual([]);
    expect(passing.exitCode).toBe(0);
    const names = passing.outcomes.map((o) => o.test.name);
    expect(names).toEqual(expect.arrayContaining([
      'unique_mart_session_analysis_session_id__event_date', 'not_null_mart_daily_traffic_event_date', 'unique_mart_daily_traffic_event_date',
      'unique_mart_clinical_areas_event_date__clinical_area', 'unique_mart_popular_documents_event_date__document_id',
      'session_duration_is_last_minus_first', 'accepted_range_mart_daily_traffic_peak_hour', 'daily_traffic_matches_popular_documents',
      'daily_traffic_matches_sessions', 'unique_stg_events_dedup_key', 'unique_curated_stream_dedup_key',
    ]));

    await withPg(async (c) => {
      await c.query(`UPDATE ${schema}.mart_session_analysis SET session_duration_sec = session_duration_sec + 1 WHERE session_id IN ($1, $2)`, [sA, sB]);
      await c.query(`UPDATE ${schema}.mart_daily_traffic SET peak_hour = 24`);
      await c.query(`DELETE FROM ${schema}.mart_popular_documents WHERE document_id = 12`);
      await c.query(`UPDATE ${schema}.mart_clinical_areas SET clinical_area = ' Neurology' WHERE clinical_area = 'Neurology'`);
    });
    const failing = await tmTest({ projectDir: project.dir, target: 'prod', select, now: NOW, log: () => undefined });
    expect(failing.exitCode).toBe(1);
    expect(Object.fromEntries(failing.outcomes.filter((o) => o.status !== 'pass').map((o) => [o.test.name, `${o.status} ${o.failures}`]))).toEqual({
      session_duration_is_last_minus_first: 'fail 2',
      accepted_range_mart_daily_traffic_peak_hour: 'fail 1',
      daily_traffic_matches_popular_documents: 'fail 1',
      clinical_area_is_a_trimmed_name: 'fail 1',
    });
  });
});

const ruleOrder = ['null_dedup_key', 'null_event_ts', 'null_session_id', 'null_document_id', 'session_id_too_long', 'event_date_mismatch', 'event_ts_in_future'];

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, runCli } from '../test-support/harness.js';

/** `tm test --unit`: the models' unit tests, fixture files through the real pipeline into a throwaway PGlite. */
describe('tm test --unit', () => {
  let project: Awaited<ReturnType<typeof copyProject>>;
  // No data and no target: TM_CURATED_PATH names nothing; the unit tests bring their own files.
  const tm = (...args: string[]) => runCli([...args, '--project-dir', project.dir], { env: { TM_CURATED_PATH: '/nonexistent/tm-unit', TM_PG_URL: undefined } });

  beforeAll(async () => {
    project = await copyProject();
  });
  afterAll(async () => {
    await project?.remove();
  });

  it("passes TripClick's unit tests, one line per test and a summary; JUnit cases", async () => {
    const junit = path.join(project.dir, 'target', 'unit.xml');
    const r = await tm('test', '--unit', '--junit', junit);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PASS {2}mart_realtime_anomaly_sessions: burst_windows_at_five_minute_boundaries/m);
    const xml = await readFile(junit, 'utf8');
    expect(xml.match(/<testcase /g)).toHaveLength(4);
    expect(xml).toContain('classname="tripclick.mart_daily_traffic" name="peak_hour_tie_goes_to_the_earliest_hour"');
    expect(xml).not.toContain('<failure');
    expect(r.stdout).toMatch(/^PASS {2}mart_daily_traffic: peak_hour_tie_goes_to_the_earliest_hour {2}\(\d+ ms\)$/m);
    expect(r.stdout).toMatch(/^PASS {2}mart_daily_traffic: a_replayed_copy_in_another_days_file_counts_once/m);
    expect(r.stdout).toMatch(/^4 unit tests of 3 models in [\d.]+ s: 4 passed, 0 failed$/m);
  });

  it('fails with exit 1 and a diff: a changed row by its key, missing and extra rows', async () => {
    const file = path.join(project.dir, 'models', 'cold', 'schema.yml');
    const text = await readFile(file, 'utf8');
    const peak = 'unique_documents: 3, peak_hour: 9 }';
    const day = '{ event_date: "2020-11-11", total_events: 1,';
    expect(text).toContain(peak);
    expect(text).toContain(day);
    await writeFile(file, text.replace(peak, 'unique_documents: 3, peak_hour: 14 }').replace(day, '{ event_date: "2020-11-12", total_events: 1,'));
    const r = await tm('test', '--unit', '--select', 'mart_daily_traffic');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}mart_daily_traffic: peak_hour_tie_goes_to_the_earliest_hour/m);
    expect(r.stdout).toContain('~ changed  { event_date: "2020-11-10" }: peak_hour 14 expected, got 9');
    expect(r.stdout).toMatch(/^FAIL {2}mart_daily_traffic: a_replayed_copy_in_another_days_file_counts_once/m);
    expect(r.stdout).toContain('- missing  { event_date: "2020-11-12", total_events: 1, unique_sessions: 1, unique_documents: 1, peak_hour: 0 }');
    expect(r.stdout).toContain('+ extra    { event_date: "2020-11-11", total_events: 1, unique_sessions: 1, unique_documents: 1, peak_hour: 0 }');
    expect(r.stdout).toMatch(/2 unit tests of 1 model in [\d.]+ s: 0 passed, 2 failed/);
    await writeFile(file, text);
  });

  it("gives a ref's rows as a table made from its contract in the target", async () => {
    const file = path.join(project.dir, 'models', 'cold', 'reconcile.yml');
    const text = await readFile(file, 'utf8');
    const anchor = '      - { name: reconciled_at, type: TIMESTAMP, description: "wall-clock time of the run" }\n';
    expect(text).toContain(anchor);
    // Only hot_clicks is compared: the sum of the hot minute rows of each full day before date(S).
    const test = [
      '    unit_tests:',
      '      - name: hot_clicks_from_the_minute_table',
      '        now: "2020-11-11 00:10:00"',
      '        given:',
      '          - ref: mart_realtime_traffic_minute',
      '            rows:',
      '              - { event_minute: "2020-11-10 10:00:00", total_clicks: 3 }',
      '              - { event_minute: "2020-11-10 10:01:00", total_clicks: 2 }',
      '              - { event_minute: "2020-11-11 00:05:00", total_clicks: 4 }',
      '          - source: curated_stream',
      '            rows: [{ dedup_key: t1, event_ts: "2020-11-11 00:05:00", session_id: s3, document_id: 3 }]',
      '        expect:',
      '          ignore_columns: [cold_clicks, drift_clicks, reconciled_at]',
      '          rows: [{ event_date: "2020-11-10", hot_clicks: 5 }]',
      '      - name: a_ref_the_model_does_not_read',
      '        given: [{ ref: mart_daily_traffic, rows: [] }]',
      '        expect: { rows: [] }',
    ].join('\n');
    await writeFile(file, text.replace(anchor, `${anchor}${test}\n`));
    const r = await tm('test', '--unit', '--select', 'mart_hot_cold_drift');
    await writeFile(file, text);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^PASS {2}mart_hot_cold_drift: hot_clicks_from_the_minute_table/m);
    expect(r.stdout).toMatch(/^ERROR mart_hot_cold_drift: a_ref_the_model_does_not_read[^\n]*\n\s+models\/cold\/reconcile\.yml \(model 'mart_hot_cold_drift', unit test 'a_ref_the_model_does_not_read'\): given ref 'mart_daily_traffic' is not read by the model \(it reads: mart_realtime_traffic_minute\)/m);
  });
});

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
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toContain('classname="tripclick.mart_daily_traffic" name="peak_hour_tie_goes_to_the_earliest_hour"');
    expect(xml).not.toContain('<failure');
    expect(r.stdout).toMatch(/^PASS {2}mart_daily_traffic: peak_hour_tie_goes_to_the_earliest_hour {2}\(\d+ ms\)$/m);
    expect(r.stdout).toMatch(/^PASS {2}mart_daily_traffic: a_replayed_copy_in_another_days_file_counts_once/m);
    expect(r.stdout).toMatch(/^3 unit tests of 2 models in [\d.]+ s: 3 passed, 0 failed$/m);
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
});

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDayFile, type EventRow } from '../generator/parquet-writer.js';
import { freshSchema, pgUrl, runCli, tempDir } from '../test-support/harness.js';

const PROJECT = `
name: partial_tests
sources:
  clicks:
    location: "{{ env 'PARTIAL_DATA' }}"
    hive_partitioning: true
    date_partition: event_date
    dedup: { key: dedup_key, order: event_ts }
    tests:
      - row_count: { min: 1 }
    columns:
      - { name: dedup_key, type: VARCHAR }
      - { name: event_ts, type: TIMESTAMP }
      - { name: event_date, type: DATE }
      - { name: session_id, type: VARCHAR }
      - { name: document_id, type: BIGINT, tests: [{ accepted_range: { min: 1, max: 100 } }] }
`;

const MODELS = `
models:
  - name: daily
    config: { materialized: replace, partition_by: event_date }
    primary_key: [event_date]
    columns:
      - { name: event_date, type: DATE }
      - { name: clicks, type: BIGINT }
`;

const click = (key: string, ts: string, doc = 1): EventRow => ({ dedup_key: key, event_ts: ts, session_id: 's', document_id: doc });

/**
 * `tm build` over a source that a partition-aware run reads in part: its tests check the days read
 * (and say so), and are skipped, not run over nothing, when no file changed.
 */
describe('tm build: source tests follow a partition-aware read', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let project: Awaited<ReturnType<typeof tempDir>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  const build = async () => {
    const res = await runCli(['build', '--project-dir', project.dir, '--target', 'prod', '--now', '2020-11-05T00:00:00Z'], {
      env: { TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema, PARTIAL_DATA: data.dir },
    });
    return { ...res, out: res.stdout + res.stderr };
  };

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('bpartial'));
    project = await tempDir('tm-bpartial-');
    data = await tempDir('tm-bpartial-data-');
    await mkdir(path.join(project.dir, 'models'), { recursive: true });
    await writeFile(path.join(project.dir, 'project.yml'), PROJECT);
    await writeFile(path.join(project.dir, 'profiles.yml'), `targets:\n  prod:\n    type: postgres\n    url: "{{ env 'TM_PG_URL' }}"\n    schema: "{{ env 'TM_PG_SCHEMA' }}"\n`);
    await writeFile(path.join(project.dir, 'models', 'schema.yml'), MODELS);
    await writeFile(path.join(project.dir, 'models', 'daily.sql'), `SELECT event_date, count(*) AS clicks FROM {{source "clicks"}} GROUP BY 1`);
    await writeDayFile(data.dir, '2020-11-01', 'a.parquet', [click('k1', '2020-11-01 10:00:00'), click('k2', '2020-11-01 11:00:00')]);
    await writeDayFile(data.dir, '2020-11-02', 'a.parquet', [click('k3', '2020-11-02 10:00:00')]);
  });
  afterAll(async () => {
    await drop?.();
    await project?.remove();
    await data?.remove();
  });

  it('first build: every file read, the source tests pass', async () => {
    const res = await build();
    expect(res.code, res.out).toBe(0);
    expect(res.out).toMatch(/PASS\s+row_count_clicks/);
    expect(res.out).toMatch(/PASS\s+accepted_range_clicks_document_id/);
  });

  it('nothing changed: the source tests are skipped with the reason, the build succeeds', async () => {
    const res = await build();
    expect(res.code, res.out).toBe(0);
    expect(res.out).toMatch(/no changed files \(checked\)/);
    expect(res.out).toMatch(/SKIP\s+row_count_clicks/);
    expect(res.out).toMatch(/SKIP\s+accepted_range_clicks_document_id/);
    expect(res.out).toMatch(/Finished 2 tests: 0 PASS, 0 WARN, 0 FAIL, 0 ERROR, 2 SKIP/);
  });

  it('a late file with a bad row: the tests check the day read, and fail on it', async () => {
    await writeDayFile(data.dir, '2020-11-01', 'late.parquet', [click('k9', '2020-11-01 12:00:00', 999)]);
    const res = await build();
    expect(res.code, res.out).toBe(1);
    expect(res.out).toMatch(/tests on source clicks check the 1 day read in this run/);
    expect(res.out).toMatch(/FAIL\s+accepted_range_clicks_document_id/);
    expect(res.out).toMatch(/PASS\s+row_count_clicks/);
  });
});

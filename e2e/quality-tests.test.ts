import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import parser from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/api/run.js';
import { test as tmTestApi, type TestOptions } from '../src/api/test.js';
import { freshSchema, pgUrl, queryRows, runCli, tempDir, withPg } from '../test-support/harness.js';
import { goodClicks, QFIX_TESTS, writeClicks, writeQualityProject } from '../test-support/quality-project.js';

interface TestResultRow {
  readonly name: string;
  readonly status: string;
  readonly failures?: number;
  readonly message?: string;
  readonly stored_in?: string;
}

/**
 * `tm test` on the real PostgreSQL: every generic test passes on good data, then fails on a planted
 * defect with the exact failing-row count; severity and thresholds decide the exit code; failing
 * rows are stored and replaced; JUnit XML parses; a test joining a source and a table is refused.
 */
describe('tm test: generic and singular tests', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let project: Awaited<ReturnType<typeof tempDir>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  const NOW = '2020-11-01T12:00:00Z';

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('qtest'));
    project = await tempDir('tm-qfix-');
    data = await tempDir('tm-qfix-data-');
    await writeQualityProject(project.dir);
    await writeClicks(data.dir, goodClicks());
    Object.assign(process.env, env());
    const lines: string[] = [];
    const outcome = await run({ projectDir: project.dir, now: NOW, log: (l) => lines.push(l) });
    expect(outcome.exitCode, lines.join('\n')).toBe(0);
  });
  afterAll(async () => {
    await drop?.();
    for (const suffix of ['_tm_audit', '__tm_state']) await queryRows(`DROP SCHEMA IF EXISTS ${schema}${suffix} CASCADE`).catch(() => undefined);
    await project?.remove();
    await data?.remove();
  });

  const env = () => ({ TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema, QFIX_DATA: data.dir });
  // The CLI as a real process where exit codes and flags are the point; the API (same code) elsewhere, to save time.
  const tmTest = (...args: string[]) => runCli(['test', '--project-dir', project.dir, '--now', NOW, ...args], { env: env() });
  const tmTestInProcess = async (options: Partial<TestOptions> = {}) => {
    const lines: string[] = [];
    const outcome = await tmTestApi({ projectDir: project.dir, now: NOW, log: (l) => lines.push(l), ...options });
    return { code: outcome.exitCode, stdout: lines.join('\n') + '\n' };
  };
  const results = async (): Promise<Map<string, TestResultRow>> => {
    const doc = JSON.parse(await readFile(path.join(project.dir, 'target', 'test_results.json'), 'utf8')) as { command: string; results: (TestResultRow & { kind: string })[] };
    expect(doc.command).toBe('test');
    // run_results.json keeps the last run's results: tm test writes its own file.
    const run = JSON.parse(await readFile(path.join(project.dir, 'target', 'run_results.json'), 'utf8')) as { command: string };
    expect(run.command).toBe('run');
    return new Map(doc.results.filter((r) => r.kind === 'test').map((r) => [r.name, r]));
  };
  const statuses = (r: Map<string, TestResultRow>) => Object.fromEntries([...r.values()].map((t) => [t.name, `${t.status} ${t.failures ?? '-'}`]));

  it('passes every test on good data (exit 0), in PostgreSQL and in DuckDB', async () => {
    const res = await tmTestInProcess();
    expect(res.code, res.stdout).toBe(0);
    const r = await results();
    expect([...r.keys()].sort()).toEqual(QFIX_TESTS);
    expect(statuses(r)).toEqual(Object.fromEntries(QFIX_TESTS.map((n) => [n, 'pass 0'])));
    expect(res.stdout).toMatch(/17 tests selected/);
    expect(res.stdout).toMatch(/Finished 17 tests in [\d.]+s: 17 PASS, 0 WARN, 0 FAIL, 0 ERROR, 0 SKIP/);
    expect(res.stdout).toMatch(/^ +\d+ of 17 PASS {2}unique_docs_document_id \.+ 0 failing in [\d.]+s$/m);
  });

  it('fails each test on a planted defect with the exact count, stores the rows and writes JUnit (exit 1)', async () => {
    await withPg(async (c) => {
      await c.query(`INSERT INTO ${schema}.docs VALUES (NULL, 1, '2020-11-01 10:00', 'a'), (1, 1, '2020-11-01 10:00', 'a'), (901, 200, '2020-11-01 10:00', 'x'), (902, 0, '2020-11-01 10:00', '')`);
      await c.query(`UPDATE ${schema}.docs SET last_click = last_click - INTERVAL '1 day'`);
      await c.query(`INSERT INTO ${schema}.sessions VALUES ('s1', '2020-11-01', 5, 1), ('s9', '2020-11-01', 5, 999)`);
    });
    const junit = path.join(project.dir, 'out', 'junit.xml');
    for (let round = 1; round <= 2; round++) {
      const res = round === 1 ? await tmTest('--store-failures', '--junit', junit) : await tmTestInProcess({ storeFailures: true });
      expect(res.code, res.stdout).toBe(1);
      const r = await results();
      expect(statuses(r)).toEqual({
        accepted_range_docs_clicks: 'fail 2',
        accepted_values_docs_kind: 'fail 2',
        at_most_sessions_clicks: 'pass 0',
        docs_clicks_positive: 'fail 1',
        docs_match_sessions: 'fail 1',
        not_empty_string_docs_kind: 'fail 1',
        not_null_docs_document_id: 'fail 1',
        not_null_stg_clicks_session_id: 'pass 0',
        recency_docs_last_click: 'fail 1',
        relationships_sessions_first_doc_docs_document_id: 'fail 1',
        row_count_clicks: 'pass 0',
        row_count_docs: 'fail 1',
        sessions_clicks_threshold: 'warn 2',
        sessions_clicks_warn: 'warn 2',
        unique_clicks_dedup_key: 'pass 0',
        unique_docs_document_id: 'fail 1',
        unique_sessions_session_id__event_date: 'fail 1',
      });
      expect(res.stdout).toMatch(/Finished 17 tests in [\d.]+s: 4 PASS, 2 WARN, 11 FAIL, 0 ERROR, 0 SKIP/);
      expect(res.stdout).toMatch(/^FAIL accepted_range_docs_clicks \(models\/schema\.yml\)\n {4}2 failing rows \(error_if !=0\)\n {4}failing rows in "\w+_tm_audit"\."accepted_range_docs_clicks"$/m);
      // The stored rows are this run's, not added to the last run's (round 2 runs the same tests again).
      const stored = await queryRows<{ clicks: number }>(`SELECT clicks FROM ${schema}_tm_audit.accepted_range_docs_clicks ORDER BY clicks`);
      expect(stored.map((s) => s.clicks)).toEqual([0, 200]);
      // A DuckDB-side test (on the source) stores its rows in the same audit schema.
      expect(await queryRows(`SELECT * FROM ${schema}_tm_audit.unique_clicks_dedup_key`)).toEqual([]);
      expect(r.get('row_count_docs')?.stored_in).toBe(`"${schema}_tm_audit"."row_count_docs"`);
    }

    const xml = await readFile(junit, 'utf8');
    expect(parser.validate(xml)).toBe(true);
    const doc = parser.parse(xml, { ignoreAttributes: false, attributeNamePrefix: '' });
    expect(doc.testsuites.testsuite).toMatchObject({ name: 'tm test', tests: '17', failures: '11', errors: '0', skipped: '0' });
    const cases = doc.testsuites.testsuite.testcase as { name: string; classname: string; failure?: { message: string } }[];
    expect(cases.find((c) => c.name === 'accepted_range_docs_clicks')).toMatchObject({ classname: 'qfix.docs', failure: { message: '2 failing rows (error_if !=0)' } });
    expect(cases.find((c) => c.name === 'sessions_clicks_warn')?.failure).toBeUndefined();
  });

  it('lets severity and thresholds decide the exit code', async () => {
    // Two rows over the limits: the warn-severity test and the `error_if: ">2"` test only warn.
    let res = await tmTest('--select', 'sessions_clicks_warn', 'sessions_clicks_threshold');
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(statuses(await results())).toEqual({ sessions_clicks_threshold: 'warn 2', sessions_clicks_warn: 'warn 2' });
    expect(res.stdout).toMatch(/^WARN sessions_clicks_threshold .*\n {4}2 failing rows \(warn_if >0, severity error\)$/m);

    // A third one crosses error_if; the warn-severity test still only warns.
    await queryRows(`INSERT INTO ${schema}.sessions VALUES ('s10', '2020-11-01', 7, 1)`);
    res = { ...(await tmTestInProcess({ select: ['sessions_clicks_warn', 'sessions_clicks_threshold'] })), stderr: '' };
    expect(res.code, res.stdout).toBe(1);
    expect(statuses(await results())).toEqual({ sessions_clicks_threshold: 'fail 3', sessions_clicks_warn: 'warn 3' });
  });

  it('refuses a test that joins a source (DuckDB) with a table (PostgreSQL), and reports it as an error', async () => {
    const file = path.join(project.dir, 'tests', 'docs_vs_source.sql');
    await writeFile(file, `SELECT d.* FROM {{ref "docs"}} d JOIN {{source "clicks"}} c USING (document_id) WHERE false`);
    try {
      const res = await tmTestInProcess({ select: ['docs_vs_source'] });
      expect(res.code, res.stdout).toBe(1);
      expect(res.stdout).toMatch(/1 of 1 ERROR docs_vs_source \.+ ERROR in/);
      expect(res.stdout).toContain(`test 'docs_vs_source' reads docs (in PostgreSQL) and clicks (source) (in DuckDB): a test runs in one engine and cannot join the two`);
      expect(statuses(await results())).toEqual({ docs_vs_source: 'error -' });
    } finally {
      await rm(file);
    }
  });
});

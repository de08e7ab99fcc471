import { readFile } from 'node:fs/promises';
import path from 'node:path';
import parser from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/api/build.js';
import { freshSchema, pgUrl, queryRows, runCli, tempDir } from '../test-support/harness.js';
import { goodClicks, writeClicks, writeQualityProject } from '../test-support/quality-project.js';

interface ResultRow {
  readonly name: string;
  readonly kind: string;
  readonly status: string;
  readonly failures?: number;
  readonly message?: string;
}

/**
 * `tm build`: models and their tests in DAG order. A failing error-severity test skips the descendants
 * of its model (not built on bad data), warnings do not, and the run's JUnit lists models and tests.
 */
describe('tm build: tests gate the models built on top', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let project: Awaited<ReturnType<typeof tempDir>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  const NOW = '2020-11-01T12:00:00Z';

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema('qbuild'));
    project = await tempDir('tm-qbuild-');
    data = await tempDir('tm-qbuild-data-');
    await writeQualityProject(project.dir);
    Object.assign(process.env, { TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema, QFIX_DATA: data.dir });
  });
  afterAll(async () => {
    for (const suffix of ['_tm_audit', '__tm_state']) await queryRows(`DROP SCHEMA IF EXISTS ${schema}${suffix} CASCADE`).catch(() => undefined);
    await drop?.();
    await project?.remove();
    await data?.remove();
  });

  const runResults = async (): Promise<ResultRow[]> => {
    const doc = JSON.parse(await readFile(path.join(project.dir, 'target', 'run_results.json'), 'utf8')) as { command: string; results: ResultRow[] };
    expect(doc.command).toBe('build');
    // The same tests, alone, where `tm test` writes them.
    const tests = JSON.parse(await readFile(path.join(project.dir, 'target', 'test_results.json'), 'utf8')) as { command: string; results: ResultRow[] };
    expect(tests.command).toBe('build');
    expect(tests.results.map((r) => `${r.name} ${r.status}`).sort()).toEqual(doc.results.filter((r) => r.kind === 'test').map((r) => `${r.name} ${r.status}`).sort());
    return doc.results;
  };
  const tableExists = async (name: string) => (await queryRows(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${schema}.${name}`]))[0].ok;

  it('skips the descendants of a model whose test fails, builds the rest, and exits 1', async () => {
    // doc 2 gets kind 'x' (not accepted); session s3 gets 4 clicks (two warn-only tests warn).
    const extra = [
      { dedup_key: 'k6', event_ts: '2020-11-01 11:40:00', session_id: 's3', document_id: 3, title: 'b' },
      { dedup_key: 'k7', event_ts: '2020-11-01 11:50:00', session_id: 's3', document_id: 3, title: 'b' },
    ];
    await writeClicks(data.dir, [...goodClicks('x'), ...extra]);
    const junit = path.join(project.dir, 'junit-build.xml');
    const res = await runCli(['build', '--project-dir', project.dir, '--now', NOW, '--junit', junit]);
    expect(res.code, res.stdout + res.stderr).toBe(1);

    const results = await runResults();
    const models = Object.fromEntries(results.filter((r) => r.kind === 'model').map((r) => [r.name, r.status]));
    expect(models).toEqual({ stg_clicks: 'success', docs: 'success', sessions: 'success', session_report: 'success', doc_report: 'skipped', doc_summary: 'skipped' });
    expect(results.find((r) => r.name === 'doc_report')?.message).toBe(`skipped: upstream 'accepted_values_docs_kind' failed`);
    const tests = Object.fromEntries(results.filter((r) => r.kind === 'test').map((r) => [r.name, `${r.status} ${r.failures ?? '-'}`]));
    expect(tests).toMatchObject({
      accepted_values_docs_kind: 'fail 1',
      sessions_clicks_warn: 'warn 1',
      sessions_clicks_threshold: 'warn 1',
      not_null_stg_clicks_session_id: 'pass 0',
      row_count_clicks: 'pass 0',
      unique_docs_document_id: 'pass 0',
      docs_match_sessions: 'pass 0',
    });
    expect(Object.keys(tests)).toHaveLength(17);
    expect(await tableExists('docs')).toBe(true);
    expect(await tableExists('session_report')).toBe(true);
    expect(await tableExists('doc_report')).toBe(false);
    expect(await tableExists('doc_summary')).toBe(false);

    // Each test line comes after its model's line, and the skipped models after the failed test.
    const lines = res.stdout.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(at(/OK +docs \.+/)).toBeLessThan(at(/test FAIL +accepted_values_docs_kind \.+ 1 failing/));
    expect(at(/test FAIL +accepted_values_docs_kind/)).toBeLessThan(at(/SKIP +doc_report \.+ upstream accepted_values_docs_kind failed/));
    expect(res.stdout).toMatch(/Finished 6 models in [\d.]+s: 4 OK, 0 errors, 2 skipped/);
    expect(res.stdout).toMatch(/Finished 17 tests: 14 PASS, 2 WARN, 1 FAIL, 0 ERROR, 0 SKIP/);

    const xml = await readFile(junit, 'utf8');
    expect(parser.validate(xml)).toBe(true);
    const suite = parser.parse(xml, { ignoreAttributes: false, attributeNamePrefix: '' }).testsuites.testsuite;
    expect(suite).toMatchObject({ name: 'tm build', tests: '23', failures: '1', errors: '0', skipped: '2' });
  });

  it('builds everything once the data is fixed (exit 0)', async () => {
    await writeClicks(data.dir, goodClicks());
    const lines: string[] = [];
    const outcome = await build({ projectDir: project.dir, now: NOW, log: (l) => lines.push(l) });
    expect(outcome.exitCode, lines.join('\n')).toBe(0);
    expect(outcome.results.filter((r) => r.kind === 'model').every((r) => r.status === 'success')).toBe(true);
    expect(outcome.tests.map((t) => t.status)).toEqual(Array(17).fill('pass'));
    expect(await queryRows(`SELECT documents FROM ${schema}.doc_summary`)).toEqual([{ documents: 3 }]);
  });
});

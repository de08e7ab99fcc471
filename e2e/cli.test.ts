import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_NOW, writeColdFixture } from '../test-support/cold-fixture.js';
import { copyProject, freshSchema, pgUrl, queryRows, runCli, tempDir } from '../test-support/harness.js';

describe('tm CLI as a real process', () => {
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let schema: string;
  let drop: () => Promise<void>;
  const env = () => ({ TM_CURATED_PATH: data.dir, TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema });

  beforeAll(async () => {
    project = await copyProject();
    data = await tempDir();
    await writeColdFixture(data.dir);
    ({ schema, drop } = await freshSchema('cli'));
  });
  afterAll(async () => {
    await project?.remove();
    await data?.remove();
    await drop?.();
  });

  it('--help lists the commands', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['run', 'compile', 'ls', 'debug']) expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
  });

  it('ls selects by folder, tag, graph operators and exclusion; --output json', async () => {
    const ls = (...args: string[]) => runCli(['ls', '--project-dir', project.dir, ...args]);
    const cold = await ls('--select', 'cold');
    expect(cold.code).toBe(0);
    expect(cold.stdout.trim().split('\n')).toEqual(['mart_clinical_areas', 'mart_daily_traffic', 'mart_hot_cold_drift', 'mart_popular_documents', 'mart_session_analysis', 'reconcile_traffic_minute']);
    const up = await ls('--select', '+mart_daily_traffic');
    expect(up.stdout.trim().split('\n')).toEqual(['stg_events', 'mart_daily_traffic']);
    const down = await ls('--select', 'stg_events+', '--exclude', 'mart_clinical_areas', 'mart_session_analysis', 'mart_hot_cold_drift+');
    expect(down.stdout.trim().split('\n')).toEqual(['stg_events', 'mart_daily_traffic', 'mart_popular_documents']);
    const json = await ls('--select', 'mart_daily_traffic', '--output', 'json');
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'mart_daily_traffic', kind: 'model', path: 'models/cold/mart_daily_traffic.sql', materialized: 'replace' });
    const bad = await ls('--select', 'mart_dialy_traffic');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`did you mean 'mart_daily_traffic'`);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('compile writes rendered SQL under target/compiled and the manifest', async () => {
    const r = await runCli(['compile', '--project-dir', project.dir, '--select', 'mart_clinical_areas']);
    expect(r.code).toBe(0);
    const sql = await readFile(path.join(project.dir, 'target', 'compiled', 'models', 'cold', 'mart_clinical_areas.sql'), 'utf8');
    expect(sql).toContain('FROM "stg_events" AS e');
    expect(sql).toContain('list_distinct(list_filter(list_transform(string_split(e.clinical_areas');
    expect(sql).not.toContain('{{');
    const manifest = JSON.parse(await readFile(path.join(project.dir, 'target', 'manifest.json'), 'utf8'));
    expect(manifest.nodes['model.tripclick.mart_clinical_areas'].depends_on).toEqual(['model.tripclick.stg_events']);
  });

  it('run builds the cold marts on the real PostgreSQL, prints a line per model and writes run_results.json', async () => {
    const r = await runCli(['run', '--project-dir', project.dir, '--target', 'prod', '--select', 'cold', '--now', FIXTURE_NOW], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/OK\s+mart_daily_traffic \.+ CREATE 2 rows in \d+\.\d\ds/);
    expect(r.stdout).toMatch(/Finished 7 models in \d+\.\d\ds: 7 OK, 0 errors, 0 skipped/);
    expect(await queryRows(`SELECT count(*)::int AS n FROM ${schema}.mart_daily_traffic`)).toEqual([{ n: 2 }]);
    const results = JSON.parse(await readFile(path.join(project.dir, 'target', 'run_results.json'), 'utf8'));
    expect(results.results.map((x: { name: string; status: string }) => `${x.name}:${x.status}`).sort()).toEqual([
      'mart_clinical_areas:success', 'mart_daily_traffic:success', 'mart_hot_cold_drift:success', 'mart_popular_documents:success', 'mart_session_analysis:success',
      'reconcile_traffic_minute:success', 'stg_events:success',
    ]);
    expect(existsSync(path.join(project.dir, 'target', 'run_results.json.tmp'))).toBe(false);
  });

  it('a SQL error names the model file and the compiled SQL, exits 1 and skips descendants', async () => {
    const file = path.join(project.dir, 'models', 'staging', 'stg_events.sql');
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace('title,', 'titel,'));
    try {
      const r = await runCli(['run', '--project-dir', project.dir, '--target', 'prod', '--select', 'cold', '--now', FIXTURE_NOW], { env: env() });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/models\/staging\/stg_events\.sql:\d+:\d+: .*titel.*\n[\s\S]*\(compiled SQL: target\/compiled\/models\/staging\/stg_events\.sql\)/);
      expect(r.stdout).toMatch(/SKIP\s+mart_daily_traffic .* upstream stg_events failed/);
      expect(r.stdout).toMatch(/1 error, 6 skipped/);
    } finally {
      await writeFile(file, original);
    }
  });

  it('project errors: bad YAML with file and line, unknown ref, template error; exit 2 without a stack trace', async () => {
    const yml = path.join(project.dir, 'models', 'cold', 'schema.yml');
    const original = await readFile(yml, 'utf8');
    await writeFile(yml, original.replace('models:\n', 'models:\n  - name: [unclosed\n'));
    let r;
    try {
      r = await runCli(['ls', '--project-dir', project.dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^Error: models\/cold\/schema\.yml:\d+: invalid YAML/);
    } finally {
      await writeFile(yml, original);
    }

    const sql = path.join(project.dir, 'models', 'cold', 'mart_daily_traffic.sql');
    const originalSql = await readFile(sql, 'utf8');
    try {
      await writeFile(sql, originalSql.replace('{{ref "stg_events"}}', '{{ref "stg_event"}}'));
      r = await runCli(['ls', '--project-dir', project.dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`models/cold/mart_daily_traffic.sql: ref('stg_event') names no model (did you mean 'stg_events'?)`);
      await writeFile(sql, `SELECT 1\n{{#if x}}\nbroken`);
      r = await runCli(['compile', '--project-dir', project.dir]);
      expect(r.code).toBe(2);
      // An unclosed block is reported at its opening tag, not at the end of the file.
      expect(r.stderr).toMatch(/models\/cold\/mart_daily_traffic\.sql:2: template error: \{\{#if\}\} is never closed: add \{\{\/if\}\}/);
    } finally {
      await writeFile(sql, originalSql);
    }
  });

  it('targets: prod without TM_PG_URL, an unreachable server, and debug', async () => {
    let r = await runCli(['run', '--project-dir', project.dir, '--target', 'prod'], { env: { TM_PG_URL: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`target 'prod' needs env var TM_PG_URL`);
    r = await runCli(['run', '--project-dir', project.dir, '--target', 'prod'], { env: { TM_PG_URL: 'postgres://postgres:s3cret@127.0.0.1:1/test' } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('Error: cannot connect to PostgreSQL at 127.0.0.1:1/test: connection refused');
    expect(r.stderr + r.stdout).not.toContain('s3cret');
    r = await runCli(['debug', '--project-dir', project.dir, '--target', 'prod'], { env: env() });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/OK\s+connection: 127\.0\.0\.1:5432\/test: PostgreSQL 1\d/);
    expect(r.stdout).toMatch(/OK\s+duckdb: .*TimeZone UTC/);
    // pg's Cloudflare check builds a Response, which loads Node's fetch (~40 ms a process); the bundle skips it
    const probe = path.join(project.dir, 'fetch-probe.cjs');
    await writeFile(probe, `process.on('exit', () => process.stderr.write('fetch loaded: ' + process.moduleLoadList.some((m) => m.includes('undici')) + '\\n'));`);
    r = await runCli(['debug', '--project-dir', project.dir, '--target', 'prod'], { env: { ...env(), NODE_OPTIONS: `--require ${probe}` } });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stderr).toContain('fetch loaded: false');
  });
});

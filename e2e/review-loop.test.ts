import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_NOW, writeColdFixture } from '../test-support/cold-fixture.js';
import { copyProject, freshSchema, pgUrl, queryRows, repoRoot, runCli, tempDir, withPg } from '../test-support/harness.js';

/**
 * The analyst's loop on the real PostgreSQL: prod built, a cold mart's SQL changed in a copy of the
 * TripClick project, `state:modified` against prod's stored fingerprints, the change built in a pr
 * schema, `tm diff` checked against independent EXCEPT queries, a contract change reported breaking.
 */
describe('review loop: state:modified, tm diff, change categories', () => {
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let prod: Awaited<ReturnType<typeof freshSchema>>;
  let pr: Awaited<ReturnType<typeof freshSchema>>;
  const env = () => ({ TM_CURATED_PATH: data.dir, TM_PG_URL: pgUrl, TM_PG_SCHEMA: prod.schema, TM_PR_SCHEMA: pr.schema });
  const tm = (...args: string[]) => runCli([...args, '--project-dir', project.dir], { env: env() });
  const lines = (text: string) => text.trim().split('\n').filter(Boolean);
  const martFile = () => path.join(project.dir, 'models', 'cold', 'mart_daily_traffic.sql');

  beforeAll(async () => {
    project = await copyProject();
    await cp(path.join(repoRoot, 'dashboards'), path.join(project.dir, 'dashboards'), { recursive: true });
    data = await tempDir();
    await writeColdFixture(data.dir);
    prod = await freshSchema('review_prod');
    pr = await freshSchema('review_pr');
    const built = await tm('run', '--target', 'prod', '--now', FIXTURE_NOW);
    expect(built.code, built.stderr + built.stdout).toBe(0);
  });
  afterAll(async () => {
    await project?.remove();
    await data?.remove();
    await prod?.drop();
    await pr?.drop();
    await withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${prod.schema}_tm_audit, ${pr.schema}_tm_audit CASCADE`));
  });

  it('nothing is modified against prod from another target, after a whitespace-only edit, or with env vars the SQL does not read', async () => {
    const original = await readFile(martFile(), 'utf8');
    await writeFile(martFile(), `\n${original.replaceAll('\n', '\n\n').replaceAll(', ', ' ,  ').replace('count(*)', 'count( * )')}   \n`);
    try {
    const r = await runCli(['ls', '--project-dir', project.dir, '--target', 'pr', '--select', 'state:modified+', '--state-from', 'prod'], { env: { ...env(), TM_DUCKDB_BATCH_INPUT: '10MB' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const other = await runCli(['ls', '--project-dir', project.dir, '--target', 'pr', '--select', 'state:new', '--state-from', 'pr'], { env: env() });
    // nothing was built in pr: every model is new there
    expect(lines(other.stdout)).toContain('mart_daily_traffic');
    } finally {
      await writeFile(martFile(), original);
    }
  });

  it('a SQL change selects exactly that mart and its descendants; tm diff reports exactly the rows it moved', async () => {
    const original = await readFile(martFile(), 'utf8');
    // Day 2020-03-01 loses the events of document 100 from its totals and peak hour; the sessions and documents counts stay.
    try {
    await writeFile(martFile(), original.replace(/(WITH hourly AS \(\n\s+SELECT event_date, hour\(event_ts\) AS event_hour, count\(\*\) AS events\n\s+FROM \{\{ref "stg_events"\}\})/, '$1\n  WHERE document_id <> 100'));
    expect(await readFile(martFile(), 'utf8')).toContain('WHERE document_id <> 100');

    const modified = await tm('ls', '--target', 'pr', '--select', 'state:modified+', '--state-from', 'prod', '--resource-type', 'model', 'dashboard');
    expect(modified.code, modified.stderr).toBe(0);
    expect(lines(modified.stdout)).toEqual(['mart_daily_traffic', 'daily_traffic']);
    const body = await tm('ls', '--target', 'pr', '--select', 'state:modified.body', '--state-from', 'prod', '--output', 'changes');
    expect(lines(body.stdout)).toEqual(['mart_daily_traffic  non-breaking (body)']);
    expect((await tm('ls', '--target', 'pr', '--select', 'state:modified.contract', '--state-from', 'prod')).stdout).toBe('');

    const build = await tm('build', '--target', 'pr', '--select', 'state:modified+', '--state-from', 'prod', '--now', FIXTURE_NOW);
    expect(build.code, build.stderr + build.stdout).toBe(0);
    expect(build.stdout).toMatch(/OK\s+mart_daily_traffic/);
    expect(build.stdout).not.toMatch(/mart_session_analysis/);

    const except = async (a: string, b: string) => queryRows<{ event_date: string }>(`SELECT event_date::text FROM (SELECT * FROM ${a}.mart_daily_traffic EXCEPT SELECT * FROM ${b}.mart_daily_traffic) x ORDER BY 1`);
    const movedHere = await except(pr.schema, prod.schema);
    const movedThere = await except(prod.schema, pr.schema);
    expect(movedHere.length).toBeGreaterThan(0);

    const json = await tm('diff', '--target', 'pr', '--select', 'mart_daily_traffic', '--against', 'prod', '--output', 'json');
    expect(json.code, json.stderr).toBe(0);
    const [d] = JSON.parse(json.stdout).diffs;
    // Matched on the key, a row in both EXCEPTs is a changed row; the rest are only on one side.
    const both = movedHere.filter((r) => movedThere.some((t) => t.event_date === r.event_date));
    expect(d.changed).toBe(both.length);
    expect(d.onlyHere).toBe(movedHere.length - both.length);
    expect(d.onlyThere).toBe(movedThere.length - both.length);
    expect(d.days.map((x: { day: string }) => x.day)).toEqual(movedHere.map((r) => r.event_date));
    const [counts] = await queryRows<{ total: number; peak: number; sessions: number }>(
      `SELECT count(*) FILTER (WHERE a.total_events <> b.total_events)::int AS total, count(*) FILTER (WHERE a.peak_hour <> b.peak_hour)::int AS peak,
              count(*) FILTER (WHERE a.unique_sessions <> b.unique_sessions)::int AS sessions
         FROM ${pr.schema}.mart_daily_traffic a JOIN ${prod.schema}.mart_daily_traffic b USING (event_date)`,
    );
    const changed = Object.fromEntries(d.columns.map((c: { column: string; changed: number }) => [c.column, c.changed]));
    expect(changed).toEqual(Object.fromEntries(Object.entries({ total_events: counts.total, peak_hour: counts.peak }).filter(([, n]) => n > 0)));
    expect(counts.sessions).toBe(0);
    const [example] = d.columns.find((c: { column: string }) => c.column === 'total_events').examples;
    const [values] = await queryRows<{ here: number; there: number }>(
      `SELECT a.total_events AS here, b.total_events AS there FROM ${pr.schema}.mart_daily_traffic a JOIN ${prod.schema}.mart_daily_traffic b USING (event_date) WHERE a.event_date = $1`, [example.key[0]],
    );
    expect([example.here, example.there]).toEqual([values.here, values.there]);

    const table = await tm('diff', '--target', 'pr', '--select', 'mart_daily_traffic', '--against', 'prod');
    expect(table.stdout).toMatch(new RegExp(`rows changed\\s+${d.changed} `));
    const markdown = await tm('diff', '--target', 'pr', '--select', 'state:modified', '--state-from', 'prod', '--against', 'prod', '--output', 'markdown', '--fail-if', 'changed_rows>0.01');
    expect(markdown.code).toBe(1);
    expect(markdown.stdout).toContain('| rows only here | rows only there | rows changed | rows identical |');
    expect(markdown.stdout).toContain('| `total_events` |');
    expect(markdown.stderr).toContain('mart_daily_traffic: changed_rows = ');
    const lenient = await tm('diff', '--target', 'pr', '--select', 'mart_daily_traffic', '--against', 'prod', '--fail-if', 'changed_rows>=100', 'only_there_rows>0');
    expect(lenient.code, lenient.stderr).toBe(0);
    } finally {
      await writeFile(martFile(), original);
    }
  });

  it('--defer-to prod: new marts read the unselected marts they ref from prod (in PostgreSQL and in DuckDB), and the dry run says so', async () => {
    const dir = path.join(project.dir, 'models', 'review');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'sessions_per_day.sql'), 'SELECT event_date, count(*)::int AS sessions FROM {{ref "mart_session_analysis"}} GROUP BY event_date');
    await writeFile(path.join(dir, 'document_days.sql'), 'SELECT document_id, count(*)::int AS days FROM {{ref "mart_popular_documents"}} GROUP BY document_id');
    await writeFile(path.join(dir, 'schema.yml'), `models:
  - name: sessions_per_day
    config: { materialized: replace, engine: postgres }
    primary_key: [event_date]
    columns: [{ name: event_date, type: DATE }, { name: sessions, type: INT }]
  - name: document_days
    config: { materialized: replace }
    primary_key: [document_id]
    columns: [{ name: document_id, type: INT }, { name: days, type: INT }]
`);
    try {
      const select = ['--target', 'pr', '--select', 'state:new,path:models/review', '--state-from', 'prod', '--now', FIXTURE_NOW];
      const dry = await tm('run', ...select, '--defer-to', 'prod', '--dry-run', '--show-sql');
      expect(dry.code, dry.stderr).toBe(0);
      for (const ref of ['mart_session_analysis', 'mart_popular_documents']) {
        expect(dry.stdout).toContain(`tm: ref ${ref} reads "${prod.schema}"."${ref}" (--defer-to prod: not selected, not built in ${pr.schema})`);
      }
      expect(dry.stdout).toContain(`FROM "${prod.schema}"."mart_session_analysis"`);
      const build = await tm('build', ...select, '--defer-to', 'prod');
      expect(build.code, build.stderr + build.stdout).toBe(0);
      expect(await queryRows(`SELECT event_date::text, sessions FROM ${pr.schema}.sessions_per_day ORDER BY 1`)).toEqual(
        await queryRows(`SELECT event_date::text, count(*)::int AS sessions FROM ${prod.schema}.mart_session_analysis GROUP BY 1 ORDER BY 1`),
      );
      const days = await queryRows(`SELECT document_id, days FROM ${pr.schema}.document_days ORDER BY 1`);
      expect(days.length).toBeGreaterThan(0);
      expect(days).toEqual(await queryRows(`SELECT document_id, count(*)::int AS days FROM ${prod.schema}.mart_popular_documents GROUP BY 1 ORDER BY 1`));
      // Without --defer-to the refs read the pr schema, where those marts were never built.
      const alone = await tm('run', ...select);
      expect(alone.code).toBe(1);

      // A partition-aware mart selected in pr starts from a copy of prod's table and state: its run is incremental.
      const mart = ['--target', 'pr', '--select', 'mart_session_analysis', '--defer-to', 'prod', '--now', FIXTURE_NOW];
      const plan = await tm('run', ...mart, '--dry-run');
      expect(plan.stdout).toMatch(new RegExp(`tm: mart_session_analysis would start from a copy of "${prod.schema}"."mart_session_analysis" and its state \\([\\d.]+ MB\\)`));
      expect(await queryRows(`SELECT to_regclass('${pr.schema}.mart_session_analysis') IS NULL AS missing`)).toEqual([{ missing: true }]);
      const copied = await tm('run', ...mart);
      expect(copied.code, copied.stderr + copied.stdout).toBe(0);
      expect(copied.stdout).toContain(`tm: mart_session_analysis starts from a copy of "${prod.schema}"."mart_session_analysis" and its state`);
      expect(copied.stdout).toMatch(/OK\s+mart_session_analysis \.+ no changed files/);
      const sessions = (schema: string) => queryRows(`SELECT * FROM ${schema}.mart_session_analysis ORDER BY session_id, event_date`);
      expect(await sessions(pr.schema)).toEqual(await sessions(prod.schema));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('tm show prints the rows a run would compute, in DuckDB, writing nothing to the target', async () => {
    const json = await tm('show', '--target', 'pr', '--select', 'mart_clinical_areas', '--limit', '100', '--output', 'json', '--now', FIXTURE_NOW);
    expect(json.code, json.stderr).toBe(0);
    const key = (r: Record<string, unknown>) => `${String(r.event_date)}|${String(r.clinical_area)}|${String(r.search_count)}|${String(r.unique_sessions)}`;
    const shown = lines(json.stdout).map((l) => key(JSON.parse(l) as Record<string, unknown>)).sort();
    const built = (await queryRows(`SELECT event_date::text, clinical_area, search_count, unique_sessions FROM ${prod.schema}.mart_clinical_areas`)).map(key).sort();
    expect(shown).toEqual(built);
    expect(await queryRows(`SELECT to_regclass('${pr.schema}.mart_clinical_areas') IS NULL AS missing`)).toEqual([{ missing: true }]);
    const table = await tm('show', '--target', 'pr', '--select', 'mart_clinical_areas', '--limit', '2', '--now', FIXTURE_NOW);
    expect(lines(table.stdout)[0]).toMatch(/^event_date\s+clinical_area\s+search_count\s+unique_sessions$/);
    expect(lines(table.stdout).at(-1)).toBe('(2 rows)');
    const inline = await tm('show', '--target', 'pr', '--defer-to', 'prod', '--output', 'json', '--now', FIXTURE_NOW,
      '--inline', 'SELECT (SELECT count(*) FROM {{ref "mart_clinical_areas"}})::int AS areas, (SELECT count(*) FROM {{source "curated_stream"}})::int AS events');
    expect(inline.code, inline.stderr).toBe(0);
    const [{ n }] = await queryRows<{ n: number }>(`SELECT count(*)::int AS n FROM ${prod.schema}.mart_clinical_areas`);
    expect(JSON.parse(inline.stdout)).toEqual({ areas: n, events: 13 });
    const two = await tm('show', '--target', 'pr', '--select', 'cold', '--now', FIXTURE_NOW);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('tm show shows one model');
  });

  it('a contract change is breaking, with the dashboard charts it breaks', async () => {
    const schemaYml = path.join(project.dir, 'models', 'cold', 'schema.yml');
    const original = await readFile(schemaYml, 'utf8');
    await writeFile(schemaYml, original.replace('{ name: peak_hour, type: INT,', '{ name: peak_hour, type: SMALLINT,'));
    try {
      const r = await tm('ls', '--target', 'pr', '--select', 'state:modified', '--state-from', 'prod', '--output', 'changes');
      expect(r.code, r.stderr).toBe(0);
      expect(lines(r.stdout)).toEqual([
        'mart_daily_traffic  breaking (contract)',
        '    column peak_hour retyped integer -> smallint',
        '    breaks chart peak_hour_by_day of dashboard daily_traffic (reads peak_hour)',
      ]);
      const json = JSON.parse(lines((await tm('ls', '--target', 'pr', '--select', 'state:modified', '--state-from', 'prod', '--output', 'json')).stdout)[0]);
      expect(json.change).toMatchObject({ category: 'breaking', parts: ['contract'], charts: [{ dashboard: 'daily_traffic', chart: 'peak_hour_by_day', columns: ['peak_hour'] }] });
      const dry = await tm('run', '--target', 'pr', '--select', 'state:modified+', '--state-from', 'prod', '--dry-run', '--now', FIXTURE_NOW);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain([
        'Changes against prod:',
        '  mart_daily_traffic  breaking (contract)',
        '      column peak_hour retyped integer -> smallint',
        '      breaks chart peak_hour_by_day of dashboard daily_traffic (reads peak_hour)',
        'Dry run: nothing was written to the target.',
      ].join('\n'));
    } finally {
      await writeFile(schemaYml, original);
    }
  });
});

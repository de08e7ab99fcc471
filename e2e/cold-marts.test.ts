import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/api/run.js';
import { expected, expectedExcluded, FIXTURE_NOW, martOrder, writeColdFixture } from '../test-support/cold-fixture.js';
import { copyProject, freshSchema, pgUrl, queryRows, tempDir } from '../test-support/harness.js';

const numeric = (rows: Record<string, unknown>[]) =>
  rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) && k !== 'session_id' ? Number(v) : v])));

describe('cold TripClick marts on the real PostgreSQL', () => {
  let schema: string;
  let dropSchema: () => Promise<void>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  const lines: string[] = [];

  beforeAll(async () => {
    ({ schema, drop: dropSchema } = await freshSchema('cold'));
    project = await copyProject();
    data = await tempDir();
    await writeColdFixture(data.dir);
    process.env.TM_PG_URL = pgUrl;
    process.env.TM_PG_SCHEMA = schema;
    process.env.TM_CURATED_PATH = data.dir;
    const outcome = await run({ projectDir: project.dir, target: 'prod', select: ['cold'], now: FIXTURE_NOW, log: (l) => lines.push(l) });
    expect(outcome.exitCode, lines.join('\n')).toBe(0);
  });

  afterAll(async () => {
    await dropSchema?.();
    await project?.remove();
    await data?.remove();
  });

  for (const mart of Object.keys(expected) as (keyof typeof expected)[]) {
    it(`${mart} equals the hand-computed rows`, async () => {
      const rows = await queryRows(`SELECT * FROM ${schema}.${mart} ORDER BY ${martOrder[mart]}`);
      expect(numeric(rows)).toEqual(expected[mart]);
    });
  }

  it('creates the spec column types, primary keys and event_date indexes', async () => {
    const cols = await queryRows<{ table_name: string; column_name: string; data_type: string; len: number | null }>(
      `SELECT table_name, column_name, data_type, character_maximum_length AS len FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
      [schema],
    );
    const typeOf = (t: string, c: string) => cols.find((x) => x.table_name === t && x.column_name === c);
    expect(typeOf('mart_popular_documents', 'title')).toMatchObject({ data_type: 'character varying', len: 500 });
    expect(typeOf('mart_session_analysis', 'session_id')).toMatchObject({ data_type: 'character varying', len: 50 });
    expect(typeOf('mart_session_analysis', 'first_click_ts')?.data_type).toBe('timestamp without time zone');
    expect(typeOf('mart_daily_traffic', 'total_events')?.data_type).toBe('integer');
    expect(typeOf('mart_clinical_areas', 'clinical_area')).toMatchObject({ data_type: 'character varying', len: 100 });
    const keys = await queryRows<{ table: string; def: string }>(
      `SELECT c.conrelid::regclass::text AS table, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 AND c.contype = 'p' AND c.conrelid::regclass::text LIKE ANY ($2) ORDER BY 1`,
      [schema, Object.keys(expected).map((m) => `%${m}`)],
    );
    expect(keys.map((k) => `${k.table.split('.').pop()} ${k.def}`)).toEqual([
      'mart_clinical_areas PRIMARY KEY (event_date, clinical_area)',
      'mart_daily_traffic PRIMARY KEY (event_date)',
      'mart_popular_documents PRIMARY KEY (event_date, document_id)',
      'mart_session_analysis PRIMARY KEY (session_id, event_date)',
    ]);
    const indexes = await queryRows<{ tablename: string; indexdef: string }>(
      `SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname NOT LIKE '%pkey' AND tablename = ANY ($2) ORDER BY tablename`,
      [schema, Object.keys(expected)],
    );
    expect(indexes.map((i) => `${i.tablename}: ${i.indexdef.replace(/.* USING btree /, '')}`)).toEqual([
      'mart_clinical_areas: (event_date)',
      'mart_popular_documents: (event_date)',
      'mart_session_analysis: (event_date)',
    ]);
  });

  it('reports excluded rows per rule, duplicates and unreadable files, in the output and run_results.json', async () => {
    const output = lines.join('\n');
    expect(output).toMatch(/source curated_stream: 6 files \(2 unreadable\), 23 rows read, 13 valid, 3 duplicates, 7 excluded/);
    expect(output).toMatch(/skipped file .*corrupt\.parquet: cannot read Parquet/);
    expect(output).toMatch(/skipped file .*no_session\.parquet: required column 'session_id' is missing/);
    const results = JSON.parse(await readFile(path.join(project.dir, 'target', 'run_results.json'), 'utf8'));
    const source = results.sources.find((s: { name: string }) => s.name === 'curated_stream');
    expect(source.rows_excluded).toEqual(expectedExcluded);
    expect(source.duplicates).toBe(3);
    expect(source.unreadable_files).toHaveLength(2);
    const daily = results.results.find((r: { name: string }) => r.name === 'mart_daily_traffic');
    expect(daily).toMatchObject({ status: 'success', rows: 2 });
    expect(daily.rows_excluded['curated_stream.null_session_id']).toBe(1);
  });

  it('gives the same rows when run again on the same data', async () => {
    const before = await queryRows(`SELECT * FROM ${schema}.mart_popular_documents ORDER BY 1, 2`);
    const again = await run({ projectDir: project.dir, target: 'prod', select: ['cold'], now: FIXTURE_NOW, log: () => undefined });
    expect(again.exitCode).toBe(0);
    expect(await queryRows(`SELECT * FROM ${schema}.mart_popular_documents ORDER BY 1, 2`)).toEqual(before);
  });

  it('creates a missing target schema once, even with models running in parallel', async () => {
    const fresh = `${schema}_new`;
    process.env.TM_PG_SCHEMA = fresh;
    try {
      const lines: string[] = [];
      const outcome = await run({ projectDir: project.dir, target: 'prod', select: ['cold'], threads: 4, now: FIXTURE_NOW, log: (l) => lines.push(l) });
      expect(outcome.exitCode, lines.join('\n')).toBe(0);
      expect(await queryRows(`SELECT count(*)::int AS n FROM ${fresh}.mart_daily_traffic`)).toEqual([{ n: 2 }]);
    } finally {
      process.env.TM_PG_SCHEMA = schema;
      await queryRows(`DROP SCHEMA IF EXISTS ${fresh} CASCADE`);
      await queryRows(`DROP SCHEMA IF EXISTS ${fresh}_tm_audit CASCADE`);
      await queryRows(`DROP SCHEMA IF EXISTS ${fresh}__tm_state CASCADE`);
    }
  });
});

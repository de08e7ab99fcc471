import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, pgUrl, queryRows, runCli } from '../test-support/harness.js';

/** `tm check` binds every model in DuckDB against its inputs' contracts: no target, no data. */
describe('tm check', () => {
  let project: Awaited<ReturnType<typeof copyProject>>;
  const schema = `t_check_${Math.random().toString(36).slice(2, 8)}`;
  // TM_CURATED_PATH names a folder that does not exist: the check reads no file.
  const tm = (...args: string[]) => runCli([...args, '--project-dir', project.dir], { env: { TM_CURATED_PATH: '/nonexistent/tm-check', TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema } });
  const edit = async (file: string, from: string, to: string) => {
    const full = path.join(project.dir, file);
    const text = await readFile(full, 'utf8');
    expect(text).toContain(from);
    await writeFile(full, text.replace(from, to));
  };

  beforeAll(async () => {
    project = await copyProject();
  });
  afterAll(async () => {
    await project?.remove();
  });

  it('checks the TripClick project clean, one line per model and the time taken', async () => {
    const r = await tm('check');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => /^OK\s+\w+\s+\d+ ms$/.test(l))).toHaveLength(11);
    expect(lines.at(-1)).toMatch(/^checked 11 models in \d+\.\d\d s: 11 ok, 0 with errors$/);
  });

  it('reports a misspelled column at its template line and column, with a suggestion; JSON for editors', async () => {
    await edit('models/cold/mart_session_analysis.sql', 'min(event_ts) AS first_ts', 'min(evnt_ts) AS first_ts');
    const r = await tm('check');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^ERROR\s+mart_session_analysis/m);
    expect(r.stdout).toContain('models/cold/mart_session_analysis.sql:4:71: Binder Error: Referenced column "evnt_ts" not found');
    expect(r.stdout).toContain("did you mean 'event_ts'?");
    expect(r.stdout).toMatch(/ {4}4 \| .*min\(evnt_ts\) AS first_ts/);
    // Its descendants still check against its contract; the others are clean.
    expect(r.stdout).toMatch(/checked 11 models in [\d.]+ s: 10 ok, 1 with errors/);

    const json = await tm('check', '--output', 'json', '--select', 'mart_session_analysis');
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout) as { models: { model: string; status: string; problems: { file: string; line: number; column: number; suggestion?: string }[] }[]; errors: number; ms: number };
    expect(doc.errors).toBe(1);
    expect(doc.models.map((m) => m.model)).toEqual(['mart_session_analysis']);
    expect(doc.models[0].problems[0]).toMatchObject({ file: 'models/cold/mart_session_analysis.sql', line: 4, column: 71, suggestion: 'event_ts' });
    expect(doc.ms).toBeGreaterThan(0);
    await edit('models/cold/mart_session_analysis.sql', 'min(evnt_ts)', 'min(event_ts)');
  });

  it('reports an unknown function inside a templated model, and a type its contract cannot take at the contract line', async () => {
    await edit('models/hot/mart_realtime_anomaly_sessions.sql', "date_trunc('minute', event_ts) AS m", "date_trunk('minute', event_ts) AS m");
    await edit('models/cold/mart_session_analysis.sql', 'count(*) AS unique_docs', 'count(*)::VARCHAR AS unique_docs');
    const r = await tm('check');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/models\/hot\/mart_realtime_anomaly_sessions\.sql:17:22: Catalog Error: Scalar Function with name date_trunk does not exist!\n\s+Did you mean "date_trunc"\?/);
    expect(r.stdout).toMatch(/models\/cold\/schema\.yml:\d+: model 'mart_session_analysis': column 'unique_docs' is VARCHAR in the query, which does not cast to the contract's INT/);
    expect(r.stdout).toMatch(/made at models\/cold\/mart_session_analysis\.sql:12: count\(\*\)::VARCHAR AS unique_docs/);
  });

  it('run --check and build --check stop with exit 1 before touching the target', async () => {
    for (const command of ['run', 'build']) {
      const r = await tm(command, '--check', '--target', 'prod', '--select', 'mart_session_analysis');
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toContain('tm check found problems (above); nothing was run');
    }
    expect(await queryRows(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${schema}%`])).toEqual([]);
  });
});

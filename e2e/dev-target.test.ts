import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/api/run.js';
import { expected, FIXTURE_NOW, martOrder, writeColdFixture } from '../test-support/cold-fixture.js';
import { copyProject, repoRoot, tempDir } from '../test-support/harness.js';

const exec = promisify(execFile);

describe('the embedded dev target (PGlite): same SQL, another transport', () => {
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let store: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    project = await copyProject();
    data = await tempDir();
    store = await tempDir();
    await writeColdFixture(data.dir);
  });
  afterAll(async () => {
    await project?.remove();
    await data?.remove();
    await store?.remove();
  });

  it('builds the cold marts with the same rows as on PostgreSQL', async () => {
    process.env.TM_CURATED_PATH = data.dir;
    process.env.TM_PGLITE_PATH = path.join(store.dir, 'pglite');
    const lines: string[] = [];
    const outcome = await run({ projectDir: project.dir, select: ['cold'], now: FIXTURE_NOW, log: (l) => lines.push(l) });
    expect(outcome.exitCode, lines.join('\n')).toBe(0);
    expect(lines[0]).toContain('target dev (pglite:');
    const db = await PGlite.create(path.join(store.dir, 'pglite'), { parsers: { 1082: (v: string) => v, 1114: (v: string) => v } });
    try {
      for (const mart of Object.keys(expected) as (keyof typeof expected)[]) {
        const { rows } = await db.query(`SELECT * FROM public.${mart} ORDER BY ${martOrder[mart]}`);
        expect(rows, mart).toEqual(expected[mart]);
      }
      const { rows: keys } = await db.query<{ def: string }>(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'public.mart_daily_traffic'::regclass AND contype = 'p'`);
      expect(keys.map((k) => k.def)).toEqual(['PRIMARY KEY (event_date)']);
    } finally {
      await db.close();
    }
  });

  it('npm run demo works end to end (smoke test, small data)', async () => {
    const env = { ...process.env, TM_CURATED_PATH: path.join(store.dir, 'demo-stream'), TM_PGLITE_PATH: path.join(store.dir, 'demo-pglite') };
    const { stdout } = await exec(process.execPath, [path.join(repoRoot, 'dist', 'scripts', 'demo.js'), '--days', '3', '--events-per-day', '300'], { env, cwd: repoRoot, timeout: 120_000 });
    expect(stdout).toMatch(/Generating 3 days of click stream/);
    expect(stdout).toMatch(/Finished \d+ models in [\d.]+s: \d+ OK, 0 errors, 0 skipped/);
    expect(stdout).toMatch(/mart_daily_traffic: 3 rows/);
    expect(stdout).toMatch(/mart_popular_documents: [\d,]+ rows/);
  });
});

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgliteTarget } from '../src/engines/pglite.js';
import { openPostgresTarget } from '../src/engines/postgres.js';
import { qualified, withSession, type Target } from '../src/engines/target.js';
import { pgUrl, queryRows, runCli, tempDir } from '../test-support/harness.js';
import { lakeProject, replaceModelYml, type LakeProject } from '../test-support/security-fixture.js';

// `\.` alone on a line ends PostgreSQL's CSV COPY: a lake value must never cut a mart short.
const values = ['a', 'b', '\\.', 'c', '', 'd', 'e'];

describe('every COPY loads exactly the rows computed', () => {
  let lake: LakeProject;

  beforeAll(async () => {
    const rows = values.map((v, i) => `(${i}, '${v.replace(/'/g, "''")}', ${i})`).join(', ');
    lake = await lakeProject('sec_copy', {
      rows: `SELECT * FROM (VALUES ${rows}) v(id, grp, amount)`,
      models: { only_text: 'SELECT grp FROM {{source "events"}}' },
      schemaYml: replaceModelYml('only_text', { grp: 'TEXT' }),
    });
  });
  afterAll(async () => {
    await lake?.remove();
  });

  it('a one-column text model holding `\\.` loads all 7 rows into PostgreSQL and into PGlite', async () => {
    const env = { TM_PG_URL: pgUrl, TM_PG_SCHEMA: lake.schema };
    const pg = await runCli(['run', '--project-dir', lake.projectDir], { env });
    expect(pg.code, pg.stdout + pg.stderr).toBe(0);
    expect(pg.stdout).toMatch(/only_text .* 7 rows/);
    const loaded = await queryRows<{ grp: string }>(`SELECT grp FROM ${lake.schema}.only_text`);
    expect(loaded.map((r) => r.grp).sort()).toEqual([...values].sort());

    const lite = await runCli(['run', '--project-dir', lake.projectDir, '--target', 'lite'], { env });
    expect(lite.code, lite.stdout + lite.stderr).toBe(0);
    expect(lite.stdout).toMatch(/only_text .* 7 rows/);
    const db = await PGlite.create(path.join(lake.projectDir, '.tm', 'lite'));
    try {
      const rows = await db.query<{ grp: string }>(`SELECT grp FROM only_text`);
      expect(rows.rows.map((r) => r.grp).sort()).toEqual([...values].sort());
    } finally {
      await db.close();
    }
  });

  // The count check itself, whatever wrote the CSV: the writer reports one row more than its file holds
  // (PostgreSQL also stops at the unquoted `\.`, PGlite reads on), and the load fails either way.
  async function shortLoad(target: Target, loaded: number): Promise<void> {
    const table = qualified(target.schema, 'cut');
    await withSession(target, async (s) => {
      await s.exec(`CREATE TABLE ${table} (v TEXT)`);
      const load = s.copyCsvIn(table, ['v'], async (dest, chunked) => {
        const file = chunked ? path.join(dest, 'data_0.csv') : dest;
        if (chunked) await import('node:fs/promises').then((fs) => fs.mkdir(dest, { recursive: true }));
        await writeFile(file, values.join('\n') + '\n');
        return values.length + 1;
      }, { model: 'cut' });
      await expect(load).rejects.toThrow(`model 'cut': COPY into the target loaded ${loaded} of the 8 rows computed`);
    });
  }

  it('a COPY that loads fewer rows than were written fails, on PostgreSQL and on PGlite', async () => {
    const pgTarget = await openPostgresTarget({ name: 'pg', url: pgUrl, schema: lake.schema, maxSessions: 1 });
    try {
      await shortLoad(pgTarget, 2);
    } finally {
      await pgTarget.close();
    }
    const dir = await tempDir('tm-sec-lite-');
    const lite = await openPgliteTarget({ name: 'lite', dataDir: path.join(dir.dir, 'db'), schema: 'public' });
    try {
      await shortLoad(lite, 7);
    } finally {
      await lite.close();
      await dir.remove();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { freshSchema, pgUrl, queryRows, runCli, tempDir } from './support/harness.js';
import { writeMiniProject } from './support/mini-project.js';

// tm's literals double quotes and keep backslashes: safe only with standard_conforming_strings = on,
// which the URL's `options` could turn off.
describe('the session settings tm quoting relies on hold whatever the URL says', () => {
  let schema: { schema: string; drop: () => Promise<void> };
  let project: Awaited<ReturnType<typeof tempDir>>;
  let data: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    schema = await freshSchema('sec_session');
    project = await tempDir('tm-sec-session-');
    data = await tempDir('tm-sec-data-');
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    await con.run(`COPY (SELECT 1::BIGINT AS id, 'g' AS grp, 2::BIGINT AS amount) TO '${data.dir}/part.parquet' (FORMAT parquet)`);
    con.closeSync();
    instance.closeSync();
    const description = `x\\''; CREATE TABLE ${schema.schema}.pwned AS SELECT 1; --`;
    await writeMiniProject(project.dir, {
      dataDir: data.dir,
      models: { m: 'SELECT id, grp FROM {{source "events"}}' },
      schemaYml: `models:\n  - name: m\n    description: '${description}'\n    config: { materialized: replace }\n    columns:\n      - { name: id, type: BIGINT }\n      - { name: grp, type: TEXT }\n`,
    });
  });
  afterAll(async () => {
    await schema?.drop();
    await project?.remove();
    await data?.remove();
  });

  it('standard_conforming_strings=off and a foreign client_encoding in the URL: a description with \\\' stays a comment', async () => {
    const url = `${pgUrl}?options=${encodeURIComponent('-c standard_conforming_strings=off -c client_encoding=SJIS')}`;
    const out = await runCli(['run', '--project-dir', project.dir], { env: { TM_PG_URL: url, TM_PG_SCHEMA: schema.schema } });
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(await queryRows(`SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'pwned'`, [schema.schema])).toEqual([]);
    const comment = await queryRows<{ c: string }>(`SELECT obj_description($1::regclass, 'pg_class') AS c`, [`${schema.schema}.m`]);
    expect(comment[0].c).toBe(`x\\'; CREATE TABLE ${schema.schema}.pwned AS SELECT 1; --`);
  });
});

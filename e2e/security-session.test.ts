import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pgUrl, queryRows, runCli } from '../test-support/harness.js';
import { lakeProject, replaceModelYml, type LakeProject } from '../test-support/security-fixture.js';

// tm's literals double quotes and keep backslashes: safe only with standard_conforming_strings = on,
// which the URL's `options` could turn off.
describe('the session settings tm quoting relies on hold whatever the URL says', () => {
  let lake: LakeProject;
  const description = (schema: string) => `x\\'; CREATE TABLE ${schema}.pwned AS SELECT 1; --`;

  beforeAll(async () => {
    lake = await lakeProject('sec_session', { rows: `SELECT 1::BIGINT AS id, 'g' AS grp, 2::BIGINT AS amount`, models: { m: 'SELECT id, grp FROM {{source "events"}}' }, schemaYml: 'models: []\n' });
    // YAML single quotes: '' is one quote.
    await writeFile(path.join(lake.projectDir, 'models', 'schema.yml'), replaceModelYml('m', { id: 'BIGINT', grp: 'TEXT' }).replace('    config:', `    description: '${description(lake.schema).replace(/'/g, "''")}'\n    config:`));
  });
  afterAll(async () => {
    await lake?.remove();
  });

  it('standard_conforming_strings=off and a foreign client_encoding in the URL: a description with \\\' stays a comment', async () => {
    const url = `${pgUrl}?options=${encodeURIComponent('-c standard_conforming_strings=off -c client_encoding=SJIS')}`;
    const out = await runCli(['run', '--project-dir', lake.projectDir], { env: { TM_PG_URL: url, TM_PG_SCHEMA: lake.schema } });
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(await queryRows(`SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'pwned'`, [lake.schema])).toEqual([]);
    const comment = await queryRows<{ c: string }>(`SELECT obj_description($1::regclass, 'pg_class') AS c`, [`${lake.schema}.m`]);
    expect(comment[0].c).toBe(description(lake.schema));
  });
});

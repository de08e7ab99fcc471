import { appendFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgUrl, queryRows, runCli } from '../test-support/harness.js';
import { lakeProject, replaceModelYml, type LakeProject } from '../test-support/security-fixture.js';

/** Every file's text under `dir`. */
async function allText(dir: string): Promise<string> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  return (await Promise.all(files.map((e) => readFile(path.join(e.parentPath, e.name), 'utf8')))).join('\n');
}

describe('models read only listed env vars, and secret values are never written', () => {
  let lake: LakeProject;
  const ENV_SECRET = 'envSecret66';
  const VAR_SECRET = 'varSecret77';
  const env = () => ({ TM_PG_URL: pgUrl, TM_PG_SCHEMA: lake.schema, TM_SEC_TOKEN: ENV_SECRET });
  const tm = (args: string[]) => runCli([...args, '--project-dir', lake.projectDir, '--vars', JSON.stringify({ api_key: VAR_SECRET })], { env: env() });

  beforeAll(async () => {
    lake = await lakeProject('sec_secret', {
      rows: `SELECT 1::BIGINT AS id, 'g' AS grp, 2::BIGINT AS amount`,
      models: { m: `SELECT id, {{literal (env "TM_SEC_TOKEN")}} AS token, {{literal (var "api_key")}} AS api_key FROM {{source "events"}}` },
      schemaYml: replaceModelYml('m', { id: 'BIGINT', token: 'TEXT', api_key: 'TEXT' }),
    });
    await appendFile(path.join(lake.projectDir, 'project.yml'), `env_allowed: [TM_SEC_TOKEN]\nsecrets: [TM_SEC_TOKEN, api_key]\nvars:\n  api_key: default-key\n`);
  });
  afterAll(async () => {
    await lake?.remove();
  });

  it('a model reading an env var the project does not list fails to compile, naming it', async () => {
    const model = path.join(lake.projectDir, 'models', 'leak.sql');
    const yml = path.join(lake.projectDir, 'models', 'leak.yml');
    await writeFile(model, `SELECT {{literal (env "TM_PG_URL")}} AS url`);
    await writeFile(yml, replaceModelYml('leak', { url: 'TEXT' }));
    try {
      const out = await tm(['compile', '--select', 'leak']);
      expect(out.code, out.stdout + out.stderr).toBe(2);
      expect(out.stderr).toContain(`{{env "TM_PG_URL"}}: models may read only the env vars listed in env_allowed: in project.yml`);
      expect(await allText(path.join(lake.projectDir, 'target')).catch(() => '')).not.toContain(pgUrl);
    } finally {
      await rm(model);
      await rm(yml);
    }
  });

  it('secret env and --vars values reach the model, never compiled SQL, manifest.json, run results, --show-sql or the docs page', async () => {
    const run = await tm(['run']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await queryRows(`SELECT token, api_key FROM ${lake.schema}.m`)).toEqual([{ token: ENV_SECRET, api_key: VAR_SECRET }]);
    const shown = await tm(['run', '--dry-run', '--show-sql', '--full-refresh']);
    expect(shown.code, shown.stdout + shown.stderr).toBe(0);
    expect(shown.stdout).toContain('XXXXXXXXXX');
    const docs = await tm(['docs', 'generate']);
    expect(docs.code, docs.stdout + docs.stderr).toBe(0);
    const written = await allText(path.join(lake.projectDir, 'target'));
    expect(written).toContain('XXXXXXXXXX');
    for (const secret of [ENV_SECRET, VAR_SECRET]) {
      expect(written, secret).not.toContain(secret);
      expect(run.stdout + run.stderr + shown.stdout + shown.stderr + docs.stdout + docs.stderr, secret).not.toContain(secret);
    }
  });
});

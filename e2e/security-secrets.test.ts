import { appendFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgUrl, queryRows, runCli, tempDir } from './support/harness.js';
import { writeMiniProject } from './support/mini-project.js';

/** Every file's text under `dir`. */
async function allText(dir: string): Promise<string> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  return (await Promise.all(files.map((e) => readFile(path.join(e.parentPath, e.name), 'utf8')))).join('\n');
}

describe('models read only listed env vars, and secret values are never written', () => {
  let schema: { schema: string; drop: () => Promise<void> };
  let project: Awaited<ReturnType<typeof tempDir>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  const ENV_SECRET = 'envSecret66';
  const VAR_SECRET = 'varSecret77';
  const env = () => ({ TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema.schema, TM_SEC_TOKEN: ENV_SECRET });
  const tm = (args: string[]) => runCli([...args, '--project-dir', project.dir, '--vars', JSON.stringify({ api_key: VAR_SECRET })], { env: env() });

  beforeAll(async () => {
    schema = await freshSchema('sec_secret');
    project = await tempDir('tm-sec-secret-');
    data = await tempDir('tm-sec-data-');
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    await con.run(`COPY (SELECT 1::BIGINT AS id, 'g' AS grp, 2::BIGINT AS amount) TO '${data.dir}/part.parquet' (FORMAT parquet)`);
    con.closeSync();
    instance.closeSync();
    await writeMiniProject(project.dir, {
      dataDir: data.dir,
      models: { m: `SELECT id, {{literal (env "TM_SEC_TOKEN")}} AS token, {{literal (var "api_key")}} AS api_key FROM {{source "events"}}` },
      schemaYml: `models:\n  - name: m\n    config: { materialized: replace }\n    columns:\n      - { name: id, type: BIGINT }\n      - { name: token, type: TEXT }\n      - { name: api_key, type: TEXT }\n`,
    });
    await appendFile(path.join(project.dir, 'project.yml'), `env_allowed: [TM_SEC_TOKEN]\nsecrets: [TM_SEC_TOKEN, api_key]\nvars:\n  api_key: default-key\n`);
  });
  afterAll(async () => {
    await schema?.drop();
    await project?.remove();
    await data?.remove();
  });

  it('a model reading an env var the project does not list fails to compile, naming it', async () => {
    const model = path.join(project.dir, 'models', 'leak.sql');
    const yml = path.join(project.dir, 'models', 'leak.yml');
    await writeFile(model, `SELECT {{literal (env "TM_PG_URL")}} AS url`);
    await writeFile(yml, `models:\n  - name: leak\n    config: { materialized: replace }\n    columns:\n      - { name: url, type: TEXT }\n`);
    try {
      const out = await tm(['compile', '--select', 'leak']);
      expect(out.code, out.stdout + out.stderr).toBe(2);
      expect(out.stderr).toContain(`{{env "TM_PG_URL"}}: models may read only the env vars listed in env_allowed: in project.yml`);
      expect(await allText(path.join(project.dir, 'target')).catch(() => '')).not.toContain(pgUrl);
    } finally {
      await rm(model);
      await rm(yml);
    }
  });

  it('secret env and --vars values reach the model, never compiled SQL, manifest.json, run results, --show-sql or the docs page', async () => {
    const run = await tm(['run']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await queryRows(`SELECT token, api_key FROM ${schema.schema}.m`)).toEqual([{ token: ENV_SECRET, api_key: VAR_SECRET }]);
    const shown = await tm(['run', '--dry-run', '--show-sql', '--full-refresh']);
    expect(shown.code, shown.stdout + shown.stderr).toBe(0);
    expect(shown.stdout).toContain('XXXXXXXXXX');
    const docs = await tm(['docs', 'generate']);
    expect(docs.code, docs.stdout + docs.stderr).toBe(0);
    const written = await allText(path.join(project.dir, 'target'));
    expect(written).toContain('XXXXXXXXXX');
    for (const secret of [ENV_SECRET, VAR_SECRET]) {
      expect(written, secret).not.toContain(secret);
      expect(run.stdout + run.stderr + shown.stdout + shown.stderr + docs.stdout + docs.stderr, secret).not.toContain(secret);
    }
  });
});

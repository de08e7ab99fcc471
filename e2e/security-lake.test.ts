import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgUrl, queryRows, runCli, tempDir } from './support/harness.js';
import { writeMiniProject } from './support/mini-project.js';

// The lake is not trusted: a file name is a name, never a pattern, and one bad folder costs its own files only.
describe('lake contents cannot widen or fail a source', () => {
  let schema: { schema: string; drop: () => Promise<void> };
  let project: Awaited<ReturnType<typeof tempDir>>;
  let data: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    schema = await freshSchema('sec_lake');
    project = await tempDir('tm-sec-lake-');
    data = await tempDir('tm-sec-data-');
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    const write = async (folder: string, name: string, ids: number[]) => {
      await mkdir(path.join(data.dir, folder), { recursive: true });
      const file = path.join(data.dir, folder, name).replace(/'/g, "''");
      await con.run(`COPY (SELECT id::BIGINT AS id, 'g' AS grp, 1::BIGINT AS amount FROM unnest([${ids.join(', ')}]) t(id)) TO '${file}' (FORMAT parquet)`);
    };
    await write('event_date=2020-01-01', 'good.parquet', [1, 2]);
    await write('event_date=2020-01-02', '*.parquet', [3]);
    await write('event_date=2020-01-02', 'xa.parquet', [4]);
    await write('event_date=2020-01-02', '_tmp_writer.parquet', [100]);
    await write('event_date=%ZZ', 'bad.parquet', [101]);
    await write('event_date=', 'bad.parquet', [102]);
    await write('event_date=99999-99-99', 'bad.parquet', [103]);
    await write("event_date=2020-01'03", 'bad.parquet', [104]);
    con.closeSync();
    instance.closeSync();
    await writeMiniProject(project.dir, {
      dataDir: data.dir,
      sourceExtra: '      - { name: event_date, type: DATE }\n',
      models: { m: 'SELECT id, event_date FROM {{source "events"}}' },
      schemaYml: `models:\n  - name: m\n    config: { materialized: replace }\n    columns:\n      - { name: id, type: BIGINT }\n      - { name: event_date, type: DATE }\n`,
    });
  });
  afterAll(async () => {
    await schema?.drop();
    await project?.remove();
    await data?.remove();
  });

  it('reads `*.parquet` as that one file, and skips each bad partition folder naming it and why, using the rest', async () => {
    const out = await runCli(['run', '--project-dir', project.dir], { env: { TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema.schema } });
    expect(out.code, out.stdout + out.stderr).toBe(0);
    const rows = await queryRows<{ id: string; event_date: string }>(`SELECT id, event_date::text FROM ${schema.schema}.m ORDER BY id`);
    expect(rows).toEqual([
      { id: '1', event_date: '2020-01-01' }, { id: '2', event_date: '2020-01-01' },
      { id: '3', event_date: '2020-01-02' }, { id: '4', event_date: '2020-01-02' },
    ]);
    expect(out.stdout).toContain(`skipped file ${path.join(data.dir, 'event_date=%ZZ', 'bad.parquet')}: folder 'event_date=%ZZ': not valid percent-encoding`);
    expect(out.stdout).toContain(`skipped file ${path.join(data.dir, 'event_date=', 'bad.parquet')}: folder 'event_date=': empty partition value`);
    expect(out.stdout).toContain(`skipped file ${path.join(data.dir, 'event_date=99999-99-99', 'bad.parquet')}: folder 'event_date=99999-99-99': '99999-99-99' is not a DATE`);
    expect(out.stdout).toContain(`skipped file ${path.join(data.dir, "event_date=2020-01'03", 'bad.parquet')}: folder 'event_date=2020-01'03': a quote in a partition folder`);
  });
});

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgUrl, queryRows, runCli } from '../test-support/harness.js';
import { lakeProject, replaceModelYml, writeParquet, type LakeProject } from '../test-support/security-fixture.js';

// The lake is not trusted: a file name is a name, never a pattern, and one bad folder costs its own files only.
describe('lake contents cannot widen or fail a source', () => {
  let lake: LakeProject;

  beforeAll(async () => {
    lake = await lakeProject('sec_lake', {
      sourceExtra: '      - { name: event_date, type: DATE }\n',
      models: { m: 'SELECT id, grp, event_date FROM {{source "events"}}' },
      schemaYml: replaceModelYml('m', { id: 'BIGINT', grp: 'TEXT', event_date: 'DATE' }),
    });
    const write = async (folder: string, name: string, ids: number[]) => {
      await mkdir(path.join(lake.dataDir, folder), { recursive: true });
      await writeParquet(path.join(lake.dataDir, folder, name), `SELECT id::BIGINT AS id, 'g' AS grp, 1::BIGINT AS amount FROM unnest([${ids.join(', ')}]) t(id)`);
    };
    await write('event_date=2020-01-01', 'good.parquet', [1, 2]);
    await write('event_date=2020-01-02', '*.parquet', [3]);
    await write('event_date=2020-01-02', 'xa.parquet', [4]);
    await write('event_date=2020-01-02', '_tmp_writer.parquet', [100]);
    await write('event_date=%ZZ', 'bad.parquet', [101]);
    await write('event_date=', 'bad.parquet', [102]);
    await write('event_date=99999-99-99', 'bad.parquet', [103]);
    await write("event_date=2020-01'03", 'bad.parquet', [104]);
    await mkdir(path.join(lake.dataDir, 'event_date=2020-01-04'));
    await writeParquet(path.join(lake.dataDir, 'event_date=2020-01-04', 'nul.parquet'), `SELECT 5::BIGINT AS id, 'a' || chr(0) || 'b' AS grp, 1::BIGINT AS amount`);
  });
  afterAll(async () => {
    await lake?.remove();
  });

  it('reads `*.parquet` as that one file, skips each bad partition folder naming it and why, using the rest, and loads a string with a NUL byte without it', async () => {
    const out = await runCli(['run', '--project-dir', lake.projectDir], { env: { TM_PG_URL: pgUrl, TM_PG_SCHEMA: lake.schema } });
    expect(out.code, out.stdout + out.stderr).toBe(0);
    const rows = await queryRows<{ id: string; event_date: string }>(`SELECT id, event_date::text FROM ${lake.schema}.m WHERE id < 5 ORDER BY id`);
    expect(rows).toEqual([
      { id: '1', event_date: '2020-01-01' }, { id: '2', event_date: '2020-01-01' },
      { id: '3', event_date: '2020-01-02' }, { id: '4', event_date: '2020-01-02' },
    ]);
    // PostgreSQL text cannot hold NUL: it is removed from the value (docs/security.md), the row kept.
    expect(await queryRows(`SELECT grp FROM ${lake.schema}.m WHERE id = 5`)).toEqual([{ grp: 'ab' }]);
    expect(out.stdout).toContain(`skipped file ${path.join(lake.dataDir, 'event_date=%ZZ', 'bad.parquet')}: folder 'event_date=%ZZ': not valid percent-encoding`);
    expect(out.stdout).toContain(`skipped file ${path.join(lake.dataDir, 'event_date=', 'bad.parquet')}: folder 'event_date=': empty partition value`);
    expect(out.stdout).toContain(`skipped file ${path.join(lake.dataDir, 'event_date=99999-99-99', 'bad.parquet')}: folder 'event_date=99999-99-99': '99999-99-99' is not a DATE`);
    expect(out.stdout).toContain(`skipped file ${path.join(lake.dataDir, "event_date=2020-01'03", 'bad.parquet')}: folder 'event_date=2020-01'03': a quote in a partition folder`);
  });
});

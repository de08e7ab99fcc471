import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDayFile } from '../../generator/parquet-writer.js';
import { openDuckDb, type DuckDb, type DuckSession } from '../engines/duckdb.js';
import type { SourceColumn } from '../manifest/types.js';
import { checkFileSchemas } from './file-schema.js';
import { createLocalLocation } from './local-location.js';
import { openSchemaMemo } from './schema-memo.js';
import type { ListedFile } from './types.js';

const columns: SourceColumn[] = [
  { name: 'dedup_key', type: 'VARCHAR', required: true },
  { name: 'event_ts', type: 'TIMESTAMP', required: true },
  { name: 'document_id', type: 'BIGINT', required: true },
];

describe('file schemas remembered by file identity', () => {
  let dir: string;
  let duck: DuckDb;
  let session: DuckSession;
  let files: ListedFile[];
  const memoFile = () => path.join(dir, 'state', 'schemas.json');
  const check = async (listed: readonly ListedFile[], paths = listed.map((f) => f.uri)) => {
    const schemas = await openSchemaMemo(memoFile());
    const checks = await checkFileSchemas(session, paths, columns, new Set(['event_date']), { schemas, files: listed });
    await schemas.save();
    return checks;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tm-schema-memo-'));
    const row = { session_id: 's', document_id: 1, title: 't' };
    await writeDayFile(path.join(dir, 'data'), '2024-03-01', 'a.parquet', [{ ...row, dedup_key: 'a', event_ts: '2024-03-01 10:00:00' }]);
    await writeDayFile(path.join(dir, 'data'), '2024-03-02', 'b.parquet', [{ ...row, dedup_key: 'b', event_ts: '2024-03-02 10:00:00' }]);
    files = await createLocalLocation(path.join(dir, 'data'), 'parquet').list();
    duck = await openDuckDb({ memoryLimit: '256MB', tempDirectory: path.join(dir, '.duck-tmp'), removeTempDirectoryOnClose: true });
    session = await duck.connect();
  });
  afterAll(async () => {
    session?.close();
    duck?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a file checked in an earlier run is not read again: its stored schema answers', async () => {
    expect((await check(files)).map((c) => c.problem)).toEqual([undefined, undefined]);
    // Same identities, paths that do not exist: only the memo can answer without an error.
    const answers = await check(files, files.map((f) => `${f.uri}.gone`));
    expect(answers.map((c) => c.problem)).toEqual([undefined, undefined]);
    expect([...answers[0].columns]).toEqual(expect.arrayContaining(['dedup_key', 'event_ts', 'document_id']));
  });

  it('a file with another size or version is read again', async () => {
    const changed = files.map((f) => ({ ...f, version: `${f.version}1` }));
    const answers = await check(changed, files.map((f) => `${f.uri}.gone`));
    expect(answers.every((c) => c.problem?.startsWith('cannot read Parquet'))).toBe(true);
  });

  it('declared columns are checked against the stored schema on every run', async () => {
    const schemas = await openSchemaMemo(memoFile());
    const stricter = [...columns, { name: 'referrer', type: 'VARCHAR', required: true }];
    const [answer] = await checkFileSchemas(session, [`${files[0].uri}.gone`], stricter, new Set(), { schemas, files: [files[0]] });
    expect(answer.problem).toBe("required column 'referrer' is missing");
  });

  it('retain forgets files no longer listed; a damaged memo file starts empty', async () => {
    const schemas = await openSchemaMemo(memoFile());
    schemas.retain([files[0]]);
    await schemas.save();
    const again = await openSchemaMemo(memoFile());
    expect(again.get(files[0])).toBeDefined();
    expect(again.get(files[1])).toBeUndefined();
    await writeFile(memoFile(), '{"format": 1, "schemas": [');
    expect((await openSchemaMemo(memoFile())).get(files[0])).toBeUndefined();
  });
});

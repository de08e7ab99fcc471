import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFuzzStream, type FuzzFile } from '../../generator/fuzz.js';
import { openDuckDb, type DuckDb, type DuckSession } from '../engines/duckdb.js';
import type { SourceNode } from '../manifest/types.js';
import { createLocalLocation } from './local-location.js';
import { prepareSource, type PreparedSource } from './prepare-source.js';
import { openSourceCache } from './window-cache.js';

const source: SourceNode = {
  kind: 'source', uniqueId: 'source.t.events', name: 'events', description: '', location: 'events', format: 'parquet',
  hivePartitioning: true, path: 'project.yml', quarantine: true, datePartition: 'event_date', clockColumn: 'event_ts',
  columns: [
    { name: 'dedup_key', type: 'VARCHAR', required: true },
    { name: 'event_ts', type: 'TIMESTAMP', required: true },
    { name: 'event_date', type: 'DATE', required: true },
    { name: 'session_id', type: 'VARCHAR', required: true },
    { name: 'document_id', type: 'BIGINT', required: true },
    { name: 'title', type: 'VARCHAR', required: false },
  ],
  rules: [],
  dedup: { key: 'dedup_key', order: 'event_ts' },
};

/**
 * Parquet files whose schema is fine but whose strings are not UTF-8 fail only when their rows are
 * decoded: each is skipped with its reason, and the other files' rows are all read, in the full read
 * and through the hot window cache.
 */
describe('files with strings that are not UTF-8', () => {
  let root: string;
  let files: FuzzFile[];
  let duck: DuckDb;
  let session: DuckSession;
  let goodOnly: PreparedSource;
  const renderRule = (check: string) => check;
  const mixed = () => path.join(root, 'mixed');
  const badPaths = () => files.filter((f) => f.kind === 'non_utf8').map((f) => f.path).sort();
  const skipped = (p: PreparedSource) => [...p.unreadableFiles].sort((a, b) => (a.uri < b.uri ? -1 : 1));
  const validKeys = async (p: PreparedSource) =>
    (await session.all<{ k: string }>(`SELECT dedup_key AS k FROM ${p.relation} ORDER BY 1`)).map((r) => r.k);

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'tm-undecodable-'));
    files = await generateFuzzStream({ out: mixed(), goodFiles: 40, badFiles: 25, badKinds: ['non_utf8'], seed: 5 });
    for (const f of files.filter((x) => x.kind !== 'non_utf8')) {
      const dest = path.join(root, 'good', path.relative(mixed(), f.path));
      await mkdir(path.dirname(dest), { recursive: true });
      await cp(f.path, dest);
    }
    duck = await openDuckDb({ memoryLimit: '256MB', tempDirectory: path.join(root, '.duck-tmp'), removeTempDirectoryOnClose: true });
    session = await duck.connect();
    goodOnly = await prepareSource(session, source, createLocalLocation(path.join(root, 'good'), 'parquet'), { renderRule });
    expect(goodOnly.validRows).toBeGreaterThan(500);
  });
  afterAll(async () => {
    session?.close();
    duck?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('a full read skips each with its reason and keeps every other row', async () => {
    const prepared = await prepareSource(session, source, createLocalLocation(mixed(), 'parquet'), { renderRule });
    expect(skipped(prepared).map((s) => s.uri)).toEqual(badPaths());
    for (const s of prepared.unreadableFiles) expect(s.reason).toMatch(/^cannot read Parquet: Invalid string encoding found: value ".*" is not valid UTF8/);
    const keys = await validKeys(prepared);
    expect(prepared.validRows).toBe(goodOnly.validRows);
    expect(keys).toEqual(await validKeys(goodOnly));
  });

  it('the window cache skips each, remembers why, and keeps every other row', async () => {
    const location = createLocalLocation(mixed(), 'parquet');
    const cache = await openSourceCache(session, source, location, { stamp: 'test' });
    try {
      const first = await prepareSource(session, source, location, { renderRule, reader: cache.reader({}) });
      expect(skipped(first).map((s) => s.uri)).toEqual(badPaths());
      expect(first.validRows).toBe(goodOnly.validRows);
      expect(await validKeys(first)).toEqual(await validKeys(goodOnly));
      expect(cache.stats.filesRead).toBe(files.length);
      // The next cycle reads nothing again: the bad files are named from the cache, with the same reasons.
      const again = await prepareSource(session, source, location, { renderRule, reader: cache.reader({}) });
      expect(skipped(again)).toEqual(skipped(first));
      expect(again.validRows).toBe(goodOnly.validRows);
      expect(cache.stats.filesRead).toBe(files.length);
    } finally {
      await cache.close(session);
    }
  });
});

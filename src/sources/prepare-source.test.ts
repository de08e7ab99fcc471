import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDayFile, type EventRow } from '../../generator/parquet-writer.js';
import { openDuckDb, type DuckDb, type DuckSession } from '../engines/duckdb.js';
import type { SourceNode } from '../manifest/types.js';
import { createLocalLocation } from './local-location.js';
import { prepareSource, type PreparedSource } from './prepare-source.js';

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
  rules: [
    { name: 'null_session_id', check: 'session_id IS NOT NULL' },
    { name: 'event_date_mismatch', check: 'event_date = CAST(event_ts AS DATE)' },
  ],
  dedup: { key: 'dedup_key', order: 'event_ts' },
};

const row = (key: string, ts: string, title: string, extra: Partial<EventRow> = {}): EventRow => ({
  dedup_key: key, event_ts: `2024-03-01 ${ts}`, session_id: 's1', document_id: 7, title, ...extra,
});

describe('prepareSource over local Parquet files', () => {
  let dir: string;
  let duck: DuckDb;
  let session: DuckSession;
  let prepared: PreparedSource;
  const prepare = () =>
    prepareSource(session, source, createLocalLocation(dir, 'parquet'), { renderRule: (check) => check });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tm-prepare-source-'));
    // Byte order puts 'B-late.parquet' before 'a-early.parquet': the tie on event_ts goes to the B file.
    await writeDayFile(dir, '2024-03-01', 'a-early.parquet', [
      row('tie', '10:00:00', 'from a'),
      row('earliest', '09:00:00', 'earliest copy'),
      row('k1', '11:00:00', 'only copy'),
      row('bad', '08:00:00', 'no session', { session_id: null }),
    ]);
    await writeDayFile(dir, '2024-03-01', 'B-late.parquet', [
      row('tie', '10:00:00', 'from B'),
      row('earliest', '09:30:00', 'later copy'),
      // An invalid copy never wins, however early it is.
      row('k1', '07:00:00', 'wrong day', { event_ts: '2024-02-28 07:00:00' }),
    ]);
    duck = await openDuckDb({ memoryLimit: '256MB', tempDirectory: path.join(dir, '.duck-tmp'), removeTempDirectoryOnClose: true });
    session = await duck.connect();
    prepared = await prepare();
  });

  afterAll(async () => {
    session?.close();
    duck?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps one valid copy per key: the earliest, then the smallest file path in byte order', async () => {
    const rows = await session.all<{ dedup_key: string; title: string }>(`SELECT dedup_key, title FROM ${prepared.relation} ORDER BY dedup_key`);
    expect(rows).toEqual([
      { dedup_key: 'earliest', title: 'earliest copy' },
      { dedup_key: 'k1', title: 'only copy' },
      { dedup_key: 'tie', title: 'from B' },
    ]);
    expect(prepared).toMatchObject({ rowsRead: 7, validRows: 3, duplicates: 2, excluded: { null_session_id: 1, event_date_mismatch: 1 } });
    expect(prepared.clock).toBe('2024-03-01 11:00:00');
  });

  it('names the files of excluded rows by their path, in the counts and in the flagged rows', async () => {
    const a = path.join(dir, 'event_date=2024-03-01', 'a-early.parquet');
    const b = path.join(dir, 'event_date=2024-03-01', 'B-late.parquet');
    expect(prepared.excludedByFile).toEqual([
      { file: a, rule: 'null_session_id', rows: 1 },
      { file: b, rule: 'event_date_mismatch', rows: 1 },
    ]);
    const flagged = await session.all<{ dedup_key: string; _tm_file: string; _tm_rule: string }>(
      `SELECT dedup_key, _tm_file, _tm_rule FROM ${prepared.flaggedRelation} WHERE _tm_rule IS NOT NULL ORDER BY dedup_key`,
    );
    expect(flagged).toEqual([
      { dedup_key: 'bad', _tm_file: a, _tm_rule: 'null_session_id' },
      { dedup_key: 'k1', _tm_file: b, _tm_rule: 'event_date_mismatch' },
    ]);
  });

  it('prepares again in the same DuckDB (a timer loop) with the same result', async () => {
    const again = await prepare();
    const rows = await session.all<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${again.relation}`);
    expect(rows[0].n).toBe(3);
    expect(again.duplicates).toBe(2);
  });
});

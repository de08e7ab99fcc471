import { describe, expect, it } from 'vitest';
import type { Manifest, ModelNode } from '../manifest/types.js';
import type { ModelProgress } from '../state/store.js';
import { changedPartitions, clockOfPartialRead, fullReadReason, nowRules, partitionedFingerprint } from './changed-partitions.js';

const model = {
  kind: 'model', uniqueId: 'model.p.m', name: 'm', path: 'models/m.sql', folders: [], description: '', rawSql: 'SELECT 1', bodyLine: 1,
  config: { materialized: 'replace', kind: { materialized: 'replace', partitionBy: 'event_date' }, engine: 'duckdb', tags: [], extra: {} },
  columns: [{ name: 'event_date', type: 'DATE' }], primaryKey: [], indexes: [], tests: [], refs: [], sources: ['s'], values: [],
} as const satisfies ModelNode;
const manifest = { projectName: 'p', projectDir: '/p', vars: {}, models: new Map([['m', model]]), sources: new Map(), tests: new Map(), dashboards: new Map(), macros: [] } as Manifest;
const progress = (hash = partitionedFingerprint(model, manifest)): ModelProgress => ({
  model: 'm', clockReached: null, snapshotReached: null, hotStart: null, lastSuccessAt: null, lastChangeAt: null, modelHash: hash, filesSeen: 2, runId: 'r',
});
const file = (uri: string, part: string, version = '1') => ({ source: 's', uri, size: 10, version, part });
const base = {
  model, manifest, previous: progress(), tableExists: true, fullRefresh: false,
  listed: [file('a', '2020-01-01'), file('b', '2020-01-02')], seen: [file('a', '2020-01-01'), file('b', '2020-01-02')], stats: [], now: new Date('2020-01-03T00:00:00Z'),
};

describe('what changed for a partition-aware model', () => {
  it('nothing: same files, same definition', () => {
    expect(changedPartitions(base).kind).toBe('none');
  });

  it('the days of new, changed and removed files', () => {
    const c = changedPartitions({ ...base, listed: [file('a', '2020-01-01', '2'), file('c', '2019-12-30')] });
    expect(c.kind === 'parts' && c.parts).toEqual(['2019-12-30', '2020-01-01', '2020-01-02']);
    expect(c.kind === 'parts' && c.reason).toBe('2 new, 2 gone files');
  });

  it('in full on a first run, a full refresh, a missing table, a changed model, or a file outside the dated folders', () => {
    expect(changedPartitions({ ...base, previous: undefined })).toMatchObject({ kind: 'full', reason: 'first run' });
    expect(changedPartitions({ ...base, fullRefresh: true })).toMatchObject({ kind: 'full', reason: 'full refresh' });
    expect(changedPartitions({ ...base, tableExists: false })).toMatchObject({ kind: 'full' });
    expect(changedPartitions({ ...base, previous: progress('other') })).toMatchObject({ kind: 'full', reason: 'model changed' });
    expect(changedPartitions({ ...base, listed: [...base.listed, file('x', '')] })).toMatchObject({ kind: 'full' });
  });

  it('a day whose rows were left out as in the future counts as changed once the wall clock is within a day of them', () => {
    const stats = [{ part: '2020-01-05', maxClock: null, futureFrom: '2020-01-05 10:00:00' }];
    expect(changedPartitions({ ...base, stats }).kind).toBe('none');
    const c = changedPartitions({ ...base, stats, now: new Date('2020-01-04T12:00:00Z') });
    expect(c.kind === 'parts' && c.parts).toEqual(['2020-01-05']);
  });

  it('the stream clock of a partial read is the newest of the days read and kept', () => {
    expect(clockOfPartialRead('2020-01-02 10:00:00', [{ part: '2020-01-03', maxClock: '2020-01-03 08:00:00.5', futureFrom: null }])).toBe('2020-01-03 08:00:00.5');
    expect(clockOfPartialRead(undefined, [])).toBeUndefined();
  });

  it('rules that read the wall clock', () => {
    expect(nowRules([{ name: 'a', check: 'x IS NOT NULL' }, { name: 'future', check: 'ts <= {{ now }} + INTERVAL 5 MINUTE' }])).toEqual(['future']);
  });

  it('reads the source whole when a reader reads every day, or a partition-aware model rebuilds in full', () => {
    const parts = changedPartitions({ ...base, listed: [file('a', '2020-01-01', '2'), file('b', '2020-01-02')] });
    expect(fullReadReason([model], new Map([['m', parts]]), manifest)).toBeUndefined();
    expect(fullReadReason([model], new Map([['m', changedPartitions({ ...base, previous: undefined })]]), manifest)).toBe('m: first run');
    const everyDay = { ...model, name: 'all_days', config: { ...model.config, kind: { materialized: 'replace' } } } as unknown as ModelNode;
    expect(fullReadReason([model, everyDay], new Map([['m', parts]]), manifest)).toBe('all_days reads every day');
  });
});

import { describe, expect, it } from 'vitest';
import { manifest, model, source } from '../../test-support/manifest.js';
import type { IncrementalConfig, ModelNode } from '../manifest/types.js';
import type { ListedFile } from '../sources/types.js';
import type { ModelProgress, SeenFile } from '../state/store.js';
import { explainPlan } from './explain.js';
import { batchesOf, planRun, type ObservedSources, type ObservedState, type PlanInput } from './plan-run.js';
import { addsToStoredRows, stateWriteOf } from './types.js';
import { modelFingerprint } from './values.js';

const window: IncrementalConfig = { lookbackMinutes: 15, maxCatchUpHours: 48, sourceSince: '{{hot_start}}' };
const events = source('events', { datePartition: 'day', clockColumn: 'ts' });
const stg = model('stg', { sources: ['events'], kind: { materialized: 'temp', asView: true } });
const minutes = model('minutes', { sources: ['events'], kind: { materialized: 'upsert', incremental: window } });
const top = model('top', { sources: ['events'], kind: { materialized: 'snapshot', incremental: window } });
const daily = model('daily', { refs: ['stg'] });
const fix = model('fix', { refs: ['stg'], values: ['this_rows'], kind: { materialized: 'upsert', incremental: { ...window, reconciles: 'minutes' } } });
const byDay = model('by_day', { refs: ['stg'], kind: { materialized: 'replace', partitionBy: 'day' } });
const project = manifest([events, stg, minutes, top, daily, fix, byDay]);

const file = (day: string, name: string, size = 100): ListedFile => ({ uri: `lake/day=${day}/${name}`, key: `day=${day}/${name}`, size, version: '1', partitions: { day } });
const seen = (f: ListedFile): SeenFile => ({ source: 'events', uri: f.uri, size: f.size, version: f.version, part: f.partitions.day ?? '' });
const CLOCK = '2020-10-31 12:34:56.5';

function progressOf(m: ModelNode, clock = CLOCK): ModelProgress {
  return {
    model: m.name, clockReached: clock, snapshotReached: '2020-10-31 12:34:00', hotStart: '2020-10-31 12:19:00', lastSuccessAt: null,
    lastChangeAt: null, modelHash: modelFingerprint(m, project), filesSeen: 1, runId: 'before',
  };
}

function input(models: readonly ModelNode[], state: Partial<ObservedState>, sources: Partial<ObservedSources>, extra: Partial<PlanInput> = {}): PlanInput {
  return {
    manifest: project, models, now: new Date('2020-10-31T13:00:00Z'), startedAt: new Date('2020-10-31T13:00:01Z'), runId: 'run1', fullRefresh: false,
    state: { progress: new Map(), seen: new Map(), existing: new Set(), locked: new Set(), ...state },
    sources: { idle: false, clock: CLOCK, since: new Map(), listed: new Map(), validRows: new Map([['events', 10]]), sources: [], ...sources },
    ...extra,
  };
}

const actions = (plan: ReturnType<typeof planRun>) => plan.steps.map((s) => `${s.model.name}:${s.action}:${s.reason}`);

describe('planRun', () => {
  const today = file('2020-10-31', 'a.parquet');
  const yesterday = file('2020-10-30', 'b.parquet');

  it('builds every incremental model on a first run, with the files of its window in the state write', () => {
    const plan = planRun(input([minutes, top], {}, { listed: new Map([['events', [yesterday, today]]]), since: new Map([['minutes', '2020-10-31 12:19:00'], ['top', '2020-10-30 12:34:00']]) }));
    expect(actions(plan)).toEqual(['minutes:build:first run', 'top:build:first run']);
    const [m, t] = plan.steps;
    expect([m.kind, t.kind]).toEqual(['incremental', 'incremental']);
    expect(stateWriteOf(m)).toMatchObject({ model: 'minutes', resetFiles: true, keepPartsFrom: '2020-10-31', clockReached: CLOCK, snapshotReached: '2020-10-31 12:34:00', runId: 'run1' });
    expect(stateWriteOf(m)?.add.map((f) => f.uri)).toEqual([today.uri]);
    expect(stateWriteOf(t)?.add.map((f) => f.uri)).toEqual([yesterday.uri, today.uri]);
    expect(addsToStoredRows(m)).toBe(false);
    expect(m.values).toMatchObject({ snapshot_ts: "TIMESTAMP '2020-10-31 12:34:00'", hot_start: "TIMESTAMP '2020-10-31 12:19:00'", lookback_minutes: '15' });
    expect(plan.values.window_start).toBe("TIMESTAMP '2020-10-30 12:34:00'");
  });

  it('checks a model whose files and clock did not move, and builds one whose file changed', () => {
    const changed = { ...today, size: 200 };
    const state = {
      progress: new Map([[minutes.name, progressOf(minutes)], [top.name, progressOf(top)]]),
      seen: new Map([[minutes.name, [seen(today)]], [top.name, [seen(today)]]]),
      existing: new Set(['minutes', 'top']),
    };
    const same = planRun(input([minutes, top], state, { listed: new Map([['events', [today]]]) }));
    expect(actions(same)).toEqual(['minutes:check:no new files', 'top:check:no new files']);
    expect(same.steps.every((s) => s.recordsCheck && !stateWriteOf(s))).toBe(true);
    const moved = planRun(input([minutes, top], state, { listed: new Map([['events', [changed, yesterday]]]) }));
    expect(actions(moved)).toEqual(['minutes:build:2 new, 1 gone files', 'top:build:2 new, 1 gone files']);
    expect(addsToStoredRows(moved.steps[0])).toBe(true);
    expect(stateWriteOf(moved.steps[0])).toMatchObject({ resetFiles: false, forget: [today.uri] });
  });

  it('builds when only the clock moved or the model changed', () => {
    const state = { progress: new Map([[minutes.name, { ...progressOf(minutes), clockReached: '2020-10-31 12:00:00' }], [top.name, { ...progressOf(top), modelHash: 'old' }]]), seen: new Map([[minutes.name, [seen(today)]], [top.name, [seen(today)]]]), existing: new Set(['minutes', 'top']) };
    expect(actions(planRun(input([minutes, top], state, { listed: new Map([['events', [today]]]) })))).toEqual(['minutes:build:clock moved', 'top:build:model changed']);
  });

  it('starts over on a full refresh or when the table is gone, and checks a source window without valid events', () => {
    const state = { progress: new Map([[minutes.name, progressOf(minutes)]]), seen: new Map([[minutes.name, [seen(today)]]]), existing: new Set<string>() };
    const gone = planRun(input([minutes], state, { listed: new Map([['events', [today]]]) }));
    expect(actions(gone)).toEqual(['minutes:build:first run']);
    const full = planRun(input([minutes], { ...state, existing: new Set(['minutes']) }, { listed: new Map([['events', [today]]]) }, { fullRefresh: true }));
    expect(actions(full)).toEqual(['minutes:build:full refresh']);
    expect(addsToStoredRows(full.steps[0])).toBe(false);
    const empty = planRun(input([minutes], state, { validRows: new Map([['events', 0]]) }));
    expect(actions(empty)).toEqual(['minutes:check:no valid events in the source window']);
  });

  it('skips models another process holds, and leaves out a temp model whose readers have nothing new', () => {
    const plan = planRun(input([stg, fix, top], { locked: new Set(['fix']) }, { idle: true }));
    expect(actions(plan)).toEqual(['stg:check:not needed: its readers have nothing new', 'fix:skip:another tm process holds its lock', 'top:check:no new files']);
    expect(plan.steps[0].recordsCheck).toBe(false);
  });

  it('skips a partition-aware model another process holds, like any other: never built without the temp model it reads', () => {
    const plan = planRun(input([stg, byDay, daily], { locked: new Set(['by_day', 'daily']) }, {}));
    expect(actions(plan)).toEqual(['stg:check:not needed: its readers have nothing new', 'by_day:skip:another tm process holds its lock', 'daily:skip:another tm process holds its lock']);
  });

  it('builds full-recompute models, and a reconciliation only when the table it corrects exists, reading it through this_rows', () => {
    const cold = [stg, daily, fix];
    expect(actions(planRun(input(cold, {}, {})))).toEqual(['stg:build:computed for this run', 'daily:build:full recompute', 'fix:check:nothing to reconcile: minutes did not exist before this run (its first build reads all the data)']);
    const plan = planRun(input(cold, { existing: new Set(['minutes']) }, {}));
    const step = plan.steps[2];
    expect(step).toMatchObject({ action: 'build', reason: 'reads other tables', relationName: 'minutes', isIncremental: true, thisRows: { table: '__this_fix', exists: true } });
  });

  it('is plain data that explains itself: files summarised, not listed', () => {
    const many = Array.from({ length: 3000 }, (_, i) => file(`2020-10-${String(1 + (i % 31)).padStart(2, '0')}`, `f${i}.parquet`));
    const plan = planRun(input([minutes], {}, { listed: new Map([['events', many]]), sources: [{ name: 'events', windowed: true, fromPart: '2020-10-01', partitions: 31, read: true, files: { count: 3000, bytes: 300000, firstPart: '2020-10-01', lastPart: '2020-10-31' } }] }));
    expect(JSON.parse(JSON.stringify(plan)).steps[0].action).toBe('build');
    const text = explainPlan(plan).join('\n');
    expect(text).toContain('source events: window from 2020-10-01 (of 31 partitions), 3,000 files from 2020-10-01 to 2020-10-31');
    expect(text).toMatch(/minutes\s+build upsert\s+first run \(H 2020-10-31 12:19:00; reads 3,000 files from 2020-10-01 to 2020-10-31/);
    expect(text.split('\n')).toHaveLength(4);
  });
});

describe('duckSlots: DuckDB queries of models at once', () => {
  const read = (bytes: number) => ({ sources: [{ name: 'events', windowed: true, read: true, files: { count: 3, bytes } }] });
  it('runs the models side by side when their source inputs fit the batch budget once per thread, and says so', () => {
    const plan = planRun(input([minutes, top], {}, read(1_000), { threads: 4, batchBytes: 4_000 }));
    expect(plan.duckSlots).toBe(4);
    expect(explainPlan(plan).join('\n')).toContain("DuckDB: up to 4 models' queries at once");
  });
  it('one at a time for larger inputs, a single thread, no budget, fewer than two DuckDB models to build, or one reading other models', () => {
    expect(planRun(input([minutes, top], {}, read(1_001), { threads: 4, batchBytes: 4_000 })).duckSlots).toBe(1);
    expect(planRun(input([minutes, top], {}, read(1_000), { threads: 1, batchBytes: 4_000 })).duckSlots).toBe(1);
    expect(planRun(input([minutes, top], {}, read(1_000), { threads: 4 })).duckSlots).toBe(1);
    expect(planRun(input([minutes], {}, read(1_000), { threads: 4, batchBytes: 4_000 })).duckSlots).toBe(1);
    const idle = planRun(input([minutes, top], {}, { ...read(0), idle: true }, { threads: 4, batchBytes: 4_000 }));
    expect(idle.steps.map((s) => s.action)).toEqual(['check', 'check']);
    expect(idle.duckSlots).toBe(1);
    expect(explainPlan(idle).join('\n')).not.toContain('DuckDB:');
    const withRefs = planRun(input([stg, minutes, daily], {}, read(1_000), { threads: 4, batchBytes: 4_000 }));
    expect(withRefs.steps.find((s) => s.model.name === 'daily')?.action).toBe('build');
    expect(withRefs.duckSlots).toBe(1);
  });
});

describe('batchesOf: whole days within a byte budget per DuckDB query', () => {
  const files = [
    { part: '2020-01-01', size: 40 }, { part: '2020-01-01', size: 40 }, { part: '2020-01-02', size: 50 },
    { part: '2020-01-03', size: 250 }, { part: '2020-01-04', size: 10 }, { part: '', size: 999 },
  ];
  it('cuts before the day that would overflow a batch; a day larger than the budget is a batch alone', () => {
    expect(batchesOf('day', files, 150)).toEqual({ column: 'day', bounds: ['2020-01-02', '2020-01-03'] });
    expect(batchesOf('day', files, 100)).toEqual({ column: 'day', bounds: ['2020-01-01', '2020-01-02', '2020-01-03'] });
  });
  it('no batches when every day fits in one query, or without a budget', () => {
    expect(batchesOf('day', files, 400)).toBeUndefined();
    expect(batchesOf('day', files, undefined)).toBeUndefined();
  });
});

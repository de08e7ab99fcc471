import type { ComputeEngine } from '../engines/compute/types.js';
import { throwIfCancelled } from '../core/cancel.js';
import { pausePoint } from '../core/pause-point.js';
import { elapsedSince, type Log } from '../core/progress.js';
import type { Manifest } from '../manifest/types.js';
import type { PartStat } from '../state/partition-state.js';
import type { PreparedSource } from './prepare-source.js';
import { openLocationFor, prepareSources, ruleRenderer } from './prepare-sources.js';
import { logDaysRead, readDays, type DaysRead } from './read-days.js';
import type { ListedFile } from './types.js';

/**
 * A source read the run planned but did not carry out while observing (its rows are not needed to plan):
 * every listed file, or the days a partition-aware read names. Plain data; a dry run prints it.
 */
export type PlannedRead =
  | { readonly kind: 'full'; readonly source: string; readonly files: readonly ListedFile[] }
  | { readonly kind: 'days'; readonly read: DaysRead };

export interface PlannedReadSetup {
  readonly engine: ComputeEngine;
  readonly manifest: Manifest;
  readonly projectDir: string;
  readonly stateDir: string;
  /** The run's values the sources' rules see (`now`). */
  readonly values: Readonly<Record<string, string>>;
  readonly log: Log;
}

export interface ReadSources {
  readonly prepared: ReadonlyMap<string, PreparedSource>;
  /** Day stats of each source read by days (partition-aware models' state records them). */
  readonly stats: ReadonlyMap<string, readonly PartStat[]>;
}

/** Carries out the planned reads, in order, one line each: the execution's first step. */
export async function readPlannedSources(reads: readonly PlannedRead[], setup: PlannedReadSetup): Promise<ReadSources> {
  const prepared = new Map<string, PreparedSource>();
  const stats = new Map<string, readonly PartStat[]>();
  for (const planned of reads) {
    const name = planned.kind === 'full' ? planned.source : planned.read.source;
    await pausePoint('before-read', name);
    throwIfCancelled(); // a signal before a read: nothing more is read
    if (planned.kind === 'full') {
      const source = setup.manifest.sources.get(planned.source)!;
      const listed = new Map([[source.name, planned.files]]);
      for (const [name, p] of await prepareSources(setup.engine, setup.manifest, [source], { ...setup, listed })) prepared.set(name, p);
      continue;
    }
    const { read } = planned;
    const source = setup.manifest.sources.get(read.source)!;
    const started = performance.now();
    const session = await setup.engine.connect();
    try {
      const location = await openLocationFor(source, setup.projectDir, setup.stateDir);
      const done = await readDays(read, { session, source, location, stateDir: setup.stateDir, readOnly: false, renderRule: ruleRenderer(setup.manifest, source, setup.values) });
      logDaysRead(setup.log, read, done.prepared, elapsedSince(started));
      prepared.set(source.name, done.prepared);
      stats.set(source.name, done.stats);
    } finally {
      session.close();
    }
  }
  return { prepared, stats };
}

import { createHash } from 'node:crypto';
import { inputsOf, tempAncestors } from '../graph/temp-models.js';
import { partitionColumnOf, sourceDaysOf } from '../manifest/kind-facts.js';
import type { Manifest, ModelNode } from '../manifest/types.js';
import type { PartStat } from '../state/partition-state.js';
import type { ModelProgress, SeenFile } from '../state/store.js';
import { isIsoDate, parseUtc } from './clock.js';
import { diffFiles, type FileDiff } from './file-diff.js';
import { modelFingerprint } from './values.js';

/**
 * What changed for a partition-aware model (`partition_by`) since its last committed run:
 * - `full`: it must be rebuilt from every file (first run, full refresh, its definition changed...);
 * - `parts`: the days whose files were added, changed or removed, or whose rows left out as "in the
 *   future" may have become valid (before the days sharing keys with those files are added);
 * - `none`: nothing it reads changed.
 */
export type PartitionChange =
  | { readonly kind: 'full'; readonly reason: string }
  | { readonly kind: 'parts'; readonly parts: readonly string[]; readonly diff: FileDiff; readonly reason: string }
  | { readonly kind: 'none' };

/** How the run read a source that partition-aware models read. */
export interface PartitionedRead {
  /** Days read whole (deduplicated over the copies other days hold); undefined: every file was read. */
  readonly parts?: readonly string[];
  /** Stats of the days read. */
  readonly stats: readonly PartStat[];
  /** What changed for each partition-aware reader. */
  readonly changes: ReadonlyMap<string, PartitionChange>;
  /** Why every file was read although the readers are partition-aware. */
  readonly fullBecause?: string;
}

/**
 * A row a rule reading `now` left out (e.g. `event_ts <= now + 5 minutes`) may become valid as the wall
 * clock moves. Its day is read again once `now` is within this slack of the row's clock value, which
 * covers rules that admit rows up to this far ahead of the wall clock (reading a day early costs only time).
 */
export const FUTURE_SLACK_MS = 24 * 3600_000;

export interface PartitionChangeInput {
  readonly model: ModelNode;
  readonly manifest: Manifest;
  readonly previous?: ModelProgress;
  readonly tableExists: boolean;
  readonly fullRefresh: boolean;
  /** The files of the model's sources, as listed now. */
  readonly listed: readonly SeenFile[];
  /** The files its last committed run saw. */
  readonly seen: readonly SeenFile[];
  readonly stats: readonly PartStat[];
  /** Wall clock of the run. */
  readonly now: Date;
}

export function changedPartitions(input: PartitionChangeInput): PartitionChange {
  const { previous } = input;
  if (input.fullRefresh) return { kind: 'full', reason: 'full refresh' };
  if (!previous) return { kind: 'full', reason: 'first run' };
  if (!input.tableExists) return { kind: 'full', reason: 'its table is missing' };
  if (previous.modelHash !== partitionedFingerprint(input.model, input.manifest)) return { kind: 'full', reason: 'model changed' };
  const diff = diffFiles(input.listed, input.seen);
  const touched = [...diff.added, ...diff.removed];
  if (touched.some((f) => !isIsoDate(f.part))) return { kind: 'full', reason: 'a changed file lies outside the date partitions' };
  const byFiles = new Set(touched.map((f) => f.part));
  const byClock = input.stats.filter((s) => s.futureFrom !== null && parseUtc(s.futureFrom).getTime() - FUTURE_SLACK_MS <= input.now.getTime()).map((s) => s.part);
  const parts = [...new Set([...byFiles, ...byClock])].sort();
  if (!parts.length) return { kind: 'none' };
  const reasons: string[] = [];
  if (diff.added.length) reasons.push(`${diff.added.length} new`);
  if (diff.removed.length) reasons.push(`${diff.removed.length} gone`);
  const fileReason = reasons.length ? `${reasons.join(', ')} file${touched.length === 1 ? '' : 's'}` : '';
  const clockReason = byClock.length ? `${byClock.length} day${byClock.length === 1 ? '' : 's'} with rows no longer in the future` : '';
  return { kind: 'parts', parts, diff, reason: [fileReason, clockReason].filter(Boolean).join(', ') };
}

/**
 * What decides a partition-aware model's rows besides its files: its own definition, the temp models
 * it reads through, and the contract of its sources (columns, rules, deduplication), location aside.
 */
export function partitionedFingerprint(model: ModelNode, manifest: Manifest): string {
  const temps = tempAncestors(manifest, model).map((t) => modelFingerprint(t, manifest)).sort();
  const names = new Set([model, ...tempAncestors(manifest, model)].flatMap((m) => m.sources));
  const sources = [...names].sort().map((n) => {
    const s = manifest.sources.get(n);
    return s ? [s.name, s.columns, s.rules, s.dedup, s.datePartition, s.clockColumn, s.hivePartitioning] : n;
  });
  return createHash('sha1').update(JSON.stringify([modelFingerprint(model, manifest), temps, sources])).digest('hex').slice(0, 16);
}

/**
 * Why a source that partition-aware models read must be read whole rather than by days: a reader that reads
 * every day (neither partition-aware nor naming its days with `source_days_of`), a partition-aware reader of
 * several sources, or a model to rebuild in full (first run, full refresh, changed definition...).
 */
export function fullReadReason(readers: readonly ModelNode[], changes: ReadonlyMap<string, PartitionChange>, manifest: Manifest): string | undefined {
  const everyDay = readers.filter((m) => partitionColumnOf(m) === undefined && sourceDaysOf(m) === undefined);
  if (everyDay.length) return `${everyDay.map((m) => m.name).join(', ')} read${everyDay.length === 1 ? 's' : ''} every day`;
  const several = readers.filter((m) => partitionColumnOf(m) !== undefined && inputsOf(manifest, m).sources.size > 1);
  if (several.length) return `${several[0].name} reads several sources`;
  for (const [name, c] of changes) if (c.kind === 'full') return `${name}: ${c.reason}`;
  return undefined;
}

/** Date partitions of a set of changes: the union of the days each model must recompute. */
export function unionOfParts(...sets: readonly (readonly string[])[]): string[] {
  return [...new Set(sets.flat())].sort();
}

/** The rules of a source that read the wall clock (`{{ now }}`): rows they leave out may become valid later. */
export function nowRules(rules: readonly { readonly name: string; readonly check: string }[]): string[] {
  return rules.filter((r) => /\{\{\s*now\s*\}\}/.test(r.check)).map((r) => r.name);
}

/**
 * Stream clock of a partial read: the newest of the days read and of the days kept (from the state).
 * Timestamp texts (`YYYY-MM-DD HH:MM:SS[.f]`, trailing zeros cut as DuckDB and PostgreSQL print them) order as text.
 */
export function clockOfPartialRead(readClock: string | undefined, keptStats: readonly PartStat[]): string | undefined {
  let best = readClock;
  for (const s of keptStats) if (s.maxClock !== null && (best === undefined || s.maxClock > best)) best = s.maxClock;
  return best;
}

import type { SqlSession } from '../engines/compute/types.js';
import { quoteIdent } from '../core/sql-quote.js';
import { qualified, withSession, type Target } from '../engines/target.js';
import { elapsedSince, formatCount, type Log } from '../core/progress.js';
import { inputsOf } from '../graph/temp-models.js';
import type { Manifest, ModelNode, SourceDaysOf, SourceNode } from '../manifest/types.js';
import { changedPartitions, clockOfPartialRead, nowRules, unionOfParts, type PartitionChange, type PartitionedRead } from '../plan/changed-partitions.js';
import { incrementalConfigOf, partitionColumnOf } from '../manifest/kind-facts.js';
import { filesOf, summarize, type ObservedState } from '../plan/plan-run.js';
import type { SourceStep } from '../plan/types.js';
import { keyIndexFile, openKeyIndex, type KeyIndex } from '../sources/key-index.js';
import { prepareSource, readParquetRows, type PreparedSource } from '../sources/prepare-source.js';
import { asSourceError, describePreparedSource } from '../sources/prepare-sources.js';
import { openSchemaMemo, schemaMemoFile, type SchemaMemo } from '../sources/schema-memo.js';
import type { ListedFile, SourceLocation } from '../sources/types.js';
import type { PartStat } from '../state/partition-state.js';
import type { SeenFile } from '../state/store.js';

export interface PartitionedSourceInput {
  readonly duck: SqlSession;
  readonly target: Target;
  readonly manifest: Manifest;
  readonly source: SourceNode;
  readonly location: SourceLocation;
  /** The run's models that read the source (not temp, not locked). */
  readonly readers: readonly ModelNode[];
  readonly state: ObservedState;
  readonly now: Date;
  readonly fullRefresh: boolean;
  /** A dry run: the key index is read and filled, never pruned. */
  readOnly: boolean;
  readonly stateDir: string;
  readonly renderRule: (check: string, rule: string) => string;
  readonly log: Log;
  /** Runs when the run ends (closes the key index when the read failed before it did). */
  readonly cleanups: (() => Promise<void>)[];
}

export interface PartitionedSource {
  readonly prepared: PreparedSource;
  readonly read: PartitionedRead;
  /** Every file of the source, as listed (also those not read). */
  readonly listed: readonly ListedFile[];
  readonly step: SourceStep;
}

/** True when some reader is partition-aware: the source is then read through `readPartitionedSource`. */
export function hasPartitionedReader(readers: readonly ModelNode[]): boolean {
  return readers.some((m) => partitionColumnOf(m) !== undefined);
}

/**
 * A source read by partition-aware models: list every file, find per model what changed since its
 * last run (files per day, the model's definition, rows no longer in the future), widen the changed
 * days to the days holding copies of the changed files' keys (key index), and read only those days,
 * whole, plus the files of other days that hold copies of their keys (to pick each event's winning copy).
 * Other readers must say which days they read (`source_days_of`); otherwise every file is read, as is
 * done on a first run, a full refresh or a changed model.
 */
export async function readPartitionedSource(input: PartitionedSourceInput): Promise<PartitionedSource> {
  try {
    return await readChangedDays(input);
  } catch (err) {
    // Listing, reading and the key index fail as the source's error (exit 2), like every source read.
    throw asSourceError(input.source, err);
  }
}

async function readChangedDays(input: PartitionedSourceInput): Promise<PartitionedSource> {
  const { source, location, readers, manifest, state } = input;
  const started = performance.now();
  const listed = await location.list();
  const listing = new Map([[source.name, listed]]);
  const partitioned = readers.filter((m) => partitionColumnOf(m) !== undefined);
  const changes = new Map<string, PartitionChange>(
    partitioned.map((m) => [m.name, changedPartitions({
      model: m, manifest, previous: state.progress.get(m.name), tableExists: state.existing.has(m.name), fullRefresh: input.fullRefresh,
      listed: filesOf(inputsOf(manifest, m), manifest, listing, undefined), seen: state.seen.get(m.name) ?? [], stats: state.partStats?.get(m.name) ?? [], now: input.now,
    })]),
  );
  const schemas = await openSchemaMemo(schemaMemoFile(input.stateDir, source));
  const index = source.dedup ? await openIndex(input, source as SourceNode & { dedup: { key: string } }, schemas) : undefined;

  let fullBecause = whyFull(readers, changes, manifest, index);
  let days: string[] = [];
  let files: readonly ListedFile[] = [];
  if (!fullBecause) {
    const held = await daysHeldBy(input.target, readers);
    const changedParts = unionOfParts(...[...changes.values()].map((c) => (c.kind === 'parts' ? c.parts : [])));
    if (changedParts.length && index) {
      await index.indexListed(listed);
      const touched = [...changes.values()].flatMap((c) => (c.kind === 'parts' ? [...c.diff.added, ...c.diff.removed] : []));
      if (!index.holds(touched)) fullBecause = 'the key index lacks files removed since the last run';
      else days = unionOfParts(changedParts, await index.partsSharingKeys(touched, listed), held);
    } else days = unionOfParts(changedParts, held);
    if (!fullBecause && days.length) {
      if (index) await index.indexListed(listed);
      const inDays = new Set(days);
      const sharing = new Set(index ? await index.filesSharingKeysWithParts(days, listed) : []);
      files = listed.filter((f) => inDays.has(partOf(source, f)) || sharing.has(f.uri));
    }
  }

  const rules = { nowRules: nowRules(source.rules) };
  let prepared: PreparedSource = fullBecause
      ? await prepareSource(input.duck, source, location, {
        files: listed, renderRule: input.renderRule, partStats: rules, schemas,
        onLoaded: index?.persistent ? (table, names) => index.indexLoaded(table, names, listed) : undefined,
      })
      : days.length
        ? await prepareSource(input.duck, source, location, { files, renderRule: input.renderRule, partStats: rules, keepParts: days, schemas })
        : await prepareSource(input.duck, source, location, { files: [], renderRule: input.renderRule, reader: (d, src) => readParquetRows(d, src, [], []) });
  if (index && !input.readOnly) await index.prune(listed);
  // Detached now, not at the run's end: the models do not read it, and another tm process waiting for its
  // file (it is one writer's at a time) gets it while this run's models are still computing.
  await index?.close();
  schemas.retain(listed);
  await schemas.save();

  const stats = prepared.partStats ?? [];
  let clock = prepared.clock;
  if (!fullBecause) {
    const read = new Set(days);
    const kept = partitioned.flatMap((m) => state.partStats?.get(m.name) ?? []).filter((s) => !read.has(s.part));
    const listedParts = new Set(listed.map((f) => partOf(source, f)));
    clock = clockOfPartialRead(prepared.clock, kept.filter((s) => listedParts.has(s.part)));
    prepared = { ...prepared, clock };
  }
  logRead(input, prepared, { fullBecause, days, listed: listed.length, keysRead: index?.stats.filesRead ?? 0 }, elapsedSince(started));
  const step: SourceStep = {
    name: source.name, windowed: false, read: fullBecause !== undefined || days.length > 0,
    files: summarize(prepared.files.map((f) => ({ size: f.size, part: partOf(source, f) }))),
    days: fullBecause ? undefined : days, listed: summarize(listed.map((f) => ({ size: f.size, part: partOf(source, f) }))),
  };
  return { prepared, listed, step, read: { parts: fullBecause ? undefined : days, stats, changes, fullBecause } };
}

/** Why every file must be read: a reader that reads every day, a model to rebuild in full, no usable key index. */
function whyFull(readers: readonly ModelNode[], changes: ReadonlyMap<string, PartitionChange>, manifest: Manifest, index: KeyIndex | undefined): string | undefined {
  const everyDay = readers.filter((m) => partitionColumnOf(m) === undefined && daysOf(m) === undefined);
  if (everyDay.length) return `${everyDay.map((m) => m.name).join(', ')} read${everyDay.length === 1 ? 's' : ''} every day`;
  const several = readers.filter((m) => partitionColumnOf(m) !== undefined && inputsOf(manifest, m).sources.size > 1);
  if (several.length) return `${several[0].name} reads several sources`;
  for (const [name, c] of changes) if (c.kind === 'full') return `${name}: ${c.reason}`;
  if (index && !index.persistent) return 'the key index is in use by another tm process';
  return undefined;
}

function daysOf(model: ModelNode): SourceDaysOf | undefined {
  return incrementalConfigOf(model)?.sourceDaysOf;
}

/** The UTC days held in the tables named by the readers' `source_days_of` (none when a table does not exist yet). */
async function daysHeldBy(target: Target, readers: readonly ModelNode[]): Promise<string[]> {
  const wanted = [...new Map(readers.flatMap((m) => (daysOf(m) ? [daysOf(m)!] : [])).map((d) => [`${d.model}.${d.column}`, d])).values()];
  if (!wanted.length) return [];
  return withSession(target, async (session) => {
    const out: string[] = [];
    for (const d of wanted) {
      const [{ ok }] = await session.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [qualified(target.schema, d.model)]);
      if (!ok) continue;
      const rows = await session.query<{ day: string }>(
        `SELECT DISTINCT (${quoteIdent(d.column)})::date::text AS day FROM ${qualified(target.schema, d.model)} WHERE ${quoteIdent(d.column)} IS NOT NULL`,
      );
      out.push(...rows.map((r) => r.day));
    }
    return unionOfParts(out);
  });
}

async function openIndex(input: PartitionedSourceInput, source: SourceNode & { readonly dedup: { readonly key: string } }, schemas: SchemaMemo): Promise<KeyIndex> {
  const index = await openKeyIndex(input.duck, source, input.location, keyIndexFile(input.stateDir, source), schemas);
  input.cleanups.push(() => index.close());
  return index;
}

function partOf(source: SourceNode, file: ListedFile | SeenFile): string {
  if ('partitions' in file) return source.datePartition ? (file.partitions[source.datePartition] ?? '') : '';
  return file.part;
}

function logRead(input: PartitionedSourceInput, prepared: PreparedSource, how: { fullBecause?: string; days: readonly string[]; listed: number; keysRead: number }, seconds: number): void {
  const keys = how.keysRead ? `, keys of ${formatCount(how.keysRead)} new files indexed` : '';
  if (how.fullBecause) input.log(`${describePreparedSource(prepared, seconds)}; every file read (${how.fullBecause})${keys}`);
  else if (how.days.length) input.log(`${describePreparedSource(prepared, seconds)}; ${how.days.length} changed day${how.days.length === 1 ? '' : 's'} read of ${formatCount(how.listed)} files listed${keys}`);
  else input.log(`source ${prepared.name}: no file changed in ${formatCount(how.listed)} files; no data read (${seconds.toFixed(2)}s)`);
  for (const bad of prepared.unreadableFiles) input.log(`    skipped file ${bad.uri}: ${bad.reason}`);
}

export type { PartStat };

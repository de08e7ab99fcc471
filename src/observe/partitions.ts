import type { SqlSession } from '../engines/compute/types.js';
import { quoteIdent } from '../core/sql-quote.js';
import { qualified, withSession, type Target } from '../engines/target.js';
import { inputsOf } from '../graph/temp-models.js';
import { partitionColumnOf, sourceDaysOf } from '../manifest/kind-facts.js';
import type { Manifest, ModelNode, SourceNode } from '../manifest/types.js';
import { changedPartitions, fullReadReason, nowRules, unionOfParts, type PartitionChange } from '../plan/changed-partitions.js';
import { filesOf, type ObservedState } from '../plan/plan-run.js';
import { keyIndexFile, openKeyIndex, type KeyIndex } from '../sources/key-index.js';
import { asSourceError } from '../sources/prepare-sources.js';
import type { DaysRead } from '../sources/read-days.js';
import { openSchemaMemo, schemaMemoFile, type SchemaMemo } from '../sources/schema-memo.js';
import type { ListedFile, SourceLocation } from '../sources/types.js';
import type { SeenFile } from '../state/store.js';

export interface PartitionedSourceInput {
  readonly session: SqlSession;
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
  /** Runs when the run ends (closes the key index when planning failed before it did). */
  readonly cleanups: (() => Promise<void>)[];
}

/** What changed for each partition-aware reader, and how the source is to be read. */
export interface PartitionedObservation {
  readonly read: DaysRead;
  readonly changes: ReadonlyMap<string, PartitionChange>;
}

/**
 * True when some reader is partition-aware or names the days it reads (`source_days_of`): the source is
 * then read by days (`observePartitionedSource`), those of the partition-aware readers' changes and
 * those the named tables hold.
 */
export function readsByDays(readers: readonly ModelNode[]): boolean {
  return readers.some((m) => partitionColumnOf(m) !== undefined || sourceDaysOf(m) !== undefined);
}

/**
 * A source read by partition-aware models: list every file, find per model what changed since its
 * last run (files per day, the model's definition, rows no longer in the future), widen the changed
 * days to the days holding copies of the changed files' keys (key index: the keys of new files are the
 * only rows read here), and name the files to read: those days, whole, plus the files of other days that
 * hold copies of their keys (to pick each event's winning copy). Other readers must say which days they
 * read (`source_days_of`); otherwise every file is read, as on a first run, a full refresh or a changed model.
 */
export async function observePartitionedSource(input: PartitionedSourceInput): Promise<PartitionedObservation> {
  try {
    return await changedDays(input);
  } catch (err) {
    // Listing and the key index fail as the source's error (exit 2), like every source read.
    throw asSourceError(input.source, err);
  }
}

async function changedDays(input: PartitionedSourceInput): Promise<PartitionedObservation> {
  const { source, readers, manifest, state } = input;
  const listed = await input.location.list();
  const listing = new Map([[source.name, listed]]);
  const partitioned = readers.filter((m) => partitionColumnOf(m) !== undefined);
  const changes = new Map<string, PartitionChange>(
    partitioned.map((m) => [m.name, changedPartitions({
      model: m, manifest, previous: state.progress.get(m.name), tableExists: state.existing.has(m.name), fullRefresh: input.fullRefresh,
      listed: filesOf(inputsOf(manifest, m), manifest, listing, undefined), seen: state.seen.get(m.name) ?? [], stats: state.partStats?.get(m.name) ?? [], now: input.now,
    })]),
  );
  const rules = nowRules(source.rules);
  const full = (fullBecause: string, keysRead = 0): PartitionedObservation => ({ read: { source: source.name, listed, fullBecause, days: [], files: [], nowRules: rules, keysRead }, changes });
  const because = fullReadReason(readers, changes, manifest);
  if (because) return full(because);
  // The key index is opened only when some days may be read alone (a full read fills it from the rows it loads).
  const schemas = await openSchemaMemo(schemaMemoFile(input.stateDir, source));
  const index = source.dedup ? await openIndex(input, source as SourceNode & { dedup: { key: string } }, schemas) : undefined;
  try {
    if (index && !index.persistent) return full('the key index is in use by another tm process');
    const held = await daysHeldBy(input.target, readers);
    const changedParts = unionOfParts(...[...changes.values()].map((c) => (c.kind === 'parts' ? c.parts : [])));
    let days: string[];
    if (changedParts.length && index) {
      await index.indexListed(listed);
      const touched = [...changes.values()].flatMap((c) => (c.kind === 'parts' ? [...c.diff.added, ...c.diff.removed] : []));
      if (!index.holds(touched)) return full('the key index lacks files removed since the last run', index.stats.filesRead);
      days = unionOfParts(changedParts, await index.partsSharingKeys(touched, listed), held);
    } else days = unionOfParts(changedParts, held);
    let files: readonly ListedFile[] = [];
    if (days.length) {
      if (index) await index.indexListed(listed);
      const inDays = new Set(days);
      const sharing = new Set(index ? await index.filesSharingKeysWithParts(days, listed) : []);
      files = listed.filter((f) => inDays.has(partOf(source, f)) || sharing.has(f.uri));
    }
    if (index && !input.readOnly) await index.prune(listed);
    return { read: { source: source.name, listed, days, files, nowRules: rules, keysRead: index?.stats.filesRead ?? 0 }, changes };
  } finally {
    // Detached now, not at the run's end: another tm process waiting for its file (it is one writer's at a
    // time) gets it while this run's models are still computing.
    await index?.close();
    // Footers the key index read are remembered for the read (a dry run too, as the read's own memo does).
    await schemas.save();
  }
}

/** The UTC days held in the tables named by the readers' `source_days_of` (none when a table does not exist yet). */
async function daysHeldBy(target: Target, readers: readonly ModelNode[]): Promise<string[]> {
  const wanted = [...new Map(readers.flatMap((m) => (sourceDaysOf(m) ? [sourceDaysOf(m)!] : [])).map((d) => [`${d.model}.${d.column}`, d])).values()];
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
  const index = await openKeyIndex(input.session, source, input.location, keyIndexFile(input.stateDir, source), schemas);
  input.cleanups.push(() => index.close());
  return index;
}

function partOf(source: SourceNode, file: ListedFile | SeenFile): string {
  if ('partitions' in file) return source.datePartition ? (file.partitions[source.datePartition] ?? '') : '';
  return file.part;
}


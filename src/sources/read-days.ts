import type { SqlSession } from '../engines/compute/types.js';
import { formatCount, type Log } from '../core/progress.js';
import type { SourceNode } from '../manifest/types.js';
import type { PartStat } from '../state/partition-state.js';
import { keyIndexFile, openKeyIndex } from './key-index.js';
import { prepareSource, readParquetRows, type PreparedSource } from './prepare-source.js';
import { asSourceError, describePreparedSource } from './prepare-sources.js';
import { openSchemaMemo, schemaMemoFile } from './schema-memo.js';
import type { ListedFile, SourceLocation } from './types.js';

/**
 * How a source that partition-aware models read is read, decided from its listing, the models' state and
 * the key index (observe/partitions.ts): plain data, printed by a dry run and carried out by `readDays`.
 */
export interface DaysRead {
  readonly source: string;
  /** Every file of the source, as listed. */
  readonly listed: readonly ListedFile[];
  /** Why every file is read (then `days` and `files` are empty). */
  readonly fullBecause?: string;
  /** Days read whole (deduplicated over the copies other days hold). */
  readonly days: readonly string[];
  /** Files read for `days`: theirs, and the files of other days that hold copies of their keys. */
  readonly files: readonly ListedFile[];
  /** Rules that read `now` (their rows' earliest clock per day is recorded). */
  readonly nowRules: readonly string[];
  /** Keys of new files read while planning (for the log line). */
  readonly keysRead: number;
}

export interface DaysReadSetup {
  readonly session: SqlSession;
  readonly source: SourceNode;
  readonly location: SourceLocation;
  readonly stateDir: string;
  readonly renderRule: (check: string, rule: string) => string;
  /** A dry run: the key index is filled, never pruned. */
  readonly readOnly: boolean;
}

/**
 * Reads the days a `DaysRead` names, or every file, through the source's rules and deduplication; a
 * full read also fills the key index from the loaded rows (so the next run knows which day holds which key).
 * Returns the prepared source and the stats of the days read.
 */
export async function readDays(read: DaysRead, setup: DaysReadSetup): Promise<{ prepared: PreparedSource; stats: readonly PartStat[] }> {
  const { session, source, location, renderRule } = setup;
  try {
    const schemas = await openSchemaMemo(schemaMemoFile(setup.stateDir, source));
    const partStats = { nowRules: read.nowRules };
    let prepared: PreparedSource;
    if (read.fullBecause !== undefined) {
      const dedup = source.dedup;
      const index = dedup ? await openKeyIndex(session, { ...source, dedup }, location, keyIndexFile(setup.stateDir, source), schemas) : undefined;
      try {
        prepared = await prepareSource(session, source, location, {
          files: read.listed, renderRule, partStats, schemas,
          onLoaded: index?.persistent ? (table, names) => index.indexLoaded(table, names, read.listed) : undefined,
        });
        if (index && !setup.readOnly) await index.prune(read.listed);
      } finally {
        await index?.close();
      }
    } else if (read.days.length) {
      prepared = await prepareSource(session, source, location, { files: read.files, renderRule, partStats, keepParts: read.days, schemas });
    } else {
      prepared = await prepareSource(session, source, location, { files: [], renderRule, reader: (d, src) => readParquetRows(d, src, [], []) });
    }
    schemas.retain(read.listed);
    await schemas.save();
    return { prepared, stats: prepared.partStats ?? [] };
  } catch (err) {
    // Listing, reading and the key index fail as the source's error (exit 2), like every source read.
    throw asSourceError(source, err);
  }
}

/** One line on what a partition-aware read read. */
export function logDaysRead(log: Log, read: DaysRead, prepared: PreparedSource, seconds: number): void {
  const keys = read.keysRead ? `, keys of ${formatCount(read.keysRead)} new files indexed` : '';
  if (read.fullBecause !== undefined) log(`${describePreparedSource(prepared, seconds)}; every file read (${read.fullBecause})${keys}`);
  else if (read.days.length) log(`${describePreparedSource(prepared, seconds)}; ${read.days.length} changed day${read.days.length === 1 ? '' : 's'} read of ${formatCount(read.listed.length)} files listed${keys}`);
  else log(`source ${prepared.name}: no file changed in ${formatCount(read.listed.length)} files; no data read (${seconds.toFixed(2)}s)`);
  for (const bad of prepared.unreadableFiles) log(`    skipped file ${bad.uri}: ${bad.reason}`);
}

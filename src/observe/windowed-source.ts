import type { SqlSession } from '../engines/compute/types.js';
import type { SourceNode } from '../manifest/types.js';
import { prepareSource, type PreparedSource } from '../sources/prepare-source.js';
import type { ListedFile, PartitionFilter, SourceLocation } from '../sources/types.js';
import type { SourceCache } from '../sources/window-cache.js';
import { dateOf, endOfDay, isIsoDate } from '../plan/clock.js';

export interface WindowedSourceInput {
  readonly duck: SqlSession;
  readonly source: SourceNode & { readonly datePartition: string };
  readonly location: SourceLocation;
  readonly cache: SourceCache;
  readonly renderRule: (check: string, ruleName: string) => string;
  /** Earliest event time (timestamp text) that the run's models read when the stream clock is `clock`. */
  readonly earliestNeeded: (clock: string) => Promise<string>;
  /** A likely clock (e.g. the one the previous run reached), to find the window in one pass. */
  readonly guessClock?: string;
}

export interface WindowedSource {
  readonly prepared: PreparedSource;
  /** Oldest date partition read (`YYYY-MM-DD`); undefined when the source has no dated partitions. */
  readonly fromPart?: string;
  /** Date partitions that exist (from folder names only). */
  readonly partitions: number;
}

const MAX_PASSES = 8;

/**
 * Prepares a source from only the date partitions its readers need, without knowing the stream clock
 * beforehand: the clock is the newest valid event, and the window is measured back from it. Start
 * from a likely clock (the last one reached, else the newest folder), read the partitions from the
 * window's first day on, compute the clock, and widen when the window starts earlier than what was
 * read (or look further back when the newest folders hold no valid event). Folder names alone are
 * listed for the rest: older partitions are never walked.
 */
export async function prepareWindowedSource(input: WindowedSourceInput): Promise<WindowedSource> {
  const { source, location } = input;
  const column = source.datePartition;
  const dates = await partitionDates(location, column);
  const newest = dates[dates.length - 1];
  if (!newest) {
    const prepared = await prepareFrom(input, undefined);
    return { prepared, partitions: 0 };
  }
  let guess = input.guessClock && dateOf(input.guessClock) === newest ? input.guessClock : endOfDay(newest);
  let from = dateOf(await input.earliestNeeded(guess));
  let prepared = await prepareFrom(input, from);
  for (let pass = 1; pass < MAX_PASSES; pass++) {
    if (prepared.clock) {
      const needed = dateOf(await input.earliestNeeded(prepared.clock));
      if (needed >= from) break;
      from = needed;
    } else {
      const older = dates.filter((d) => d < from);
      if (!older.length) break;
      guess = endOfDay(older[older.length - 1]);
      from = dateOf(await input.earliestNeeded(guess));
    }
    prepared = await prepareFrom(input, from);
  }
  return { prepared, fromPart: from, partitions: dates.length };
}

async function prepareFrom(input: WindowedSourceInput, from: string | undefined): Promise<PreparedSource> {
  const column = input.source.datePartition;
  const filter: PartitionFilter | undefined = from
    ? (p) => !(column in p) || !isIsoDate(p[column]) || p[column] >= from
    : undefined;
  const files: ListedFile[] = await input.location.list(filter);
  return prepareSource(input.duck, input.source, input.location, {
    files,
    renderRule: input.renderRule,
    reader: input.cache.reader({ fromPart: from }),
  });
}

/** Values of the date partition column, from folder names only (the filter refuses every folder). */
async function partitionDates(location: SourceLocation, column: string): Promise<string[]> {
  const seen = new Set<string>();
  await location.list((p) => {
    const v = p[column];
    if (v !== undefined && isIsoDate(v)) seen.add(v);
    return false;
  });
  return [...seen].sort();
}

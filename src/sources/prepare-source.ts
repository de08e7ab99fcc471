import type { SqlSession } from '../engines/compute/types.js';
import { quoteFilePath, quoteIdent, quoteLiteral } from '../core/sql-quote.js';
import { partitionProblems } from './partition-check.js';
import type { SourceNode } from '../manifest/types.js';
import { checkFileSchemas, familyOfDeclared, firstLine } from './file-schema.js';
import type { SchemaMemo } from './schema-memo.js';
import type { ListedFile, PartitionFilter, SourceLocation } from './types.js';
import type { PartStat } from '../state/partition-state.js';

/** The source as models see it in DuckDB, and what was left out on the way. */
export interface PreparedSource {
  readonly name: string;
  /** DuckDB relation (table, or view over a cache) of the valid, deduplicated rows: what `{{source "name"}}` renders to. */
  readonly relation: string;
  /** DuckDB relation holding at least every excluded row read, with `_tm_file` and `_tm_rule` (the first broken rule; NULL when valid). */
  readonly flaggedRelation: string;
  readonly files: readonly ListedFile[];
  readonly unreadableFiles: readonly { readonly uri: string; readonly reason: string }[];
  readonly rowsRead: number;
  /** Rows excluded by each broken rule (a row counts under its first broken rule). */
  readonly excluded: Readonly<Record<string, number>>;
  /** The same per file (its URI): rule by rule in the contract's order, then by file. */
  readonly excludedByFile: readonly { readonly file: string; readonly rule: string; readonly rows: number }[];
  /** Valid rows dropped as extra copies of a dedup key. */
  readonly duplicates: number;
  readonly validRows: number;
  /** Largest clock column value among valid rows (`YYYY-MM-DD HH:MM:SS[.f]`), when the source has a clock. */
  readonly clock?: string;
  /** Per date partition read (of `keepParts` when given): newest valid clock value, earliest row left out by a `now` rule. */
  readonly partStats?: readonly PartStat[];
}

export interface PrepareOptions {
  /** Renders the rule checks (Handlebars with `now` and vars). */
  readonly renderRule: (check: string, ruleName: string) => string;
  readonly filter?: PartitionFilter;
  /** Set when the caller already listed the files (e.g. to compare them with the state). */
  readonly files?: readonly ListedFile[];
  /** Reads the files' rows some other way than straight from Parquet (e.g. from a local cache). */
  readonly reader?: RawReader;
  /** Schemas of files checked in earlier runs (the default reader reads only the others' footers). */
  readonly schemas?: SchemaMemo;
  /**
   * Only these date partitions' rows stay in the relation, after deduplication over every file read
   * (files of other days are read only for the copies they hold).
   */
  readonly keepParts?: readonly string[];
  /** Compute `partStats`: the rules named here read `now` (rows they leave out may become valid later). */
  readonly partStats?: { readonly nowRules: readonly string[] };
  /** Sees the rows read (before rules and deduplication) in a DuckDB table, `_tm_file` a file number named by `fileNames`. */
  readonly onLoaded?: (table: string, fileNames: string | undefined) => Promise<void>;
}

/** Rows of the listed files, as a DuckDB query with the source's declared columns (cast) and `_tm_file`. */
export interface RawRows {
  readonly select: string;
  readonly unreadableFiles: readonly { readonly uri: string; readonly reason: string }[];
  /**
   * The rows already sit in a DuckDB table (e.g. the window cache) and `select` also gives each a
   * stable `_tm_row` id: they are flagged through views, not copied, so that later queries' filters
   * (a time window) reach that table's scan.
   */
  readonly inDuckDb?: boolean;
  /** `_tm_file` is a file number: this DuckDB table (`no`, `uri`) names the files. */
  readonly fileNames?: string;
  /**
   * The Parquet files `select` reads and their string columns: a file whose strings DuckDB cannot decode
   * fails the query that reads it (only then, not its schema check), naming the file (see `withoutFailingFiles`).
   */
  readonly parquet?: { readonly files: readonly ReadFile[]; readonly stringColumns: readonly string[] };
}

/** A file as read: where DuckDB reads it, and its URI. */
export interface ReadFile {
  readonly local: string;
  readonly uri: string;
}

export type SkippedFile = { readonly uri: string; readonly reason: string };

export type RawReader = (duck: SqlSession, source: SourceNode, files: readonly ListedFile[]) => Promise<RawRows>;

export function sourceRelation(name: string): string {
  return quoteIdent(`__src_${name}`);
}

/** Lists, checks and exposes a source to DuckDB; bad files are reported, the good ones still used. */
export async function prepareSource(duck: SqlSession, source: SourceNode, location: SourceLocation, options: PrepareOptions): Promise<PreparedSource> {
  const files = options.files ?? (await location.list(options.filter));
  const raw = quoteIdent(`__src_${source.name}__raw`);
  const reader = options.reader ?? parquetReader(location, options.schemas);
  return withoutFailingFiles(files, async (usable, skipped) => {
    const read = await reader(duck, source, usable);
    await duck.run(`CREATE OR REPLACE VIEW ${raw} AS ${read.select}`);
    const all = { ...read, unreadableFiles: [...read.unreadableFiles, ...skipped] };
    return { read, result: () => describeSource(duck, source, files, all, options) };
  }, duck);
}

/** Attempts at a read that keep failing on files DuckDB names (each attempt skips at least one more file). */
const MAX_READ_ATTEMPTS = 20;

/**
 * Runs a read of `files`, and again without the files it failed on: a Parquet file whose schema is fine
 * can still fail when its rows are decoded (strings that are not UTF-8, a corrupt page), and DuckDB then
 * names it. Such a file is skipped with its reason like a file that cannot be opened, the others still
 * read. After the first such failure the read's string columns are scanned file by file, so that many bad
 * files cost one scan rather than one read each. `attempt` returns the read and what finishes it.
 */
export async function withoutFailingFiles<T>(
  files: readonly ListedFile[],
  attempt: (usable: readonly ListedFile[], skipped: readonly SkippedFile[]) => Promise<{ read: RawRows; result: () => Promise<T> }>,
  duck: SqlSession,
): Promise<T> {
  const skipped = new Map<string, string>();
  for (let n = 1; ; n++) {
    const usable = skipped.size ? files.filter((f) => !skipped.has(f.uri)) : files;
    const { read, result } = await attempt(usable, [...skipped].map(([uri, reason]) => ({ uri, reason })));
    try {
      return await result();
    } catch (err) {
      const named = read.parquet && n < MAX_READ_ATTEMPTS ? fileNamedBy(err, read.parquet.files) : undefined;
      if (!named || !read.parquet) throw err;
      skipped.set(named.uri, named.reason);
      for (const bad of await undecodableFiles(duck, read.parquet.files.filter((f) => !skipped.has(f.uri)), read.parquet.stringColumns)) skipped.set(bad.uri, bad.reason);
    }
  }
}

/** The file (of `files`) an error names, DuckDB quoting its path, with the error as its reason. */
function fileNamedBy(err: unknown, files: readonly ReadFile[]): SkippedFile | undefined {
  const message = err instanceof Error ? err.message : String(err);
  const file = files.find((f) => message.includes(`"${f.local}"`));
  if (!file) return undefined;
  const reason = firstLine(message).replace(` in Parquet file "${file.local}"`, '').replace(/^Invalid Input Error: /, '');
  return { uri: file.uri, reason: `cannot read Parquet: ${reason}` };
}

/**
 * Files whose strings DuckDB cannot decode, found by reading only the string columns: one query over the
 * files, restarted a little before each file it fails on (files are read roughly in order, a few at once).
 * A file it misses still fails the real read, which then skips it too.
 */
async function undecodableFiles(duck: SqlSession, files: readonly ReadFile[], stringColumns: readonly string[]): Promise<SkippedFile[]> {
  if (!stringColumns.length) return [];
  const found = new Map<string, SkippedFile>();
  let from = 0;
  for (let n = 0; n <= files.length; n++) {
    const rest = files.slice(from).filter((f) => !found.has(f.uri));
    if (!rest.length) break;
    try {
      await duck.all(`SELECT ${stringColumns.map((c) => `count(${c})`).join(', ')} FROM read_parquet([${rest.map((f) => quoteFilePath(f.local)).join(', ')}], union_by_name = true)`);
      break;
    } catch (err) {
      const bad = fileNamedBy(err, rest);
      if (!bad) break; // another failure: the real read reports it
      found.set(bad.uri, bad);
      from = Math.max(from, files.findIndex((f) => f.uri === bad.uri) - 16);
    }
  }
  return [...found.values()];
}

/** The default reader: fetches the files (remote ones into the download cache) and reads them with read_parquet. */
export function parquetReader(location: SourceLocation, schemas?: SchemaMemo): RawReader {
  return async (duck, source, files) => {
    const localPaths = await location.fetch(files);
    return readParquetRows(duck, source, files, localPaths, { fileNumbers: true, schemas });
  };
}

/**
 * Checks the files' schemas and returns the query that reads the good ones (declared columns cast,
 * `_tm_file` = the file's URI, `_tm_row` = the row's number in its file); `localPaths` are where the
 * files can be read, in the same order. With `fileNumbers`, `_tm_file` is the file's number in URI order
 * instead (a path string on every row costs memory and time on millions of rows) and the returned
 * `fileNames` table maps it back to the URI.
 */
export async function readParquetRows(
  duck: SqlSession, source: SourceNode, files: readonly ListedFile[], localPaths: readonly string[],
  options: { readonly fileNumbers?: boolean; readonly schemas?: SchemaMemo } = {},
): Promise<RawRows> {
  const partitionColumns = new Set(files.flatMap((f) => Object.keys(f.partitions)));
  const checks = await checkFileSchemas(duck, localPaths, source.columns, partitionColumns, options.schemas && { schemas: options.schemas, files });
  const badFolders = await partitionProblems(duck, source, files);
  const good: { local: string; uri: string }[] = [];
  const unreadableFiles: { uri: string; reason: string }[] = [];
  checks.forEach((check, i) => {
    const problem = badFolders.get(files[i].uri) ?? check.problem;
    if (problem) unreadableFiles.push({ uri: files[i].uri, reason: problem });
    else good.push({ local: localPaths[i], uri: files[i].uri });
  });
  // Byte order of the URIs, so that file numbers order dedup ties as the URIs do.
  if (options.fileNumbers) good.sort((x, y) => Buffer.compare(Buffer.from(x.uri), Buffer.from(y.uri)));
  const present = new Set(checks.filter((c) => !c.problem).flatMap((c) => [...c.columns]));
  for (const p of partitionColumns) present.add(p);

  const remote = good.some((g) => g.local !== g.uri);
  // Remote files sit in the download cache, whose paths have no Hive folders: their partition values come
  // from the listed keys (a file map joined on the file's position in the read list).
  const fromMap = (name: string) => remote && partitionColumns.has(name);
  const columnList = source.columns
    .map((c) => {
      const ref = fromMap(c.name) ? `m.${quoteIdent(c.name)}` : present.has(c.name) ? `r.${quoteIdent(c.name)}` : 'NULL';
      return `CAST(${ref} AS ${c.type}) AS ${quoteIdent(c.name)}`;
    })
    .join(', ');
  if (good.length === 0) {
    const nulls = source.columns.map((c) => `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`).join(', ');
    return { select: `SELECT ${nulls}, CAST(NULL AS VARCHAR) AS _tm_file, CAST(NULL AS BIGINT) AS _tm_row WHERE false`, unreadableFiles };
  }
  const list = good.map((g) => quoteFilePath(g.local)).join(', ');
  const hive = source.hivePartitioning && !remote;
  const stringColumns = source.columns
    .filter((c) => familyOfDeclared(c.type) === 'string' && present.has(c.name) && !partitionColumns.has(c.name))
    .map((c) => quoteIdent(c.name));
  const parquet = { files: good, stringColumns };
  const read = `read_parquet([${list}], hive_partitioning = ${hive}, union_by_name = true, filename = '_tm_local', file_row_number = true)`;
  const needMap = remote || options.fileNumbers;
  if (!needMap) return { select: `SELECT ${columnList}, r._tm_local AS _tm_file, r.file_row_number AS _tm_row FROM ${read} r`, unreadableFiles, parquet };
  // The file names of a source's run table keep one name; a window cache's batches each get their own map.
  const fileMap = quoteIdent(options.fileNumbers ? `__src_${source.name}__file_names` : `__src_${source.name}__files_${fileMapSeq++}`);
  const partCols = remote ? [...partitionColumns] : [];
  const byUri = new Map(files.map((f) => [f.uri, f]));
  await duck.run(`CREATE OR REPLACE TABLE ${fileMap} (no INTEGER, uri VARCHAR${partCols.map((p) => `, ${quoteIdent(p)} VARCHAR`).join('')})`);
  await duck.run(
    `INSERT INTO ${fileMap} VALUES ${good
      .map((g, i) => `(${i}, ${[g.uri, ...partCols.map((p) => byUri.get(g.uri)?.partitions[p])].map((v) => (v === undefined ? 'NULL' : quoteLiteral(v))).join(', ')})`)
      .join(', ')}`,
  );
  const fileColumn = options.fileNumbers ? 'CAST(r.file_index AS INTEGER)' : 'm.uri';
  const from = remote ? `${read} r JOIN ${fileMap} m ON m.no = r.file_index` : `${read} r`;
  return {
    select: `SELECT ${columnList}, ${fileColumn} AS _tm_file, r.file_row_number AS _tm_row FROM ${from}`,
    unreadableFiles,
    fileNames: options.fileNumbers ? fileMap : undefined,
    parquet,
  };
}

let fileMapSeq = 0;

/** Flags rows by the source's rules, deduplicates, and counts what was read and left out. */
async function describeSource(
  duck: SqlSession, source: SourceNode, files: readonly ListedFile[],
  read: RawRows, options: PrepareOptions,
): Promise<PreparedSource> {
  const { unreadableFiles, fileNames } = read;
  const inDuckDb = read.inDuckDb ?? false;
  const raw = quoteIdent(`__src_${source.name}__raw`);
  const flagged = quoteIdent(`__src_${source.name}__flagged`);
  const clean = sourceRelation(source.name);
  const losers = quoteIdent(`__src_${source.name}__dropped_copies`);
  const ruleCase = source.rules.length
    ? `CASE ${source.rules.map((r) => `WHEN (${options.renderRule(r.check, r.name)}) IS NOT TRUE THEN ${quoteLiteral(r.name)}`).join(' ')} END`
    : 'CAST(NULL AS VARCHAR)';
  const cols = source.columns.map((c) => quoteIdent(c.name)).join(', ');
  // A DuckDB kept between runs (`--every`) may hold these names as tables or as views from an earlier run.
  for (const name of [flagged, clean]) {
    await duck.run(`DROP TABLE IF EXISTS ${name}`).catch(() => undefined);
    await duck.run(`DROP VIEW IF EXISTS ${name}`).catch(() => undefined);
  }
  // Rows the later queries filter by time (the window cache) stay behind views, so that the filter reaches the
  // cache's scan. Rows read from files are read once into a table that every model then scans, instead of
  // thousands of files each (measured on 5.3M events in 6,445 files: 2-3 s per file scan against 0.1-0.5 s
  // per table scan).
  const materialize = !inDuckDb;
  const all = materialize ? quoteIdent(`__src_${source.name}__all`) : flagged;
  await duck.run(`CREATE OR REPLACE ${materialize ? 'TABLE' : 'VIEW'} ${all} AS SELECT *, ${ruleCase} AS _tm_rule FROM ${raw}`);
  if (source.dedup) {
    // Copies are rare: find candidate keys by a 64-bit hash (cheap to group), then rank the real keys of those only.
    const key = quoteIdent(source.dedup.key);
    await duck.run(
      `CREATE OR REPLACE TABLE ${losers} AS
         WITH valid AS (SELECT ${materialize ? 'rowid AS _tm_rowid, ' : ''}* FROM ${all} WHERE _tm_rule IS NULL),
              candidates AS (SELECT hash(${key}) AS h FROM valid GROUP BY h HAVING count(*) > 1)
         SELECT ${materialize ? '_tm_rowid' : '_tm_file, _tm_row'} FROM valid WHERE hash(${key}) IN (SELECT h FROM candidates)
         QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY ${source.dedup.order}, _tm_file) > 1`,
    );
  }

  if (materialize && options.onLoaded) await options.onLoaded(all, fileNames);
  const partStats = options.partStats && source.datePartition ? await statsByPart(duck, source, all, options.partStats.nowRules, options.keepParts) : undefined;

  // File numbers (see readParquetRows) are named by their URI wherever a file is reported.
  const fileUri = (column: string) => (fileNames ? `(SELECT uri FROM ${fileNames} WHERE no = ${column})` : column);
  const clock = source.clockColumn ? `CAST(max(${quoteIdent(source.clockColumn)}) AS VARCHAR)` : 'NULL';
  // Valid rows form one group; excluded rows one group per file and rule (for the per-file report).
  const counts = await duck.all<{ file: string | null; rule: string | null; n: string | number; dropped: string | number; clock: string | null }>(
    `SELECT ${fileUri('file')} AS file, rule, n, dropped, clock FROM (
       SELECT CASE WHEN _tm_rule IS NOT NULL THEN _tm_file END AS file, _tm_rule AS rule, count(*) AS n, ${source.dedup ? `(SELECT count(*) FROM ${losers})` : '0'} AS dropped,
              CASE WHEN _tm_rule IS NULL THEN ${clock} END AS clock FROM ${all} GROUP BY 1, 2)`,
  );

  if (materialize) {
    // Only the excluded rows are read again (quarantine): they move to a table of their own, named by URI.
    await duck.run(
      `CREATE OR REPLACE TABLE ${flagged} AS SELECT * REPLACE (${fileUri('_tm_file')} AS _tm_file) FROM ${all} WHERE _tm_rule IS NOT NULL`,
    );
    // Filtered by the view, not deleted: a DELETE of rows spread over the table leaves per-vector version
    // info that DuckDB cannot evict (8 bytes a row: 430 MB of a 600MB cap at 53M events, every model then
    // out of memory). The extra copies are few: their anti-join is a small hash table per scan.
    const inside = options.keepParts && source.datePartition ? ` AND ${partText(source.datePartition)} IN (${options.keepParts.map(quoteLiteral).join(', ') || 'NULL'})` : '';
    const kept = source.dedup ? ` AND rowid NOT IN (SELECT _tm_rowid FROM ${losers})` : '';
    await duck.run(`CREATE OR REPLACE VIEW ${clean} AS SELECT ${cols} FROM ${all} WHERE _tm_rule IS NULL${kept}${inside}`);
  } else if (source.dedup) {
    await duck.run(`CREATE OR REPLACE VIEW ${clean} AS SELECT ${cols} FROM ${all} f WHERE _tm_rule IS NULL AND NOT EXISTS (SELECT 1 FROM ${losers} l WHERE l._tm_file = f._tm_file AND l._tm_row = f._tm_row)`);
  } else {
    await duck.run(`CREATE OR REPLACE VIEW ${clean} AS SELECT ${cols} FROM ${all} WHERE _tm_rule IS NULL`);
  }
  const excluded: Record<string, number> = {};
  const byFile: { file: string; rule: string; rows: number }[] = [];
  let rowsRead = 0;
  let validRows = 0;
  let duplicates = 0;
  let clockValue: string | undefined;
  for (const c of counts) {
    const n = Number(c.n);
    rowsRead += n;
    if (c.rule === null) {
      duplicates = Number(c.dropped);
      validRows = n - duplicates;
      clockValue = c.clock ?? undefined;
    } else {
      excluded[c.rule] = (excluded[c.rule] ?? 0) + n;
      byFile.push({ file: c.file ?? '', rule: c.rule, rows: n });
    }
  }
  // Report rules in the order the contract declares them.
  const ordered: Record<string, number> = {};
  for (const r of source.rules) if (excluded[r.name]) ordered[r.name] = excluded[r.name];
  const ruleOrder = new Map(source.rules.map((r, i) => [r.name, i]));
  const excludedByFile = byFile.sort((a, b) => ruleOrder.get(a.rule)! - ruleOrder.get(b.rule)! || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { name: source.name, relation: clean, flaggedRelation: flagged, files, unreadableFiles, rowsRead, excluded: ordered, excludedByFile, duplicates, validRows, clock: clockValue, partStats };
}

const partText = (column: string) => `CAST(${quoteIdent(column)} AS VARCHAR)`;

/** Newest valid clock value and earliest row left out by a `now` rule, per date partition (before deduplication). */
async function statsByPart(duck: SqlSession, source: SourceNode, all: string, nowRules: readonly string[], keepParts: readonly string[] | undefined): Promise<PartStat[]> {
  const part = partText(source.datePartition!);
  const clock = source.clockColumn ? quoteIdent(source.clockColumn) : undefined;
  const rules = nowRules.map(quoteLiteral).join(', ');
  const rows = await duck.all<{ part: string; max_clock: string | null; future_from: string | null }>(
    `SELECT ${part} AS part,
            ${clock ? `CAST(max(${clock}) FILTER (WHERE _tm_rule IS NULL) AS VARCHAR)` : 'NULL'} AS max_clock,
            ${clock && rules ? `CAST(min(${clock}) FILTER (WHERE _tm_rule IN (${rules})) AS VARCHAR)` : 'NULL'} AS future_from
       FROM ${all} WHERE ${part} IS NOT NULL${keepParts ? ` AND ${part} IN (${keepParts.map(quoteLiteral).join(', ') || 'NULL'})` : ''}
      GROUP BY 1 ORDER BY 1`,
  );
  return rows.map((r) => ({ part: r.part, maxClock: r.max_clock, futureFrom: r.future_from }));
}

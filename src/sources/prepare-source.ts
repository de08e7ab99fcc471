import type { DuckSession } from '../engines/duckdb.js';
import { quoteIdent, quoteLiteral } from '../engines/duckdb.js';
import type { SourceNode } from '../manifest/types.js';
import { checkFileSchemas } from './file-schema.js';
import type { ListedFile, PartitionFilter, SourceLocation } from './types.js';

/** The source as models see it in DuckDB, and what was left out on the way. */
export interface PreparedSource {
  readonly name: string;
  /** DuckDB view of the valid, deduplicated rows: what `{{source "name"}}` renders to. */
  readonly relation: string;
  /** DuckDB view of every row read, with `_tm_file` and `_tm_rule` (the first broken rule, NULL when valid). */
  readonly flaggedRelation: string;
  readonly files: readonly ListedFile[];
  readonly unreadableFiles: readonly { readonly uri: string; readonly reason: string }[];
  readonly rowsRead: number;
  /** Rows excluded by each broken rule (a row counts under its first broken rule). */
  readonly excluded: Readonly<Record<string, number>>;
  /** Valid rows dropped as extra copies of a dedup key. */
  readonly duplicates: number;
  readonly validRows: number;
  /** Largest clock column value among valid rows (`YYYY-MM-DD HH:MM:SS[.f]`), when the source has a clock. */
  readonly clock?: string;
}

export interface PrepareOptions {
  /** Renders the rule checks (Handlebars with `now` and vars). */
  readonly renderRule: (check: string, ruleName: string) => string;
  readonly filter?: PartitionFilter;
  /** Set when the caller already listed the files (e.g. to compare them with the state). */
  readonly files?: readonly ListedFile[];
}

export function sourceRelation(name: string): string {
  return quoteIdent(`__src_${name}`);
}

/** Lists, checks and exposes a source to DuckDB; bad files are reported, the good ones still used. */
export async function prepareSource(duck: DuckSession, source: SourceNode, location: SourceLocation, options: PrepareOptions): Promise<PreparedSource> {
  const files = options.files ?? (await location.list(options.filter));
  const localPaths = await location.fetch(files);
  const partitionColumns = new Set(files.flatMap((f) => Object.keys(f.partitions)));
  const checks = await checkFileSchemas(duck, localPaths, source.columns, partitionColumns);
  const good: { local: string; uri: string }[] = [];
  const unreadableFiles: { uri: string; reason: string }[] = [];
  checks.forEach((check, i) => {
    if (check.problem) unreadableFiles.push({ uri: files[i].uri, reason: check.problem });
    else good.push({ local: localPaths[i], uri: files[i].uri });
  });
  const present = new Set(checks.filter((c) => !c.problem).flatMap((c) => [...c.columns]));
  for (const p of partitionColumns) present.add(p);

  const raw = quoteIdent(`__src_${source.name}__raw`);
  const flagged = quoteIdent(`__src_${source.name}__flagged`);
  const clean = sourceRelation(source.name);
  const fileMap = quoteIdent(`__src_${source.name}__files`);
  const columnList = source.columns
    .map((c) => (present.has(c.name) ? `CAST(${quoteIdent(c.name)} AS ${c.type}) AS ${quoteIdent(c.name)}` : `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`))
    .join(', ');
  if (good.length === 0) {
    await duck.run(`CREATE OR REPLACE VIEW ${raw} AS SELECT ${columnList}, CAST(NULL AS VARCHAR) AS _tm_file WHERE false`);
  } else {
    const remote = good.some((g) => g.local !== g.uri);
    const list = good.map((g) => quoteLiteral(g.local)).join(', ');
    const read = `read_parquet([${list}], hive_partitioning = ${source.hivePartitioning}, union_by_name = true, filename = '_tm_local')`;
    if (remote) {
      // Dedup ties break on the source path, not on where the cache happens to keep the file.
      await duck.run(`CREATE OR REPLACE TABLE ${fileMap} (local VARCHAR, uri VARCHAR)`);
      await duck.run(`INSERT INTO ${fileMap} VALUES ${good.map((g) => `(${quoteLiteral(g.local)}, ${quoteLiteral(g.uri)})`).join(', ')}`);
      await duck.run(`CREATE OR REPLACE VIEW ${raw} AS SELECT ${columnList}, m.uri AS _tm_file FROM ${read} r JOIN ${fileMap} m ON m.local = r._tm_local`);
    } else {
      await duck.run(`CREATE OR REPLACE VIEW ${raw} AS SELECT ${columnList}, _tm_local AS _tm_file FROM ${read}`);
    }
  }
  const ruleCase = source.rules.length
    ? `CASE ${source.rules.map((r) => `WHEN (${options.renderRule(r.check, r.name)}) IS NOT TRUE THEN ${quoteLiteral(r.name)}`).join(' ')} END`
    : 'CAST(NULL AS VARCHAR)';
  await duck.run(`CREATE OR REPLACE VIEW ${flagged} AS SELECT *, ${ruleCase} AS _tm_rule FROM ${raw}`);
  const cols = source.columns.map((c) => quoteIdent(c.name)).join(', ');
  const dedup = source.dedup
    ? `QUALIFY row_number() OVER (PARTITION BY ${quoteIdent(source.dedup.key)} ORDER BY ${source.dedup.order}, _tm_file) = 1`
    : '';
  await duck.run(`CREATE OR REPLACE VIEW ${clean} AS SELECT ${cols} FROM ${flagged} WHERE _tm_rule IS NULL ${dedup}`);

  const distinct = source.dedup ? `count(DISTINCT ${quoteIdent(source.dedup.key)})` : 'count(*)';
  const clock = source.clockColumn ? `CAST(max(${quoteIdent(source.clockColumn)}) AS VARCHAR)` : 'NULL';
  const counts = await duck.all<{ rule: string | null; n: string | number; distinct_keys: string | number; clock: string | null }>(
    `SELECT _tm_rule AS rule, count(*) AS n, CASE WHEN _tm_rule IS NULL THEN ${distinct} END AS distinct_keys, CASE WHEN _tm_rule IS NULL THEN ${clock} END AS clock FROM ${flagged} GROUP BY _tm_rule`,
  );
  const excluded: Record<string, number> = {};
  let rowsRead = 0;
  let validRows = 0;
  let duplicates = 0;
  let clockValue: string | undefined;
  for (const c of counts) {
    const n = Number(c.n);
    rowsRead += n;
    if (c.rule === null) {
      duplicates = n - Number(c.distinct_keys ?? n);
      validRows = n - duplicates;
      clockValue = c.clock ?? undefined;
    } else excluded[c.rule] = n;
  }
  // Report rules in the order the contract declares them.
  const ordered: Record<string, number> = {};
  for (const r of source.rules) if (excluded[r.name]) ordered[r.name] = excluded[r.name];
  return { name: source.name, relation: clean, flaggedRelation: flagged, files, unreadableFiles, rowsRead, excluded: ordered, duplicates, validRows, clock: clockValue };
}

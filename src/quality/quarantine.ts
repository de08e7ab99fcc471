/**
 * Quarantine: the rows a source contract excluded, written to the target with their file and the
 * rule they broke, so nothing is dropped silently. One table per source in the audit schema. The rows
 * of the files read in a run replace the earlier rows of those same files, so re-runs never duplicate
 * them and a hot run that reads a few recent files leaves the other files' rows alone.
 */
import type { SqlSession, ComputeEngine } from '../engines/compute/types.js';
import { quoteIdent } from '../core/sql-quote.js';
import { transaction, type Target, type TargetSession } from '../engines/target.js';
import { formatCount, type Log } from '../core/progress.js';
import type { Manifest, SourceNode } from '../manifest/types.js';
import { pgName } from '../materialize/ddl.js';
import type { PreparedSource } from '../sources/prepare-source.js';
import { auditSchemaOf, auditTable, copyDuckQueryInto, ensureAuditSchema, pgTypeForDuck } from './audit.js';

export interface QuarantineReport {
  /** `"schema_tm_audit"."quarantine_<source>"` */
  readonly table: string;
  /** Rows written by this run. */
  readonly rows: number;
  /** Files whose earlier quarantine rows this run replaced. */
  readonly files: number;
}

export function quarantineTableName(source: string): string {
  return pgName(`quarantine_${source}`);
}

/**
 * Reports the excluded rows of every prepared source file by file, and writes them to the quarantine
 * table of the sources that ask for it (`quarantine: true`).
 */
export async function quarantineExcludedRows(
  target: Target, duck: ComputeEngine, manifest: Manifest, prepared: ReadonlyMap<string, PreparedSource>,
  quarantinedAt: string, log: Log,
): Promise<Map<string, QuarantineReport>> {
  for (const p of prepared.values()) for (const line of excludedFileLines(p)) log(line);
  const reports = new Map<string, QuarantineReport>();
  const wanted = [...prepared.values()].filter((p) => manifest.sources.get(p.name)?.quarantine === true);
  if (wanted.length === 0) return reports;
  await ensureAuditSchema(target);
  const session = await duck.connect();
  const pg = await target.acquire();
  try {
    for (const p of wanted) {
      const report = await quarantineSource(pg, session, manifest.sources.get(p.name)!, p, target.schema, quarantinedAt);
      reports.set(p.name, report);
      if (report.rows > 0) log(`    quarantined ${formatCount(report.rows)} excluded row${report.rows === 1 ? '' : 's'} of ${p.name} in ${report.table}`);
    }
  } finally {
    await pg.release();
    session.close();
  }
  return reports;
}

async function quarantineSource(
  pg: TargetSession, duck: SqlSession, source: SourceNode, p: PreparedSource,
  targetSchema: string, quarantinedAt: string,
): Promise<QuarantineReport> {
  const table = auditTable(targetSchema, quarantineTableName(source.name));
  const columns = [
    ...source.columns.map((c) => {
      const pgType = pgTypeForDuck(c.type);
      return { name: c.name, pgType: pgType ?? 'TEXT', select: pgType ? quoteIdent(c.name) : `CAST(${quoteIdent(c.name)} AS VARCHAR)` };
    }),
    { name: '_tm_file', pgType: 'TEXT', select: '_tm_file' },
    { name: '_tm_rule', pgType: 'TEXT', select: '_tm_rule' },
    { name: '_tm_quarantined_at', pgType: 'TIMESTAMP', select: quarantinedAt },
  ];
  const files = [...new Set([...p.files.map((f) => f.uri), ...p.unreadableFiles.map((f) => f.uri)])];
  const rows = await transaction(pg, async (tx) => {
    // One writer per quarantine table at a time, until commit: two runs at once would both create the
    // table (a catalog race) or both delete the same files' rows and insert theirs (rows written twice).
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('tm_quarantine'), hashtext($1))`, [table]);
    await ensureTable(tx, targetSchema, source.name, table, columns);
    await tx.query(`DELETE FROM ${table} WHERE _tm_file = ANY($1::text[])`, [files]);
    const excluded = Object.values(p.excluded).reduce((a, b) => a + b, 0);
    if (excluded === 0) return 0;
    const select = `SELECT ${columns.map((c) => c.select).join(', ')} FROM ${p.flaggedRelation} WHERE _tm_rule IS NOT NULL`;
    return copyDuckQueryInto(duck, tx, select, table, columns.map((c) => c.name));
  });
  return { table, rows, files: files.length };
}

/** Creates the table, or re-creates it when the source's columns changed since it was made. */
async function ensureTable(tx: TargetSession, targetSchema: string, source: string, table: string, columns: readonly { name: string; pgType: string }[]): Promise<void> {
  // pg_catalog, not information_schema: its views cost ~20 ms a query, on every hot cycle.
  const existing = await tx.query<{ column_name: string }>(
    `SELECT a.attname AS column_name FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [auditSchemaOf(targetSchema), quarantineTableName(source)],
  );
  const same = existing.length === columns.length && existing.every((c, i) => c.column_name === columns[i].name);
  if (same) return;
  if (existing.length) await tx.exec(`DROP TABLE ${table}`);
  await tx.exec(`CREATE TABLE ${table} (${columns.map((c) => `${quoteIdent(c.name)} ${c.pgType}`).join(', ')})`);
  await tx.exec(`CREATE INDEX ${quoteIdent(pgName(`quarantine_${source}__tm_file_idx`))} ON ${table} (_tm_file)`);
}

const FILES_SHOWN = 10;

/** `    excluded from event_date=2020-10-01/a.parquet: null_session_id 2, event_ts_in_future 1`, the first files only. */
export function excludedFileLines(p: PreparedSource): string[] {
  const keyOf = new Map(p.files.map((f) => [f.uri, f.key]));
  const byFile = new Map<string, string[]>();
  for (const e of p.excludedByFile) {
    const file = keyOf.get(e.file) ?? e.file;
    byFile.set(file, [...(byFile.get(file) ?? []), `${e.rule} ${formatCount(e.rows)}`]);
  }
  const files = [...byFile.keys()].sort();
  const lines = files.slice(0, FILES_SHOWN).map((f) => `    excluded from ${f}: ${byFile.get(f)!.join(', ')}`);
  if (files.length > FILES_SHOWN) lines.push(`    ... and ${files.length - FILES_SHOWN} more files with excluded rows (all in target/run_results.json)`);
  return lines;
}

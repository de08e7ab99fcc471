/**
 * Files whose Hive partition folders cannot be read (a malformed or empty value, a value that is not
 * of the declared column's type such as `event_date=99999-99-99`) are skipped with the folder and the
 * reason, as unreadable files are, instead of failing the whole source.
 */
import { quoteLiteral } from '../core/sql-quote.js';
import type { SqlSession } from '../engines/compute/types.js';
import type { SourceNode } from '../manifest/types.js';
import { hivePartitionProblem } from './hive.js';
import type { ListedFile } from './types.js';

/** The files to skip, by URI, with the reason. */
export async function partitionProblems(duck: SqlSession, source: SourceNode, files: readonly ListedFile[]): Promise<Map<string, string>> {
  const problems = new Map<string, string>();
  const typeOf = new Map(source.columns.map((c) => [c.name, c.type]));
  // Each declared (column, value) pair is cast once, in one query.
  const pairs = new Map<string, { column: string; value: string; type: string }>();
  for (const f of files) {
    const problem = hivePartitionProblem(f.key);
    if (problem) {
      problems.set(f.uri, problem);
      continue;
    }
    for (const [column, value] of Object.entries(f.partitions)) {
      const type = typeOf.get(column);
      if (type !== undefined) pairs.set(`${column}\n${value}`, { column, value, type });
    }
  }
  if (pairs.size === 0) return problems;
  const list = [...pairs.values()];
  const casts = list.map((p, i) => `TRY_CAST(${quoteLiteral(p.value)} AS ${p.type}) IS NULL AS c${i}`).join(', ');
  const [row] = await duck.all<Record<string, boolean>>(`SELECT ${casts}`);
  const bad = new Map(list.filter((_, i) => row[`c${i}`]).map((p) => [`${p.column}\n${p.value}`, p]));
  if (bad.size === 0) return problems;
  for (const f of files) {
    if (problems.has(f.uri)) continue;
    for (const [column, value] of Object.entries(f.partitions)) {
      const p = bad.get(`${column}\n${value}`);
      if (p) {
        problems.set(f.uri, `folder '${column}=${value}': '${value}' is not a ${p.type}`);
        break;
      }
    }
  }
  return problems;
}

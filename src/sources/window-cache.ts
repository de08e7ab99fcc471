import { createHash } from 'node:crypto';
import path from 'node:path';
import type { SqlSession } from '../engines/compute/types.js';
import { quoteIdent, quoteLiteral } from '../core/sql-quote.js';
import type { SourceNode } from '../manifest/types.js';
import { readParquetRows, withoutFailingFiles, type RawReader, type RawRows } from './prepare-source.js';
import { attachLocalDuckFile } from './local-duck-file.js';
import type { ListedFile, SourceLocation } from './types.js';

/**
 * A local DuckDB database that keeps the rows of a source's recent files, so that a run that finds
 * one new file reads one file, not the thousands of small files of the window. Rows are kept per
 * file identity (URI, size, version): a file that changed or disappeared is forgotten, a new one is
 * read once. The cache is only a copy of file contents: it never decides what a model has seen
 * (the state in the target does), and it is emptied when it meets another target state (`stamp`).
 */
export interface SourceCache {
  /** Reads listed files through the cache; forgets cached files of partitions >= `fromPart` that are no longer listed. */
  reader(scope: { readonly fromPart?: string }): RawReader;
  /** Forgets partitions older than `part` (`YYYY-MM-DD`). */
  evictBefore(duck: SqlSession, part: string): Promise<void>;
  /** Files read from the source (not from the cache) so far in this run. */
  readonly stats: { filesRead: number; filesForgotten: number };
  /** Whether the cache lives in a file (false: in memory for this run, e.g. when another process holds the file). */
  readonly persistent: boolean;
  /** Identity of the target state the cache was opened for. */
  readonly stamp: string;
  close(duck: SqlSession): Promise<void>;
}

export interface SourceCacheOptions {
  /** DuckDB file for the cache; undefined keeps it in memory for this run. */
  readonly file?: string;
  /** Identity of the target state this cache belongs to: a cache stamped otherwise is emptied. */
  readonly stamp: string;
}

const FORMAT = '1';

interface CachedFile {
  readonly uri: string;
  readonly size: number;
  readonly version: string;
  readonly part: string;
  readonly problem: string | null;
}
let attachSeq = 0;

/** Cache file for a source in one target (database + schema): two targets never share one. */
export function sourceCacheFile(stateDir: string, source: SourceNode, targetIdentity: string): string {
  const hash = createHash('sha1').update(`${targetIdentity}\n${source.location}`).digest('hex').slice(0, 16);
  return path.join(stateDir, 'cache', `${source.name}-${hash}.duckdb`);
}

export async function openSourceCache(duck: SqlSession, source: SourceNode, location: SourceLocation, options: SourceCacheOptions): Promise<SourceCache> {
  const db = quoteIdent(`tm_cache_${attachSeq++}_${source.name}`);
  const persistent = options.file !== undefined && (await attachLocalDuckFile(duck, db, options.file));
  if (!persistent) await duck.run(`ATTACH ':memory:' AS ${db}`);
  const files = `${db}.files`;
  const events = `${db}.events`;
  const signature = source.columns.map((c) => `${c.name} ${c.type}`).join(', ');
  await duck.run(`CREATE TABLE IF NOT EXISTS ${db}.meta (k VARCHAR, v VARCHAR)`);
  const meta = new Map((await duck.all<{ k: string; v: string }>(`SELECT k, v FROM ${db}.meta`)).map((r) => [r.k, r.v]));
  if (meta.get('format') !== FORMAT || meta.get('columns') !== signature || meta.get('stamp') !== options.stamp) {
    await duck.run(`DROP TABLE IF EXISTS ${files}`);
    await duck.run(`DROP TABLE IF EXISTS ${events}`);
    await duck.run(`DELETE FROM ${db}.meta`);
    await duck.run(
      `INSERT INTO ${db}.meta VALUES ('format', ${quoteLiteral(FORMAT)}), ('columns', ${quoteLiteral(signature)}), ('stamp', ${quoteLiteral(options.stamp)})`,
    );
  }
  await duck.run(`CREATE TABLE IF NOT EXISTS ${files} (uri VARCHAR, size BIGINT, version VARCHAR, part VARCHAR, problem VARCHAR)`);
  const columnDefs = source.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
  await duck.run(`CREATE TABLE IF NOT EXISTS ${events} (${columnDefs}, _tm_file VARCHAR, _tm_part VARCHAR)`);
  const cols = source.columns.map((c) => quoteIdent(c.name)).join(', ');
  const partColumn = source.datePartition;
  const partOf = (f: ListedFile) => (partColumn ? (f.partitions[partColumn] ?? '') : '');
  const stats = { filesRead: 0, filesForgotten: 0 };
  // The files table as this process last read or wrote it (it holds the file's lock while attached).
  let memo: Map<string, CachedFile> | undefined;
  const loadKnown = async (session: SqlSession): Promise<Map<string, CachedFile>> => {
    if (!memo) {
      // One JSON text, not thousands of rows: each value crossing from DuckDB costs more than its parse
      // (3,000 files in a fresh process: 27 ms as rows, 15 ms as one text).
      const [{ files: text }] = await session.all<{ files: string | null }>(
        `SELECT '[' || string_agg(concat('[', to_json(uri), ',', size, ',', to_json(version), ',', to_json(part), ',', coalesce(to_json(problem), 'null'), ']'), ',') || ']' AS files FROM ${files}`,
      );
      const rows = JSON.parse(text ?? '[]') as [string, number, string, string, string | null][];
      memo = new Map(rows.map(([uri, size, version, part, problem]) => [uri, { uri, size, version, part, problem }]));
    }
    return memo;
  };

  return {
    persistent,
    stamp: options.stamp,
    stats,
    reader(scope) {
      return async (session, src, listed) => {
        const byUri = new Map(await loadKnown(session));
        const known = [...byUri.values()];
        const listedUris = new Set(listed.map((f) => f.uri));
        const inScope = (part: string) => !scope.fromPart || part === '' || part >= scope.fromPart;
        const stale = known.filter((k) => inScope(k.part) && !listedUris.has(k.uri)).map((k) => k.uri);
        const fresh: ListedFile[] = [];
        for (const f of listed) {
          const k = byUri.get(f.uri);
          if (k && k.size === f.size && k.version === f.version) continue;
          if (k) stale.push(f.uri);
          fresh.push(f);
        }
        // Fresh files are read into the cache in one transaction with the forgetting of stale ones; a file
        // that fails when its rows are decoded is skipped (recorded with its problem) and the rest read again.
        const problems = new Map<string, string>();
        const writeFresh = async (read: RawRows | undefined) => {
          const partExpr = partColumn
            ? `regexp_extract(_tm_file, ${quoteLiteral(`(^|/)${escapeRegex(partColumn)}=([^/]*)/`)}, 2)`
            : `''`;
          await session.run('BEGIN TRANSACTION');
          try {
            if (stale.length) {
              const list = stale.map(quoteLiteral).join(', ');
              await session.run(`DELETE FROM ${events} WHERE _tm_file IN (${list})`);
              await session.run(`DELETE FROM ${files} WHERE uri IN (${list})`);
            }
            if (read) await session.run(`INSERT INTO ${events} SELECT ${cols}, _tm_file, ${partExpr} FROM (${read.select})`);
            if (fresh.length) {
              const rows = fresh.map((f) => `(${quoteLiteral(f.uri)}, ${f.size}, ${quoteLiteral(f.version)}, ${quoteLiteral(partOf(f))}, ${problems.has(f.uri) ? quoteLiteral(problems.get(f.uri)!) : 'NULL'})`);
              await session.run(`INSERT INTO ${files} VALUES ${rows.join(', ')}`);
            }
            await session.run('COMMIT');
          } catch (err) {
            await session.run('ROLLBACK').catch(() => undefined);
            memo = undefined;
            throw err;
          }
        };
        const locals = fresh.length ? await location.fetch(fresh) : [];
        const localOf = new Map(fresh.map((f, i) => [f.uri, locals[i]]));
        if (stale.length || fresh.length) {
          await withoutFailingFiles(fresh, async (usable, skipped) => {
            const read = usable.length ? await readParquetRows(session, src, usable, usable.map((f) => localOf.get(f.uri)!)) : undefined;
            problems.clear();
            for (const u of [...(read?.unreadableFiles ?? []), ...skipped]) problems.set(u.uri, u.reason);
            return { read: read ?? { select: '', unreadableFiles: [] }, result: () => writeFresh(read) };
          }, session);
          for (const uri of stale) memo?.delete(uri);
          for (const f of fresh) memo?.set(f.uri, { uri: f.uri, size: f.size, version: f.version, part: partOf(f), problem: problems.get(f.uri) ?? null });
        }
        const unreadable = [...problems].map(([uri, reason]) => ({ uri, reason }));
        stats.filesRead += fresh.length;
        stats.filesForgotten += stale.length - fresh.filter((f) => byUri.has(f.uri)).length;
        for (const f of listed) {
          const problem = byUri.get(f.uri)?.problem;
          if (problem && !problems.has(f.uri) && !fresh.includes(f)) unreadable.push({ uri: f.uri, reason: problem });
        }
        const where = scope.fromPart ? ` WHERE _tm_part >= ${quoteLiteral(scope.fromPart)} OR _tm_part = ''` : '';
        return { select: `SELECT ${cols}, _tm_file, rowid AS _tm_row FROM ${events}${where}`, unreadableFiles: unreadable, inDuckDb: true };
      };
    },
    async evictBefore(duck, part) {
      const isOld = (f: CachedFile) => f.part !== '' && f.part < part;
      if (![...(await loadKnown(duck)).values()].some(isOld)) return;
      await duck.run('BEGIN TRANSACTION');
      try {
        await duck.run(`DELETE FROM ${events} WHERE _tm_part < ${quoteLiteral(part)} AND _tm_part <> ''`);
        await duck.run(`DELETE FROM ${files} WHERE part < ${quoteLiteral(part)} AND part <> ''`);
        await duck.run('COMMIT');
      } catch (err) {
        await duck.run('ROLLBACK').catch(() => undefined);
        memo = undefined;
        throw err;
      }
      for (const [uri, f] of memo ?? []) if (isOld(f)) memo?.delete(uri);
    },
    async close(session) {
      await session.run(`DETACH ${db}`).catch(() => undefined);
    },
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

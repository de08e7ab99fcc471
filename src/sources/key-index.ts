import { createHash } from 'node:crypto';
import path from 'node:path';
import type { SqlSession } from '../engines/compute/types.js';
import { quoteIdent, quoteLiteral } from '../core/sql-quote.js';
import type { SourceNode } from '../manifest/types.js';
import { readParquetRows, withoutFailingFiles } from './prepare-source.js';
import { attachLocalDuckFile } from './local-duck-file.js';
import type { SchemaMemo } from './schema-memo.js';
import { fileIdentityKey, type FileIdentity, type ListedFile, type SourceLocation } from './types.js';

/**
 * Which dedup keys each source file holds (as 64-bit hashes), in a local DuckDB file: the copies of
 * one event may sit in several days' folders, and the earliest valid copy decides the event's day,
 * so a run that recomputes some days must know which other days hold copies of their keys.
 *
 * Entries are keyed by file identity (URI, size, version) and only ever state what a file holds, so
 * the index cannot be out of date the way a state can: a target that is new or rolled back still gets
 * true answers. What it may lack is a file; a listed file it lacks is read (its key column only), and a
 * removed file it lacks makes the caller rebuild in full. A hash collision only adds a day to recompute.
 */
export interface KeyIndex {
  /** False when another process holds the index file (the caller then reads everything). */
  readonly persistent: boolean;
  /** Files whose keys were read from the source in this run (not from a loaded table). */
  readonly stats: { filesRead: number };
  /** Reads the keys of the listed files the index does not hold yet. */
  indexListed(files: readonly ListedFile[]): Promise<void>;
  /** Indexes the files of a source table loaded in DuckDB (all rows, before rules and deduplication). */
  indexLoaded(table: string, fileNames: string | undefined, files: readonly ListedFile[]): Promise<void>;
  /** Whether the index holds these file identities (e.g. files that were removed since a model saw them). */
  holds(files: readonly FileIdentity[]): boolean;
  /** Date partitions of `among` that hold a key also found in one of `of`. */
  partsSharingKeys(of: readonly FileIdentity[], among: readonly ListedFile[]): Promise<string[]>;
  /** Files of `among` outside `parts` that hold a key also found in the files of `parts`. */
  filesSharingKeysWithParts(parts: readonly string[], among: readonly ListedFile[]): Promise<string[]>;
  /** Forgets files that are no longer listed. */
  prune(listed: readonly ListedFile[]): Promise<void>;
  close(): Promise<void>;
}

const FORMAT = '1';
let attachSeq = 0;

/** Index file of a source location (whatever the target: it only holds facts about files). */
export function keyIndexFile(stateDir: string, source: SourceNode): string {
  const hash = createHash('sha1').update(`${source.location}\n${source.dedup?.key ?? ''}`).digest('hex').slice(0, 16);
  return path.join(stateDir, 'key-index', `${source.name}-${hash}.duckdb`);
}

export async function openKeyIndex(
  duck: SqlSession, source: SourceNode & { readonly dedup: { readonly key: string } }, location: SourceLocation, file: string, schemas?: SchemaMemo,
): Promise<KeyIndex> {
  const db = quoteIdent(`tm_keys_${attachSeq++}_${source.name}`);
  const persistent = await attachLocalDuckFile(duck, db, file);
  if (!persistent) await duck.run(`ATTACH ':memory:' AS ${db}`);
  const key = quoteIdent(source.dedup.key);
  const partColumn = source.datePartition ?? '';
  await duck.run(`CREATE TABLE IF NOT EXISTS ${db}.meta (k VARCHAR, v VARCHAR)`);
  const meta = new Map((await duck.all<{ k: string; v: string }>(`SELECT k, v FROM ${db}.meta`)).map((r) => [r.k, r.v]));
  if (meta.get('format') !== FORMAT || meta.get('key') !== source.dedup.key) {
    for (const t of ['files', 'keys']) await duck.run(`DROP TABLE IF EXISTS ${db}.${t}`);
    await duck.run(`DELETE FROM ${db}.meta`);
    await duck.run(`INSERT INTO ${db}.meta VALUES ('format', ${quoteLiteral(FORMAT)}), ('key', ${quoteLiteral(source.dedup.key)})`);
  }
  await duck.run(`CREATE TABLE IF NOT EXISTS ${db}.files (fid INTEGER, uri VARCHAR, size BIGINT, version VARCHAR, part VARCHAR)`);
  await duck.run(`CREATE TABLE IF NOT EXISTS ${db}.keys (fid INTEGER, h UBIGINT)`);
  const known = new Map<string, number>();
  for (const r of await duck.all<{ fid: number; uri: string; size: string | number; version: string }>(`SELECT fid, uri, size, version FROM ${db}.files`)) {
    known.set(fileIdentityKey({ uri: r.uri, size: Number(r.size), version: r.version }), r.fid);
  }
  const highestFid = () => [...known.values()].reduce((a, b) => Math.max(a, b), 0);
  let nextFid = highestFid() + 1;
  const stats = { filesRead: 0 };
  let closed = false;
  const partOf = (f: ListedFile) => (partColumn ? (f.partitions[partColumn] ?? '') : '');
  const fidsOf = (files: readonly FileIdentity[]) => files.flatMap((f) => (known.has(fileIdentityKey(f)) ? [known.get(fileIdentityKey(f))!] : []));
  const fidList = (fids: readonly number[]) => (fids.length ? fids.join(', ') : 'NULL');

  /** Registers new files and inserts their keys from `select` (columns fid, h), in one DuckDB transaction. */
  const insert = async (files: readonly ListedFile[], select: (map: string) => string) => {
    const fresh = files.filter((f) => !known.has(fileIdentityKey(f)));
    if (!fresh.length) return;
    const assigned = fresh.map((f) => ({ f, fid: nextFid++ }));
    const map = quoteIdent(`__tm_keys_new_${source.name}`);
    await duck.run(`CREATE OR REPLACE TEMP TABLE ${map} (fid INTEGER, uri VARCHAR)`);
    for (let i = 0; i < assigned.length; i += 1000) {
      await duck.run(`INSERT INTO ${map} VALUES ${assigned.slice(i, i + 1000).map(({ f, fid }) => `(${fid}, ${quoteLiteral(f.uri)})`).join(', ')}`);
    }
    await duck.run('BEGIN TRANSACTION');
    try {
      for (let i = 0; i < assigned.length; i += 1000) {
        const rows = assigned.slice(i, i + 1000).map(({ f, fid }) => `(${fid}, ${quoteLiteral(f.uri)}, ${f.size}, ${quoteLiteral(f.version)}, ${quoteLiteral(partOf(f))})`);
        await duck.run(`INSERT INTO ${db}.files VALUES ${rows.join(', ')}`);
      }
      await duck.run(`INSERT INTO ${db}.keys ${select(map)}`);
      await duck.run('COMMIT');
    } catch (err) {
      await duck.run('ROLLBACK').catch(() => undefined);
      nextFid = highestFid() + 1;
      throw err;
    } finally {
      await duck.run(`DROP TABLE IF EXISTS ${map}`).catch(() => undefined);
    }
    for (const { f, fid } of assigned) known.set(fileIdentityKey(f), fid);
  };

  /** The listed files as a temp table of fids (every listed file must be indexed first). */
  const listedTable = async (among: readonly ListedFile[]) => {
    const t = quoteIdent(`__tm_keys_listed_${source.name}`);
    await duck.run(`CREATE OR REPLACE TEMP TABLE ${t} (fid INTEGER)`);
    const fids = fidsOf(among);
    for (let i = 0; i < fids.length; i += 5000) await duck.run(`INSERT INTO ${t} VALUES ${fids.slice(i, i + 5000).map((f) => `(${f})`).join(', ')}`);
    return t;
  };

  return {
    persistent,
    stats,
    async indexListed(files) {
      const fresh = files.filter((f) => !known.has(fileIdentityKey(f)));
      if (!fresh.length) return;
      const local = await location.fetch(fresh);
      const localOf = new Map(fresh.map((f, i) => [f.uri, local[i]]));
      // A file whose rows cannot be decoded (strings that are not UTF-8) is registered with no keys: the
      // source step skips it too, naming why.
      await withoutFailingFiles(fresh, async (usable) => {
        const read = await readParquetRows(duck, source, usable, usable.map((f) => localOf.get(f.uri)!), { schemas });
        return { read, result: () => insert(fresh, (map) => `SELECT m.fid, hash(r.${key}) FROM (${read.select}) r JOIN ${map} m ON m.uri = r._tm_file WHERE r.${key} IS NOT NULL`) };
      }, duck);
      stats.filesRead += fresh.length;
    },
    async indexLoaded(table, fileNames, files) {
      // Plain joins: a scalar subquery in the join condition would make DuckDB pair every row with every file.
      await insert(files, (map) => fileNames
        ? `SELECT m.fid, hash(r.${key}) FROM ${table} r JOIN ${fileNames} n ON n.no = r._tm_file JOIN ${map} m ON m.uri = n.uri WHERE r.${key} IS NOT NULL`
        : `SELECT m.fid, hash(r.${key}) FROM ${table} r JOIN ${map} m ON m.uri = r._tm_file WHERE r.${key} IS NOT NULL`);
    },
    holds(files) {
      return files.every((f) => known.has(fileIdentityKey(f)));
    },
    async partsSharingKeys(of, among) {
      const from = fidsOf(of);
      if (!from.length) return [];
      const listed = await listedTable(among);
      const rows = await duck.all<{ part: string }>(
        `SELECT DISTINCT f.part FROM ${db}.keys k JOIN ${db}.files f USING (fid)
          WHERE k.fid IN (SELECT fid FROM ${listed}) AND k.h IN (SELECT h FROM ${db}.keys WHERE fid IN (${fidList(from)}))`,
      );
      return rows.map((r) => r.part).filter(Boolean).sort();
    },
    async filesSharingKeysWithParts(parts, among) {
      if (!parts.length) return [];
      const listed = await listedTable(among);
      const partList = parts.map(quoteLiteral).join(', ');
      const rows = await duck.all<{ uri: string }>(
        `WITH inside AS (
           SELECT DISTINCT k.h FROM ${db}.keys k JOIN ${db}.files f USING (fid)
            WHERE f.part IN (${partList}) AND k.fid IN (SELECT fid FROM ${listed}))
         SELECT DISTINCT f.uri FROM ${db}.keys k JOIN ${db}.files f USING (fid)
          WHERE f.part NOT IN (${partList}) AND k.fid IN (SELECT fid FROM ${listed}) AND k.h IN (SELECT h FROM inside)`,
      );
      return rows.map((r) => r.uri).sort();
    },
    async prune(listed) {
      const keep = new Set(listed.map(fileIdentityKey));
      const gone = [...known].filter(([id]) => !keep.has(id)).map(([, fid]) => fid);
      if (!gone.length) return;
      await duck.run('BEGIN TRANSACTION');
      try {
        for (let i = 0; i < gone.length; i += 5000) {
          const list = gone.slice(i, i + 5000).join(', ');
          await duck.run(`DELETE FROM ${db}.keys WHERE fid IN (${list})`);
          await duck.run(`DELETE FROM ${db}.files WHERE fid IN (${list})`);
        }
        await duck.run('COMMIT');
      } catch (err) {
        await duck.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      const goneSet = new Set(gone);
      for (const [id, fid] of [...known]) if (goneSet.has(fid)) known.delete(id);
    },
    async close() {
      if (closed) return;
      closed = true;
      await duck.run(`DETACH ${db}`).catch(() => undefined);
    },
  };
}


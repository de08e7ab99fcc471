import { createHash } from 'node:crypto';
import { readFile, rename, mkdir, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { SourceNode } from '../manifest/types.js';
import { fileIdentityKey, type ListedFile } from './types.js';

/** One column of a file's Parquet schema, as `parquet_schema()` gives it. */
export interface ParquetColumn {
  readonly name: string;
  readonly type: string | null;
  readonly converted_type: string | null;
  readonly logical_type: string | null;
}

/**
 * The Parquet schemas of a source's files, by file identity (URI, size, version), kept in a local
 * JSON file between runs: a file is written once, so its schema is read once, not on every full read
 * (6,445 footers: ~1 s). Only readable files are remembered (a read error may pass). It holds facts
 * about files, never about a target, so any target can trust it; the caller prunes it to a full listing.
 */
export interface SchemaMemo {
  get(file: ListedFile): readonly ParquetColumn[] | undefined;
  set(file: ListedFile, columns: readonly ParquetColumn[]): void;
  /** Forgets files that are no longer listed (call with a full listing only). */
  retain(listed: readonly ListedFile[]): void;
  /** Writes the file when something changed (atomically: a concurrent run reads the old or the new one). */
  save(): Promise<void>;
}

const FORMAT = 1;

interface Stored {
  readonly format: number;
  /** Distinct schemas: the files of a stream share a few. */
  readonly schemas: readonly (readonly ParquetColumn[])[];
  /** File identity -> index into `schemas`. */
  readonly files: Readonly<Record<string, number>>;
}

export function schemaMemoFile(stateDir: string, source: SourceNode): string {
  const hash = createHash('sha1').update(source.location).digest('hex').slice(0, 16);
  return path.join(stateDir, 'file-schemas', `${source.name}-${hash}.json`);
}


export async function openSchemaMemo(file: string): Promise<SchemaMemo> {
  const byFile = new Map<string, readonly ParquetColumn[]>();
  const stored = await readStored(file);
  if (stored) for (const [id, i] of Object.entries(stored.files)) if (stored.schemas[i]) byFile.set(id, stored.schemas[i]);
  let changed = false;
  return {
    get: (f) => byFile.get(fileIdentityKey(f)),
    set(f, columns) {
      byFile.set(fileIdentityKey(f), columns);
      changed = true;
    },
    retain(listed) {
      const keep = new Set(listed.map(fileIdentityKey));
      for (const id of byFile.keys()) {
        if (!keep.has(id)) {
          byFile.delete(id);
          changed = true;
        }
      }
    },
    async save() {
      if (!changed) return;
      const schemas: (readonly ParquetColumn[])[] = [];
      const index = new Map<string, number>();
      const files: Record<string, number> = {};
      for (const [id, columns] of byFile) {
        const key = JSON.stringify(columns);
        if (!index.has(key)) index.set(key, schemas.push(columns) - 1);
        files[id] = index.get(key)!;
      }
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        await writeFile(tmp, JSON.stringify({ format: FORMAT, schemas, files } satisfies Stored));
        await rename(tmp, file);
        changed = false;
      } finally {
        await rm(tmp, { force: true });
      }
    },
  };
}

/** The stored memo; undefined when there is none or it cannot be used (another format, damaged): it is made again. */
async function readStored(file: string): Promise<Stored | undefined> {
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as Stored;
    return stored.format === FORMAT && Array.isArray(stored.schemas) && typeof stored.files === 'object' ? stored : undefined;
  } catch {
    return undefined;
  }
}

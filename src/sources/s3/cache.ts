import { createHash } from 'node:crypto';
import { readdir, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';

/** Prefix of files still being written; never read, never counted as cached. */
export const TEMP_PREFIX = '.tmp-';
/** A temporary file this old was left by a crashed process. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Where an object version lives in the cache: `<cacheDir>/s3/<bucket>/<h2>/<h>-<etag><ext>`, h =
 * sha256 of the key. Hashing keeps any key (1,024 bytes, any characters) a valid file name; the
 * ETag in the name makes a changed object a new file, so an old version is never served for a
 * new one and the cache needs no index to know what is current.
 */
export function cachePath(cacheDir: string, bucket: string, key: string, etag: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 40);
  const safeEtag = etag.replace(/[^A-Za-z0-9-]/g, '_').slice(0, 80);
  const ext = path.posix.extname(key).replace(/[^A-Za-z0-9.]/g, '_').slice(0, 20);
  return path.join(cacheRoot(cacheDir), bucket, hash.slice(0, 2), `${hash}-${safeEtag}${ext}`);
}

export function cacheRoot(cacheDir: string): string {
  return path.join(cacheDir, 's3');
}

let lastTouch = 0;

/**
 * Marks a cached file as just used: LRU order is the files' mtime, so it survives restarts and is
 * shared by processes using the same cache, with no index file to lock. mtime rather than atime,
 * which noatime/relatime mounts do not keep. Strictly increasing within a process so two uses in
 * the same millisecond still have an order.
 */
export async function touch(file: string): Promise<void> {
  lastTouch = Math.max(Date.now(), lastTouch + 1);
  const when = new Date(lastTouch);
  await utimes(file, when, when);
}

interface CachedFile {
  readonly file: string;
  readonly size: number;
  readonly usedMs: number;
}

async function walk(dir: string, out: CachedFile[], temps: CachedFile[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await walk(file, out, temps);
      continue;
    }
    const info = await stat(file).catch(() => undefined); // removed by another process meanwhile
    if (!info?.isFile()) continue;
    (entry.name.startsWith(TEMP_PREFIX) ? temps : out).push({ file, size: info.size, usedMs: info.mtimeMs });
  }
}

export interface Eviction {
  readonly files: number;
  readonly bytes: number;
}

/**
 * Deletes least recently used files until `incomingBytes` more fit under `maxBytes`. Files in
 * `keep` (needed by the current fetch) are never deleted, so a fetch larger than the cap still
 * succeeds and the cache shrinks back on a later fetch. Also removes temporary files that crashed
 * processes left behind.
 */
export async function makeRoom(cacheDir: string, maxBytes: number, incomingBytes: number, keep: ReadonlySet<string>): Promise<Eviction> {
  const files: CachedFile[] = [];
  const temps: CachedFile[] = [];
  await walk(cacheRoot(cacheDir), files, temps);
  const now = Date.now();
  for (const t of temps) if (now - t.usedMs > STALE_TEMP_MS) await unlink(t.file).catch(() => undefined);

  let total = files.reduce((sum, f) => sum + f.size, 0);
  let evictedFiles = 0;
  let evictedBytes = 0;
  files.sort((a, b) => a.usedMs - b.usedMs);
  for (const f of files) {
    if (total + incomingBytes <= maxBytes) break;
    if (keep.has(f.file)) continue;
    await unlink(f.file).catch(() => undefined);
    total -= f.size;
    evictedFiles++;
    evictedBytes += f.size;
  }
  return { files: evictedFiles, bytes: evictedBytes };
}

import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SourceAccessError, type ListedFile, type LocationOptions, type SourceLocation } from './types.js';
import { cachePath, makeRoom, touch } from './s3/cache.js';
import { createS3Client } from './s3/client.js';
import { newCounters, type S3Context } from './s3/context.js';
import { downloadObject } from './s3/download.js';
import { listFiles } from './s3/list.js';
import { mapPool } from './s3/pool.js';
import { retryPolicy } from './s3/retry.js';
import { parseS3Uri, s3Uri } from './s3/uri.js';

const DEFAULT_CONCURRENCY = 8;
const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 ** 3;

interface Wanted {
  readonly file: ListedFile;
  readonly key: string;
  readonly dest: string;
}

/**
 * A source under `s3://bucket/prefix`: listing prunes Hive partitions from key names, fetch
 * downloads into an on-disk cache keyed by bucket, key and ETag (see s3/cache.ts), so unchanged
 * objects are downloaded once, across runs and processes.
 */
export function createS3Location(uri: string, options: LocationOptions): SourceLocation {
  const { bucket, prefix } = parseS3Uri(uri);
  const s3 = options.s3;
  const cacheDir = path.resolve(s3.cacheDir);
  const maxBytes = s3.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES;
  const counters = newCounters();
  const ctx: S3Context = {
    client: createS3Client(s3),
    bucket,
    retry: retryPolicy(s3),
    concurrency: Math.max(1, s3.concurrency ?? DEFAULT_CONCURRENCY),
    counters,
  };

  function wanted(file: ListedFile): Wanted {
    const key = prefix + file.key;
    if (file.uri !== s3Uri(bucket, key)) {
      throw new SourceAccessError(`${file.uri}: not a file of ${s3Uri(bucket, prefix)}`, file.uri);
    }
    return { file, key, dest: cachePath(cacheDir, bucket, key, file.version) };
  }

  return {
    uri: s3Uri(bucket, prefix),
    list(filter) {
      return listFiles(ctx, prefix, options.extension, filter);
    },
    async fetch(files) {
      const all = files.map(wanted);
      const unique = new Map<string, Wanted>();
      for (const w of all) unique.set(w.dest, w);

      // A cached file is complete by construction (renamed into place after its size was checked).
      const cached = await mapPool([...unique.values()], 32, async (w) => {
        const info = await stat(w.dest).catch(() => undefined);
        if (!info?.isFile() || info.size !== w.file.size) return false;
        return touch(w.dest).then(() => true, () => false); // evicted by another process just now
      });
      const missing = [...unique.values()].filter((_, i) => !cached[i]);
      counters.cacheHits += cached.filter(Boolean).length;
      if (missing.length > 0) {
        const incoming = missing.reduce((sum, w) => sum + w.file.size, 0);
        const evicted = await makeRoom(cacheDir, maxBytes, incoming, new Set(unique.keys()));
        counters.objectsEvicted += evicted.files;
        counters.bytesEvicted += evicted.bytes;
        await mapPool(missing, ctx.concurrency, (w, signal) => downloadObject(ctx, w.key, w.file, w.dest, signal));
      }
      return all.map((w) => w.dest);
    },
    stats() {
      return { ...counters };
    },
  };
}

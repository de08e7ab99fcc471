import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { parseHivePartitions } from '../hive.js';
import { SourceAccessError, type ListedFile, type PartitionFilter } from '../types.js';
import type { S3Context } from './context.js';
import { mapPool } from './pool.js';
import { withRetries } from './retry.js';
import { s3Uri } from './uri.js';

interface RawObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly modifiedMs?: number;
}

interface Listing {
  readonly objects: RawObject[];
  /** Folder prefixes (full keys ending in '/') when listed with a delimiter. */
  readonly folders: string[];
}

/** One prefix, all pages (ListObjectsV2 returns at most 1,000 keys or folders per page). */
async function listPrefix(ctx: S3Context, prefix: string, delimiter?: string, signal?: AbortSignal): Promise<Listing> {
  const objects: RawObject[] = [];
  const folders: string[] = [];
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await withRetries(ctx.retry, 'listing', s3Uri(ctx.bucket, prefix), signal, () => {
      ctx.counters.listRequests++;
      const command = new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token });
      return ctx.client.send(command, { abortSignal: signal });
    }, () => ctx.counters.retries++);
    for (const o of page.Contents ?? []) {
      if (!o.Key) continue;
      // ETags are quoted on the wire; without one (never on S3) fall back to something that still changes.
      const etag = o.ETag ? o.ETag.replace(/"/g, '') : `${o.LastModified?.getTime() ?? 0}-${o.Size ?? 0}`;
      objects.push({ key: o.Key, size: o.Size ?? 0, etag, modifiedMs: o.LastModified?.getTime() });
    }
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) folders.push(p.Prefix);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { objects, folders };
}

/** Writers' temporary and marker files and folders (`_SUCCESS`, `.spark-staging`, `_delta_log`). */
function isHidden(relativeKey: string): boolean {
  return relativeKey.split('/').some((segment) => segment.startsWith('.') || segment.startsWith('_'));
}

function folderName(relativeFolder: string): string {
  return relativeFolder.replace(/\/$/, '');
}

/**
 * Lists data files under `prefix`. Without a filter: one flat listing (fewest requests). With one:
 * the top level is listed with Delimiter '/' first, Hive folders the filter rejects are dropped
 * from their names alone, and only the kept folders are listed (in parallel). A prefix without
 * Hive folders at its top level falls back to a flat listing.
 *
 * Only the top level is pruned by folder; deeper partition levels are pruned per file. Descending
 * level by level would cost a request per folder per level, more than it saves in most layouts.
 */
export async function listFiles(ctx: S3Context, prefix: string, extension: string, filter?: PartitionFilter): Promise<ListedFile[]> {
  const where = s3Uri(ctx.bucket, prefix);
  let objects: RawObject[];
  if (!filter) {
    objects = (await listPrefix(ctx, prefix)).objects;
    if (objects.length === 0) throw new SourceAccessError(`no objects under ${where}`, where);
  } else {
    const top = await listPrefix(ctx, prefix, '/');
    if (top.objects.length === 0 && top.folders.length === 0) throw new SourceAccessError(`no objects under ${where}`, where);
    const folders = top.folders.filter((f) => !isHidden(folderName(f.slice(prefix.length))));
    const isHive = (f: string): boolean => folderName(f.slice(prefix.length)).includes('=');
    if (!folders.some(isHive)) {
      objects = (await listPrefix(ctx, prefix)).objects;
    } else {
      const kept = folders.filter((f) => !isHive(f) || filter(parseHivePartitions(`${f.slice(prefix.length)}x`)));
      const listed = await mapPool(kept, ctx.concurrency, (f, signal) => listPrefix(ctx, f, undefined, signal));
      objects = [...top.objects, ...listed.flatMap((l) => l.objects)];
    }
  }

  const suffix = `.${extension}`;
  const files: ListedFile[] = [];
  for (const o of objects) {
    const key = o.key.slice(prefix.length);
    if (!key.endsWith(suffix) || isHidden(key)) continue;
    const partitions = parseHivePartitions(key);
    if (filter && !filter(partitions)) continue;
    files.push({ key, uri: s3Uri(ctx.bucket, o.key), size: o.size, version: o.etag, modifiedMs: o.modifiedMs, partitions });
  }
  return files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

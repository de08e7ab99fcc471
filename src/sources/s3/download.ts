import { GetObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ListedFile } from '../types.js';
import { TEMP_PREFIX, touch } from './cache.js';
import type { S3Context } from './context.js';
import { S3FailureError } from './errors.js';
import { withRetries } from './retry.js';

/**
 * One GET into a temporary file next to `dest`, renamed onto `dest` only once the byte count
 * matches: readers see a complete object or nothing. Returns the bytes written.
 */
async function attemptDownload(ctx: S3Context, key: string, file: ListedFile, dest: string, signal: AbortSignal): Promise<number> {
  const dir = path.dirname(dest);
  await mkdir(dir, { recursive: true });
  const temp = path.join(dir, `${TEMP_PREFIX}${process.pid}-${randomUUID()}`);
  try {
    ctx.counters.getRequests++;
    // If-Match: S3 answers 412 if the object changed since listing, instead of new bytes under the old ETag's name.
    const command = new GetObjectCommand({ Bucket: ctx.bucket, Key: key, IfMatch: `"${file.version}"` });
    const response = await ctx.client.send(command, { abortSignal: signal });
    const etag = response.ETag?.replace(/"/g, '');
    if (etag && etag !== file.version) {
      response.Body?.transformToByteArray().catch(() => undefined); // drain, so the socket is freed
      throw new S3FailureError({ reason: `object changed since it was listed (ETag ${etag}, listed ${file.version}); list again`, transient: false, throttled: false });
    }
    if (!(response.Body instanceof Readable)) throw new Error('S3 response has no readable body');
    const expected = response.ContentLength ?? file.size;
    let received = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        done(null, chunk);
      },
    });
    // The temp file exists before any byte flows: a stream that opened it lazily could create it after a
    // reset had already failed the pipeline, leaving it behind the cleanup below (seen in a test run).
    const out = await open(temp, 'w');
    await pipeline(response.Body, count, out.createWriteStream(), { signal });
    if (received !== expected || received !== file.size) {
      throw new S3FailureError({ reason: `truncated body (${received} of ${file.size} bytes)`, transient: true, throttled: false });
    }
    await rename(temp, dest);
    await touch(dest).catch(() => undefined); // only LRU order at stake
    return received;
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Downloads one object into the cache at `dest`, retrying transient failures. */
export async function downloadObject(ctx: S3Context, key: string, file: ListedFile, dest: string, signal: AbortSignal): Promise<void> {
  const bytes = await withRetries(ctx.retry, 'download', file.uri, signal, () => attemptDownload(ctx, key, file, dest, signal), () => ctx.counters.retries++);
  ctx.counters.objectsDownloaded++;
  ctx.counters.bytesDownloaded += bytes;
}

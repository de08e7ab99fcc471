import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Location } from './s3-location.js';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../../test-support/fault-proxy.js';
import { createBucket, putObject, s3rverEnv, startS3rver, uploadDir, type S3rverHandle } from '../../test-support/s3rver.js';
import { SourceAccessError, type S3Options, type SourceLocation } from './types.js';

const BUCKET = 'lake';
const ENV_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'TM_S3_RETRY_BASE_MS'];
const savedEnv = new Map(ENV_KEYS.map((k) => [k, process.env[k]]));

let server: S3rverHandle;
let work: string;
/** Uploaded bytes by full key, to compare downloads against. */
const uploaded = new Map<string, Buffer>();
const proxies: FaultProxy[] = [];

async function writeTree(root: string, files: Record<string, Buffer>): Promise<void> {
  for (const [rel, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), body);
  }
}

/** Writes `files` locally, uploads them under `prefix` with uploadDir, and remembers their bytes. */
async function seed(prefix: string, files: Record<string, Buffer>): Promise<void> {
  const local = path.join(work, 'seed', prefix);
  await writeTree(local, files);
  const keys = await uploadDir(server.endpoint, BUCKET, `${prefix}/`, local);
  expect(keys).toHaveLength(Object.keys(files).length);
  for (const [rel, body] of Object.entries(files)) uploaded.set(`${prefix}/${rel}`, body);
}

async function newCacheDir(): Promise<string> {
  return mkdtemp(path.join(work, 'cache-'));
}

async function open(prefix: string, s3: Partial<S3Options> = {}, bucket = BUCKET): Promise<SourceLocation> {
  const cacheDir = s3.cacheDir ?? (await newCacheDir());
  return createS3Location(`s3://${bucket}/${prefix}`, { extension: 'parquet', s3: { endpoint: server.endpoint, ...s3, cacheDir } });
}

async function proxy(): Promise<FaultProxy> {
  const p = await startFaultProxy(server.port);
  proxies.push(p);
  return p;
}

/** Every file under `dir`, temporary ones included. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function failure(promise: Promise<unknown>): Promise<SourceAccessError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceAccessError);
  const e = error as SourceAccessError;
  expect(e.message).not.toContain('\n');
  return e;
}

const isGet = (r: ProxiedRequest): boolean => r.kind === 'get';
const isList = (r: ProxiedRequest): boolean => r.kind === 'list';

beforeAll(async () => {
  Object.assign(process.env, s3rverEnv(), { TM_S3_RETRY_BASE_MS: '2' });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  work = await mkdtemp(path.join(os.tmpdir(), 'tm-s3-location-'));
  server = await startS3rver();
  await createBucket(server.endpoint, BUCKET);

  const events: Record<string, Buffer> = {};
  for (let d = 1; d <= 5; d++) {
    for (let p = 0; p < 2; p++) events[`event_date=2020-01-0${d}/part-${p}.parquet`] = randomBytes(20_000 + d * 7_000 + p * 1_000);
  }
  // Not data files: writer markers, temporaries, another extension, hidden folders.
  Object.assign(events, {
    _SUCCESS: Buffer.from(''),
    'readme.txt': Buffer.from('hi'),
    'event_date=2020-01-01/_tmp-part-9.parquet': randomBytes(10),
    'event_date=2020-01-01/part-0.parquet.crc': randomBytes(10),
    '.staging/part-0.parquet': randomBytes(10),
    '_delta_log/0.parquet': randomBytes(10),
  });
  const big: Record<string, Buffer> = { 'event_date=2020-01-02/part-0.parquet': randomBytes(64) };
  for (let i = 0; i < 1_100; i++) big[`event_date=2020-01-01/part-${String(i).padStart(4, '0')}.parquet`] = randomBytes(16);
  const plain = { 'a/part-0.parquet': randomBytes(100), 'part-1.parquet': randomBytes(100) };
  const cached: Record<string, Buffer> = {};
  for (let d = 1; d <= 3; d++) cached[`event_date=2021-01-0${d}/part-0.parquet`] = randomBytes(30_000);
  const lru: Record<string, Buffer> = {};
  for (const name of ['a', 'b', 'c', 'd']) lru[`${name}.parquet`] = randomBytes(10_000);

  await Promise.all([seed('events', events), seed('big', big), seed('plain', plain), seed('cached', cached), seed('lru', lru)]);
}, 60_000);

afterAll(async () => {
  for (const p of proxies) await p.stop();
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
  for (const [k, v] of savedEnv) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('list', () => {
  it('pages past 1,000 keys in a flat listing, with relative keys, ETag versions and partitions', async () => {
    const location = await open('big');
    const files = await location.list();
    expect(files).toHaveLength(1_101);
    expect(location.stats().listRequests).toBe(2);
    const first = files[0];
    expect(first.key).toBe('event_date=2020-01-01/part-0000.parquet');
    expect(first.uri).toBe('s3://lake/big/event_date=2020-01-01/part-0000.parquet');
    expect(first.size).toBe(16);
    expect(first.version).toMatch(/^[0-9a-f]{32}$/);
    expect(first.partitions).toEqual({ event_date: '2020-01-01' });
    expect(files.at(-1)?.key).toBe('event_date=2020-01-02/part-0.parquet');
    expect(location.uri).toBe('s3://lake/big');
  });

  it('skips marker, temporary and hidden files and other extensions', async () => {
    const files = await (await open('events')).list();
    expect(files.map((f) => f.key)).toEqual(
      [1, 2, 3, 4, 5].flatMap((d) => [`event_date=2020-01-0${d}/part-0.parquet`, `event_date=2020-01-0${d}/part-1.parquet`]),
    );
    for (const f of files) expect(f.size).toBe(uploaded.get(`events/${f.key}`)?.length);
  });

  it('lists only the Hive folders the filter keeps; pruned folders are never requested', async () => {
    const p = await proxy();
    const location = await open('events', { endpoint: p.endpoint });
    const kept = new Set(['2020-01-02', '2020-01-04']);
    const files = await location.list((parts) => kept.has(parts.event_date));
    expect(files.map((f) => f.key)).toEqual([
      'event_date=2020-01-02/part-0.parquet',
      'event_date=2020-01-02/part-1.parquet',
      'event_date=2020-01-04/part-0.parquet',
      'event_date=2020-01-04/part-1.parquet',
    ]);
    const lists = p.requests.filter(isList);
    expect(lists[0].query).toMatchObject({ prefix: 'events/', delimiter: '/' });
    expect(lists.slice(1).map((r) => r.query.prefix).sort()).toEqual(['events/event_date=2020-01-02/', 'events/event_date=2020-01-04/']);
    expect(lists.slice(1).every((r) => r.query.delimiter === undefined)).toBe(true);
    expect(location.stats().listRequests).toBe(3);
    expect(p.count('get')).toBe(0); // nothing downloaded by listing
  });

  it('pages past 1,000 keys inside a kept partition folder', async () => {
    const p = await proxy();
    const location = await open('big', { endpoint: p.endpoint });
    const files = await location.list((parts) => parts.event_date === '2020-01-01');
    expect(files).toHaveLength(1_100);
    expect(new Set(files.map((f) => f.key)).size).toBe(1_100);
    expect(location.stats().listRequests).toBe(3); // folders, then two pages of the kept folder
    const folderPages = p.requests.filter((r) => isList(r) && r.query.prefix === 'big/event_date=2020-01-01/');
    expect(folderPages).toHaveLength(2);
    expect(folderPages[1].query['continuation-token']).toBeTruthy();
    expect(p.count('list', (r) => r.query.prefix === 'big/event_date=2020-01-02/')).toBe(0);
  });

  it('falls back to a flat listing when the prefix has no Hive folders', async () => {
    const location = await open('plain');
    const files = await location.list(() => true);
    expect(files.map((f) => f.key)).toEqual(['a/part-0.parquet', 'part-1.parquet']);
    expect(location.stats().listRequests).toBe(2);
  });
});

describe('fetch and cache', () => {
  it('downloads once, serves unchanged objects from disk, re-downloads only a changed one', async () => {
    const cacheDir = await newCacheDir();
    const first = await open('cached', { cacheDir });
    const files = await first.list();
    expect(files).toHaveLength(3);
    const paths = await first.fetch(files);
    for (const [i, f] of files.entries()) expect(await readFile(paths[i])).toEqual(uploaded.get(`cached/${f.key}`));
    const total = files.reduce((sum, f) => sum + f.size, 0);
    expect(first.stats()).toMatchObject({ objectsDownloaded: 3, bytesDownloaded: total, cacheHits: 0 });

    // A new location (as a new process would make) finds everything on disk.
    const second = await open('cached', { cacheDir });
    const again = await second.fetch(await second.list());
    expect(again).toEqual(paths);
    expect(second.stats()).toMatchObject({ objectsDownloaded: 0, bytesDownloaded: 0, cacheHits: 3 });
    expect(await second.fetch([...files].reverse())).toEqual([...paths].reverse());

    const changed = randomBytes(12_345);
    await putObject(server.endpoint, BUCKET, 'cached/event_date=2021-01-02/part-0.parquet', changed);
    const third = await open('cached', { cacheDir });
    const relisted = await third.list();
    expect(relisted[1].version).not.toBe(files[1].version);
    const fresh = await third.fetch(relisted);
    expect(third.stats()).toMatchObject({ objectsDownloaded: 1, bytesDownloaded: changed.length, cacheHits: 2 });
    expect(await readFile(fresh[1])).toEqual(changed);
    expect(fresh[0]).toBe(paths[0]);
    expect(fresh[1]).not.toBe(paths[1]);
    expect((await filesUnder(cacheDir)).filter((f) => path.basename(f).startsWith('.'))).toEqual([]);
  });

  it('evicts least recently used objects beyond cacheMaxBytes, never those of the current fetch', async () => {
    const location = await open('lru', { cacheMaxBytes: 30_000 });
    const files = await location.list();
    const [a, b, c, d] = files;
    // One at a time, so their use order is a, b, c (parallel downloads finish in any order).
    const [pa] = await location.fetch([a]);
    const [pb] = await location.fetch([b]);
    const [pc] = await location.fetch([c]);
    await location.fetch([a]); // a is now used more recently than b and c
    const [pd] = await location.fetch([d]);
    expect(location.stats()).toMatchObject({ objectsDownloaded: 4, cacheHits: 1, objectsEvicted: 1, bytesEvicted: 10_000 });
    expect(await exists(pb)).toBe(false);
    for (const p of [pa, pc, pd]) expect(await exists(p)).toBe(true);

    // All four are needed at once: over the cap, but nothing this fetch returns is deleted.
    const all = await location.fetch(files);
    for (const [i, p] of all.entries()) expect(await readFile(p)).toEqual(uploaded.get(`lru/${files[i].key}`));
    expect(location.stats()).toMatchObject({ objectsDownloaded: 5, objectsEvicted: 1 });
  });

  it('keeps at most `concurrency` downloads in flight', async () => {
    const p = await proxy();
    p.setPlan({ match: isGet, delayMs: 60 });
    const location = await open('events', { endpoint: p.endpoint, concurrency: 3 });
    const files = await location.list();
    await location.fetch(files);
    expect(p.count('get')).toBe(10);
    expect(p.maxConcurrentGets()).toBe(3);
  });
});

describe('transient failures', () => {
  it('retries throttling and server errors, for listings and downloads, to success', async () => {
    const p = await proxy();
    const location = await open('events', { endpoint: p.endpoint, concurrency: 1 });
    p.setPlan({ match: isList, slowDown: 1, internalError: 1 });
    const files = (await location.list()).slice(0, 2);
    p.setPlan({ match: isGet, slowDown: 2, internalError: 2 });
    const paths = await location.fetch(files);
    for (const [i, f] of files.entries()) expect(await readFile(paths[i])).toEqual(uploaded.get(`events/${f.key}`));
    expect(p.count(undefined, (r) => r.fault === 'slowDown')).toBe(3);
    expect(p.count(undefined, (r) => r.fault === 'internalError')).toBe(3);
    expect(location.stats()).toMatchObject({ retries: 6, listRequests: 3, getRequests: 6, objectsDownloaded: 2 });
  });

  it('retries a connection reset in the middle of a body; the cached file is complete', async () => {
    const p = await proxy();
    const location = await open('events', { endpoint: p.endpoint });
    const [file] = await location.list();
    p.setPlan({ match: isGet, reset: { afterBytes: 5_000, times: 2 } });
    const [local] = await location.fetch([file]);
    expect(await readFile(local)).toEqual(uploaded.get(`events/${file.key}`));
    expect(p.count('get')).toBe(3);
    expect(p.count('get', (r) => r.fault === 'reset')).toBe(2);
    expect(location.stats()).toMatchObject({ retries: 2, objectsDownloaded: 1, bytesDownloaded: file.size });
  });

  it('gives up after maxRetries with a one-line error naming bucket and key, leaving nothing partial', async () => {
    const p = await proxy();
    const cacheDir = await newCacheDir();
    const location = await open('events', { endpoint: p.endpoint, cacheDir, maxRetries: 2 });
    const [file] = await location.list();
    p.setPlan({ match: isGet, reset: { afterBytes: 5_000, times: 1_000 } });
    const error = await failure(location.fetch([file]));
    expect(error.message).toBe('s3://lake/events/event_date=2020-01-01/part-0.parquet: download failed after 3 attempts: connection reset');
    expect(error.where).toBe('s3://lake/events/event_date=2020-01-01/part-0.parquet');
    expect(error.transient).toBe(true);
    expect(p.count('get')).toBe(3);
    expect(await filesUnder(cacheDir)).toEqual([]);
  });
});

describe('permanent failures', () => {
  it('reports an unknown access key id clearly, without printing the secret', async () => {
    const secret = 'wJalrXUtnFEMI-not-to-be-printed';
    const location = await open('events');
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIAWRONGKEY', AWS_SECRET_ACCESS_KEY: secret });
    try {
      const bad = await open('events');
      const error = await failure(bad.list());
      expect(error.message).toMatch(/^s3:\/\/lake\/events: listing failed: access denied: .*InvalidAccessKeyId/);
      expect(error.message).not.toContain(secret);
      expect(bad.stats().listRequests).toBe(1); // not retried
    } finally {
      Object.assign(process.env, s3rverEnv());
    }
    expect(await location.list()).toHaveLength(10);
  });

  it('reports a missing bucket, naming it', async () => {
    const error = await failure((await open('events', {}, 'no-such-bucket')).list());
    expect(error.message).toBe('s3://no-such-bucket/events: listing failed: bucket not found (NoSuchBucket)');
  });

  it('reports a prefix with no objects', async () => {
    const location = await open('nothing-here');
    expect((await failure(location.list())).message).toBe('no objects under s3://lake/nothing-here');
    expect((await failure(location.list(() => true))).message).toBe('no objects under s3://lake/nothing-here');
  });

  it('fails clearly when the server stops in the middle of a fetch, caching only complete objects', async () => {
    const doomed = await startS3rver();
    const p = await startFaultProxy(doomed.port);
    proxies.push(p);
    try {
      await createBucket(doomed.endpoint, 'doomed');
      const bodies = new Map<string, Buffer>();
      const local = path.join(work, 'seed-doomed');
      const files: Record<string, Buffer> = {};
      for (let i = 0; i < 12; i++) files[`part-${i}.parquet`] = randomBytes(256 * 1024);
      await writeTree(local, files);
      await uploadDir(doomed.endpoint, 'doomed', 'data/', local);
      for (const body of Object.values(files)) bodies.set(body.toString('base64'), body);

      const cacheDir = await newCacheDir();
      const location = createS3Location('s3://doomed/data', {
        extension: 'parquet',
        s3: { endpoint: p.endpoint, cacheDir, concurrency: 2, maxRetries: 2 },
      });
      const listed = await location.list();
      p.setPlan({ match: isGet, chunkDelayMs: 25 }); // ~100 ms per object: the stop lands mid-body
      const fetching = location.fetch(listed);
      fetching.catch(() => undefined);
      const deadline = Date.now() + 10_000;
      while (location.stats().objectsDownloaded < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await doomed.stop();

      const error = await failure(fetching);
      expect(error.message).toMatch(/^s3:\/\/doomed\/data\/part-\d+\.parquet: download failed after 3 attempts: connection (reset|refused)$/);
      const cached = await filesUnder(cacheDir);
      expect(cached.length).toBeGreaterThanOrEqual(1);
      expect(cached.length).toBeLessThan(12);
      for (const file of cached) {
        expect(path.basename(file).startsWith('.')).toBe(false);
        expect(bodies.has((await readFile(file)).toString('base64'))).toBe(true);
      }

      const direct = createS3Location('s3://doomed/data', { extension: 'parquet', s3: { endpoint: doomed.endpoint, cacheDir, maxRetries: 1 } });
      expect((await failure(direct.list())).message).toBe('s3://doomed/data: listing failed after 2 attempts: connection refused');
    } finally {
      await doomed.stop();
    }
  });
});

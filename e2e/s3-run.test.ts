import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/api/run.js';
import { startFaultProxy, type FaultProxy } from '../test-support/fault-proxy.js';
import { createBucket, putObject, s3rverEnv, startS3rver, uploadDir, type S3rverHandle } from '../test-support/s3rver.js';
import { expected, FIXTURE_NOW, martOrder, writeColdFixture } from '../test-support/cold-fixture.js';
import { writeEventsFile } from '../test-support/fixtures.js';
import { copyProject, freshSchema, pgUrl, queryRows, runCli, tempDir } from '../test-support/harness.js';

const marts = Object.keys(expected) as (keyof typeof expected)[];

describe('whole runs from S3 (s3rver on loopback) against the same files on local disk', () => {
  let s3: S3rverHandle;
  let proxy: FaultProxy;
  let project: Awaited<ReturnType<typeof copyProject>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let cache: Awaited<ReturnType<typeof tempDir>>;
  const schemas: { schema: string; drop: () => Promise<void> }[] = [];
  const uri = 's3://lake/curated_stream';

  const runFrom = async (location: string, schema: string, lines: string[] = []) => {
    process.env.TM_CURATED_PATH = location;
    process.env.TM_PG_SCHEMA = schema;
    return run({ projectDir: project.dir, target: 'prod', select: ['cold'], now: FIXTURE_NOW, log: (l) => lines.push(l) });
  };
  const martRows = async (schema: string) => {
    const out: Record<string, unknown[]> = {};
    for (const m of marts) out[m] = await queryRows(`SELECT * FROM ${schema}.${m} ORDER BY ${martOrder[m]}`);
    return out;
  };

  beforeAll(async () => {
    s3 = await startS3rver();
    proxy = await startFaultProxy(s3.port);
    project = await copyProject();
    data = await tempDir();
    cache = await tempDir();
    await writeColdFixture(data.dir);
    // More than 1,000 objects in one partition folder: the listing must page (they hold no rows).
    const empty = await writeEventsFile(cache.dir, '2020-03-05', 'empty.parquet', []);
    const many = path.join(data.dir, 'event_date=2020-03-05');
    for (let i = 0; i < 1_050; i++) await cp(empty, path.join(many, `empty-${String(i).padStart(4, '0')}.parquet`));
    await createBucket(s3.endpoint, 'lake');
    await uploadDir(s3.endpoint, 'lake', 'curated_stream/', data.dir);
    Object.assign(process.env, s3rverEnv(), {
      TM_S3_ENDPOINT: proxy.endpoint, TM_S3_CACHE_DIR: path.join(cache.dir, 's3'), TM_S3_RETRY_BASE_MS: '2', TM_PG_URL: pgUrl,
    });
    for (const name of ['s3local', 's3remote']) schemas.push(await freshSchema(name));
  });

  afterAll(async () => {
    await proxy?.stop();
    await s3?.stop();
    for (const s of schemas) await s.drop();
    await project?.remove();
    await data?.remove();
    await cache?.remove();
  });

  it('builds the same cold marts from S3 as from the local folder, listing past 1,000 keys', async () => {
    const local = await runFrom(data.dir, schemas[0].schema);
    expect(local.exitCode).toBe(0);
    proxy.clearLog();
    const lines: string[] = [];
    const remote = await runFrom(uri, schemas[1].schema, lines);
    expect(remote.exitCode, lines.join('\n')).toBe(0);
    expect(lines.join('\n')).toMatch(/source curated_stream: 1,056 files \(2 unreadable\), 23 rows read, 13 valid, 3 duplicates, 7 excluded/);
    expect(proxy.count('list')).toBeGreaterThan(1);
    const fromS3 = await martRows(schemas[1].schema);
    expect(fromS3).toEqual(await martRows(schemas[0].schema));
    expect(fromS3.mart_daily_traffic).toEqual(expected.mart_daily_traffic.map((r) => ({ ...r, total_events: r.total_events })));
  });

  it('builds the same hot marts from S3 as from the local folder', async () => {
    const hot = async (location: string, schema: string) => {
      process.env.TM_CURATED_PATH = location;
      process.env.TM_PG_SCHEMA = schema;
      const lines: string[] = [];
      const outcome = await run({ projectDir: project.dir, target: 'prod', select: ['hot'], now: FIXTURE_NOW, log: (l) => lines.push(l) });
      expect(outcome.exitCode, lines.join('\n')).toBe(0);
      const tables: Record<string, unknown[]> = {};
      for (const [table, order] of [
        ['mart_realtime_traffic_minute', 'event_minute'], ['mart_realtime_top_docs_1h', 'snapshot_ts, rank'],
        ['mart_realtime_clinical_trend_24h', 'snapshot_ts, clinical_area COLLATE "C"'], ['mart_realtime_anomaly_sessions', 'detected_ts, session_id'],
      ]) {
        const rows = await queryRows<Record<string, unknown>>(`SELECT * FROM ${schema}.${table} ORDER BY ${order}`);
        tables[table] = rows.map(({ updated_at: _ignored, ...rest }) => rest);
      }
      return tables;
    };
    const fromLocal = await hot(data.dir, schemas[0].schema);
    const fromS3 = await hot(uri, schemas[1].schema);
    expect(fromLocal.mart_realtime_traffic_minute.length).toBeGreaterThan(0);
    expect(fromS3).toEqual(fromLocal);
  });

  it('a second run downloads nothing; a changed object alone is downloaded again', async () => {
    proxy.clearLog();
    expect((await runFrom(uri, schemas[1].schema)).exitCode).toBe(0);
    expect(proxy.count('get')).toBe(0);
    const changed = await writeEventsFile(cache.dir, '2020-03-02', 'c2.parquet', [
      { dedup_key: 'k8', event_ts: '2020-03-02 00:00:05', session_id: 's3', document_id: 102, title: 'T102', clinical_areas: 'Oncology' },
    ]);
    await putObject(s3.endpoint, 'lake', 'curated_stream/event_date=2020-03-02/c.parquet', new Uint8Array(await readFile(changed)));
    proxy.clearLog();
    expect((await runFrom(uri, schemas[1].schema)).exitCode).toBe(0);
    expect(proxy.count('get')).toBe(1);
    expect(await queryRows(`SELECT total_events FROM ${schemas[1].schema}.mart_daily_traffic WHERE event_date = '2020-03-02'`)).toEqual([{ total_events: 1 }]);
  });

  it('the server stopped in the middle of a run: a clear error naming the object, the marts untouched', async () => {
    const before = await martRows(schemas[1].schema);
    // A fresh cache forces downloads; slow bodies keep the run inside the download phase.
    process.env.TM_S3_CACHE_DIR = path.join(cache.dir, 's3-fresh');
    proxy.setPlan({ chunkDelayMs: 50, delayMs: 100 });
    const lines: string[] = [];
    const running = runFrom(uri, schemas[1].schema, lines).then(
      (o) => ({ code: o.exitCode, message: '' }),
      (err: Error & { exitCode?: number }) => ({ code: err.exitCode ?? -1, message: err.message }),
    );
    while (proxy.count('get') === 0) await new Promise((r) => setTimeout(r, 20));
    await s3.stop();
    const outcome = await running;
    expect(outcome.code).toBe(2);
    // Listing or download, wherever the stop caught it: one line naming the bucket and the key or prefix.
    expect(outcome.message).toMatch(/s3:\/\/lake\/curated_stream(\/event_date=[\d-]+\/[\w-]+\.parquet)?: (listing|download) failed/);
    expect(outcome.message).not.toContain('\n');
    expect(await martRows(schemas[1].schema)).toEqual(before);
    proxy.setPlan({});
  });

  it('bad credentials: a one-line error naming the bucket, exit 2', async () => {
    const r = await runCli(['run', '--project-dir', project.dir, '--target', 'prod', '--select', 'cold'], {
      env: { TM_CURATED_PATH: uri, TM_PG_SCHEMA: schemas[1].schema, AWS_ACCESS_KEY_ID: 'WRONGKEY', AWS_SECRET_ACCESS_KEY: 'nope' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Error: .*s3:\/\/lake\/curated_stream.*(credentials|access key|InvalidAccessKeyId|refused|failed)/m);
    expect(r.stderr).not.toContain('nope');
  });
});

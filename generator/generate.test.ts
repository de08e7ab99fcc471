import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { generateStream, planDays, resolveOptions, type GenerateOptions, type GenerateResult } from './generate.js';
import { generateLive } from './live.js';
import { writeDayFile, writeEventsParquet, type EventRow } from './parquet-writer.js';
import { main as cliMain } from './cli.js';

let tmp: string;
let db: DuckDBInstance;
let conn: DuckDBConnection;

async function rows(sql: string): Promise<unknown[][]> {
  return (await conn.runAndReadAll(sql)).getRows();
}
async function one(sql: string): Promise<unknown> {
  return (await rows(sql))[0][0];
}
function glob(root: string): string {
  return `'${path.join(root, 'event_date=*', '*.parquet')}'`;
}
/** Every row of a dataset with its file (relative) and row number, as a view. */
async function viewOf(name: string, root: string): Promise<void> {
  await conn.run(
    `CREATE OR REPLACE VIEW ${name} AS SELECT *, replace(filename, '${root}/', '') AS file FROM read_parquet(${glob(root)}, hive_partitioning = true, filename = true, file_row_number = true)`,
  );
}
/** Hash of all rows in file order. */
async function contentHash(view: string): Promise<string> {
  return String(
    await one(
      `SELECT md5(string_agg(concat_ws('|', file, file_row_number, dedup_key, strftime(event_ts, '%Y-%m-%d %H:%M:%S.%f'), session_id, document_id, url, title, doi, clinical_areas, keywords), '\n' ORDER BY file, file_row_number)) FROM ${view}`,
    ),
  );
}
async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const dir of (await readdir(root)).sort()) {
    for (const f of (await readdir(path.join(root, dir))).sort()) out.push(`${dir}/${f}`);
  }
  return out;
}

const base: Omit<GenerateOptions, 'out'> = {
  startDate: '2020-03-01',
  days: 6,
  eventsPerDay: 1500,
  seed: 7,
  lateFraction: 0.03,
  duplicateFraction: 0.02,
  burstsPerDay: 0.5,
  invalidFraction: 0.02,
};

let resA: GenerateResult;
let resB: GenerateResult;
let resC: GenerateResult;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tm-gen-test-'));
  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
  await conn.run("SET TimeZone='UTC'");
  resA = await generateStream({ ...base, out: path.join(tmp, 'a') });
  // same data written in several chunks by parallel writers
  resB = await generateStream({ ...base, out: path.join(tmp, 'b'), chunkRows: 2000, concurrency: 3 });
  resC = await generateStream({ ...base, seed: 8, invalidFraction: 0, out: path.join(tmp, 'c') });
  await viewOf('a', path.join(tmp, 'a'));
  await viewOf('b', path.join(tmp, 'b'));
  await viewOf('c', path.join(tmp, 'c'));
}, 120_000);

afterAll(async () => {
  conn?.closeSync();
  db?.closeSync();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('generateStream', () => {
  it('is deterministic for a seed (however it is chunked) and differs for another seed', async () => {
    expect(await listFiles(path.join(tmp, 'a'))).toEqual(await listFiles(path.join(tmp, 'b')));
    const ha = await contentHash('a');
    expect(await contentHash('b')).toBe(ha);
    expect(await contentHash('c')).not.toBe(ha);
    expect(resB).toEqual(resA);
  });

  it('reports what it wrote', async () => {
    expect(resA.events).toBe(6 * 1500);
    expect(resA.days).toBe(6);
    expect(resA.files).toBe((await listFiles(path.join(tmp, 'a'))).length);
    expect(Number(await one('SELECT count(*) FROM a'))).toBe(resA.rows);
    expect(resA.rows).toBe(resA.events + resA.duplicateRows);
    expect(Number(await one(`SELECT count(*) FROM a WHERE file LIKE '%/late-%'`))).toBe(resA.lateEvents);
    expect(Number(await one(`SELECT count(*) FROM a WHERE file LIKE '%/replay-%'`))).toBe(resA.duplicateRows);
    // one main file per day, named part-00000.parquet
    const files = await listFiles(path.join(tmp, 'a'));
    expect(files.filter((f) => f.endsWith('/part-00000.parquet'))).toHaveLength(6);
    expect(files.every((f) => /^event_date=\d{4}-\d{2}-\d{2}\/(part-\d{5}|late-\d{4}|replay-\d{4})\.parquet$/.test(f))).toBe(true);
    // dedup_key unique per event: only replays repeat a key
    const [keys, distinctKeys] = (await rows(`SELECT count(dedup_key), count(DISTINCT dedup_key) FROM a WHERE file NOT LIKE '%/replay-%'`))[0];
    expect(keys).toBe(distinctKeys);
  });

  it('writes the curated-stream schema', async () => {
    const file = path.join(tmp, 'a', 'event_date=2020-03-02', 'part-00000.parquet');
    const described = await rows(`DESCRIBE SELECT * FROM read_parquet('${file}', hive_partitioning = false)`);
    expect(described.map((r) => [r[0], r[1]])).toEqual([
      ['dedup_key', 'VARCHAR'],
      ['event_ts', 'TIMESTAMP'],
      ['session_id', 'VARCHAR'],
      ['document_id', 'INTEGER'],
      ['url', 'VARCHAR'],
      ['title', 'VARCHAR'],
      ['doi', 'VARCHAR'],
      ['clinical_areas', 'VARCHAR'],
      ['keywords', 'VARCHAR'],
    ]);
    const tsType = String(await one(`SELECT logical_type FROM parquet_schema('${file}') WHERE name = 'event_ts'`));
    expect(tsType).toMatch(/MICROS/);
    expect(tsType).toMatch(/isAdjustedToUTC=(0|false)/);
  });

  it('looks like TripClick', async () => {
    const [badSid, pubmed, trials, total] = (
      await rows(`SELECT count(*) FILTER (WHERE NOT regexp_full_match(session_id, '[a-z0-5]{24}')),
        count(*) FILTER (WHERE url LIKE 'http://www.ncbi.nlm.nih.gov/pubmed/%'), count(*) FILTER (WHERE url LIKE '%clinicaltrials.gov%'), count(*)
        FROM c`)
    )[0].map(Number);
    expect(badSid).toBe(0);
    expect(pubmed / total).toBeGreaterThan(0.72);
    expect(pubmed / total).toBeLessThan(0.88);
    expect(trials / total).toBeGreaterThan(0.06);
    const [minDoc, maxDoc, keyLen] = (await rows(`SELECT min(document_id), max(document_id), max(length(keywords)) FROM c`))[0].map(Number);
    expect(minDoc).toBeGreaterThanOrEqual(96_657);
    expect(maxDoc).toBeLessThanOrEqual(11_707_140);
    expect(keyLen).toBeLessThanOrEqual(100);
    const clicksPerSession = Number(await one(`SELECT count(*) / count(DISTINCT session_id) FROM c`));
    expect(clicksPerSession).toBeGreaterThan(2.5);
    expect(clicksPerSession).toBeLessThan(4.5);
    const noAreas = Number(await one(`SELECT avg(CASE WHEN coalesce(clinical_areas, '') = '' THEN 1 ELSE 0 END) FROM c`));
    expect(noAreas).toBeGreaterThan(0.08);
    expect(noAreas).toBeLessThan(0.18);
    // working hours busier than the night
    const [day, night] = (
      await rows(`SELECT count(*) FILTER (WHERE hour(event_ts) BETWEEN 9 AND 16), count(*) FILTER (WHERE hour(event_ts) BETWEEN 0 AND 3) FROM c`)
    )[0].map(Number);
    expect(day).toBeGreaterThan(3 * night);
  });

  it('puts valid rows in the folder of their UTC date', async () => {
    const [mismatch, total] = (await rows(`SELECT count(*) FILTER (WHERE event_ts::DATE <> event_date), count(*) FROM c`))[0].map(Number);
    expect(total).toBe(resC.rows);
    expect(mismatch).toBe(0);
    expect(Number(await one(`SELECT count(*) FROM c WHERE dedup_key IS NULL OR session_id IS NULL OR document_id IS NULL OR event_ts IS NULL OR length(session_id) > 50`))).toBe(0);
  });

  it('writes each kind of contract-breaking row when invalidFraction > 0', async () => {
    const counts = (
      await rows(`SELECT count(*) FILTER (WHERE dedup_key IS NULL), count(*) FILTER (WHERE session_id IS NULL),
        count(*) FILTER (WHERE document_id IS NULL), count(*) FILTER (WHERE event_ts IS NULL),
        count(*) FILTER (WHERE length(session_id) > 50), count(*) FILTER (WHERE event_ts::DATE <> event_date)
        FROM a WHERE file NOT LIKE '%/replay-%'`)
    )[0].map(Number);
    for (const n of counts) expect(n).toBeGreaterThan(0);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(resA.invalidRows);
  });

  it('replays events: the same dedup_key and content in two files', async () => {
    const [pairs, differing] = (
      await rows(`SELECT count(*), count(*) FILTER (WHERE o.event_ts IS DISTINCT FROM r.event_ts OR o.session_id IS DISTINCT FROM r.session_id
          OR o.document_id IS DISTINCT FROM r.document_id OR o.title IS DISTINCT FROM r.title OR o.keywords IS DISTINCT FROM r.keywords
          OR o.clinical_areas IS DISTINCT FROM r.clinical_areas OR o.url IS DISTINCT FROM r.url OR o.doi IS DISTINCT FROM r.doi)
        FROM a r JOIN a o ON o.dedup_key = r.dedup_key AND o.file <> r.file
        WHERE r.file LIKE '%/replay-%' AND o.file NOT LIKE '%/replay-%'`)
    )[0].map(Number);
    expect(pairs).toBeGreaterThan(0);
    expect(differing).toBe(0);
  });

  it('writes late files into older day folders', async () => {
    const lateFolders = (await rows(`SELECT DISTINCT event_date FROM a WHERE file LIKE '%/late-%' ORDER BY 1`)).map((r) => String(r[0]));
    expect(lateFolders.length).toBeGreaterThan(1);
    expect(lateFolders[0] < '2020-03-06').toBe(true);
    // late events are ordinary events of their folder's day
    expect(Number(await one(`SELECT count(*) FROM c WHERE file LIKE '%/late-%' AND event_ts::DATE <> event_date`))).toBe(0);
  });

  it('makes a burst session with >= 50 clicks within 5 minutes', async () => {
    const best = Number(
      await one(`SELECT max(n) FROM (
        SELECT count(*) OVER (PARTITION BY session_id ORDER BY event_ts RANGE BETWEEN CURRENT ROW AND INTERVAL 299999999 MICROSECONDS FOLLOWING) AS n
        FROM (SELECT DISTINCT ON (dedup_key) * FROM a WHERE dedup_key IS NOT NULL AND event_ts IS NOT NULL AND session_id IS NOT NULL))`),
    );
    expect(best).toBeGreaterThanOrEqual(50);
    expect(resA.bursts).toBeGreaterThan(0);
  });

  it('refuses a non-empty out folder unless forced', async () => {
    const out = path.join(tmp, 'a');
    await expect(generateStream({ ...base, out })).rejects.toThrow(/already holds data/);
    const forced = path.join(tmp, 'forced');
    await mkdir(forced, { recursive: true });
    await writeFile(path.join(forced, 'junk.txt'), 'x');
    const r = await generateStream({ ...base, days: 1, eventsPerDay: 100, out: forced, force: true });
    expect(r.events).toBe(100);
    expect((await readdir(forced)).some((f) => f === 'junk.txt')).toBe(false);
  });

  it('plans the tripclick preset at full scale', () => {
    const o = resolveOptions({ out: '/nonexistent', preset: 'tripclick' });
    expect(o.startDate).toBe('2013-01-01');
    const plans = planDays(o);
    expect(plans[plans.length - 1].date).toBe('2020-10-31');
    expect(plans.reduce((n, p) => n + p.total, 0)).toBe(5_272_064);
    const perDay = (year: string) => {
      const days = plans.filter((p) => p.date.startsWith(year));
      return days.reduce((n, p) => n + p.total, 0) / days.length;
    };
    expect(perDay('2020')).toBeGreaterThan(perDay('2013') * 2);
  });
});

describe('writeEventsParquet', () => {
  it('round-trips NULLs, quotes, commas, newlines and unicode exactly', async () => {
    const input: EventRow[] = [
      { dedup_key: 'k1', event_ts: '2020-01-01 00:00:00', session_id: 's', document_id: 1, url: 'u', title: 'plain', doi: '', clinical_areas: ',Cardiology', keywords: 'a' },
      { dedup_key: null, event_ts: null, session_id: null, document_id: null, url: null, title: null, doi: null, clinical_areas: null, keywords: null },
      { dedup_key: "it's \"quoted\"", event_ts: '2020-02-29 23:59:59.999999', session_id: 'a,b;c\td', document_id: -2147483648, title: 'line1\nline2\r\nline3', clinical_areas: ', Cardiology , Oncology,Cardiology', keywords: 'title:"x" AND from:2011' },
      { dedup_key: 'ünïcødé ✓ 医学 🩺', event_ts: '2016-01-01T12:34:56.5Z', session_id: 'x'.repeat(60), document_id: 2147483647, url: '\\back\\slash', title: 'é'.repeat(600), doi: "10.1000/'x'", clinical_areas: '', keywords: '' },
      { dedup_key: 'k1', event_ts: '2020-01-01 00:00:00', session_id: 's', document_id: 1, url: 'u', title: 'plain', doi: '', clinical_areas: ',Cardiology', keywords: 'a' },
    ];
    const file = path.join(tmp, 'roundtrip.parquet');
    await writeEventsParquet(file, input);
    const back = await rows(
      `SELECT dedup_key, strftime(event_ts, '%Y-%m-%d %H:%M:%S.%f'), session_id, document_id, url, title, doi, clinical_areas, keywords
       FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`,
    );
    const expectedTs = ['2020-01-01 00:00:00.000000', null, '2020-02-29 23:59:59.999999', '2016-01-01 12:34:56.500000', '2020-01-01 00:00:00.000000'];
    expect(back).toHaveLength(input.length);
    input.forEach((row, i) => {
      expect(back[i]).toEqual([
        row.dedup_key, expectedTs[i], row.session_id, row.document_id,
        row.url === undefined ? '' : row.url, row.title === undefined ? '' : row.title, row.doi === undefined ? '' : row.doi,
        row.clinical_areas === undefined ? '' : row.clinical_areas, row.keywords === undefined ? '' : row.keywords,
      ]);
    });
    const types = (await rows(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).map((r) => r[1]);
    expect(types).toEqual(['VARCHAR', 'TIMESTAMP', 'VARCHAR', 'INTEGER', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR']);
  });

  it('writes day files atomically into the Hive folder and rejects bad input', async () => {
    const root = path.join(tmp, 'dayfiles');
    const p = await writeDayFile(root, '2020-10-05', 'x-1.parquet', [
      { dedup_key: 'd', event_ts: '2020-10-05 10:00:00', session_id: 's', document_id: 5 },
    ]);
    expect(p).toBe(path.join(root, 'event_date=2020-10-05', 'x-1.parquet'));
    expect(await readdir(path.join(root, 'event_date=2020-10-05'))).toEqual(['x-1.parquet']);
    expect(Number(await one(`SELECT count(*) FROM read_parquet('${p}')`))).toBe(1);
    await expect(writeDayFile(root, '2020-10-05', 'bad.parquet', [{ dedup_key: 'd', event_ts: 'yesterday', session_id: 's', document_id: 1 }])).rejects.toThrow(/event_ts/);
    await expect(writeDayFile(root, '2020-13-05', 'y.parquet', [])).rejects.toThrow(/event date/);
    expect(await readdir(path.join(root, 'event_date=2020-10-05'))).toEqual(['x-1.parquet']);
  });
});

describe('generateLive', () => {
  it('writes small files near the wall clock until its duration ends', async () => {
    const out = path.join(tmp, 'live');
    const lines: string[] = [];
    const t0 = Date.now();
    // 100x clock: 40 files of 3 simulated seconds each, bursts about every 5 simulated seconds.
    // The seed mixes in the clock, so the choices differ per run: at one burst per 20 s, 1.6% of
    // runs had no burst early enough to reach 20 clicks by the end (simulated); at 5 s, none of 200,000.
    const r = await generateLive({
      out, intervalSec: 3, durationSec: 120, speed: 100, burstEverySec: 5, replayChance: 0.3,
      handleSignals: false, log: (l) => lines.push(l),
    });
    expect(r.ticks).toBe(40);
    expect(r.files).toBeGreaterThanOrEqual(40);
    expect(lines).toHaveLength(r.files);
    expect(lines.every((l) => /event_date=\d{4}-\d{2}-\d{2}\/live-\d{8}T\d{9}Z-\d{6}\.parquet \d+ rows$/.test(l))).toBe(true);
    await viewOf('live', out);
    const [n, distinct, oldest, newest, mismatched] = (
      await rows(`SELECT count(*), count(DISTINCT dedup_key), epoch_ms(min(event_ts)), epoch_ms(max(event_ts)), count(*) FILTER (WHERE event_ts::DATE <> event_date) FROM live`)
    )[0].map(Number);
    expect(n).toBe(r.rows);
    expect(distinct).toBeLessThan(n); // replays
    expect(mismatched).toBe(0);
    // the newest events are from the last file's few seconds (simulated clock: t0 + 120 s)
    // the simulated clock starts after the setup, between t0 and now
    expect(newest).toBeGreaterThan(t0 + 110_000);
    expect(newest).toBeLessThanOrEqual(Date.now() + 120_000);
    expect(oldest).toBeGreaterThan(t0 - 40 * 60_000);
    // late events: minutes older than the file they arrive in
    expect(Number(await one(`SELECT count(*) FROM live WHERE epoch_ms(event_ts) < ${t0} - 55000`))).toBeGreaterThan(0);
    // a burst session continues over several files
    const [clicks, files] = (await rows(`SELECT count(*) c, count(DISTINCT file) f FROM live GROUP BY session_id ORDER BY c DESC LIMIT 1`))[0].map(Number);
    expect(clicks).toBeGreaterThanOrEqual(20);
    expect(files).toBeGreaterThan(5);
  });

  it('stops on an abort signal after finishing the current file', async () => {
    const ac = new AbortController();
    let logged = 0;
    const r = await generateLive({
      out: path.join(tmp, 'live2'), intervalSec: 0.1, eventsPerSec: 200, signal: ac.signal, handleSignals: false,
      log: () => {
        if (++logged === 3) ac.abort();
      },
    });
    expect(r.files).toBeGreaterThanOrEqual(3);
    expect(r.files).toBeLessThanOrEqual(4); // the file of a second day folder may complete the tick
    expect((await readdir(path.join(tmp, 'live2'))).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

describe('cli', () => {
  it('rejects bad arguments with exit code 2 and prints help with 0', async () => {
    const err = process.stderr.write;
    const out = process.stdout.write;
    const captured: string[] = [];
    process.stderr.write = ((s: string) => (captured.push(String(s)), true)) as typeof process.stderr.write;
    process.stdout.write = ((s: string) => (captured.push(String(s)), true)) as typeof process.stdout.write;
    try {
      expect(await cliMain(['--days', 'x'])).toBe(2);
      expect(await cliMain(['--late-fraction', '2'])).toBe(2);
      expect(await cliMain(['--start-date', '2020-02-30'])).toBe(2);
      expect(await cliMain(['--preset', 'nope'])).toBe(2);
      expect(await cliMain(['--preset', 'tripclick', '--days', '3'])).toBe(2);
      expect(await cliMain(['--live', '--days', '3'])).toBe(2);
      expect(await cliMain(['--out', path.join(tmp, 'a')])).toBe(2);
      expect(captured.join('')).toMatch(/already holds data/);
      expect(await cliMain(['--help'])).toBe(0);
      expect(captured.join('')).toMatch(/--events-per-day/);
    } finally {
      process.stderr.write = err;
      process.stdout.write = out;
    }
  });

  it('generates a small stream', async () => {
    const out = path.join(tmp, 'cli-out');
    const log = console.log;
    const lines: string[] = [];
    console.log = (s: string) => lines.push(s);
    try {
      expect(await cliMain(['--out', out, '--days', '2', '--events-per-day', '300', '--seed', '3'])).toBe(0);
    } finally {
      console.log = log;
    }
    expect(lines.join('\n')).toMatch(/generated \d+ files, 600 events/);
    expect((await readdir(out)).sort()).toEqual(['event_date=2020-10-30', 'event_date=2020-10-31']);
  });
});

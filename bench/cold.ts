/**
 * Section `cold`: the four cold marts built two ways on the real PostgreSQL, from the same files.
 *  (a) tm:    `node bin/tm.js run --select cold --target prod` (child process) into a fresh schema;
 *  (c) floor: DuckDB alone (tm's 1GB limit, tables in a scratch database file) computes the four
 *             results into CSV files, psql `\copy`s them into unindexed tables (4 at once), then
 *             every key and index is built (all at once), ANALYZE. No framework. Its SQL: bench/sql.ts.
 * The comparison with the real dbt-postgres is section `peers` (bench/peers/).
 * PostgreSQL runs with the server's settings (work_mem etc. are printed).
 */
import { rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Dataset } from './dataset.js';
import { mib, sum } from './dataset.js';
import { TmRunError, dropSchemaFamilies, freshSchema, psql, quoteIdent, quoteLiteral, runTm, withPg, type TmRun } from './proc.js';
import { DUCK_MART_SQL, MARTS, duckStgSql, pgCreateTableSql, pgKeySql, sqlNow } from './sql.js';
import type { BenchContext, BenchSection, SectionResult, TargetCheck } from './types.js';
import { fmtBytes, fmtCount, median, padTable } from './format.js';

/** DuckDB settings of the (c) floor: those tm's profile gives its DuckDB. */
const DUCK_SETTINGS = { memory_limit: '1GB', preserve_insertion_order: 'false' } as const;

export const TARGET_AC = 1.2;
export const TARGET_RSS_BYTES = 2 * 1024 ** 3;

/** Rows and a checksum per mart, and the number of valid deduplicated events the build saw. */
interface BuildCounts {
  readonly marts: Record<string, { rows: number; checksum: number }>;
  readonly validEvents?: number;
}

interface CaseA {
  readonly seconds: number;
  readonly run: TmRun;
  readonly counts: BuildCounts;
  readonly schema: string;
}

export interface CaseC {
  readonly seconds: number;
  readonly phases: { compute: number; load: number; keys: number };
  readonly computeSeconds: Record<string, number>;
  readonly counts: BuildCounts;
  readonly schema: string;
}

export const coldSection: BenchSection = {
  name: 'cold',
  title: 'cold marts: (a) tm run --select cold vs (c) the floor, DuckDB alone + COPY (the real dbt: section peers)',
  async run(ctx) {
    const data = await ctx.dataset();
    const settings = await pgSettings(ctx.pgUrl);
    ctx.log(`PostgreSQL settings (server defaults): ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    const as: CaseA[] = [];
    const cs: CaseC[] = [];
    const toDrop: string[] = [];
    try {
      const errors: string[] = [];
      const aByRun: (CaseA | undefined)[] = [];
      for (let i = 0; i < ctx.repeat; i++) {
        const suffix = ctx.repeat > 1 ? ` [${i + 1}/${ctx.repeat}]` : '';
        ctx.log(`(a) tm run --select cold --target prod${suffix}`);
        let a: CaseA | undefined;
        try {
          a = await caseA(ctx, data, i);
          toDrop.push(a.schema);
          ctx.log(`(a) ${a.seconds.toFixed(2)} s, peak RSS ${fmtBytes(a.run.maxRssBytes)}`);
          await dropUnlessKept(ctx, toDrop, i);
        } catch (err) {
          // A failed tm run is reported; (c) is still measured.
          if (!(err instanceof TmRunError)) throw err;
          toDrop.push(`${ctx.runTag}_tm_${i}`);
          errors.push(`(a)${suffix} tm run failed: ${err.reason}`);
          ctx.log(`(a) FAILED: ${err.reason}`);
        }

        ctx.log(`(c) floor: DuckDB -> CSV, COPY, keys${suffix}`);
        const c = await caseC(ctx, data, i);
        toDrop.push(c.schema);
        ctx.log(`(c) ${c.seconds.toFixed(2)} s (DuckDB ${c.phases.compute.toFixed(2)} s, COPY ${c.phases.load.toFixed(2)} s, keys ${c.phases.keys.toFixed(2)} s)`);
        await dropUnlessKept(ctx, toDrop, i);
        aByRun.push(a);
        if (a) as.push(a);
        cs.push(c);
      }

      const problems: string[] = [];
      aByRun.forEach((a, i) => {
        const found = a ? compareCounts(a.counts, cs[i].counts) : [];
        problems.push(...found.map((p) => (ctx.repeat > 1 ? `[run ${i + 1}] ${p}` : p)));
      });
      let rowDiffs: Record<string, Record<string, number>> | undefined;
      if (ctx.verifyRows) {
        ctx.log('verifying marts row by row (EXCEPT ALL both ways) ...');
        rowDiffs = aByRun[0] ? await compareRows(ctx.pgUrl, '(a)', aByRun[0].schema, { c: cs[0].schema }) : {};
        for (const [pair, perMart] of Object.entries(rowDiffs)) {
          for (const [mart, n] of Object.entries(perMart)) if (n !== 0) problems.push(`${mart}: ${n} rows differ between ${pair}`);
        }
      }
      return { ...summarize(ctx, data, settings, as, cs, problems, rowDiffs), errors };
    } finally {
      if (!ctx.keepSchemas) await dropSchemas(ctx.pgUrl, toDrop);
      else if (toDrop.length) ctx.log(`kept schemas: ${toDrop.join(', ')}`);
    }
  },
};

/** Schemas are dropped as soon as counted, unless kept or needed for --verify (first run's). */
async function dropUnlessKept(ctx: BenchContext, schemas: string[], iteration: number): Promise<void> {
  if (ctx.keepSchemas || (ctx.verifyRows && iteration === 0)) return;
  const last = schemas[schemas.length - 1];
  await dropSchemas(ctx.pgUrl, [last]);
}

async function dropSchemas(pgUrl: string, schemas: readonly string[]): Promise<void> {
  await dropSchemaFamilies(pgUrl, schemas);
}

async function pgSettings(pgUrl: string): Promise<Record<string, string>> {
  return withPg(pgUrl, async (c) => {
    const names = ['server_version', 'work_mem', 'maintenance_work_mem', 'shared_buffers', 'max_parallel_workers_per_gather', 'max_parallel_maintenance_workers', 'synchronous_commit'];
    const r = await c.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM unnest($1::text[]) AS name`,
      [names],
    );
    return Object.fromEntries(r.rows.map((x) => [x.name, x.setting]));
  });
}

async function martCounts(pgUrl: string, schema: string, validEvents?: number): Promise<BuildCounts> {
  return withPg(pgUrl, async (c) => {
    const marts: BuildCounts['marts'] = {};
    for (const m of MARTS) {
      const r = await c.query<{ n: string; s: string }>(
        `SELECT count(*)::bigint AS n, coalesce(sum(${quoteIdent(m.checksum)}), 0)::bigint AS s FROM ${quoteIdent(schema)}.${quoteIdent(m.name)}`,
      );
      marts[m.name] = { rows: Number(r.rows[0].n), checksum: Number(r.rows[0].s) };
    }
    return { marts, validEvents };
  });
}

function compareCounts(a: BuildCounts, c: BuildCounts): string[] {
  const problems: string[] = [];
  for (const m of MARTS) {
    const [x, z] = [a.marts[m.name], c.marts[m.name]];
    if (x.rows !== z.rows) problems.push(`ROW COUNT MISMATCH ${m.name}: (a) ${fmtCount(x.rows)}, (c) ${fmtCount(z.rows)}`);
    else if (x.checksum !== z.checksum) problems.push(`CHECKSUM MISMATCH ${m.name}: sum(${m.checksum}) (a) ${x.checksum}, (c) ${z.checksum}`);
  }
  if (a.validEvents !== undefined && a.validEvents !== c.validEvents) problems.push(`VALID EVENT COUNT MISMATCH: (a) ${a.validEvents}, (c) ${c.validEvents}`);
  return problems;
}

async function compareRows(pgUrl: string, baseLabel: string, base: string, others: Record<string, string>): Promise<Record<string, Record<string, number>>> {
  return withPg(pgUrl, async (client) => {
    const out: Record<string, Record<string, number>> = {};
    for (const [label, schema] of Object.entries(others)) {
      const pair = `${baseLabel} and (${label})`;
      out[pair] = {};
      for (const m of MARTS) {
        const cols = m.columns.map(([c]) => quoteIdent(c)).join(', ');
        const t1 = `${quoteIdent(base)}.${quoteIdent(m.name)}`;
        const t2 = `${quoteIdent(schema)}.${quoteIdent(m.name)}`;
        const r = await client.query<{ n: string }>(
          `SELECT ((SELECT count(*) FROM (SELECT ${cols} FROM ${t1} EXCEPT ALL SELECT ${cols} FROM ${t2}) x) +
                   (SELECT count(*) FROM (SELECT ${cols} FROM ${t2} EXCEPT ALL SELECT ${cols} FROM ${t1}) y))::bigint AS n`,
        );
        out[pair][m.name] = Number(r.rows[0].n);
      }
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// (a) tm

async function caseA(ctx: BenchContext, data: Dataset, i: number): Promise<CaseA> {
  const schema = `${ctx.runTag}_tm_${i}`;
  // Created before the run, empty: tm's models each run CREATE SCHEMA IF NOT EXISTS, which races
  // on a schema that does not exist yet when 4 models start at once (seen: duplicate key in
  // pg_namespace_nspname_index). A production schema exists; the bench measures that case.
  await freshSchema(ctx.pgUrl, schema);
  const run = await runTm({
    repoRoot: ctx.repoRoot,
    projectDir: ctx.projectDir,
    env: { TM_PG_URL: ctx.pgUrl, TM_PG_SCHEMA: schema, TM_CURATED_PATH: data.dir },
    echo: (line) => ctx.log(`    | ${line}`),
  });
  const counts = await martCounts(ctx.pgUrl, schema, run.validRows);
  return { seconds: run.seconds, run, counts, schema };
}

// ---------------------------------------------------------------------------------------------
// (c) floor

/**
 * A DuckDB with tm's memory limit. `databaseFile`: tables live in that file (deleted on close), so
 * DuckDB keeps them compressed and can evict them under the cap; in memory, stg_events alone
 * (5.3M rows with titles) fills most of 1GB and the marts' aggregates run out of memory.
 */
async function openDuck(ctx: BenchContext, databaseFile?: string): Promise<{ instance: DuckDBInstance; conn: DuckDBConnection; close(): void }> {
  const tempDirectory = path.join(ctx.benchDir, 'tmp', 'duckdb');
  await mkdir(tempDirectory, { recursive: true });
  if (databaseFile) await rm(databaseFile, { force: true });
  const instance = await DuckDBInstance.create(databaseFile ?? ':memory:', { ...DUCK_SETTINGS, temp_directory: tempDirectory });
  const conn = await instance.connect();
  await conn.run(`SET TimeZone = 'UTC'`);
  return {
    instance,
    conn,
    close() {
      conn.closeSync();
      instance.closeSync();
      if (databaseFile) for (const f of [databaseFile, `${databaseFile}.wal`]) rmSync(f, { force: true });
    },
  };
}

export async function caseC(ctx: BenchContext, data: Dataset, i: number): Promise<CaseC> {
  const schema = `${ctx.runTag}_floor_${i}`;
  await dropSchemas(ctx.pgUrl, [schema]);
  const work = path.join(ctx.benchDir, 'tmp', `floor-${ctx.runTag}-${i}`);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const now = sqlNow(new Date());
  try {
    const started = performance.now();
    const computeSeconds: Record<string, number> = {};
    let validEvents: number;
    const duck = await openDuck(ctx, path.join(work, 'floor.duckdb'));
    try {
      let t = performance.now();
      await duck.conn.run(duckStgSql(data.dir, now));
      computeSeconds.stg_events = (performance.now() - t) / 1000;
      validEvents = Number((await duck.conn.runAndReadAll('SELECT count(*) FROM stg_events')).getRows()[0][0]);
      for (const m of MARTS) {
        t = performance.now();
        const cols = m.columns.map(([c]) => c).join(', ');
        await duck.conn.run(`COPY (SELECT ${cols} FROM (${DUCK_MART_SQL[m.name]})) TO ${quoteLiteral(path.join(work, `${m.name}.csv`))} (FORMAT csv, HEADER false)`);
        computeSeconds[m.name] = (performance.now() - t) / 1000;
      }
    } finally {
      duck.close();
    }
    const computed = performance.now();
    await psql(ctx.pgUrl, `CREATE SCHEMA ${quoteIdent(schema)};\nSET search_path = ${quoteIdent(schema)};\n${MARTS.map((m) => `${pgCreateTableSql(m)};\n`).join('')}`);
    await Promise.all(MARTS.map((m) => psql(ctx.pgUrl, `\\copy ${m.name} FROM ${quoteLiteral(path.join(work, `${m.name}.csv`))} WITH (FORMAT csv)\n`, schema)));
    const loaded = performance.now();
    await Promise.all(MARTS.flatMap((m) => pgKeySql(m)).map((sql) => psql(ctx.pgUrl, `${sql};\n`, schema)));
    await psql(ctx.pgUrl, MARTS.map((m) => `ANALYZE ${m.name};\n`).join(''), schema);
    const done = performance.now();
    const counts = await martCounts(ctx.pgUrl, schema, validEvents);
    return {
      seconds: (done - started) / 1000,
      phases: { compute: (computed - started) / 1000, load: (loaded - computed) / 1000, keys: (done - loaded) / 1000 },
      computeSeconds,
      counts,
      schema,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Summary

function summarize(
  ctx: BenchContext,
  data: Dataset,
  settings: Record<string, string>,
  as: CaseA[],
  cs: CaseC[],
  problems: string[],
  rowDiffs: Record<string, Record<string, number>> | undefined,
): SectionResult {
  const ta = as.length ? median(as.map((x) => x.seconds)) : NaN;
  const tc = median(cs.map((x) => x.seconds));
  const rss = as.length ? Math.max(...as.map((x) => x.run.maxRssBytes)) : NaN;
  const ac = ta / tc;
  const spread = (xs: number[]) => (xs.length > 1 ? ` (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)}, n=${xs.length})` : '');
  const lastA = as[as.length - 1] as CaseA | undefined;
  const firstA = as[0] as CaseA | undefined;
  const lastC = cs[cs.length - 1];
  const rows = data.generator?.rows ?? undefined;
  const valid = (firstA ?? cs[0]).counts.validEvents;
  const table: string[] = [];
  table.push(`input: ${data.files.length.toLocaleString('en-US')} Parquet files, ${mib(sum(data.files))}${rows ? `, ${fmtCount(rows)} rows` : ''}${valid !== undefined ? `; ${fmtCount(valid)} valid events after dedup` : ''}`);
  table.push(`PostgreSQL: ${settings.server_version}, work_mem ${settings.work_mem}, maintenance_work_mem ${settings.maintenance_work_mem}, shared_buffers ${settings.shared_buffers}, max_parallel_workers_per_gather ${settings.max_parallel_workers_per_gather} (server defaults, untouched)`);
  table.push('');
  table.push(
    ...padTable([
      ['case', 'time (s)', 'detail'],
      lastA
        ? ['(a) tm run --select cold', ta.toFixed(2), `peak RSS ${fmtBytes(rss)}; tm's own total ${lastA.run.tmSeconds?.toFixed(2) ?? '?'} s${spread(as.map((x) => x.seconds))}`]
        : ['(a) tm run --select cold', 'failed', 'see FAILED below'],
      ['(c) floor: DuckDB alone, COPY, keys', tc.toFixed(2), `DuckDB ${lastC.phases.compute.toFixed(2)}, COPY ${lastC.phases.load.toFixed(2)}, keys+indexes+ANALYZE ${lastC.phases.keys.toFixed(2)}${spread(cs.map((x) => x.seconds))}`],
    ]),
  );
  table.push('');
  table.push(lastA ? `a/c = ${ac.toFixed(3)}    peak RSS (a) = ${fmtBytes(rss)}` : 'no ratio: tm failed');
  if (lastA) {
    table.push('');
    table.push("where (a) spends its time (tm's own lines, last run; models run 4 at a time, so their times overlap; 'queued': waiting for DuckDB):");
    if (lastA.run.sourceLine) table.push(`  ${lastA.run.sourceLine}`);
    for (const m of lastA.run.models) {
      const queued = m.queuedSeconds ? `, ${m.queuedSeconds.toFixed(2)} s queued` : '';
      table.push(`  ${m.name.padEnd(24)} ${m.seconds.toFixed(2).padStart(7)} s  ${m.detail}${queued}`);
    }
    const startup = lastA.run.tmSeconds !== undefined ? lastA.seconds - lastA.run.tmSeconds : NaN;
    table.push(`  process start/exit outside tm's total: ${startup.toFixed(2)} s`);
  }
  table.push('');
  table.push('(c) DuckDB per step: ' + Object.entries(lastC.computeSeconds).map(([k, v]) => `${k.replace('mart_', '')} ${v.toFixed(2)}`).join(', '));
  table.push('');
  const sameAll = (xs: (number | undefined)[]) => xs.every((x) => x === xs[0]);
  table.push(
    ...padTable([
      ['rows per mart', '(a) tm', '(c) floor', ''],
      ...MARTS.map((m) => {
        const x = firstA?.counts.marts[m.name];
        const z = cs[0].counts.marts[m.name];
        const builds = [...(x ? [x] : []), z];
        const same = sameAll(builds.map((b) => b.rows)) && sameAll(builds.map((b) => b.checksum));
        return [m.name, x ? fmtCount(x.rows) : '?', fmtCount(z.rows), same ? 'same' : '<<< MISMATCH'];
      }),
      [
        'valid events', fmtCount(firstA?.counts.validEvents ?? NaN), fmtCount(cs[0].counts.validEvents ?? NaN),
        sameAll([...(firstA ? [firstA.counts.validEvents] : []), cs[0].counts.validEvents]) ? 'same' : '<<< MISMATCH',
      ],
    ]),
  );
  if (rowDiffs) table.push(`row-by-row check (EXCEPT ALL): ${Object.entries(rowDiffs).map(([pair, d]) => `${pair}: ${Object.values(d).reduce((s, n) => s + n, 0)} differing rows`).join('; ')}`);

  const targets: TargetCheck[] = [
    { name: 'a/c (tm vs DuckDB+COPY floor)', value: ac, limit: TARGET_AC, pass: ac <= TARGET_AC },
    { name: 'peak RSS of (a), MiB', value: rss / 1024 ** 2, limit: TARGET_RSS_BYTES / 1024 ** 2, unit: 'MiB', pass: rss <= TARGET_RSS_BYTES },
  ];
  const num = (x: number) => (Number.isFinite(x) ? x : null);
  const figures = {
    input: { dir: data.dir, files: data.files.length, bytes: sum(data.files), rows },
    postgres_settings: settings,
    duckdb_settings: DUCK_SETTINGS,
    a_seconds: num(ta),
    c_seconds: tc,
    ratio_a_c: num(ac),
    peak_rss_a_bytes: num(rss),
    rss_method: firstA?.run.rssMethod ?? null,
    runs: {
      a: as.map((x) => ({
        seconds: x.seconds, tm_seconds: x.run.tmSeconds, peak_rss_bytes: x.run.maxRssBytes, source_line: x.run.sourceLine,
        source_seconds: x.run.sourceSeconds, models: x.run.models, counts: x.counts,
      })),
      c: cs.map((x) => ({ seconds: x.seconds, phases: x.phases, compute_seconds: x.computeSeconds, counts: x.counts })),
    },
    row_diffs: rowDiffs,
  };
  const notes: string[] = [];
  if (ctx.repeat === 1) notes.push('one measurement per case (use --repeat N for medians)');
  return { table, figures, targets, problems, notes };
}

/**
 * Section `incremental`: the cold marts' partition-aware runs (issue 13), on a hard-linked copy of the
 * dataset (the dataset itself is never written), into one fresh schema:
 *  (1) first run: every file read, every mart built (the 1x reference);
 *  (2) one late file of 40 events lands in an old day's folder: only that day is recomputed;
 *  (3) nothing changed: the files are listed and compared with the state, no row is read;
 *  (4) with --verify: a full rebuild (--full-refresh) into a second schema, compared row by row.
 * Each run is `node bin/tm.js run --select cold --target prod` as a child process, spawn to exit, with
 * its peak RSS; the source step's and each model's seconds show where the time goes.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { fmtBytes } from './format.js';
import { dropSchemaFamilies, freshSchema, quoteIdent, runTm, withPg, type TmRun } from './proc.js';
import { MARTS } from './sql.js';
import type { BenchSection, SectionResult, TargetCheck } from './types.js';

const execFileAsync = promisify(execFile);
const LATE_DAY = '2015-06-10';

export const incrementalSection: BenchSection = {
  name: 'incremental',
  title: 'partition-aware cold runs: first run, one late file in an old day, nothing changed',
  async run(ctx) {
    const data = await ctx.dataset();
    const copy = path.join(ctx.benchDir, 'tmp', `inc-${ctx.runTag}`);
    await rm(copy, { recursive: true, force: true });
    await mkdir(path.dirname(copy), { recursive: true });
    await execFileAsync('cp', ['-al', data.dir, copy]);
    const schema = `${ctx.runTag}_inc`;
    const reference = `${ctx.runTag}_incref`;
    const env = { TM_PG_URL: ctx.pgUrl, TM_PG_SCHEMA: schema, TM_CURATED_PATH: copy };
    const run = async (label: string, extra: Record<string, string> = {}, args?: string[]) => {
      ctx.log(`${label}`);
      const r = await runTm({ repoRoot: ctx.repoRoot, projectDir: ctx.projectDir, env: { ...env, ...extra }, args, echo: (l) => ctx.log(`    | ${l}`) });
      ctx.log(`${label}: ${r.seconds.toFixed(2)} s, peak RSS ${fmtBytes(r.maxRssBytes)}`);
      return r;
    };
    try {
      await freshSchema(ctx.pgUrl, schema);
      // The key index lives in the project's state folder: start without one, as a first run does.
      await rm(path.join(ctx.projectDir, '.tm', 'key-index'), { recursive: true, force: true });
      const first = await run('(1) first run');
      await writeLateFile(copy, LATE_DAY, 'late-bench-0');
      const late = await run(`(2) one late file of 40 events in ${LATE_DAY}`);
      const idle = await run('(3) nothing changed');
      const problems: string[] = [];
      if (ctx.verifyRows) {
        await freshSchema(ctx.pgUrl, reference);
        await run('(4) full rebuild for --verify', { TM_PG_SCHEMA: reference }, ['run', '--select', 'cold', '--target', 'prod', '--full-refresh']);
        for (const [mart, n] of Object.entries(await rowDifferences(ctx.pgUrl, schema, reference))) if (n) problems.push(`${mart}: ${n} rows differ from a full rebuild`);
      }
      const targets: TargetCheck[] = [
        { name: 'one late file <= 0.1x first run', value: late.seconds / first.seconds, limit: 0.1, unit: 'x', pass: late.seconds <= 0.1 * first.seconds },
        { name: 'nothing changed <= 2 s', value: idle.seconds, limit: 2, unit: 's', pass: idle.seconds <= 2 },
        { name: 'first run peak RSS <= 2 GiB', value: first.maxRssBytes / 1024 ** 3, limit: 2, unit: 'GiB', pass: first.maxRssBytes <= 2 * 1024 ** 3 },
      ];
      const row = (name: string, r: TmRun) =>
        [name, r.seconds.toFixed(2), sourceSeconds(r), fmtBytes(r.maxRssBytes), r.models.map((m) => `${m.name.replace(/^mart_/, '')} ${m.seconds.toFixed(1)}`).join(', ')];
      const table = padRows([
        ['run', 'wall s', 'source s', 'peak RSS', 'models (s)'],
        row('(1) first run', first),
        row('(2) one late file', late),
        row('(3) nothing changed', idle),
      ]);
      return {
        table,
        figures: { first: summary(first), late: summary(late), idle: summary(idle), lateDay: LATE_DAY },
        targets,
        problems,
        notes: [`dataset: ${data.dir} (hard-linked copy ${copy}); ${ctx.verifyRows ? 'marts compared row by row with a full rebuild' : 'run with --verify to compare with a full rebuild row by row'}`],
      } satisfies SectionResult;
    } finally {
      if (!ctx.keepSchemas) await dropSchemaFamilies(ctx.pgUrl, [schema, reference]);
      await rm(copy, { recursive: true, force: true });
    }
  },
};

/** The source step's seconds from its line (a partition-aware line goes on after `in Xs;`). */
function sourceSeconds(r: TmRun): string {
  const m = /(?:in |\()([\d.]+)s[);]/.exec(r.sourceLine ?? r.lines.find((l) => l.startsWith('source ')) ?? '');
  return m ? Number(m[1]).toFixed(2) : '-';
}

function summary(r: TmRun) {
  return { seconds: r.seconds, sourceSeconds: r.sourceSeconds, maxRssBytes: r.maxRssBytes, sourceLine: r.sourceLine, models: r.models };
}

function padRows(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
}

/** 40 events of the day's first file under new keys, written atomically (dot name, then rename) as upstream does. */
export async function writeLateFile(root: string, day: string, name: string): Promise<void> {
  const dir = path.join(root, `event_date=${day}`);
  const tmp = path.join(dir, `.${name}.tmp`);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(`COPY (SELECT * REPLACE ('${name}-' || dedup_key AS dedup_key) FROM read_parquet('${path.join(dir, 'part-00000.parquet')}') WHERE dedup_key IS NOT NULL LIMIT 40) TO '${tmp}' (FORMAT parquet)`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
  await execFileAsync('mv', [tmp, path.join(dir, `${name}.parquet`)]);
}

async function rowDifferences(pgUrl: string, a: string, b: string): Promise<Record<string, number>> {
  return withPg(pgUrl, async (client) => {
    const out: Record<string, number> = {};
    for (const m of MARTS) {
      const cols = m.columns.map(([c]) => quoteIdent(c)).join(', ');
      const t1 = `${quoteIdent(a)}.${quoteIdent(m.name)}`;
      const t2 = `${quoteIdent(b)}.${quoteIdent(m.name)}`;
      const r = await client.query<{ n: string }>(
        `SELECT ((SELECT count(*) FROM (SELECT ${cols} FROM ${t1} EXCEPT ALL SELECT ${cols} FROM ${t2}) x) +
                 (SELECT count(*) FROM (SELECT ${cols} FROM ${t2} EXCEPT ALL SELECT ${cols} FROM ${t1}) y))::bigint AS n`,
      );
      out[m.name] = Number(r.rows[0].n);
    }
    return out;
  });
}

/**
 * Section `spark`: the cold run of the four TripClick marts with `engine: spark` on a real standalone
 * cluster on this machine (master, two 1-core / 1 GB workers, the Connect server: test-support/spark-cluster.ts)
 * next to the same run on DuckDB, from the same files into two schemas, compared row for row
 * (EXCEPT ALL both ways). Where the time goes: the cluster's start, tm's source step (DuckDB, the same
 * on both), each model's line (the Spark statement, the Parquet read back and the COPY), the whole run.
 *
 * `--quick`: a small generated stream (20 days) instead of the TripClick-scale one.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateStream } from '../generator/generate.js';
import { startSparkCluster } from '../test-support/spark-cluster.js';
import { useSparkForColdMarts } from '../test-support/spark-project.js';
import { listDataFiles, mib, sum, type Dataset } from './dataset.js';
import { fmtBytes, fmtCount, padTable } from './format.js';
import { dropSchemaFamilies, freshSchema, prepareProjectCopy, quoteIdent, runTm, withPg, type TmRun } from './proc.js';
import { MARTS } from './sql.js';
import type { BenchContext, BenchSection, SectionResult } from './types.js';

async function quickStream(ctx: BenchContext): Promise<Dataset> {
  const dir = path.join(ctx.benchDir, 'data', 'spark-quick');
  if (!existsSync(path.join(dir, '.complete'))) {
    ctx.log(`data: generating the --quick stream into ${dir}`);
    await generateStream({ out: dir, days: 20, eventsPerDay: 3000, burstsPerDay: 2, seed: 42, force: true });
    await writeFile(path.join(dir, '.complete'), '');
  }
  const files = await listDataFiles(dir);
  return { dir, generated: false, files, bytes: sum(files) };
}

interface Compared {
  readonly mart: string;
  readonly duck: number;
  readonly spark: number;
  readonly onlyDuck: number;
  readonly onlySpark: number;
}

async function compareMarts(pgUrl: string, duck: string, spark: string): Promise<Compared[]> {
  return withPg(pgUrl, async (c) => {
    const out: Compared[] = [];
    for (const { name } of MARTS) {
      const [a, b] = [`${quoteIdent(duck)}.${name}`, `${quoteIdent(spark)}.${name}`];
      const { rows } = await c.query<{ d: number; s: number; od: number; os: number }>(`SELECT
          (SELECT count(*) FROM ${a})::int AS d, (SELECT count(*) FROM ${b})::int AS s,
          (SELECT count(*) FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b}) x)::int AS od,
          (SELECT count(*) FROM (SELECT * FROM ${b} EXCEPT ALL SELECT * FROM ${a}) x)::int AS os`);
      out.push({ mart: name, duck: rows[0].d, spark: rows[0].s, onlyDuck: rows[0].od, onlySpark: rows[0].os });
    }
    return out;
  });
}

/** The source step's seconds from its line (`... in 0.44s; every file read ...`). */
const sourceSeconds = (run: TmRun) => /\bin ([\d.]+)s\b/.exec(run.sourceLine ?? '')?.[1] ?? '?';

const modelSeconds = (run: TmRun, name: string) => run.models.find((m) => m.name === name)?.seconds;

export const sparkSection: BenchSection = {
  name: 'spark',
  title: 'cold marts with engine: spark on a two-worker standalone cluster vs DuckDB, same files, compared row for row',
  async run(ctx) {
    const quick = ctx.options.quick === true;
    const data = quick ? await quickStream(ctx) : await ctx.dataset();
    const work = path.join(ctx.benchDir, 'tmp', `spark-${ctx.runTag}`);
    await rm(work, { recursive: true, force: true });
    const sparkDir = await prepareProjectCopy(ctx.repoRoot, path.join(work, 'project'));
    await useSparkForColdMarts(sparkDir);
    const output = path.join(work, 'output');
    await mkdir(output, { recursive: true });
    const schemas = [`${ctx.runTag}_spark_duck`, `${ctx.runTag}_spark_spark`];
    const select = ['run', '--target', 'prod', '--full-refresh', '--select', ...MARTS.map((m) => m.name)];
    ctx.log(`spark: starting the cluster (master, 2 workers of 1 core / 1 GB, Connect server)`);
    const cluster = await startSparkCluster();
    try {
      ctx.log(`spark: cluster up in ${(cluster.startMs / 1000).toFixed(1)} s; DuckDB run`);
      for (const s of schemas) await freshSchema(ctx.pgUrl, s);
      const env = { TM_PG_URL: ctx.pgUrl, TM_CURATED_PATH: data.dir };
      const duck = await runTm({ repoRoot: ctx.repoRoot, projectDir: ctx.projectDir, args: select, env: { ...env, TM_PG_SCHEMA: schemas[0] }, echo: (l) => ctx.log(`    | ${l}`) });
      ctx.log(`spark: Spark run`);
      const spark = await runTm({
        repoRoot: ctx.repoRoot, projectDir: sparkDir, args: select,
        env: { ...env, TM_PG_SCHEMA: schemas[1], TM_SPARK_CONNECT: cluster.connectAddress, TM_SPARK_OUTPUT: output },
        echo: (l) => ctx.log(`    | ${l}`),
      });
      const compared = await compareMarts(ctx.pgUrl, schemas[0], schemas[1]);
      const problems = compared.filter((c) => c.duck !== c.spark || c.onlyDuck || c.onlySpark).map((c) => `${c.mart}: DuckDB ${c.duck} rows, Spark ${c.spark}, only DuckDB ${c.onlyDuck}, only Spark ${c.onlySpark}`);
      const stg = modelSeconds(spark, 'stg_events');
      const table = [
        `input: ${fmtCount(data.files.length)} Parquet files, ${mib(data.bytes)}${spark.validRows ? `, ${fmtCount(spark.validRows)} valid events` : ''}${quick ? ' (--quick: small generated stream)' : ''}`,
        '',
        ...padTable([
          ['run', 'wall s', "tm's total s", 'source step s', ...MARTS.map((m) => m.name.replace('mart_', '')), 'peak RSS (tm)'],
          ['DuckDB', duck.seconds.toFixed(1), duck.tmSeconds?.toFixed(1) ?? '?', sourceSeconds(duck), ...MARTS.map((m) => modelSeconds(duck, m.name)?.toFixed(1) ?? '?'), fmtBytes(duck.maxRssBytes)],
          ['Spark', spark.seconds.toFixed(1), spark.tmSeconds?.toFixed(1) ?? '?', sourceSeconds(spark), ...MARTS.map((m) => modelSeconds(spark, m.name)?.toFixed(1) ?? '?'), fmtBytes(spark.maxRssBytes)],
        ]),
        '',
        `Spark: cluster start ${(cluster.startMs / 1000).toFixed(1)} s (not in the run); stg_events (prepared rows handed over as Parquet + a view) ${stg?.toFixed(1) ?? '?'} s; ` +
          `marts run side by side on the cluster, each line = Spark statement + Parquet read back by DuckDB + COPY.`,
        `rows: ${compared.map((c) => `${c.mart} ${fmtCount(c.duck)}${c.onlyDuck || c.onlySpark ? ' DIFFER' : ' equal'}`).join(', ')}`,
      ];
      return {
        table,
        figures: { quick, input: { dir: data.dir, files: data.files.length, bytes: data.bytes }, cluster_start_s: cluster.startMs / 1000, duckdb: duck, spark, compared },
        targets: [],
        problems,
        notes: ['Spark and DuckDB share this machine\'s 2 cores; the cluster\'s executors have 1 core and 512 MB each.'],
      };
    } finally {
      await cluster.stop();
      if (!ctx.keepSchemas) await dropSchemaFamilies(ctx.pgUrl, schemas);
      await rm(work, { recursive: true, force: true });
    }
  },
};

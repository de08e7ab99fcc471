/**
 * `engine: spark` end to end on a real standalone cluster (master, two 1-core workers, the Connect
 * server; started once for the file): the four TripClick cold marts built by `tm run` on Spark into one
 * schema and on DuckDB into another from the same files (the cold fixture's traps: duplicates across files,
 * broken rows, a corrupt file, ties, a session across midnight), compared row for row in PostgreSQL; a
 * deliberately wrong Spark macro variant makes the comparison fail; an unreachable Spark fails the run
 * with exit 2, naming the address, and leaves the marts as they were.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/api/run.js';
import { FIXTURE_NOW, writeColdFixture } from '../test-support/cold-fixture.js';
import { copyProject, freshSchema, pgUrl, queryRows, runCli, tempDir } from '../test-support/harness.js';
import { freePort, startSparkCluster, type SparkCluster } from '../test-support/spark-cluster.js';
import { useSparkForColdMarts } from '../test-support/spark-project.js';
import { spawnTm } from '../test-support/processes.js';

const MARTS = ['mart_session_analysis', 'mart_daily_traffic', 'mart_popular_documents', 'mart_clinical_areas'];

/** A copy of the project whose cold marts and their staging model run on Spark (from the same model files). */
async function sparkProject(): Promise<Awaited<ReturnType<typeof copyProject>>> {
  const project = await copyProject();
  await useSparkForColdMarts(project.dir);
  return project;
}

/** Rows in one schema's mart and not in the other's (EXCEPT ALL both ways), and both counts. */
async function compare(a: string, b: string, mart: string): Promise<{ a: number; b: number; onlyA: number; onlyB: number }> {
  const [row] = await queryRows<{ a: number; b: number; only_a: number; only_b: number }>(`SELECT
      (SELECT count(*) FROM ${a}.${mart})::int AS a, (SELECT count(*) FROM ${b}.${mart})::int AS b,
      (SELECT count(*) FROM (SELECT * FROM ${a}.${mart} EXCEPT ALL SELECT * FROM ${b}.${mart}) x)::int AS only_a,
      (SELECT count(*) FROM (SELECT * FROM ${b}.${mart} EXCEPT ALL SELECT * FROM ${a}.${mart}) x)::int AS only_b`);
  return { a: row.a, b: row.b, onlyA: row.only_a, onlyB: row.only_b };
}

describe('engine: spark on a real two-worker cluster', () => {
  let cluster: SparkCluster;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let output: Awaited<ReturnType<typeof tempDir>>;
  let duckProject: Awaited<ReturnType<typeof copyProject>>;
  let project: Awaited<ReturnType<typeof copyProject>>;
  const schemas: { schema: string; drop: () => Promise<void> }[] = [];
  const newSchema = async (prefix: string) => {
    const s = await freshSchema(prefix);
    schemas.push(s);
    return s.schema;
  };
  /** Builds the four marts with the project in `dir` into `schema`; returns the exit code and the output. */
  const build = async (dir: string, schema: string): Promise<{ exitCode: number; output: string }> => {
    const lines: string[] = [];
    process.env.TM_PG_SCHEMA = schema;
    const outcome = await run({ projectDir: dir, target: 'prod', select: MARTS, now: FIXTURE_NOW, log: (l) => lines.push(l) });
    return { exitCode: outcome.exitCode, output: lines.join('\n') };
  };

  beforeAll(async () => {
    const clusterStarting = startSparkCluster();
    clusterStarting.catch(() => undefined);
    data = await tempDir('tm-spark-lake-');
    output = await tempDir('tm-spark-out-');
    await writeColdFixture(data.dir);
    duckProject = await copyProject();
    project = await sparkProject();
    Object.assign(process.env, { TM_PG_URL: pgUrl, TM_CURATED_PATH: data.dir, TM_SPARK_OUTPUT: output.dir });
    cluster = await clusterStarting;
    console.log(`spark cluster started in ${(cluster.startMs / 1000).toFixed(1)} s`);
    process.env.TM_SPARK_CONNECT = cluster.connectAddress;
  }, 600_000);

  afterAll(async () => {
    for (const s of schemas) await s.drop();
    await cluster?.stop();
    for (const folder of [data, output, duckProject, project]) await folder?.remove();
  });

  it('builds the four cold marts on Spark equal to DuckDB row for row, and removes its output folder', async () => {
    const duckSchema = await newSchema('spark_duck');
    const sparkSchema = await newSchema('spark_spark');
    const duck = await build(duckProject.dir, duckSchema);
    expect(duck.exitCode, duck.output).toBe(0);
    const started = performance.now();
    const spark = await build(project.dir, sparkSchema);
    console.log(`tm run of the four marts on Spark: ${((performance.now() - started) / 1000).toFixed(1)} s\n${spark.output}`);
    expect(spark.exitCode, spark.output).toBe(0);
    expect(spark.output).toMatch(/tm: Spark 4\.\d+\.\d+ at sc:\/\/127\.0\.0\.1:\d+/);
    // The same source step: the same rows excluded and deduplicated before Spark reads them.
    expect(spark.output).toMatch(/source curated_stream: 6 files \(2 unreadable\), 23 rows read, 13 valid, 3 duplicates, 7 excluded/);
    for (const mart of MARTS) {
      const diff = await compare(duckSchema, sparkSchema, mart);
      expect({ mart, ...diff }).toEqual({ mart, a: diff.a, b: diff.a, onlyA: 0, onlyB: 0 });
      expect(diff.a).toBeGreaterThan(0);
    }
    // The run's output folder went with it.
    expect((await readdir(output.dir)).filter((name) => name.startsWith('run-'))).toEqual([]);
    // Both workers' executors ran tasks (Spark's REST API).
    const [app] = (await (await fetch(`${cluster.driverUiUrl}/api/v1/applications`)).json()) as { id: string }[];
    const executors = (await (await fetch(`${cluster.driverUiUrl}/api/v1/applications/${app.id}/allexecutors`)).json()) as { id: string; totalTasks: number }[];
    expect(executors.filter((e) => e.id !== 'driver' && e.totalTasks > 0)).toHaveLength(2);

    // A deliberately wrong Spark variant (the earliest title, not the latest) makes the comparison fail.
    const wrong = await sparkProject();
    try {
      await writeFile(path.join(wrong.dir, 'macros', 'latest_value.spark.sql'), "min(named_struct('ts', {{ts}}, 'k', {{key}}, 'v', {{value}})).v\n");
      const wrongSchema = await newSchema('spark_wrong');
      const wrongRun = await build(wrong.dir, wrongSchema);
      expect(wrongRun.exitCode, wrongRun.output).toBe(0);
      const diff = await compare(duckSchema, wrongSchema, 'mart_popular_documents');
      expect(diff.onlyA + diff.onlyB).toBeGreaterThan(0);
    } finally {
      await wrong.remove();
    }

    // tm debug checks the connection: Spark's version and the output folder.
    const debug = await runCli(['debug', '--project-dir', project.dir, '--target', 'prod'], { env: { TM_PG_SCHEMA: sparkSchema } });
    expect(debug.code, debug.stdout + debug.stderr).toBe(0);
    expect(debug.stdout).toMatch(/OK\s+spark: Spark 4\.\d+\.\d+ at sc:\/\/127\.0\.0\.1:\d+, output /);

    // Spark unreachable: one line naming the address, exit 2, the marts as they were.
    const before = await queryRows(`SELECT count(*)::int AS n FROM ${sparkSchema}.mart_popular_documents`);
    const address = `sc://127.0.0.1:${await freePort()}`;
    const cli = await runCli(['run', '--project-dir', project.dir, '--target', 'prod', '--full-refresh', '--select', ...MARTS, '--now', FIXTURE_NOW], {
      env: { TM_SPARK_CONNECT: address, TM_PG_SCHEMA: sparkSchema },
    });
    expect(cli.code, cli.stdout + cli.stderr).toBe(2);
    expect(cli.stderr).toContain(`Spark Connect at ${address} is unreachable`);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(await queryRows(`SELECT count(*)::int AS n FROM ${sparkSchema}.mart_popular_documents`)).toEqual(before);
  });

  it('a Spark SQL error fails the model with Spark\'s message and the compiled SQL\'s path; its descendants are skipped', async () => {
    const broken = await sparkProject();
    try {
      const stg = path.join(broken.dir, 'models', 'staging', 'stg_events.sql');
      await writeFile(stg, (await readFile(stg, 'utf8')).replace('SELECT dedup_key,', 'SELECT no_such_column, dedup_key,'));
      const built = await build(broken.dir, await newSchema('spark_broken'));
      expect(built.exitCode, built.output).toBe(1);
      expect(built.output).toMatch(/ERROR stg_events/);
      expect(built.output).toMatch(/UNRESOLVED_COLUMN[\s\S]*no_such_column/);
      expect(built.output).toMatch(/compiled SQL: target\/compiled\/models\/staging\/stg_events\.sql/);
      for (const mart of MARTS) expect(built.output).toMatch(new RegExp(`SKIP +${mart} .* upstream stg_events failed`));
    } finally {
      await broken.remove();
    }
  });

  it('SIGTERM during a Spark statement: the operation is interrupted on the cluster, exit 143 within 5 s, no mart written, no output folder left', async () => {
    const slow = await sparkProject();
    try {
      // A count over 10^12 pairs: hours on two cores.
      await writeFile(path.join(slow.dir, 'models', 'cold', 'mart_daily_traffic.sql'), `SELECT DATE'2020-03-01' + CAST(a.id % 2 AS INT) AS event_date, count(*) AS total_events, 0 AS unique_sessions, 0 AS unique_documents, 0 AS peak_hour
        FROM range(1000000) a CROSS JOIN range(1000000) b WHERE (a.id * 31 + b.id) % 1000003 = 7 GROUP BY 1\n`);
      const schema = await newSchema('spark_sigterm');
      const p = spawnTm(['run', '--project-dir', slow.dir, '--target', 'prod', '--select', 'mart_daily_traffic', '--now', FIXTURE_NOW], { TM_PG_SCHEMA: schema });
      await p.waitFor(/tm: Spark /);
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      const sent = performance.now();
      p.child.kill('SIGTERM');
      const exit = await p.exited;
      console.log(`exit ${exit.code} ${(exit.at - sent).toFixed(0)} ms after SIGTERM`);
      expect(exit.code, p.output()).toBe(143);
      expect(exit.at - sent).toBeLessThan(5_000);
      expect(await queryRows(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'mart_daily_traffic'`, [schema])).toEqual([]);
      expect((await readdir(output.dir)).filter((name) => name.startsWith('run-'))).toEqual([]);
      // The cluster is not left computing the interrupted statement.
      const [app] = (await (await fetch(`${cluster.driverUiUrl}/api/v1/applications`)).json()) as { id: string }[];
      const running = async () => ((await (await fetch(`${cluster.driverUiUrl}/api/v1/applications/${app.id}/jobs?status=running`)).json()) as unknown[]).length;
      const deadline = performance.now() + 30_000;
      while ((await running()) > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await running()).toBe(0);
    } finally {
      await slow.remove();
    }
  });
});

/**
 * Spark on a real standalone cluster (master, two 1-core workers, the Connect server), started once for
 * the whole file. First tm's Spark Connect client: Parquet in and out through Spark, Spark's own error
 * messages, interrupts, and both workers' executors doing the work. Then `engine: spark` end to end: the
 * four TripClick cold marts built by `tm run` on Spark into one schema and on DuckDB into another from the
 * same files (the cold fixture's traps: duplicates across files, broken rows, a corrupt file, ties, a
 * session across midnight), compared row for row in PostgreSQL; a deliberately wrong Spark macro variant
 * makes the comparison fail; an unreachable Spark fails the run with exit 2, naming the address, and
 * leaves the marts as they were.
 */
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTemplateEnv, renderTemplate, type RenderContext } from '../src/compile/template-env.js';
import { SparkConnectClient, SparkError } from '../src/engines/spark/connect-client.js';
import { buildManifest } from '../src/project/build-manifest.js';
import { loadProjectConfig } from '../src/project/load-project.js';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { run } from '../src/api/run.js';
import { FIXTURE_NOW, writeColdFixture } from '../test-support/cold-fixture.js';
import { copyProject, freshSchema, pgUrl, queryRows, repoRoot, runCli, tempDir } from '../test-support/harness.js';
import { freePort, startSparkCluster, type SparkCluster } from '../test-support/spark-cluster.js';
import { useSparkForColdMarts } from '../test-support/spark-project.js';
import { spawnTm } from '../test-support/processes.js';

let clusterStarting: Promise<SparkCluster> | undefined;
/** One cluster for both parts of the file (it takes 30 s or more to start). */
const sharedCluster = (): Promise<SparkCluster> => (clusterStarting ??= startSparkCluster());
afterAll(async () => {
  await (await clusterStarting?.catch(() => undefined))?.stop();
});

const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;

describe('Spark Connect on a real two-worker cluster', () => {
  let cluster: SparkCluster;
  let spark: SparkConnectClient;
  let scratch: Awaited<ReturnType<typeof tempDir>>;
  let duck: DuckDBConnection;
  let lake: string;

  beforeAll(async () => {
    scratch = await tempDir('tm-spark-e2e-');
    cluster = await sharedCluster();
    console.log(`spark cluster (master, 2 workers, Connect server) started in ${(cluster.startMs / 1000).toFixed(1)} s`);
    spark = await SparkConnectClient.connect(cluster.connectAddress);
    duck = await (await DuckDBInstance.create(':memory:')).connect();
    // A Hive-partitioned lake as upstream writes it: event_date=<day>/ folders, two files in one day, NULL keys.
    lake = path.join(scratch.dir, 'lake');
    await duck.run(`COPY (
        SELECT DATE '2020-03-01' + (i % 5)::INTEGER AS event_date, i AS id,
               CASE WHEN i % 7 = 0 THEN NULL ELSE 'k' || (i % 13) END AS key, i * 3 AS amount
        FROM range(20000) t(i)
      ) TO ${sqlText(lake)} (FORMAT parquet, PARTITION_BY (event_date))`);
    await duck.run(`COPY (SELECT 99999::BIGINT AS id, 'late' AS key, 5::BIGINT AS amount)
      TO ${sqlText(path.join(lake, 'event_date=2020-03-02', 'late.parquet'))} (FORMAT parquet)`);
  }, 600_000);

  afterAll(async () => {
    await spark?.close();
    duck?.closeSync();
    await scratch?.remove();
  });

  it('runs the session in UTC and reads small results back (Arrow) with their types', async () => {
    const started = performance.now();
    const rows = await spark.query(`SELECT current_timezone() AS tz, 41 + 1 AS n, CAST(2.50 AS DECIMAL(10,2)) AS d, DATE'2024-01-07' AS day, CAST(NULL AS STRING) AS missing`);
    console.log(`trivial query round trip: ${(performance.now() - started).toFixed(0)} ms`);
    expect(rows).toEqual([{ tz: 'UTC', n: 42, d: '2.50', day: '2024-01-07', missing: null }]);
    expect(await spark.sparkVersion()).toMatch(/^4\.\d+\.\d+/);
    const setStarted = performance.now();
    await spark.executeSql('SET spark.sql.ansi.enabled=true');
    const queryStarted = performance.now();
    expect(await spark.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    console.log(`trivial statement (SET): ${(queryStarted - setStarted).toFixed(0)} ms; SELECT 1 on a warm session: ${(performance.now() - queryStarted).toFixed(0)} ms`);
  });

  it('reads a Hive-partitioned Parquet folder and writes Parquet that DuckDB reads back equal', async () => {
    const out = path.join(scratch.dir, 'out', 'daily');
    const started = performance.now();
    await spark.executeSql(`INSERT OVERWRITE DIRECTORY ${sqlText(out)} USING parquet
      SELECT CAST(event_date AS STRING) AS event_date, key, count(*) AS n, sum(amount) AS total
      FROM parquet.\`${lake}\` GROUP BY event_date, key`);
    console.log(`spark read + aggregate + write Parquet: ${(performance.now() - started).toFixed(0)} ms`);

    const compare = (a: string, b: string) => `SELECT count(*)::INTEGER AS n FROM ((${a}) EXCEPT ALL (${b}))`;
    const fromSpark = `SELECT event_date, key, n, total FROM read_parquet(${sqlText(path.join(out, '*.parquet'))})`;
    const fromDuck = `SELECT CAST(event_date AS VARCHAR) AS event_date, key, count(*) AS n, sum(amount)::BIGINT AS total
      FROM read_parquet(${sqlText(path.join(lake, '**', '*.parquet'))}, hive_partitioning = true) GROUP BY ALL`;
    const value = async (sql: string) => (await (await duck.runAndReadAll(sql)).getRowObjectsJS())[0];
    expect(await value(`SELECT count(*)::INTEGER AS n, sum(n)::INTEGER AS events FROM (${fromSpark})`)).toEqual({ n: 5 * 14 + 1, events: 20_001 });
    expect(await value(compare(fromSpark, fromDuck))).toEqual({ n: 0 });
    expect(await value(compare(fromDuck, fromSpark))).toEqual({ n: 0 });
    // Spark counts the same rows as a query returning them directly.
    expect(await spark.query(`SELECT count(*) AS n FROM parquet.\`${out}\``)).toEqual([{ n: 71n }]);
  });

  it('fails a bad statement with Spark’s own message and error class', async () => {
    const error = await spark.executeSql('SELECT no_such_column FROM range(3)').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SparkError);
    expect((error as SparkError).errorClass).toBe('UNRESOLVED_COLUMN.WITH_SUGGESTION');
    expect((error as SparkError).message).toMatch(/no_such_column/);
    expect((error as SparkError).interrupted).toBe(false);
  });

  it('interrupts a long query within 5 s, its jobs end on the cluster, and the session goes on', async () => {
    const abort = new AbortController();
    // 10^12 pairs through a nested loop: hours on two cores (a count: no overflow to end it early).
    const long = spark.query('SELECT count(*) AS n FROM range(1000000) a CROSS JOIN range(1000000) b WHERE (a.id * 31 + b.id) % 1000003 = 7', { signal: abort.signal });
    const settled = long.then(() => 'finished', (e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const started = performance.now();
    abort.abort();
    const error = await settled;
    const took = performance.now() - started;
    console.log(`interrupt returned in ${took.toFixed(0)} ms`);
    expect(error).toBeInstanceOf(SparkError);
    expect((error as SparkError).interrupted).toBe(true);
    expect(took).toBeLessThan(5_000);
    // The cluster is not left computing the interrupted query (Spark kills its tasks).
    const [app] = (await (await fetch(`${cluster.driverUiUrl}/api/v1/applications`)).json()) as { id: string }[];
    const runningJobs = async () => ((await (await fetch(`${cluster.driverUiUrl}/api/v1/applications/${app.id}/jobs?status=running`)).json()) as unknown[]).length;
    const deadline = performance.now() + 30_000;
    while ((await runningJobs()) > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    console.log(`jobs of the interrupted query ended ${(performance.now() - started).toFixed(0)} ms after the interrupt`);
    expect(await runningJobs()).toBe(0);
    // Killed tasks of a nested-loop join stop at their next check, which can take a while on two 1-core
    // workers: the session goes on once they have (measured: seconds to a minute and more under load).
    const activeTasks = async () => ((await (await fetch(`${cluster.driverUiUrl}/api/v1/applications/${app.id}/executors`)).json()) as { activeTasks: number }[]).reduce((n, e) => n + e.activeTasks, 0);
    const idleBy = performance.now() + 180_000;
    while ((await activeTasks()) > 0 && performance.now() < idleBy) await new Promise((resolve) => setTimeout(resolve, 500));
    console.log(`executors idle ${(performance.now() - started).toFixed(0)} ms after the interrupt`);
    expect(await spark.query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
  }, 300_000);

  it('computes the four TripClick cold marts from the same model files equal to DuckDB, row for row', async () => {
    // stg_events as the source step hands it over, with the traps: NULL keys, sessions and titles, ties on
    // (ts, key), peak-hour ties, a Sunday, a session across midnight, messy clinical areas.
    const stg = path.join(scratch.dir, 'stg_events');
    await duck.run(`COPY (
        WITH generated AS (
          SELECT 'k' || (i * 7919 % 5003) AS dedup_key,
                 TIMESTAMP '2020-03-07 00:00:00' + to_microseconds((i * 104729 % 259200) * 1000000 + (i % 3) * 250000) AS event_ts,
                 's' || (i % 97) AS session_id, (i % 41)::INTEGER AS document_id,
                 CASE WHEN i % 11 = 0 THEN NULL ELSE 'title ' || (i % 5) END AS title,
                 CASE i % 6 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN ' Cardiology, ,Oncology,Cardiology ,'
                   WHEN 3 THEN 'Oncology' WHEN 4 THEN repeat('x', 101) || ',Neurology' ELSE 'Neurology , Primary care' END AS clinical_areas
          FROM range(3000) t(i)
        ),
        traps(dedup_key, event_ts, session_id, document_id, title, clinical_areas) AS (VALUES
          ('t1', TIMESTAMP '2020-03-08 10:00:00', 'tie', 500, 'older key', 'A'),
          ('t2', TIMESTAMP '2020-03-08 10:00:00', 'tie', 500, 'larger key', 'A'),
          (NULL, TIMESTAMP '2020-03-08 10:00:00', NULL, 500, 'null key', 'A,B'),
          ('t3', TIMESTAMP '2020-03-08 11:00:00', 'tie', 501, 'a', NULL),
          ('t3', TIMESTAMP '2020-03-08 11:00:00', 'tie', 501, NULL, NULL),
          ('m1', TIMESTAMP '2020-03-07 23:59:59.900001', 'midnight', 502, 'before', 'A'),
          ('m2', TIMESTAMP '2020-03-08 00:00:00.100002', 'midnight', 502, 'after', 'A'),
          ('n1', TIMESTAMP '2020-03-09 05:00:00', NULL, NULL, NULL, ' , ')
        )
        SELECT dedup_key, event_ts, CAST(event_ts AS DATE) AS event_date, session_id, document_id, title, clinical_areas
        FROM (SELECT * FROM generated UNION ALL SELECT * FROM traps)
      ) TO ${sqlText(path.join(stg + '.parquet'))} (FORMAT parquet)`);

    const project = await loadProjectConfig(repoRoot);
    const manifest = await buildManifest(project, {});
    const engines = {
      duckdb: { templates: await createTemplateEnv(manifest, 'duckdb'), stg: `read_parquet(${sqlText(stg + '.parquet')})` },
      spark: { templates: await createTemplateEnv(manifest, 'spark'), stg: `parquet.\`${stg}.parquet\`` },
    };
    const render = (model: string, engine: keyof typeof engines): string => {
      const node = manifest.models.get(model);
      if (!node) throw new Error(`no model ${model}`);
      const context: RenderContext = {
        resolveRef: (name) => {
          if (name !== 'stg_events') throw new Error(`unexpected ref ${name}`);
          return engines[engine].stg;
        },
        resolveSource: (name) => { throw new Error(`unexpected source ${name}`); },
        thisRelation: model, isIncremental: false, vars: manifest.vars, config: {}, values: {},
      };
      return renderTemplate(engines[engine].templates, node.rawSql, node.path, node.bodyLine - 1, context);
    };
    const value = async (sql: string) => (await (await duck.runAndReadAll(sql)).getRowObjectsJS())[0];
    for (const mart of ['mart_clinical_areas', 'mart_daily_traffic', 'mart_popular_documents', 'mart_session_analysis']) {
      const out = path.join(scratch.dir, 'marts', mart);
      const started = performance.now();
      await spark.executeSql(`INSERT OVERWRITE DIRECTORY ${sqlText(out)} USING parquet ${render(mart, 'spark')}`);
      console.log(`${mart} on spark: ${(performance.now() - started).toFixed(0)} ms`);
      await duck.run(`CREATE TABLE duck_${mart} AS ${render(mart, 'duckdb')}`);
      // Each engine's own types (HUGEINT sums on DuckDB, BIGINT on Spark): compared as DuckDB's types.
      const columns = (await (await duck.runAndReadAll(`DESCRIBE duck_${mart}`)).getRowObjectsJS()) as { column_name: string; column_type: string }[];
      const sparkRows = `SELECT ${columns.map((c) => `CAST("${c.column_name}" AS ${c.column_type}) AS "${c.column_name}"`).join(', ')} FROM read_parquet(${sqlText(path.join(out, '*.parquet'))})`;
      const counts = await value(`SELECT (SELECT count(*) FROM duck_${mart})::INTEGER AS duck, (SELECT count(*) FROM (${sparkRows}))::INTEGER AS spark,
          (SELECT count(*) FROM (SELECT * FROM duck_${mart} EXCEPT ALL ${sparkRows}))::INTEGER AS only_duck,
          (SELECT count(*) FROM (${sparkRows} EXCEPT ALL SELECT * FROM duck_${mart}))::INTEGER AS only_spark`);
      expect({ mart, ...counts }).toEqual({ mart, duck: counts?.duck, spark: counts?.duck, only_duck: 0, only_spark: 0 });
      expect(counts?.duck).toBeGreaterThan(0);
    }
    // The traps are hit: the NULL key wins the (ts, key) tie and the NULL title the (ts, key) tie of document 501 (Spark's own order would pick 'larger key' and 'a').
    expect(await value(`SELECT list(title ORDER BY document_id) AS titles FROM duck_mart_popular_documents WHERE document_id IN (500, 501)`)).toEqual({ titles: ['null key', null] });
    // ...so a Spark variant in Spark's own NULL order (the plain translation of struct_pack) fails the comparison.
    const naive = await spark.query(`SELECT document_id, max(named_struct('ts', event_ts, 'k', dedup_key, 'v', title)).v AS title
      FROM parquet.\`${stg}.parquet\` WHERE document_id IN (500, 501) GROUP BY document_id ORDER BY document_id`);
    expect(naive).toEqual([{ document_id: 500, title: 'larger key' }, { document_id: 501, title: 'a' }]);
  });

  it('ran tasks on both workers’ executors (Spark’s REST API and the master’s state)', async () => {
    const json = async <T>(url: string): Promise<T> => (await fetch(url)).json() as Promise<T>;
    const [app] = await json<{ id: string }[]>(`${cluster.driverUiUrl}/api/v1/applications`);
    const executors = await json<{ id: string; totalTasks: number }[]>(`${cluster.driverUiUrl}/api/v1/applications/${app.id}/allexecutors`);
    const workersExecutors = executors.filter((e) => e.id !== 'driver');
    expect(workersExecutors).toHaveLength(2);
    for (const executor of workersExecutors) expect(executor.totalTasks).toBeGreaterThan(0);
    const master = await json<{ workers: { state: string; coresused: number }[] }>(`${cluster.masterUiUrl}/json`);
    expect(master.workers.map((w) => [w.state, w.coresused])).toEqual([['ALIVE', 1], ['ALIVE', 1]]);
  });
});

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
    const clusterStarting = sharedCluster();
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

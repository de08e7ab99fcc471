/**
 * The Spark engine: a model's SQL runs on a Spark cluster over Spark Connect (engines/spark/), one Spark
 * session per run, so the temporary views a model leaves are seen by the later ones.
 *
 * - A result: `INSERT OVERWRITE DIRECTORY '<run output>/<model>' USING parquet <query>`, then the run's
 *   DuckDB reads that Parquet, casts it to the contract and COPYs it (parquet-rows.ts): the same load, swap
 *   and partition replace as a DuckDB result.
 * - A result a later Spark model reads, and a temp model kept as a table: a temporary view over its Parquet.
 * - Sources: tm's source step prepares them in DuckDB (rules, deduplication, partition filter); the prepared
 *   rows are written once per run as Parquet, which Spark reads as a temporary view: equal rows by construction.
 * - Models of earlier runs (refs not built in this run): the target's rows through DuckDB into Parquet, the same way.
 * The run's output folder is made and removed by the runtime (execute/scratch.ts, swept when a run died).
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { TmError } from '../../core/errors.js';
import { quoteIdent as duckIdent, quoteLiteral as duckLiteral } from '../../core/sql-quote.js';
import { copyTargetToDuck } from '../duck-transfer.js';
import type { DuckDb, DuckSession } from '../duckdb.js';
import { SparkConnectClient, SparkError } from '../spark/connect-client.js';
import { parquetRows } from './parquet-rows.js';
import { sparkTraits } from './traits.js';
import type { ComputeEngine, ComputeSession } from './types.js';

export interface SparkSettings {
  /** `sc://host:port`. */
  readonly connect: string;
  readonly conf: Readonly<Record<string, string>>;
  /** This run's own folder under the profile's output folder (the cluster writes there, tm reads). */
  readonly runOutput: string;
}

/** Timestamps as Parquet's microsecond type (not INT96), so DuckDB reads them as they are. */
const DEFAULT_CONF: Readonly<Record<string, string>> = { 'spark.sql.parquet.outputTimestampType': 'TIMESTAMP_MICROS' };

export function sparkEngine(settings: SparkSettings, duck: DuckDb | undefined): ComputeEngine {
  let client: Promise<SparkConnectClient> | undefined;
  const clientOf = (): Promise<SparkConnectClient> =>
    (client ??= SparkConnectClient.connect(settings.connect, { conf: { ...DEFAULT_CONF, ...settings.conf } }).catch((err: unknown) => {
      client = undefined;
      if (err instanceof SparkError && err.unreachable) throw new TmError(err.message.split('\n')[0], 2, { cause: err });
      throw err;
    }));
  return {
    traits: sparkTraits,
    async ready() {
      const spark = await clientOf();
      return `Spark ${await spark.sparkVersion()} at ${spark.address}`;
    },
    connect: async () => {
      if (!duck) throw new TmError('the Spark engine was opened without a DuckDB to read its results');
      return sparkSession(await clientOf(), await duck.connect(), settings.runOutput);
    },
    interrupt: () => {
      void client?.then((c) => c.interrupt('all')).catch(() => undefined);
    },
    close: async () => {
      const opened = client;
      client = undefined;
      await opened?.then((c) => c.close()).catch(() => undefined);
    },
  };
}

function sparkSession(spark: SparkConnectClient, duck: DuckSession, runOutput: string): ComputeSession {
  const { quoteIdent, quoteLiteral } = sparkTraits.dialect;
  // Spark skips files and folders whose names start with _ or . (its markers): every name gets a prefix.
  const folderOf = (name: string) => path.join(runOutput, `m-${name}`);
  const writeParquet = async (name: string, sql: string): Promise<string> => {
    const folder = folderOf(name);
    await spark.executeSql(`INSERT OVERWRITE DIRECTORY ${quoteLiteral(folder)} USING parquet ${sql}`);
    return folder;
  };
  const viewOver = (name: string, parquet: string) => spark.executeSql(`CREATE OR REPLACE TEMPORARY VIEW ${quoteIdent(name)} AS SELECT * FROM parquet.${quoteIdent(parquet)}`);
  /** A DuckDB relation's rows written as one Parquet file of the run's output, read by Spark as view `into`. */
  const handOver = async (relation: string, into: string): Promise<void> => {
    const file = path.join(runOutput, 'handed', `t-${into}.parquet`);
    await mkdir(path.dirname(file), { recursive: true });
    await duck.run(`COPY (SELECT * FROM ${relation}) TO ${duckLiteral(file)} (FORMAT parquet)`);
    await viewOver(into, file);
  };
  return {
    run: (sql) => spark.executeSql(sql),
    all: async <R>(sql: string) => (await spark.query(sql)) as R[],
    close: () => duck.close(),
    // Not under the run's heavy-query slot (DuckDB's cores): the cluster schedules its own jobs, and models
    // on it run side by side up to the run's threads.
    async compute({ model, sql, keep }) {
      const folder = await writeParquet(model.name, sql);
      if (keep) await viewOver(model.name, folder);
      return parquetRows(duck, model, path.join(folder, '*.parquet'));
    },
    async keep(name, sql, as) {
      if (as === 'view') {
        await spark.executeSql(`CREATE OR REPLACE TEMPORARY VIEW ${quoteIdent(name)} AS ${sql}`);
        return undefined;
      }
      await viewOver(name, await writeParquet(name, sql));
      const [row] = await spark.query(`SELECT count(*) AS n FROM ${quoteIdent(name)}`);
      return Number(row?.n ?? 0);
    },
    async importTargetRows({ target, from, columns, into, scratch }) {
      if (!from && columns.length === 0) throw new TmError(`cannot import '${into}' into Spark: no columns declared`);
      const table = `__tm_import_${randomBytes(4).toString('hex')}`;
      await copyTargetToDuck(duck, target, from, { columns, into: table, scratch });
      try {
        await handOver(duckIdent(table), into);
      } finally {
        await duck.run(`DROP TABLE IF EXISTS ${duckIdent(table)}`).catch(() => undefined);
      }
    },
    importSourceRows: (relation, into) => handOver(relation, into),
  };
}

/**
 * The table of engines of a run: `engine:` names resolve here to opened engines. The runtime (api/runtime.ts)
 * opens it; the rest of tm sees only the `ComputeEngine` interface.
 */
import { TmError } from '../../core/errors.js';
import { openDuckDb, type DuckDbSettings } from '../duckdb.js';
import type { Target } from '../target.js';
import { duckDbEngine } from './duckdb.js';
import { inTargetEngine } from './in-target.js';
import { sparkEngine, type SparkSettings } from './spark.js';
import { ENGINE_NAMES, sourceEngineTraits } from './traits.js';
import type { ComputeEngine, EngineName, EngineTable } from './types.js';

export type { EngineTable, SparkSettings };

/**
 * The engine that reads sources, on its own, outside a run: `tm init` writes its sample Parquet with it,
 * `tm debug` checks it. Close it when done.
 */
export async function openSourceEngine(settings: DuckDbSettings): Promise<ComputeEngine> {
  return duckDbEngine(await openDuckDb(settings));
}

/** `tm debug`: connects to the Spark cluster of profiles.yml and says its version (closes the session). */
export async function checkSpark(connect: string, conf: Readonly<Record<string, string>>): Promise<string> {
  const engine = sparkEngine({ connect, conf, runOutput: '' }, undefined);
  try {
    return (await engine.ready?.()) ?? '';
  } finally {
    await engine.close();
  }
}

/**
 * Opens the engines of one run: a DuckDB with `duckdb` settings, the target for the in-target engine, and
 * Spark when profiles.yml has a spark: block (connected on first use or by `ready()`).
 */
export async function openEngineTable(duckdb: DuckDbSettings, target: Target, spark?: SparkSettings): Promise<EngineTable> {
  const duck = await openDuckDb(duckdb);
  const opened = [duckDbEngine(duck), inTargetEngine(target), ...(spark ? [sparkEngine(spark, duck)] : [])];
  const engines = new Map<EngineName, ComputeEngine>(opened.map((e) => [e.traits.name, e]));
  return {
    get(name) {
      const engine = engines.get(name);
      if (name === 'spark' && !engine) throw new TmError(`engine 'spark' needs a spark: block in profiles.yml (connect: sc://host:port, output: a folder the cluster and tm both reach)`, 2);
      if (!engine) throw new TmError(`unknown compute engine '${name}' (known: ${ENGINE_NAMES.join(', ')})`);
      return engine;
    },
    sources: engines.get(sourceEngineTraits.name)!,
    interrupt: () => {
      for (const e of engines.values()) e.interrupt();
    },
    close: async () => {
      // DuckDB last: the Spark engine reads its results through it.
      for (const e of [...engines.values()].reverse()) await e.close();
    },
  };
}

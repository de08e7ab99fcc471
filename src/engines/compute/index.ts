/**
 * The table of engines of a run: `engine:` names resolve here to opened engines. The runtime (api/runtime.ts)
 * opens it; the rest of tm sees only the `ComputeEngine` interface.
 */
import { TmError } from '../../core/errors.js';
import { openDuckDb, type DuckDbSettings } from '../duckdb.js';
import type { Target } from '../target.js';
import { duckDbEngine } from './duckdb.js';
import { inTargetEngine } from './in-target.js';
import { ENGINE_NAMES, sourceEngineTraits } from './traits.js';
import type { ComputeEngine, EngineName, EngineTable } from './types.js';

export type { EngineTable };

/**
 * The engine that reads sources, on its own, outside a run: `tm init` writes its sample Parquet with it,
 * `tm debug` checks it. Close it when done.
 */
export async function openSourceEngine(settings: DuckDbSettings): Promise<ComputeEngine> {
  return duckDbEngine(await openDuckDb(settings));
}

/** Opens the engines of one run: a DuckDB with `duckdb` settings, and the target for the in-target engine. */
export async function openEngineTable(duckdb: DuckDbSettings, target: Target): Promise<EngineTable> {
  const duck = await openDuckDb(duckdb);
  const engines = new Map<EngineName, ComputeEngine>([duckDbEngine(duck), inTargetEngine(target)].map((e) => [e.traits.name, e]));
  return {
    get(name) {
      const engine = engines.get(name);
      if (!engine) throw new TmError(`unknown compute engine '${name}' (known: ${ENGINE_NAMES.join(', ')})`);
      return engine;
    },
    sources: engines.get(sourceEngineTraits.name)!,
    interrupt: () => {
      for (const e of engines.values()) e.interrupt();
    },
    close: () => {
      for (const e of engines.values()) e.close();
    },
  };
}

import type { Materialization } from '../manifest/types.js';
import { append } from './append.js';
import { replace } from './replace.js';
import { snapshot } from './snapshot.js';
import { upsert } from './upsert.js';
import type { MaterializationStrategy, StrategyTable } from './types.js';

/** Materialization name -> strategy. `temp` models stay in DuckDB and have no strategy here. */
export const strategies: StrategyTable = { replace, upsert, snapshot, append };

export function strategyFor(materialized: Materialization): MaterializationStrategy | undefined {
  return strategies[materialized];
}

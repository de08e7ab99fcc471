import type { Materialization } from '../manifest/types.js';
import { replace } from './replace.js';
import type { MaterializationStrategy, StrategyTable } from './types.js';

/** Materialization name -> strategy. `temp` models stay in DuckDB and have no strategy here. */
export const strategies: StrategyTable = { replace };

export function strategyFor(materialized: Materialization): MaterializationStrategy | undefined {
  return strategies[materialized];
}

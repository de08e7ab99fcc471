import type { Materialization } from '../manifest/types.js';
import { append } from './append.js';
import { replace } from './replace.js';
import { snapshot } from './snapshot.js';
import { temp } from './temp.js';
import { upsert } from './upsert.js';
import type { MaterializationStrategy, StrategyTable } from './types.js';

/** Materialization name -> strategy. */
export const strategies: StrategyTable = { replace, upsert, snapshot, append, temp };

export function strategyFor(materialized: Materialization): MaterializationStrategy {
  return strategies[materialized];
}

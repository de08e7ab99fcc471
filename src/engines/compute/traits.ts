/**
 * The table of engines' traits: what `engine:` names, known without connecting (the planner and the
 * renderer read it; no driver is loaded here). The engines themselves open in engines/compute/index.ts.
 */
import { TmError } from '../../core/errors.js';
import { quoteIdent, quoteLiteral } from '../../core/sql-quote.js';
import { duckTypeFor } from '../type-map.js';
import { losslessCast } from './lossless-cast.js';
import type { EngineName, EngineTraits } from './types.js';

export const duckDbTraits: EngineTraits = {
  name: 'duckdb', label: 'DuckDB', store: 'run', readsSources: true, importsTargetRows: true, heavyQueries: true,
  dialect: { quoteIdent, quoteLiteral, typeFor: duckTypeFor, castToContract: (column, modelType, contractType) => losslessCast(column, modelType, contractType, duckTypeFor(contractType)) },
};

/** The target database computes the model itself (PostgreSQL or PGlite). */
export const inTargetTraits: EngineTraits = {
  name: 'postgres', label: 'PostgreSQL', store: 'target', readsSources: false, importsTargetRows: false, heavyQueries: false,
  // Its INSERT's assignment cast is guarded by pgContractGuard (lossless-cast.ts) instead.
  dialect: { quoteIdent, quoteLiteral, typeFor: (pgType) => pgType, castToContract: (column, _modelType, contractType) => `CAST(${quoteIdent(column)} AS ${contractType})` },
};

const TRAITS: ReadonlyMap<EngineName, EngineTraits> = new Map([duckDbTraits, inTargetTraits].map((t) => [t.name, t]));

/** The engines `engine:` may name. */
export const ENGINE_NAMES: readonly EngineName[] = [...TRAITS.keys()];

export function traitsOf(name: EngineName): EngineTraits {
  const traits = TRAITS.get(name);
  if (!traits) throw new TmError(`unknown compute engine '${name}' (known: ${ENGINE_NAMES.join(', ')})`);
  return traits;
}

/** The engine that reads sources: the source step, the window cache and the tests that read sources run on it. */
export const sourceEngineTraits: EngineTraits = duckDbTraits;

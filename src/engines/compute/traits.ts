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

const SPARK_TYPES: Readonly<Record<string, string>> = { VARCHAR: 'STRING', TIMESTAMPTZ: 'TIMESTAMP', BLOB: 'BINARY', JSON: 'STRING', UUID: 'STRING' };
const sparkQuoteIdent = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

/**
 * A Spark cluster over Spark Connect (engines/compute/spark.ts): results are written as Parquet and loaded
 * through the run's DuckDB, whose cast to the contract is the one that counts; sources are handed over
 * as Parquet of the prepared rows.
 */
export const sparkTraits: EngineTraits = {
  name: 'spark', label: 'Spark', store: 'run', readsSources: true, importsTargetRows: false, heavyQueries: false,
  dialect: {
    quoteIdent: sparkQuoteIdent,
    // Spark's string literals take backslash escapes, and 'a''b' is two literals concatenated.
    quoteLiteral: (value) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
    typeFor: (pgType) => SPARK_TYPES[duckTypeFor(pgType)] ?? duckTypeFor(pgType),
    castToContract: (column, _modelType, contractType) => `CAST(${sparkQuoteIdent(column)} AS ${sparkTraits.dialect.typeFor(contractType)})`,
  },
};

const TRAITS: ReadonlyMap<EngineName, EngineTraits> = new Map([duckDbTraits, inTargetTraits, sparkTraits].map((t) => [t.name, t]));

/** The engines `engine:` may name. */
export const ENGINE_NAMES: readonly EngineName[] = [...TRAITS.keys()];

export function traitsOf(name: EngineName): EngineTraits {
  const traits = TRAITS.get(name);
  if (!traits) throw new TmError(`unknown compute engine '${name}' (known: ${ENGINE_NAMES.join(', ')})`);
  return traits;
}

/** The engine that reads sources: the source step, the window cache and the tests that read sources run on it. */
export const sourceEngineTraits: EngineTraits = duckDbTraits;

/**
 * What `{{source "name"}}` renders on an engine other than the source engine: a view of the prepared
 * (ruled, deduplicated) rows handed over to it (ComputeSession.importSourceRows).
 */
export function handedSourceName(source: string): string {
  return `__tm_source_${source}`;
}

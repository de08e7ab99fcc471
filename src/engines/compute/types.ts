/**
 * The compute-engine seam: where a model's SQL runs. The executor, the planner and the renderer know
 * engines only through these types; `engine:` in a model's YAML names one in the table of engines
 * (engines/compute/index.ts, traits in engines/compute/traits.ts).
 *
 * An engine either has a store of its own for the run (DuckDB today; a Spark session tomorrow), where
 * models' results are computed and from where they are exported to the target, or it runs inside the
 * target itself (PostgreSQL/PGlite), where a model's query is loaded by `INSERT ... SELECT`.
 *
 * Adding an engine (e.g. Spark over Spark Connect):
 * - traits (engines/compute/traits.ts): its name (add it to `ComputeEngine` in manifest/types.ts), a label,
 *   `store: 'run'` (a Spark session keeps temporary views for the run), `heavyQueries` when its queries should
 *   take the run's slot and may be cut into batches of days, and its dialect (quoting, contract types);
 * - `ComputeEngine`/`ComputeSession`: `compute` runs the model's SQL remotely and writes the result as
 *   Parquet into an output folder, then returns `parquetRows(...)` (engines/compute/parquet-rows.ts): the run's
 *   DuckDB reads those files, casts them to the model's contract and COPYs them into the target; `keep` makes a
 *   temporary view; `importTargetRows` loads a target table into the session (or refuses); `interrupt` cancels
 *   the remote operations; `run`/`all` run plain statements;
 * - register it in `openEngineTable` (engines/compute/index.ts).
 * Sources: the run prepares them (rules, deduplication) on `EngineTable.sources` (DuckDB), and `{{source}}`
 * renders that engine's relation, so today only a model on that engine reads sources (`readsSources`). An
 * engine that reads sources itself needs its own dialect of the source step (sources/prepare-source.ts is
 * written against `SqlSession`, with DuckDB's SQL).
 */
import type { ColumnSpec, ComputeEngine as EngineName, ModelNode } from '../../manifest/types.js';
import type { Target, TargetSession } from '../target.js';
import type { DayBatches } from './batches.js';

export type { EngineName };

/** Statements on one connection, one at a time: what the source step and the tests run their SQL on. */
export interface SqlSession {
  run(sql: string): Promise<void>;
  /** Rows as JSON-safe objects (timestamps and big integers as strings). For small results only. */
  all<R = Record<string, unknown>>(sql: string): Promise<R[]>;
  close(): void;
}

/** An engine's SQL: how it quotes, and the types a model's contract casts to. */
export interface SqlDialect {
  quoteIdent(name: string): string;
  quoteLiteral(value: string): string;
  /** The engine's type for a contract column's PostgreSQL type (`VARCHAR(500)` -> `VARCHAR` in DuckDB). */
  typeFor(pgType: string): string;
  /**
   * The expression casting `column` (of the engine's type `modelType`) to the contract's PostgreSQL type:
   * it fails the query on a value the cast would change (lossless-cast.ts), never rounds or cuts silently.
   */
  castToContract(column: string, modelType: string, contractType: string): string;
}

/** A column of a model's query, as the engine describes it. */
export interface DescribedColumn {
  readonly name: string;
  readonly type: string;
}

/** PostgreSQL's `position` of an error in its statement (1-based): errors of the SQL's text have one. */
export function statementPositionOf(err: unknown): number | undefined {
  const position = Number((err as { position?: unknown } | null)?.position);
  return Number.isInteger(position) && position > 0 ? position : undefined;
}

/**
 * An engine's error on a statement that holds the model's SQL inside a wrapper (the in-target engine's
 * `INSERT ... SELECT`): positions in the error count in `statement`, so they can be mapped back to the model.
 */
export class ModelStatementError extends Error {
  constructor(
    readonly error: unknown,
    readonly statement: string,
  ) {
    super(error instanceof Error ? error.message : String(error));
    this.name = 'ModelStatementError';
  }
}

/**
 * What the planner and the renderer need to know of an engine, without connecting to it. Plain data:
 * the planner stays pure.
 */
export interface EngineTraits {
  readonly name: EngineName;
  /** For messages: `DuckDB`, `PostgreSQL`. */
  readonly label: string;
  /**
   * `run`: results live in a store of the engine's own for the run; later models on the same engine read
   * them there by name (`{{ref}}` renders `dialect.quoteIdent(name)`), models built earlier are imported
   * from the target on first read, and each result is exported to the target.
   * `target`: the SQL runs in the target; `{{ref}}` names the target table, and the result is loaded there
   * by `INSERT ... SELECT`.
   */
  readonly store: 'run' | 'target';
  /** Models on it may read sources (`{{source}}`): the run prepares their sources for it. */
  readonly readsSources: boolean;
  /** It can import a model's stored target rows before the model runs (`{{this_rows}}`). */
  readonly importsTargetRows: boolean;
  /**
   * Its queries are heavy (a scan of many files): they run one at a time under the run's slot (or side by side
   * when the plan finds the inputs small), and a partition-aware model's query may be cut into batches of days.
   */
  readonly heavyQueries: boolean;
  readonly dialect: SqlDialect;
}

/** What computing a model asks of its engine. */
export interface ComputeRequest {
  readonly model: ModelNode;
  /** The model's rendered SQL (in the engine's dialect). */
  readonly sql: string;
  /**
   * Batches of days (a partition-aware model whose input is larger than one query should aggregate): one
   * statement per batch appending to the result (engines/compute/batches.ts). Only engines with `heavyQueries`.
   */
  readonly batches?: DayBatches;
  /** A later model of the run on this engine reads the result: keep it in the store under the model's name. */
  readonly keep: boolean;
  /** Runs one heavy statement under the run's slot (queue time is reported per model). */
  readonly heavy: <T>(work: () => Promise<T>) => Promise<T>;
}

/**
 * A model's rows ready for the target: the export step. An engine with a store computes them there and
 * streams them out (DuckDB: CSV into COPY FROM STDIN; Spark: Parquet read by DuckDB, then COPY). An
 * in-target engine loads them by `INSERT ... SELECT`.
 */
export interface ComputedRows {
  /** Writes the rows into the target table `qualifiedTable` (columns in contract order); returns the rows written. */
  loadInto(session: TargetSession, qualifiedTable: string): Promise<number>;
  /** Frees what holding the rows took (a result table), unless the result was kept for later models. */
  release(): Promise<void>;
}

/** Where to copy a target relation's rows into the engine's store. */
export interface TargetRowsImport {
  readonly target: Target;
  /** Qualified target relation; undefined creates the relation empty. */
  readonly from: string | undefined;
  readonly columns: readonly ColumnSpec[];
  /** Relation created (replaced) in the engine's store. */
  readonly into: string;
  /** The run's scratch folder (files between the target and the engine). */
  readonly scratch: string;
}

/** One connection to an engine, for one model at a time. */
export interface ComputeSession extends SqlSession {
  /**
   * Computes the model's rows, checked against its contract (the output columns are exactly the declared
   * ones, cast to their types: an overflow fails, never wraps). Errors from the engine propagate as they are
   * (the caller names the model and its compiled SQL).
   */
  compute(request: ComputeRequest): Promise<ComputedRows>;
  /**
   * Keeps the query's rows in the store under `name` for this run (temp models): a table (returns its row
   * count) or a view readers' queries inline (returns undefined). Only engines whose store is `run`.
   */
  keep(name: string, sql: string, as: 'table' | 'view', heavy: ComputeRequest['heavy']): Promise<number | undefined>;
  /** Copies a target relation's rows into the store (`{{this_rows}}`, models built by earlier runs). Only `run` stores. */
  importTargetRows(copy: TargetRowsImport): Promise<void>;
  /**
   * An engine other than the source engine: makes a prepared source (`relation` in the source engine) readable
   * as `into` (traits.ts handedSourceName), which `{{source}}` renders on this engine.
   */
  importSourceRows?(relation: string, into: string): Promise<void>;
}

/** An opened engine: sessions, and a way to stop what runs on them. */
export interface ComputeEngine {
  readonly traits: EngineTraits;
  connect(): Promise<ComputeSession>;
  /**
   * Reaches a remote engine before the run's first model (a run fails fast, exit 2, when it cannot); engines
   * opened with the run need nothing.
   */
  ready?(): Promise<string | undefined>;
  /** Interrupts the statements running on every session (a run cancelled by a signal). */
  interrupt(): void;
  close(): void | Promise<void>;
}

/** The engines of a run, by the name `engine:` gives (opened by engines/compute/index.ts). */
export interface EngineTable {
  /** The engine a model's `engine:` names. */
  get(name: EngineName): ComputeEngine;
  /** The engine tm reads source files with: the source step, the window cache, file schemas, tests over sources. */
  readonly sources: ComputeEngine;
  /** Interrupts every engine's statements in flight (a cancelled run). */
  interrupt(): void;
  close(): Promise<void>;
}

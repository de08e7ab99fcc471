import type { Target, TargetSession } from '../engines/target.js';
import type { Materialization, ModelNode } from '../manifest/types.js';
import type { PartitionStateWrite } from '../state/partition-state.js';
import type { ModelStateWrite } from '../state/store.js';

export interface Relation {
  readonly schema: string;
  readonly name: string;
  /** `"schema"."name"` */
  readonly qualified: string;
}

/** What a materialization gets: the model, where it goes, and a way to stream its rows into a table. */
export interface MaterializeInput {
  readonly model: ModelNode;
  readonly target: Target;
  readonly relation: Relation;
  /** The model's result rows, computed by the executor. */
  readonly result: ModelResult;
  /** Short unique suffix for this run's scratch objects. */
  readonly runId: string;
  readonly fullRefresh: boolean;
  /** The run's values as SQL literals (`now`, `snapshot_ts`...), for retention expressions. */
  readonly values: Readonly<Record<string, string>>;
  /**
   * tm's state for the model (files seen, clock reached), written in the transaction that makes the
   * new rows visible, so that it commits or rolls back with them.
   */
  readonly state?: ModelStateWrite;
  /** A partition-aware model's day stats, committed like `state`. */
  readonly partitionState?: PartitionStateWrite;
  /** Only these days (values of `column`) were recomputed: they replace the same days in the table. */
  readonly partitions?: { readonly column: string; readonly parts: readonly string[] };
  /**
   * Renders a config template (a retention's `keep_after`, an upsert's `delete_where`) with the
   * model's template context: its values, vars and helpers, plus `extra` values.
   */
  readonly render?: (template: string, extra?: Readonly<Record<string, string>>) => string;
}

export interface MaterializeResult {
  /** Rows written (loaded, upserted or inserted). */
  readonly rows: number;
  /** Rows deleted by retention, when the materialization has one. */
  readonly deleted?: number;
  /** One short phrase for the progress line, e.g. `CREATE 2860`. */
  readonly summary: string;
}

/** Where a model's result rows are, and the two ways a materialization can take them. */
export interface ModelResult {
  /** Streams the rows into the target table `qualifiedTable` with COPY; returns the rows copied. */
  loadInto(session: TargetSession, qualifiedTable: string): Promise<number>;
  /**
   * Keeps the rows in the compute engine's store under the model's name for this run: a table (returns its
   * rows) or a view readers inline.
   */
  keepForRun(as: 'table' | 'view'): Promise<number | undefined>;
}

/** One module per materialization, behind this one small interface (as dbt's materialization macros). */
export interface MaterializationStrategy {
  /** `run`: the rows stay in the compute engine's store for the run (temp); `target`: they are written to the target. */
  readonly lives: 'run' | 'target';
  readonly apply: (input: MaterializeInput) => Promise<MaterializeResult>;
}

export type StrategyTable = Readonly<Record<Materialization, MaterializationStrategy>>;

import type { Target, TargetSession } from '../engines/target.js';
import type { Materialization, ModelNode } from '../manifest/types.js';

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
  /** Streams the model's result rows into the table `qualifiedTable` with COPY; returns the rows copied. */
  readonly loadInto: (session: TargetSession, qualifiedTable: string) => Promise<number>;
  /** Short unique suffix for this run's scratch objects. */
  readonly runId: string;
  readonly fullRefresh: boolean;
  /** The run's values as SQL literals (`now`, `snapshot_ts`...), for retention expressions. */
  readonly values: Readonly<Record<string, string>>;
  /**
   * Called inside the transaction that makes the new rows visible, so that state written there
   * (files seen, clock reached) commits or rolls back with the rows.
   */
  readonly beforeCommit?: (session: TargetSession) => Promise<void>;
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

/** One module per materialization, behind this one function type (as dbt's materialization macros). */
export type MaterializationStrategy = (input: MaterializeInput) => Promise<MaterializeResult>;

export type StrategyTable = Partial<Record<Materialization, MaterializationStrategy>>;

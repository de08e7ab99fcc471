/** The manifest: everything the project declares, resolved and validated. Plain readonly data. */
import type { DashboardNode } from './dashboard-types.js';

export type { DashboardNode };

export type Materialization = 'replace' | 'upsert' | 'snapshot' | 'append' | 'temp';

/** Where a model's SQL runs: DuckDB over sources and earlier models, or inside the target PostgreSQL. */
export type ComputeEngine = 'duckdb' | 'postgres' | 'spark';

export interface ColumnSpec {
  readonly name: string;
  /** PostgreSQL type as written in YAML, e.g. `VARCHAR(500)`, `INT`, `DECIMAL(10,2)`. */
  readonly type: string;
  readonly description?: string;
  readonly tests?: readonly TestSpec[];
}

export interface IndexSpec {
  readonly columns: readonly string[];
  readonly unique?: boolean;
}

/** A generic test as declared in YAML: `not_null`, `{unique: {...}}`, `{accepted_range: {min: 0}}`... */
export interface TestSpec {
  readonly name: string;
  readonly args: Readonly<Record<string, unknown>>;
}

export interface RetentionSpec {
  /** Column compared with the cutoff. */
  readonly column: string;
  /** SQL expression (target dialect) of the oldest value kept, e.g. `{{ snapshot_ts }} - interval '24 hours'`. */
  readonly keep_after: string;
}

/**
 * How an incremental model (upsert, snapshot, append) moves with the stream. Validated at load;
 * templates in the YAML (`lookback_minutes: "{{var 'x'}}"`) are rendered with the project's vars then.
 */
export interface IncrementalConfig {
  /** L: H = S - L. */
  readonly lookbackMinutes: number;
  /** H is never earlier than S minus this (Infinity: no bound). */
  readonly maxCatchUpHours: number;
  /** Earliest event time the model reads: a DuckDB expression over the run's values (default `{{hot_start}}`). */
  readonly sourceSince: string;
  /** Another incremental model whose table this one corrects (it writes there, under that model's lock). */
  readonly reconciles?: string;
  /**
   * The source days this model reads are the UTC days held in `column` of `model`'s table (e.g. a
   * reconciliation reads the days the hot table still has): a partition-aware run reads those days
   * whole, instead of every file.
   */
  readonly sourceDaysOf?: SourceDaysOf;
}

export interface SourceDaysOf {
  readonly model: string;
  readonly column: string;
}

/** One typed config per materialization, discriminated by `materialized` (as SQLMesh's model kinds). */
export type KindConfig =
  /**
   * `partition_by`: a DATE column of the model; its rows for day D depend only on the valid,
   * deduplicated source events of day D (the source's date partition). A run then recomputes and
   * replaces only the days whose inputs changed.
   */
  | { readonly materialized: 'replace'; readonly partitionBy?: string }
  /** `as_view`: a DuckDB view that readers' queries inline, instead of a table computed once. */
  | { readonly materialized: 'temp'; readonly asView: boolean }
  /** `delete_where`: stored rows (alias `existing`; the run's rows are `{{incoming}}`) deleted before the upsert. */
  | { readonly materialized: 'upsert'; readonly incremental: IncrementalConfig; readonly deleteWhere?: string }
  | { readonly materialized: 'snapshot'; readonly incremental: IncrementalConfig }
  | { readonly materialized: 'append'; readonly incremental: IncrementalConfig };

export type IncrementalKind = Extract<KindConfig, { readonly incremental: IncrementalConfig }>;

/** The three lags tm measures for a model or source (docs/freshness.md). */
export const LAGS = ['pipeline_lag', 'data_lag', 'arrival_lag'] as const;
export type LagName = (typeof LAGS)[number];

/** Thresholds of one lag, in seconds (as dbt's `warn_after` / `error_after`). */
export interface LagThresholds {
  readonly warn_after_s?: number;
  readonly error_after_s?: number;
}

/** `freshness:` of a model or source: thresholds per lag. */
export type FreshnessSpec = Readonly<Partial<Record<LagName, LagThresholds>>>;

/** Model config: from the model's YAML entry, front matter and `{{config}}` in the SQL (later wins). */
export interface ModelConfig {
  readonly materialized: Materialization;
  /** The materialization's own settings, typed. */
  readonly kind: KindConfig;
  readonly engine: ComputeEngine;
  readonly tags: readonly string[];
  readonly unique_key?: readonly string[];
  /** snapshot: the column whose value identifies one snapshot. */
  readonly snapshot_key?: string;
  readonly retention?: RetentionSpec;
  /** Freshness SLA in minutes for `tm status`. */
  readonly sla_minutes?: number;
  /** Thresholds on the model's lags for `tm status`. */
  readonly freshness?: FreshnessSpec;
  /** Everything else the user set, for templates only (`{{config "x"}}`). */
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface ModelNode {
  readonly kind: 'model';
  /** `model.<project>.<name>` */
  readonly uniqueId: string;
  readonly name: string;
  /** Project-relative path of the SQL file, '/'-separated. */
  readonly path: string;
  /** Folders between the model path root and the file, e.g. ['cold'] for models/cold/x.sql. */
  readonly folders: readonly string[];
  readonly description: string;
  readonly rawSql: string;
  /** 1-based line in the SQL file where the template body starts (after front matter). */
  readonly bodyLine: number;
  readonly config: ModelConfig;
  readonly columns: readonly ColumnSpec[];
  readonly primaryKey: readonly string[];
  readonly indexes: readonly IndexSpec[];
  /** Model-level generic tests (column-level ones sit on the columns). */
  readonly tests: readonly TestSpec[];
  /** Names of models referenced with `ref`. */
  readonly refs: readonly string[];
  /** Names of sources referenced with `source`. */
  readonly sources: readonly string[];
  /** Run values the template reads (`{{clock}}`, `{{this_rows}}`...), found in its syntax tree. */
  readonly values: readonly string[];
  /** Project-relative path of the YAML file that declared the model, if any. */
  readonly yamlPath?: string;
  /** `unit_tests:` of its YAML entry: given inputs, the expected relation (`tm test --unit`). */
  readonly unitTests?: readonly UnitTestSpec[];
}

/** A row of a unit test, as written in YAML: column -> value (null for NULL). */
export type FixtureRow = Readonly<Record<string, unknown>>;

/**
 * What a unit test gives the model: a source's files (path under the source's location -> rows, each
 * written as a Parquet file; or `rows`, laid out by the source's date partition), or an upstream model's rows.
 */
export type UnitTestInput =
  | { readonly source: string; readonly files: Readonly<Record<string, readonly FixtureRow[]>>; readonly rows: readonly FixtureRow[] }
  | { readonly ref: string; readonly rows: readonly FixtureRow[] };

export interface UnitTestSpec {
  readonly name: string;
  readonly description: string;
  /** The run's wall clock (`--now`); default: the real one. */
  readonly now?: string;
  /** Project vars for this test (as `--vars`): thresholds small enough for a few rows. */
  readonly vars: Readonly<Record<string, unknown>>;
  readonly given: readonly UnitTestInput[];
  /** The model's relation after the run, as a multiset of rows; `ignoreColumns` are not compared. */
  readonly expect: { readonly rows: readonly FixtureRow[]; readonly ignoreColumns: readonly string[] };
}

export interface SourceColumn {
  readonly name: string;
  /** DuckDB type family expected: VARCHAR, INTEGER, BIGINT, TIMESTAMP, DATE, DOUBLE, BOOLEAN... */
  readonly type: string;
  readonly required: boolean;
  readonly description?: string;
}

/** A row rule of a source contract: rows for which `check` is not TRUE are excluded and counted. */
export interface SourceRule {
  readonly name: string;
  /** DuckDB boolean expression over the source's columns; Handlebars with `now` and `var`. */
  readonly check: string;
}

export interface SourceNode {
  readonly kind: 'source';
  readonly uniqueId: string;
  readonly name: string;
  readonly description: string;
  /** `s3://bucket/prefix` or a folder (relative to the project). */
  readonly location: string;
  readonly format: 'parquet';
  readonly hivePartitioning: boolean;
  readonly columns: readonly SourceColumn[];
  readonly rules: readonly SourceRule[];
  /** Copies of one key are one row: the first by `dedup_order` among valid copies wins. */
  readonly dedup?: { readonly key: string; readonly order: string };
  /** Partition column holding the event date, for pruning by time windows. */
  readonly datePartition?: string;
  /** Timestamp column that gives the source's clock (the stream clock). */
  readonly clockColumn?: string;
  /** Write excluded rows to a quarantine table in the target. */
  readonly quarantine: boolean;
  /** Thresholds on the source's lags for `tm source freshness`. */
  readonly freshness?: FreshnessSpec;
  readonly tests?: readonly TestSpec[];
  readonly path: string;
}

export interface SingularTestNode {
  readonly kind: 'test';
  readonly uniqueId: string;
  readonly name: string;
  readonly path: string;
  readonly rawSql: string;
  readonly refs: readonly string[];
  readonly sources: readonly string[];
  readonly severity: 'warn' | 'error';
}

/** Dashboards are leaves, like dbt's exposures: edges from the models their charts read. */
export type ManifestNode = ModelNode | SourceNode | SingularTestNode | DashboardNode;

export interface Manifest {
  readonly projectName: string;
  readonly projectDir: string;
  readonly vars: Readonly<Record<string, unknown>>;
  /** Env vars models may read (`env_allowed:` in project.yml); none when absent. */
  readonly envAllowed?: readonly string[];
  /** Names of env vars and vars whose values are masked wherever tm writes or prints (`secrets:`). */
  readonly secrets?: readonly string[];
  readonly models: ReadonlyMap<string, ModelNode>;
  readonly sources: ReadonlyMap<string, SourceNode>;
  readonly tests: ReadonlyMap<string, SingularTestNode>;
  readonly dashboards: ReadonlyMap<string, DashboardNode>;
  /** Macro partials and helpers by name, from `macros/`. */
  readonly macros: readonly MacroFile[];
}

export interface MacroFile {
  readonly name: string;
  readonly path: string;
  /** `partial` for .sql/.hbs templates, `helper` for .js/.mjs modules exporting helpers. */
  readonly kind: 'partial' | 'helper';
  readonly text: string;
}

import type { ModelNode } from '../manifest/types.js';
import type { PartitionStateWrite } from '../state/partition-state.js';
import type { ModelStateWrite } from '../state/store.js';
import type { DayBatches } from '../engines/compute/batches.js';

/**
 * What a run will do, decided before it does anything: plain data that `tm run --dry-run` prints
 * and the executor carries out (as Dataform's ExecutionGraph or SQLMesh's plan).
 */
export interface RunPlan {
  /** Wall clock of the run (`--now`), `YYYY-MM-DD HH:MM:SS.ffffff` UTC. */
  readonly now: string;
  readonly runId: string;
  readonly fullRefresh: boolean;
  /** Stream clock C (the newest valid event), when the run has incremental models. */
  readonly clock?: string;
  /** Nothing new in any file the incremental models read: no data is read, each records its check. */
  readonly idle: boolean;
  /** Values every model's templates see (SQL literals): now, run_started_at, and clock, snapshot_ts, window_start. */
  readonly values: Readonly<Record<string, string>>;
  readonly sources: readonly SourceStep[];
  /** One step per selected model, in run order. */
  readonly steps: readonly ModelStep[];
  /** DuckDB queries of models that run at once: 1, or the run's threads when its inputs are small. */
  readonly duckSlots: number;
  /** `tm build`'s tests, run among the models (plan/test-steps.ts); none for `tm run`. */
  readonly tests?: readonly TestStep[];
}

/** A test run among the models: after the models it reads, before the models it blocks. */
export interface TestStep {
  /** The test's unique id. */
  readonly id: string;
  readonly name: string;
  /** Selected models (unique ids) it runs after. */
  readonly dependsOn: readonly string[];
  /** Selected models (unique ids) that wait for it, and are skipped (with their descendants) when it fails. */
  readonly blocks: readonly string[];
  /** Skipped without running, and why (a source of which the run reads no row). */
  readonly skipReason?: string;
}

/** A source as the run reads it: which files, and for the hot tier which window of partitions. */
export interface SourceStep {
  readonly name: string;
  /** Read through the local window cache, from `fromPart` on (else every file). */
  readonly windowed: boolean;
  readonly fromPart?: string;
  /** Date partitions that exist (windowed sources). */
  readonly partitions?: number;
  readonly files: FileSummary;
  /** False when the run reads none of its rows (nothing new). */
  readonly read: boolean;
  /** Partition-aware readers: only these days were read, whole (with the files of other days holding copies of their keys). */
  readonly days?: readonly string[];
  /** Every file listed, when only some were read. */
  readonly listed?: FileSummary;
}

export interface FileSummary {
  readonly count: number;
  readonly bytes: number;
  /** First and last date partition among the files. */
  readonly firstPart?: string;
  readonly lastPart?: string;
}

/**
 * - `build`: compute the model and write its rows (and its state, in the same transaction);
 * - `check`: no new input: nothing is computed, the state records the check (`recordsCheck`);
 * - `skip`: another process holds its lock (an upstream failure is found while running).
 */
export type StepAction = 'build' | 'check' | 'skip';

/** What every model step says, whatever the model's kind. */
interface StepCommon {
  readonly model: ModelNode;
  readonly action: StepAction;
  /** Why, in a few words: `3 new files`, `first run`, `no new files`, `full recompute`... */
  readonly reason: string;
  /** Values the model's templates see (SQL literals), the run's values included. */
  readonly values: Readonly<Record<string, string>>;
  /** Table written: the model's own, or the one it reconciles. */
  readonly relationName: string;
  /** A `check` step that writes its check time into the state. */
  readonly recordsCheck: boolean;
}

/** A model computed whole whenever it builds: `replace` without `partition_by`, and `temp`. */
export interface FullStep extends StepCommon {
  readonly kind: 'full';
}

/** An incremental model (`upsert`, `snapshot`, `append`): it adds this run's rows to those stored. */
export interface IncrementalStep extends StepCommon {
  readonly kind: 'incremental';
  /** `{{#if (is_incremental)}}`: the model adds to rows already stored. */
  readonly isIncremental: boolean;
  /** The hot range start H. */
  readonly hotStart?: string;
  /** Source files the model reads. */
  readonly files?: FileSummary;
  /** The model's stored rows, copied into the compute engine under `table` before it runs (`{{this_rows}}`). */
  readonly thisRows?: { readonly table: string; readonly exists: boolean };
  /** What the state records with the rows. */
  readonly stateWrite?: ModelStateWrite;
}

/** A partition-aware `replace` model (`partition_by`): it recomputes the days that changed, or all of them. */
export interface PartitionedStep extends StepCommon {
  readonly kind: 'partitioned';
  /** Source files the model reads. */
  readonly files?: FileSummary;
  /** Only these days (`column` values) are recomputed, and replace the same days in its table. */
  readonly partitions?: { readonly column: string; readonly parts: readonly string[] };
  /** Day stats the state records with its rows. */
  readonly partitionState?: PartitionStateWrite;
  /**
   * Days holding more input than one heavy query should aggregate at once: computed in batches of days,
   * `column <= bounds[0]`, then `(bounds[i-1], bounds[i]]`, then the rest (NULL included), each batch one
   * query appending to the model's result. Every row lands in exactly one batch.
   */
  readonly batches?: DayBatches;
  /** What the state records with the rows (files seen per day). */
  readonly stateWrite?: ModelStateWrite;
}

/** One step per selected model, typed by its kind (as the kind configs are). */
export type ModelStep = FullStep | IncrementalStep | PartitionedStep;

/** `{{#if (is_incremental)}}` for the step's SQL: an incremental model adding to rows already stored. */
export function addsToStoredRows(step: ModelStep): boolean {
  return step.kind === 'incremental' && step.isIncremental;
}

/** What the state records with the step's rows, if anything. */
export function stateWriteOf(step: ModelStep): ModelStateWrite | undefined {
  return step.kind === 'full' ? undefined : step.stateWrite;
}

/**
 * Facts every stage reads off a model's kind (manifest/types.ts `KindConfig`), in one place: whether it
 * is incremental, which table it writes, whether it is partition-aware.
 */
import type { IncrementalConfig, ModelNode, SourceDaysOf } from './types.js';

export function incrementalConfigOf(model: ModelNode): IncrementalConfig | undefined {
  return 'incremental' in model.config.kind ? model.config.kind.incremental : undefined;
}

/** Upsert, snapshot and append: the model adds to the rows its table holds. */
export function isIncremental(model: ModelNode | undefined): boolean {
  return model !== undefined && incrementalConfigOf(model) !== undefined;
}

/** The table an incremental model writes, and whose lock it takes: its own, or the one it reconciles. */
export function relationOf(model: ModelNode): string {
  return incrementalConfigOf(model)?.reconciles ?? model.name;
}

/** The date column a partition-aware `replace` model recomputes by (`partition_by`), if any. */
export function partitionColumnOf(model: ModelNode): string | undefined {
  const kind = model.config.kind;
  return kind.materialized === 'replace' ? kind.partitionBy : undefined;
}

/** The table and column naming the days an incremental model reads of its source (`source_days_of`), if any. */
export function sourceDaysOf(model: ModelNode): SourceDaysOf | undefined {
  return incrementalConfigOf(model)?.sourceDaysOf;
}

import type { MaterializationStrategy } from './types.js';

/**
 * Rows that live in the compute engine's store (DuckDB) for one run only (staging models): a table computed once, or with
 * `as_view: true` a view that readers' queries inline (columns they do not read are never computed).
 */
export const temp: MaterializationStrategy = {
  lives: 'run',
  apply: async (input) => {
    const kind = input.model.config.kind;
    const asView = kind.materialized === 'temp' && kind.asView;
    const rows = await input.result.keepForRun(asView ? 'view' : 'table');
    return { rows: rows ?? 0, summary: asView ? 'VIEW' : `TEMP ${rows ?? 0}` };
  },
};

import type { NodeResult } from '../artifacts/run-results.js';
import type { ModelNode } from '../manifest/types.js';

/**
 * The end of a run recaps its failed models, as `tm test` does its failed tests: name, the file and line
 * to fix (as the error names them), and the error's first line. Nothing when every model ran.
 */
export function failedModelsRecap(results: readonly NodeResult[], models: readonly ModelNode[]): string[] {
  const byId = new Map(models.map((m) => [m.uniqueId, m]));
  const failed = results.filter((r) => r.kind === 'model' && r.status === 'error');
  if (!failed.length) return [];
  return [
    `Failed model${failed.length === 1 ? '' : 's'}:`,
    ...failed.map((r) => {
      const first = (r.message ?? 'failed').split('\n')[0];
      const file = byId.get(r.unique_id)?.path;
      const located = file && !first.startsWith(file) ? `${file}: ${first}` : first;
      return `  ${r.name}: ${located}`;
    }),
  ];
}

import type { Manifest, ModelNode } from '../manifest/types.js';

/**
 * The `temp` models a model reads, directly or through other temp models. They live in DuckDB for
 * one run only, so they always run with their readers, and what they read counts as the reader's input.
 */
export function tempAncestors(manifest: Manifest, model: ModelNode): ModelNode[] {
  const found = new Map<string, ModelNode>();
  const visit = (refs: readonly string[]) => {
    for (const name of refs) {
      const m = manifest.models.get(name);
      if (!m || m.config.materialized !== 'temp' || found.has(name)) continue;
      found.set(name, m);
      visit(m.refs);
    }
  };
  visit(model.refs);
  return [...found.values()];
}

/** What a model reads: sources directly or through temp models, and other models' tables. */
export interface ModelInputs {
  readonly sources: ReadonlySet<string>;
  /** Models read other than temp ones: their rows are not files, so changes there cannot be seen. */
  readonly tables: ReadonlySet<string>;
}

export function inputsOf(manifest: Manifest, model: ModelNode): ModelInputs {
  const through = [model, ...tempAncestors(manifest, model)];
  const temps = new Set(through.slice(1).map((m) => m.name));
  return {
    sources: new Set(through.flatMap((m) => m.sources)),
    tables: new Set(through.flatMap((m) => m.refs).filter((r) => !temps.has(r) && manifest.models.get(r)?.config.materialized !== 'temp')),
  };
}

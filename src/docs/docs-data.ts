import type { QualityTest } from '../quality/types.js';
import type { Catalog } from './catalog.js';

/** A data test as declared (generic or singular), so the page lists tests that have not run yet. */
export interface DeclaredTest {
  readonly unique_id: string;
  readonly name: string;
  readonly kind: 'generic' | 'singular';
  /** `not_null`, `unique`...; the file name for a singular test. */
  readonly test_name: string;
  /** `model.<name>` / `source.<name>` for a generic test. */
  readonly attached_to: string | null;
  readonly column: string | null;
  readonly severity: string;
  /** Models and sources the test reads. */
  readonly refs: readonly string[];
  readonly sources: readonly string[];
}

/**
 * What the docs page embeds: the artifacts the CLI writes (manifest.json, run_results.json,
 * test_results.json, catalog.json) as they are, plus the declared tests and the compiled SQL.
 */
export interface DocsData {
  readonly project: string;
  readonly generated_at: string;
  readonly target: { readonly name: string; readonly type: string; readonly schema: string };
  readonly manifest: unknown;
  readonly run_results: unknown;
  readonly test_results: unknown;
  readonly catalog: Catalog;
  readonly tests: readonly DeclaredTest[];
  /** Compiled SQL by node id (models and singular tests). */
  readonly compiled: Readonly<Record<string, string>>;
}

export function declaredTest(t: QualityTest): DeclaredTest {
  return {
    unique_id: t.uniqueId,
    name: t.name,
    kind: t.kind,
    test_name: t.kind === 'generic' ? t.testName : t.name,
    attached_to: t.kind === 'generic' ? `${t.on.kind}.${t.on.name}` : null,
    column: t.kind === 'generic' ? (t.column ?? null) : null,
    severity: t.severity,
    refs: t.refs,
    sources: t.sources,
  };
}

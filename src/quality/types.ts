/** Data tests as plain readonly data: what `tm test` and `tm build` run. */

export type Severity = 'warn' | 'error';

export type Comparison = '>' | '>=' | '<' | '<=' | '=' | '!=';

/** `warn_if` / `error_if` on the failing-row count, dbt syntax: `">10"`, `"!=0"`. */
export interface Threshold {
  readonly op: Comparison;
  readonly value: number;
  /** As written, for messages. */
  readonly text: string;
}

interface TestBase {
  /** `test.<project>.<name>` */
  readonly uniqueId: string;
  readonly name: string;
  /** Project-relative file that declares the test. */
  readonly path: string;
  /** Models the test reads. */
  readonly refs: readonly string[];
  /** Sources the test reads. */
  readonly sources: readonly string[];
  readonly severity: Severity;
  readonly warnIf: Threshold;
  readonly errorIf: Threshold;
  /** Keep the failing rows in the audit schema (the `--store-failures` flag turns it on for all). */
  readonly storeFailures: boolean;
}

/** A generic test declared in YAML on a model, a model's column, a source or a source's column. */
export interface GenericTest extends TestBase {
  readonly kind: 'generic';
  /** `not_null`, `unique`... or a custom one (partial `test_<name>`). */
  readonly testName: string;
  readonly on: TestedNode;
  readonly column?: string;
  /** The test's own arguments (config keys such as `severity` removed). */
  readonly args: Readonly<Record<string, unknown>>;
  /** SQL filter applied to the tested relation first (dbt's `where` config). */
  readonly where?: string;
}

/** A `tests/**\/*.sql` file: a query that returns the failing rows. */
export interface SingularTest extends TestBase {
  readonly kind: 'singular';
  readonly rawSql: string;
}

export type QualityTest = GenericTest | SingularTest;

export interface TestedNode {
  readonly kind: 'model' | 'source';
  readonly name: string;
}

/** Where a test's query runs: next to the tables it reads. */
export type Placement =
  | { readonly runs: 'in-target' }
  | { readonly runs: 'in-source-engine'; readonly tempModels: readonly string[]; readonly sources: readonly string[] }
  | { readonly runs: 'refused'; readonly reason: string };

export type TestStatus = 'pass' | 'warn' | 'fail' | 'error' | 'skipped';

export interface TestOutcome {
  readonly test: QualityTest;
  readonly status: TestStatus;
  /** Rows the test query returned; undefined when it could not run. */
  readonly failures?: number;
  readonly seconds: number;
  readonly startedAt?: string;
  readonly message?: string;
  /** Audit table holding the failing rows, when they were stored. */
  readonly storedIn?: string;
  readonly compiledPath?: string;
}

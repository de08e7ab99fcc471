/**
 * The benchmark's extension point: a section is one named, selectable measurement
 * (`npm run bench -- --only <name>` / `--skip <name>`). To add one, implement BenchSection in
 * bench/<name>.ts and append it to SECTIONS in bench/bench.ts.
 */
import type { Dataset } from './dataset.js';

export interface BenchContext {
  /** Repository root (the tm project: project.yml, bin/tm.js). */
  readonly repoRoot: string;
  /**
   * The project tm runs on: a fresh copy of the repository's project files under the bench folder
   * (tm's `.tm/` and `target/` stay the bench's own). Pass it to runTm.
   */
  readonly projectDir: string;
  /** Cache and output folder (`.tm/bench` or $TM_BENCH_DIR). */
  readonly benchDir: string;
  /** PostgreSQL URL of the real server ($TM_PG_URL). */
  readonly pgUrl: string;
  /** Measurements per case (`--repeat N`, default 1). */
  readonly repeat: number;
  /** Unique per bench run: prefix of the schemas, folders and buckets it creates. */
  readonly runTag: string;
  /** Keep the schemas the run created (default: dropped once counted). */
  readonly keepSchemas: boolean;
  /** Compare the marts of the builds row by row (EXCEPT ALL), not only counts and sums. */
  readonly verifyRows: boolean;
  /** Section-specific options from the command line (`--s3-subset-year 2019`...). */
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  /** The TripClick-scale dataset, generated (or taken from the cache) on first use. */
  dataset(): Promise<Dataset>;
  log(line: string): void;
}

/** A target from the issue, reported as PASS/MISS (an exit code only with --strict). */
export interface TargetCheck {
  readonly name: string;
  readonly value: number;
  readonly limit: number;
  /** How value and limit print, e.g. (v) => `${v.toFixed(2)}`. */
  readonly unit?: string;
  readonly pass: boolean;
}

export interface SectionResult {
  /** Lines of the section's summary table (already formatted). */
  readonly table: readonly string[];
  /** Everything measured, for results.json. */
  readonly figures: Record<string, unknown>;
  readonly targets: readonly TargetCheck[];
  /** Inconsistencies (e.g. row counts that differ between builds): printed loudly, fail --strict. */
  readonly problems: readonly string[];
  /** Caveats worth printing with the figures (subset used, noisy machine...). */
  readonly notes: readonly string[];
  /** Measurements that could not be made (e.g. a tm run that failed): printed, and the bench exits 1. */
  readonly errors?: readonly string[];
}

export interface BenchSection {
  readonly name: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<SectionResult>;
}

import path from 'node:path';
import type { RunResults } from './run-results.js';
import { writeJsonAtomic } from './write-json.js';

export const TEST_RESULTS_SCHEMA = 'tm/test-results/v1';

/** File name of the last tests' results in the target folder. */
export const TEST_RESULTS_FILE = 'test_results.json';

/**
 * What run_results.json holds, for the last tests (and the temp models `tm test` computed for them);
 * `command` is `test` or `build`.
 */
export type TestResults = RunResults;

/**
 * `target/test_results.json`: the last tests' results, apart from `run_results.json`, so a `tm test`
 * after a `tm run` keeps what the run did (and `tm docs` shows both).
 */
export async function writeTestResults(targetDir: string, results: TestResults): Promise<void> {
  await writeJsonAtomic(path.join(targetDir, TEST_RESULTS_FILE), {
    metadata: { schema: TEST_RESULTS_SCHEMA, generated_at: new Date().toISOString() },
    ...results,
  });
}

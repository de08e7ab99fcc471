/**
 * How `tm build` runs its test steps (plan/test-steps.ts places them among the models): each runs where
 * its tables live and prints one line; a failing error-severity test returns 'error', which stops the
 * models it blocks.
 */
import type { Log } from '../core/progress.js';
import type { TestStep } from '../plan/types.js';
import { buildTestLine } from './report.js';
import { runTest, type TestRunContext } from './run-test.js';
import type { QualityTest, TestOutcome } from './types.js';

export interface BuildTests {
  run(step: TestStep): Promise<'success' | 'error'>;
  skip(step: TestStep, cause: string): void;
  /** Outcomes so far, in the tests' order (complete once the run is over). */
  readonly outcomes: () => TestOutcome[];
}

export function buildTests(tests: readonly QualityTest[], ctx: TestRunContext, log: Log): BuildTests {
  const byId = new Map(tests.map((t) => [t.uniqueId, t]));
  const outcomes = new Map<string, TestOutcome>();
  const record = (outcome: TestOutcome) => {
    outcomes.set(outcome.test.uniqueId, outcome);
    log(buildTestLine(outcome));
  };
  return {
    async run(step) {
      const test = byId.get(step.id)!;
      const outcome: TestOutcome = step.skipReason ? { test, status: 'skipped', seconds: 0, message: `skipped: ${step.skipReason}` } : await runTest(test, ctx);
      record(outcome);
      if (outcome.status === 'error' && outcome.message) log(`        ${outcome.message}`);
      return outcome.status === 'fail' || outcome.status === 'error' ? 'error' : 'success';
    },
    skip(step, cause) {
      record({ test: byId.get(step.id)!, status: 'skipped', seconds: 0, message: `skipped: upstream '${cause}' failed` });
    },
    outcomes: () => tests.flatMap((t) => outcomes.get(t.uniqueId) ?? []),
  };
}

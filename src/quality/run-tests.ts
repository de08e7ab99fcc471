import type { Log } from '../core/progress.js';
import { runInOrder } from '../core/scheduler.js';
import { failureDetails, testLine } from './report.js';
import { ensureAuditSchema } from './audit.js';
import { runTest, type TestRunContext } from './run-test.js';
import type { QualityTest, TestOutcome } from './types.js';

/** `tm test`: every test at once, `threads` at a time; one line each as it finishes. */
export async function runTests(tests: readonly QualityTest[], ctx: TestRunContext, threads: number, log: Log): Promise<TestOutcome[]> {
  if (tests.length === 0) return [];
  if (ctx.storeFailures || tests.some((t) => t.storeFailures)) await ensureAuditSchema(ctx.target);
  const outcomes = new Map<string, TestOutcome>();
  const indexOf = new Map(tests.map((t, i) => [t.uniqueId, i + 1]));
  const byId = new Map(tests.map((t) => [t.uniqueId, t]));
  await runInOrder(
    tests.map((t) => ({ id: t.uniqueId, dependsOn: [] })),
    threads,
    async (id) => {
      const outcome = await runTest(byId.get(id)!, ctx);
      outcomes.set(id, outcome);
      log(testLine(indexOf.get(id)!, tests.length, outcome));
      return 'success';
    },
    () => undefined,
  );
  return tests.map((t) => outcomes.get(t.uniqueId)!);
}

/** The lines after the summary: what did not pass and why. */
export function logFailureDetails(outcomes: readonly TestOutcome[], log: Log): void {
  const details = failureDetails(outcomes);
  if (details.length === 0) return;
  log('');
  for (const line of details) log(line);
}

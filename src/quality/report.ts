/** Test output like a good CLI: one line per test (status, failing rows, seconds), a summary, the details of what failed. */
import type { NodeResult } from '../artifacts/run-results.js';
import { formatCount, modelLine } from '../core/progress.js';
import type { TestOutcome, TestStatus } from './types.js';

const LABEL: Readonly<Record<TestStatus, string>> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', error: 'ERROR', skipped: 'SKIP' };

function detailOf(o: TestOutcome): string {
  if (o.status === 'skipped') return 'skipped';
  if (o.failures === undefined) return 'ERROR';
  return `${formatCount(o.failures)} failing`;
}

/** `  3 of 12 FAIL  unique_x ........ 2 failing in 0.01s` */
export function testLine(index: number, total: number, o: TestOutcome): string {
  return modelLine(index, total, LABEL[o.status], o.test.name, detailOf(o), o.seconds);
}

/** In `tm build`, under the model lines: `      test FAIL  unique_x ........ 2 failing in 0.01s` */
export function buildTestLine(o: TestOutcome): string {
  const head = `    test ${LABEL[o.status].padEnd(5)} ${o.test.name} `;
  return `  ${head}${'.'.repeat(Math.max(3, 64 - head.length))} ${detailOf(o)} in ${o.seconds.toFixed(2)}s`;
}

export function testSummary(outcomes: readonly TestOutcome[], seconds?: number): string {
  const n = (s: TestStatus) => outcomes.filter((o) => o.status === s).length;
  const parts = [`${n('pass')} PASS`, `${n('warn')} WARN`, `${n('fail')} FAIL`, `${n('error')} ERROR`, `${n('skipped')} SKIP`];
  const time = seconds === undefined ? '' : ` in ${seconds.toFixed(2)}s`;
  return `Finished ${outcomes.length} test${outcomes.length === 1 ? '' : 's'}${time}: ${parts.join(', ')}`;
}

/** One paragraph per test that did not pass: why, where its rows are, where its SQL is. */
export function failureDetails(outcomes: readonly TestOutcome[]): string[] {
  const lines: string[] = [];
  for (const o of outcomes) {
    if (o.status === 'pass' || o.status === 'skipped') continue;
    lines.push(`${LABEL[o.status]} ${o.test.name} (${o.test.path})`);
    if (o.failures !== undefined) {
      const rule = o.status === 'fail' ? `error_if ${o.test.errorIf.text}` : `warn_if ${o.test.warnIf.text}, severity ${o.test.severity}`;
      lines.push(`    ${formatCount(o.failures)} failing row${o.failures === 1 ? '' : 's'} (${rule})`);
    }
    if (o.message) lines.push(`    ${o.message}`);
    if (o.storedIn) lines.push(`    failing rows in ${o.storedIn}`);
    if (o.compiledPath && o.failures !== undefined) lines.push(`    query: ${o.compiledPath}`);
  }
  return lines;
}

/** Exit 1 when an error-severity test failed or a test could not run. */
export function testsFailed(outcomes: readonly TestOutcome[]): boolean {
  return outcomes.some((o) => o.status === 'fail' || o.status === 'error');
}

/** The test's entry in `target/run_results.json`. */
export function testResult(o: TestOutcome): NodeResult {
  const on = o.test.kind === 'generic' ? { attached_to: `${o.test.on.kind}.${o.test.on.name}`, column: o.test.column, test_name: o.test.testName } : {};
  return {
    unique_id: o.test.uniqueId,
    name: o.test.name,
    kind: 'test',
    status: o.status,
    execution_time_s: o.seconds,
    started_at: o.startedAt,
    failures: o.failures,
    severity: o.test.severity,
    warn_if: o.test.warnIf.text,
    error_if: o.test.errorIf.text,
    message: o.message,
    stored_in: o.storedIn,
    compiled_path: o.compiledPath,
    path: o.test.path,
    ...on,
  };
}

import type { Comparison, Severity, TestStatus, Threshold } from './types.js';

/** dbt's default for both `warn_if` and `error_if`: any failing row counts. */
export const ANY_FAILURE: Threshold = { op: '!=', value: 0, text: '!=0' };

const PATTERN = /^\s*(>=|<=|!=|<>|==|=|>|<)\s*(\d+)\s*$/;

/** Parses `">10"`, `"!= 0"`, `">=5"`; undefined when the text is not a comparison with a whole number. */
export function parseThreshold(text: string): Threshold | undefined {
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const op = ({ '<>': '!=', '==': '=' } as Record<string, Comparison>)[m[1]] ?? (m[1] as Comparison);
  return { op, value: Number(m[2]), text: `${op}${m[2]}` };
}

const compare: Readonly<Record<Comparison, (a: number, b: number) => boolean>> = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '=': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

export function holds(threshold: Threshold, failures: number): boolean {
  return compare[threshold.op](failures, threshold.value);
}

/**
 * dbt's rule: an error-severity test fails when `error_if` holds; otherwise (or for a warn-severity
 * test) it warns when `warn_if` holds; else it passes.
 */
export function statusFor(failures: number, severity: Severity, warnIf: Threshold, errorIf: Threshold): TestStatus {
  if (severity === 'error' && holds(errorIf, failures)) return 'fail';
  if (holds(warnIf, failures)) return 'warn';
  return 'pass';
}

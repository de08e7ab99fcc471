/**
 * JUnit XML, the format CI systems (GitLab, Jenkins, GitHub reporters) read: one testsuite per command,
 * one testcase per test (and per model in `tm build`). WARN passes, with the warning in system-out.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NodeResult } from '../artifacts/run-results.js';
import { formatCount } from '../core/progress.js';
import type { TestOutcome } from './types.js';

export interface JunitCase {
  /** Dotted group, e.g. `tripclick.mart_daily_traffic`. */
  readonly classname: string;
  readonly name: string;
  readonly seconds: number;
  readonly outcome: 'pass' | 'failure' | 'error' | 'skipped';
  /** One line: the failing-row count or the error. */
  readonly message?: string;
  /** Longer text: query path, audit table, warning. */
  readonly detail?: string;
  readonly file?: string;
}

export function junitXml(suiteName: string, cases: readonly JunitCase[], timestamp: string): string {
  const count = (o: JunitCase['outcome']) => cases.filter((c) => c.outcome === o).length;
  const seconds = cases.reduce((sum, c) => sum + c.seconds, 0).toFixed(3);
  const totals = `tests="${cases.length}" failures="${count('failure')}" errors="${count('error')}" skipped="${count('skipped')}" time="${seconds}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tm" ${totals}>`,
    `  <testsuite name="${escapeAttr(suiteName)}" ${totals} timestamp="${escapeAttr(timestamp)}">`,
  ];
  for (const c of cases) {
    const open = `    <testcase classname="${escapeAttr(c.classname)}" name="${escapeAttr(c.name)}" time="${c.seconds.toFixed(3)}"${c.file ? ` file="${escapeAttr(c.file)}"` : ''}`;
    const body = caseBody(c);
    if (body.length === 0) lines.push(`${open}/>`);
    else lines.push(`${open}>`, ...body.map((l) => `      ${l}`), '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

function caseBody(c: JunitCase): string[] {
  const message = escapeAttr(c.message ?? '');
  const text = escapeText(c.detail ?? c.message ?? '');
  switch (c.outcome) {
    case 'failure':
      return [`<failure message="${message}" type="fail">${text}</failure>`];
    case 'error':
      return [`<error message="${message}" type="error">${text}</error>`];
    case 'skipped':
      return [`<skipped message="${message}"/>`];
    case 'pass':
      return c.detail ? [`<system-out>${text}</system-out>`] : [];
  }
}

export async function writeJunit(file: string, suiteName: string, cases: readonly JunitCase[], timestamp: string): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, junitXml(suiteName, cases, timestamp));
}

/** XML 1.0 forbids most control characters even escaped: drop them. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
}

function escapeAttr(s: string): string {
  return clean(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
}

function escapeText(s: string): string {
  return clean(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A test as a testcase, grouped by the model or source it tests. */
export function junitCaseOfTest(o: TestOutcome, project: string): JunitCase {
  const group = o.test.kind === 'generic' ? o.test.on.name : 'tests';
  const rows = o.failures === undefined ? '' : `${formatCount(o.failures)} failing row${o.failures === 1 ? '' : 's'}`;
  const where = [o.compiledPath ? `query: ${o.compiledPath}` : '', o.storedIn ? `failing rows in ${o.storedIn}` : ''].filter(Boolean).join('\n');
  const base = { classname: `${project}.${group}`, name: o.test.name, seconds: o.seconds, file: o.test.path };
  switch (o.status) {
    case 'pass':
      return { ...base, outcome: 'pass' };
    case 'warn':
      return { ...base, outcome: 'pass', detail: `WARN: ${rows} (warn_if ${o.test.warnIf.text}, severity ${o.test.severity})${where ? `\n${where}` : ''}` };
    case 'fail':
      return { ...base, outcome: 'failure', message: `${rows} (error_if ${o.test.errorIf.text})`, detail: `${rows} (error_if ${o.test.errorIf.text})${where ? `\n${where}` : ''}` };
    case 'error':
      return { ...base, outcome: 'error', message: o.message ?? 'error' };
    case 'skipped':
      return { ...base, outcome: 'skipped', message: o.message ?? 'skipped' };
  }
}

/** A model of `tm build` as a testcase: built, failed or skipped. */
export function junitCaseOfModel(r: NodeResult, project: string): JunitCase {
  const base = { classname: `${project}.models`, name: r.name, seconds: r.execution_time_s };
  if (r.status === 'error') return { ...base, outcome: 'error', message: r.message ?? 'error' };
  if (r.status === 'skipped') return { ...base, outcome: 'skipped', message: r.message ?? 'skipped' };
  return { ...base, outcome: 'pass' };
}

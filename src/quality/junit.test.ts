import parser from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { junitXml, type JunitCase } from './junit.js';

/** fast-xml-parser 3 leaves entities as they are. */
const decode = (v: string) => v.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#10;/g, '\n').replace(/&amp;/g, '&');

describe('JUnit XML', () => {
  const cases: JunitCase[] = [
    { classname: 'p.m', name: 'not_null_m_a', seconds: 0.01, outcome: 'pass' },
    { classname: 'p.m', name: 'unique_m_a', seconds: 0.02, outcome: 'failure', message: '3 failing rows (error_if !=0)', detail: 'query: target/compiled/tests/unique_m_a.sql' },
    { classname: 'p.m', name: 'odd <name> & "quotes"', seconds: 0, outcome: 'error', message: 'relation "x" does not exist\nLINE 1: <', file: 'tests/x.sql' },
    { classname: 'p.models', name: 'child', seconds: 0, outcome: 'skipped', message: "skipped: upstream 'unique_m_a' failed" },
    { classname: 'p.m', name: 'recency_m_ts', seconds: 0.5, outcome: 'pass', detail: 'WARN: 1 failing row\u0001' },
  ];
  const xml = junitXml('tm test', cases, '2020-11-01T00:00:00.000Z');

  it('is well-formed XML with the counts CI systems read', () => {
    expect(parser.validate(xml)).toBe(true);
    const doc = parser.parse(xml, { ignoreAttributes: false, attributeNamePrefix: '', attrValueProcessor: decode, tagValueProcessor: decode });
    const suites = doc.testsuites;
    expect(suites).toMatchObject({ name: 'tm', tests: '5', failures: '1', errors: '1', skipped: '1' });
    const suite = suites.testsuite;
    expect(suite).toMatchObject({ name: 'tm test', tests: '5', failures: '1', errors: '1', skipped: '1', timestamp: '2020-11-01T00:00:00.000Z' });
    const testcases = suite.testcase as Record<string, unknown>[];
    expect(testcases.map((c) => c.name)).toEqual(cases.map((c) => c.name));
    expect(testcases[1].failure).toMatchObject({ message: '3 failing rows (error_if !=0)', type: 'fail' });
    expect(testcases[2].error).toMatchObject({ message: 'relation "x" does not exist\nLINE 1: <' });
    expect(testcases[3].skipped).toMatchObject({ message: "skipped: upstream 'unique_m_a' failed" });
    expect(testcases[4]['system-out']).toBe('WARN: 1 failing row');
    expect(testcases[0].time).toBe('0.010');
  });
});

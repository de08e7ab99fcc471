import { projectError } from '../core/errors.js';
import type { FixtureRow, UnitTestInput, UnitTestSpec } from '../manifest/types.js';
import { expectArray, expectObj, optionalString, type Obj } from './yaml-file.js';

/** `unit_tests:` of a model's YAML entry (its shape already checked against yaml-shapes.ts), resolved. */
export function parseUnitTests(value: unknown, file: string, model: string): UnitTestSpec[] {
  const seen = new Set<string>();
  return expectArray(value, file, `model '${model}': unit_tests`).map((entry, i) => {
    const where = `model '${model}': unit_tests[${i}]`;
    const o = expectObj(entry, file, where);
    const name = String(o.name);
    if (seen.has(name)) throw projectError(file, `${where}: a second unit test named '${name}'`);
    seen.add(name);
    const given = expectArray(o.given, file, `${where}.given`).map((g, j) => parseInput(expectObj(g, file, `${where}.given[${j}]`), file, `${where}.given[${j}]`));
    const expected = expectObj(o.expect, file, `${where}.expect`);
    return {
      name,
      description: optionalString(o.description, file, `${where}.description`) ?? '',
      now: optionalString(o.now, file, `${where}.now`),
      vars: expectObj(o.vars, file, `${where}.vars`),
      given,
      expect: { rows: rowsOf(expected.rows), ignoreColumns: expectArray(expected.ignore_columns, file, `${where}.expect.ignore_columns`).map(String) },
    };
  });
}

const rowsOf = (v: unknown): FixtureRow[] => (Array.isArray(v) ? (v as FixtureRow[]) : []);

function parseInput(o: Obj, file: string, where: string): UnitTestInput {
  const source = optionalString(o.source, file, `${where}.source`);
  const ref = optionalString(o.ref, file, `${where}.ref`);
  if ((source === undefined) === (ref === undefined)) throw projectError(file, `${where}: give exactly one of source or ref`);
  if (ref !== undefined) {
    if (o.files !== undefined) throw projectError(file, `${where}: files are for a source; give the rows of ref '${ref}' as rows`);
    return { ref, rows: rowsOf(o.rows) };
  }
  const files = o.files === undefined ? {} : (expectObj(o.files, file, `${where}.files`) as Record<string, unknown>);
  return { source: source!, files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, rowsOf(v)])), rows: rowsOf(o.rows) };
}

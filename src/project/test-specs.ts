import { projectError } from '../core/errors.js';
import type { TestSpec } from '../manifest/types.js';
import { isObj } from './yaml-file.js';

/**
 * Generic tests as written in YAML, dbt-style: `- not_null`, `- unique`, `- accepted_values: {values: [...]}`.
 * A column-level test gets `column` in its args.
 */
export function parseTestList(v: unknown, file: string, where: string, column?: string): TestSpec[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw projectError(file, `${where} must be a list`);
  return v.map((entry, i) => {
    const base = column ? { column } : {};
    if (typeof entry === 'string') return { name: entry, args: base };
    if (isObj(entry) && Object.keys(entry).length === 1) {
      const [name, args] = Object.entries(entry)[0];
      if (args !== null && args !== undefined && !isObj(args)) {
        throw projectError(file, `${where}[${i}]: arguments of test '${name}' must be a mapping`);
      }
      return { name, args: { ...base, ...(args ?? {}) } };
    }
    throw projectError(file, `${where}[${i}]: a test is a name or a single-key mapping {name: {args}}`);
  });
}

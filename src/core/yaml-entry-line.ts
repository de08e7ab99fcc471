import { readFileSync } from 'node:fs';

/**
 * The line of the first line matching `pattern` under the `- name: <entry>` item of a YAML file (a
 * model's entry), else of the entry itself; undefined when the file or entry is not found. A text
 * search, for error messages only: the loaded values carry no lines.
 */
export function lineInYamlEntry(file: string, entry: string, pattern: RegExp): number | undefined {
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const start = lines.findIndex((l) => new RegExp(`^\\s*-?\\s*name:\\s*['"]?${entry}['"]?\\s*$`).test(l));
  if (start < 0) return undefined;
  for (let i = start + 1; i < lines.length; i++) {
    if (/^\s*-\s*name:/.test(lines[i]) && lines[i].search(/\S/) <= lines[start].search(/\S/)) break;
    if (pattern.test(lines[i])) return i + 1;
  }
  return start + 1;
}

import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { projectError } from '../errors.js';

/** Parses a YAML file; a syntax error names the file and line. */
export async function readYamlFile(file: string, displayPath: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  return parseYamlText(text, displayPath);
}

export function parseYamlText(text: string, displayPath: string, lineOffset = 0): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const line = (first.linePos?.[0]?.line ?? 0) + lineOffset;
    throw projectError(displayPath, `invalid YAML: ${first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`, line || undefined);
  }
  return doc.toJS() ?? {};
}

/** Small validators at the boundary: each names the file and the key path of a wrong value. */
export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function expectObj(v: unknown, file: string, where: string): Obj {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw projectError(file, `${where} must be a mapping`);
  return v;
}

export function expectArray(v: unknown, file: string, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw projectError(file, `${where} must be a list`);
  return v;
}

export function expectString(v: unknown, file: string, where: string): string {
  if (typeof v !== 'string' || v === '') throw projectError(file, `${where} must be a non-empty string`);
  return v;
}

export function optionalString(v: unknown, file: string, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw projectError(file, `${where} must be a string`);
  return v;
}

export function optionalNumber(v: unknown, file: string, where: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw projectError(file, `${where} must be a number`);
  return v;
}

export function stringList(v: unknown, file: string, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw projectError(file, `${where} must be a string or a list of strings`);
  return v as string[];
}

/** Rejects keys a mapping may not have, so a typo is an error rather than silently ignored. */
export function checkKeys(o: Obj, allowed: readonly string[], file: string, where: string): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw projectError(file, `${where}: unknown key '${key}' (expected one of: ${allowed.join(', ')})`);
  }
}

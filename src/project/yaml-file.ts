import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type YAML from 'yaml';
import { projectError } from '../core/errors.js';
import { checkShape, problemMessage, type KeyPath, type Shape, type ShapeDocument } from './yaml-shape.js';

/**
 * Parses a YAML file; a syntax error names the file and line. With `cacheDir`, the parsed value is kept
 * there by content hash, for the next process: in a fresh `tm run` of the hot tier, parsing the project's
 * YAML and loading the YAML library took 100 ms of 1 s (measured), while the files rarely change.
 */
export async function readYamlFile(file: string, displayPath: string, cacheDir?: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  if (!cacheDir) return parseYamlText(text, displayPath, 0, await loadYaml());
  const cache = await openYamlCache(cacheDir);
  const key = createHash('sha1').update(text).digest('hex');
  if (cache.entries.has(key)) return structuredClone(cache.entries.get(key));
  const value = parseYamlText(text, displayPath, 0, await loadYaml());
  if (isPlainJson(value)) {
    cache.entries.set(key, structuredClone(value));
    await saveYamlCache(cache);
  }
  return value;
}

/** A parsed YAML file, and the line of every node by its key path (`JSON.stringify(['a', 0, 'b'])`). */
export interface LocatedYaml {
  readonly value: unknown;
  readonly lines: Readonly<Record<string, number>>;
  /** The line of each mapping key by its key path (a block value starts on a later line). */
  readonly keyLines?: Readonly<Record<string, number>>;
}

/**
 * As readYamlFile, for files whose values need their line numbers after the parse (e.g. to point at
 * one chart of a dashboard later): the lines come from the same cache entry, so a cached file needs
 * neither a parse nor the YAML library.
 */
export async function readLocatedYamlFile(file: string, displayPath: string, cacheDir: string): Promise<LocatedYaml> {
  const text = await readFile(file, 'utf8');
  const cache = await openYamlCache(cacheDir);
  const key = `located-keys:${createHash('sha1').update(text).digest('hex')}`;
  if (cache.entries.has(key)) return structuredClone(cache.entries.get(key)) as LocatedYaml;
  const yaml = await loadYaml();
  const lineCounter = new yaml.LineCounter();
  const doc = yaml.parseDocument(text, { lineCounter });
  const first = doc.errors[0];
  if (first) throw projectError(displayPath, `invalid YAML: ${first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`, first.linePos?.[0]?.line);
  const lines: Record<string, number> = {};
  const keyLines: Record<string, number> = {};
  const lineOf = (node: unknown) => {
    const range = (node as { range?: readonly number[] } | null | undefined)?.range;
    return range ? lineCounter.linePos(range[0]).line : undefined;
  };
  const walk = (node: unknown, keyPath: readonly (string | number)[]) => {
    const line = lineOf(node);
    if (line !== undefined) lines[JSON.stringify(keyPath)] = line;
    if (yaml.isMap(node)) {
      for (const pair of node.items) {
        const path = [...keyPath, String(yaml.isScalar(pair.key) ? pair.key.value : pair.key)];
        const keyLine = lineOf(pair.key);
        if (keyLine !== undefined) keyLines[JSON.stringify(path)] = keyLine;
        walk(pair.value, path);
      }
    } else if (yaml.isSeq(node)) node.items.forEach((item, i) => walk(item, [...keyPath, i]));
  };
  walk(doc.contents, []);
  const located: LocatedYaml = { value: doc.toJS() ?? {}, lines, keyLines };
  if (isPlainJson(located.value)) {
    cache.entries.set(key, structuredClone(located));
    await saveYamlCache(cache);
  }
  return located;
}

/** The line of a key path: of its deepest node that exists (a missing key points where its mapping starts). */
export function lineOfPath(located: LocatedYaml, keyPath: readonly (string | number)[]): number {
  for (let n = keyPath.length; n >= 0; n--) {
    const line = located.lines[JSON.stringify(keyPath.slice(0, n))];
    if (line !== undefined) return line;
  }
  return 1;
}

/** The line of a mapping's key (`colums:`), else of its value. */
export function lineOfKey(located: LocatedYaml, keyPath: readonly (string | number)[]): number {
  return located.keyLines?.[JSON.stringify(keyPath)] ?? lineOfPath(located, keyPath);
}

/**
 * Checks a file's parsed value against its shape; a problem is an error at its line (the file is parsed
 * again for the lines only then, so a valid file costs one walk of its value). `at` places a part of
 * the file (`shape` its shape) at its key path.
 */
export async function checkYamlShape(value: unknown, doc: ShapeDocument, file: string, display: string, cacheDir: string, at: { shape: Shape; keyPath: KeyPath } = { shape: doc.root, keyPath: [] }): Promise<void> {
  const problem = checkShape(value, doc, at.shape);
  if (!problem) return;
  const located = await readLocatedYamlFile(file, display, cacheDir);
  const keyPath = [...at.keyPath, ...problem.keyPath];
  throw projectError(display, problemMessage(value, problem), problem.atKey ? lineOfKey(located, keyPath) : lineOfPath(located, keyPath));
}

/**
 * A value computed from a file's text (plain JSON: e.g. what a template declares), kept in the same
 * cache by content hash, so a fresh process does not parse unchanged templates again. Errors are
 * not cached: a broken file is parsed (and reported) every time.
 */
export async function memoByContent<T>(cacheDir: string, kind: string, text: string, compute: () => T): Promise<T> {
  const cache = await openYamlCache(cacheDir);
  const key = `${kind}:${createHash('sha1').update(text).digest('hex')}`;
  if (cache.entries.has(key)) return structuredClone(cache.entries.get(key)) as T;
  const value = compute();
  if (isPlainJson(value)) {
    cache.entries.set(key, structuredClone(value));
    await saveYamlCache(cache);
  }
  return value;
}

let yamlModule: Promise<typeof YAML> | undefined;
/** The YAML library, loaded on the first parse only (every file may come from the cache). */
export function loadYaml(): Promise<typeof YAML> {
  yamlModule ??= import('yaml').then((m) => m.default);
  return yamlModule;
}

interface YamlCache {
  readonly file: string;
  readonly entries: Map<string, unknown>;
}

const CACHE_ENTRIES = 200;
const yamlCaches = new Map<string, Promise<YamlCache>>();

function openYamlCache(dir: string): Promise<YamlCache> {
  const file = path.join(dir, 'yaml-cache.json');
  let cache = yamlCaches.get(file);
  if (!cache) {
    cache = readFile(file, 'utf8')
      .then((text) => new Map(Object.entries(JSON.parse(text) as Record<string, unknown>)))
      .catch(() => new Map<string, unknown>())
      .then((entries) => ({ file, entries }));
    yamlCaches.set(file, cache);
  }
  return cache;
}

/** Writes the cache (temp file, then rename); a cache that cannot be written is only a slower next start. */
async function saveYamlCache(cache: YamlCache): Promise<void> {
  const keys = [...cache.entries.keys()];
  for (const k of keys.slice(0, Math.max(0, keys.length - CACHE_ENTRIES))) cache.entries.delete(k);
  const tmp = `${cache.file}.${process.pid}.tmp`;
  try {
    await mkdir(path.dirname(cache.file), { recursive: true });
    await writeFile(tmp, JSON.stringify(Object.fromEntries(cache.entries)));
    await rename(tmp, cache.file);
  } catch {
    /* read-only project folder: parse again next time */
  }
}

/** Strings, finite numbers, booleans, null, arrays and plain objects: what JSON keeps as it is. */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value as object).every(isPlainJson);
  return false;
}

export function parseYamlText(text: string, displayPath: string, lineOffset: number, yaml: typeof YAML): unknown {
  const doc = yaml.parseDocument(text, { prettyErrors: true });
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


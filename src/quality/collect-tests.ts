/**
 * Manifest -> the project's data tests: generic tests declared in model and source YAML, each checked
 * and named like dbt's (`not_null_<model>_<column>`), and the singular tests of `tests/`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { analyzeTemplate } from '../compile/static-analysis.js';
import { projectError } from '../core/errors.js';
import { closestName, didYouMean } from '../core/suggest.js';
import type { Manifest, ModelNode, SingularTestNode, SourceNode, TestSpec } from '../manifest/types.js';
import { genericTestNames, genericTests } from './generic-tests.js';
import { ANY_FAILURE, parseThreshold } from './thresholds.js';
import type { GenericTest, QualityTest, Severity, SingularTest, TestedNode, Threshold } from './types.js';

/** Keys every generic test accepts besides its own arguments. */
const CONFIG_KEYS = ['severity', 'warn_if', 'error_if', 'name', 'store_failures', 'where'];
/** `{{config ...}}` keys a singular test may set. */
const SINGULAR_CONFIG_KEYS = ['severity', 'warn_if', 'error_if', 'store_failures'];

/** A generic test whose name was generated (so it may get a suffix if two collide). */
interface Draft {
  readonly test: GenericTest;
  readonly explicitName: boolean;
}

export function collectTests(manifest: Manifest): QualityTest[] {
  const drafts: Draft[] = [];
  for (const model of manifest.models.values()) {
    const file = model.yamlPath ?? model.path;
    for (const column of model.columns) for (const spec of column.tests ?? []) drafts.push(genericTest(manifest, { kind: 'model', name: model.name }, spec, file));
    for (const spec of model.tests) drafts.push(genericTest(manifest, { kind: 'model', name: model.name }, spec, file));
  }
  for (const source of manifest.sources.values()) {
    for (const spec of source.tests ?? []) drafts.push(genericTest(manifest, { kind: 'source', name: source.name }, spec, source.path));
  }
  const generic = withUniqueNames(manifest, drafts);
  const singular = [...manifest.tests.values()].map((t) => singularTest(manifest, t));
  const byName = new Map<string, QualityTest>();
  for (const test of [...generic, ...singular]) {
    const other = byName.get(test.name);
    if (other) throw projectError(test.path, `two tests are named '${test.name}' (the other in ${other.path}): give one a 'name:'`);
    byName.set(test.name, test);
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * Every generic test of the project names a built-in or custom test: checked when the project loads, so
 * `tm compile` refuses `not_nul` (with a suggestion) rather than `tm test` alone.
 */
export function checkTestNames(manifest: Manifest): void {
  for (const model of manifest.models.values()) {
    const file = model.yamlPath ?? model.path;
    for (const spec of [...model.columns.flatMap((c) => c.tests ?? []), ...model.tests]) checkTestName(manifest, { kind: 'model', name: model.name }, spec, file);
  }
  for (const source of manifest.sources.values()) for (const spec of source.tests ?? []) checkTestName(manifest, { kind: 'source', name: source.name }, spec, source.path);
}

function checkTestName(manifest: Manifest, on: TestedNode, spec: TestSpec, file: string): void {
  if (genericTests[spec.name] || manifest.macros.some((m) => m.kind === 'partial' && m.name === `test_${spec.name}`)) return;
  const known = [...genericTestNames, ...manifest.macros.filter((m) => m.name.startsWith('test_')).map((m) => m.name.slice(5))];
  throw projectError(file, `${on.kind} '${on.name}': unknown test '${spec.name}'${didYouMean(closestName(spec.name, known))}; ` +
    `built-in tests are ${genericTestNames.join(', ')}, custom ones are templates in tests/generic/<name>.sql or macros/test_<name>.sql`, lineOfWord(manifest.projectDir, file, spec.name));
}

/** The first line of a project file that holds `word` as a whole word (best effort: errors only). */
function lineOfWord(projectDir: string, file: string, word: string): number | undefined {
  try {
    const lines = readFileSync(path.join(projectDir, file), 'utf8').split('\n');
    const at = lines.findIndex((l) => new RegExp(`(^|[^\\w])${word.replace(/\W/g, '')}([^\\w]|$)`).test(l));
    return at < 0 ? undefined : at + 1;
  } catch {
    return undefined;
  }
}

function genericTest(manifest: Manifest, on: TestedNode, spec: TestSpec, file: string): Draft {
  const where = `${on.kind} '${on.name}': test '${spec.name}'`;
  const node = on.kind === 'model' ? manifest.models.get(on.name)! : manifest.sources.get(on.name)!;
  checkTestName(manifest, on, spec, file);
  const definition = genericTests[spec.name];
  const custom = manifest.macros.find((m) => m.kind === 'partial' && m.name === `test_${spec.name}`);
  const config: Record<string, unknown> = {};
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(spec.args)) (CONFIG_KEYS.includes(key) ? config : args)[key] = value;
  const column = args.column;
  delete args.column;
  if (column !== undefined && (typeof column !== 'string' || column === '')) throw projectError(file, `${where}: 'column' must be a column name`);
  if (column !== undefined) checkColumn(node, column, file, where);
  if (definition) {
    const allowed = [...definition.args, 'column', ...CONFIG_KEYS];
    for (const key of Object.keys(args)) {
      if (!definition.args.includes(key)) throw projectError(file, `${where}: unknown argument '${key}'${didYouMean(closestName(key, allowed))} (it takes ${[...definition.args, 'column'].join(', ')} and ${CONFIG_KEYS.join(', ')})`);
    }
    if (definition.column === 'required' && column === undefined) throw projectError(file, `${where}: needs a column (declare it under a column, or give 'column:')`);
    if (spec.name === 'recency' && node.kind === 'model') withSlaDefault(args, node);
    const problem = definition.validate?.(args);
    if (problem) throw projectError(file, `${where}: ${problem}`);
    for (const read of definition.reads?.(args) ?? []) {
      const exists = read.kind === 'model' ? manifest.models.has(read.name) : manifest.sources.has(read.name);
      if (!exists) throw projectError(file, `${where}: '${read.name}' is not a ${read.kind}`);
    }
  }
  const reads = [on, ...(definition?.reads?.(args) ?? [])];
  const declared = custom ? analyzeTemplate(custom.text, custom.path).config : {};
  const explicitName = config.name !== undefined;
  const name = explicitName ? identifier(config.name, file, `${where}: name`) : generatedName(spec.name, on, column as string | undefined, definition?.nameParts?.(args, column as string | undefined) ?? []);
  return {
    explicitName,
    test: {
      kind: 'generic',
      uniqueId: `test.${manifest.projectName}.${name}`,
      name,
      path: file,
      testName: spec.name,
      on,
      column: column as string | undefined,
      args,
      where: optionalText(config.where, file, `${where}: where`),
      refs: unique(reads.filter((r) => r.kind === 'model').map((r) => r.name)),
      sources: unique(reads.filter((r) => r.kind === 'source').map((r) => r.name)),
      ...testConfig({ ...declared, ...config }, file, where),
    },
  };
}

function singularTest(manifest: Manifest, node: SingularTestNode): SingularTest {
  const declared = analyzeTemplate(node.rawSql, node.path).config;
  for (const key of Object.keys(declared)) {
    if (!SINGULAR_CONFIG_KEYS.includes(key)) throw projectError(node.path, `{{config ${key}=...}}: unknown key${didYouMean(closestName(key, SINGULAR_CONFIG_KEYS))} (a test takes ${SINGULAR_CONFIG_KEYS.join(', ')})`);
  }
  return {
    kind: 'singular',
    uniqueId: node.uniqueId,
    name: node.name,
    path: node.path,
    rawSql: node.rawSql,
    refs: node.refs,
    sources: node.sources,
    ...testConfig({ ...declared, severity: node.severity }, node.path, `test '${node.name}'`),
  };
}

function testConfig(config: Readonly<Record<string, unknown>>, file: string, where: string): { severity: Severity; warnIf: Threshold; errorIf: Threshold; storeFailures: boolean } {
  const severity = config.severity ?? 'error';
  if (severity !== 'warn' && severity !== 'error') throw projectError(file, `${where}: severity must be 'warn' or 'error'`);
  const threshold = (key: string): Threshold => {
    const value = config[key];
    if (value === undefined) return ANY_FAILURE;
    const parsed = parseThreshold(String(value));
    if (!parsed) throw projectError(file, `${where}: ${key} '${String(value)}' must compare the failing-row count with a whole number, e.g. ">10" or "!=0"`);
    return parsed;
  };
  const store = config.store_failures ?? false;
  if (typeof store !== 'boolean') throw projectError(file, `${where}: store_failures must be true or false`);
  return { severity, warnIf: threshold('warn_if'), errorIf: threshold('error_if'), storeFailures: store };
}

/** `recency` without an age uses the model's freshness SLA. */
function withSlaDefault(args: Record<string, unknown>, model: ModelNode): void {
  const given = ['minutes', 'hours', 'days'].some((k) => args[k] !== undefined);
  if (!given && model.config.sla_minutes !== undefined) args.minutes = model.config.sla_minutes;
}

function checkColumn(node: ModelNode | SourceNode, column: string, file: string, where: string): void {
  const names = node.columns.map((c) => c.name);
  if (names.length && !names.includes(column)) throw projectError(file, `${where}: '${column}' is not a column of ${node.name}${didYouMean(closestName(column, names))}`);
}

function generatedName(testName: string, on: TestedNode, column: string | undefined, extra: readonly string[]): string {
  return sanitize([testName, on.name, column, ...extra].filter((p) => p !== undefined && p !== '').join('_'));
}

/** Generated names that collide (two expressions on one model) get a short hash of what differs. */
function withUniqueNames(manifest: Manifest, drafts: readonly Draft[]): GenericTest[] {
  const count = new Map<string, number>();
  for (const d of drafts) count.set(d.test.name, (count.get(d.test.name) ?? 0) + 1);
  return drafts.map(({ test, explicitName }) => {
    if (explicitName || count.get(test.name)! < 2) return test;
    const hash = createHash('sha1').update(JSON.stringify([test.on, test.column, test.testName, test.args, test.where])).digest('hex').slice(0, 7);
    const name = `${test.name}_${hash}`;
    return { ...test, name, uniqueId: `test.${manifest.projectName}.${name}` };
  });
}

function identifier(value: unknown, file: string, where: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw projectError(file, `${where} must be a plain identifier (letters, digits, _)`);
  return value;
}

function optionalText(value: unknown, file: string, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw projectError(file, `${where} must be a SQL condition`);
  return value;
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** The manifest with generic tests added as test nodes, so selection (`--select`, graph operators) sees them. */
export function manifestWithTests(manifest: Manifest, tests: readonly QualityTest[]): Manifest {
  const nodes = new Map(manifest.tests);
  for (const t of tests) {
    if (t.kind !== 'generic') continue;
    nodes.set(t.name, { kind: 'test', uniqueId: t.uniqueId, name: t.name, path: t.path, rawSql: '', refs: t.refs, sources: t.sources, severity: t.severity });
  }
  return { ...manifest, tests: nodes };
}

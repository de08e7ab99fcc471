import { parseFreshness } from './load-freshness.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { projectError, TmError } from '../core/errors.js';
import type { SourceColumn, SourceNode, SourceRule, TestSpec } from '../manifest/types.js';
import { renderEnvTemplate } from './env-template.js';
import { stateDirOf } from './state-dir.js';
import { parseTestList } from './test-specs.js';
import { checkYamlShape, expectArray, expectObj, expectString, isObj, optionalString, readYamlFile, stringList } from './yaml-file.js';
import { PROJECT_SHAPES } from './yaml-shapes.js';

export interface ProjectConfig {
  readonly name: string;
  readonly projectDir: string;
  readonly modelPaths: readonly string[];
  readonly macroPaths: readonly string[];
  readonly testPaths: readonly string[];
  /** Folder for compiled SQL and artifacts, relative to the project. */
  readonly targetPath: string;
  /** Declared defaults; `--vars` overrides them. */
  readonly vars: Readonly<Record<string, unknown>>;
  /** Env vars models may read with `{{env}}` (`env_allowed:`); profiles and source locations read any. */
  readonly envAllowed: readonly string[];
  /** Env vars and vars whose values are never written to an artifact or printed (`secrets:`). */
  readonly secrets: readonly string[];
  readonly sources: readonly SourceNode[];
}

export async function loadProjectConfig(projectDir: string): Promise<ProjectConfig> {
  const file = path.join(projectDir, 'project.yml');
  if (!existsSync(file)) throw new TmError(`no project.yml in ${projectDir} (use --project-dir to point at a tm project)`);
  const display = 'project.yml';
  const raw = expectObj(await readYamlFile(file, display, stateDirOf(projectDir)), display, 'the file');
  await checkYamlShape(raw, PROJECT_SHAPES, file, display, stateDirOf(projectDir));
  const name = expectString(raw.name, display, 'name');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw projectError(display, `name '${name}' must be a plain identifier (letters, digits, _)`);
  const sources = Object.entries(expectObj(raw.sources, display, 'sources')).map(([sourceName, value]) =>
    parseSource(sourceName, value, display, name),
  );
  return {
    name,
    projectDir,
    modelPaths: listOr(raw['model-paths'], ['models'], display, 'model-paths'),
    macroPaths: listOr(raw['macro-paths'], ['macros'], display, 'macro-paths'),
    testPaths: listOr(raw['test-paths'], ['tests'], display, 'test-paths'),
    targetPath: optionalString(raw['target-path'], display, 'target-path') ?? 'target',
    vars: expectObj(raw.vars, display, 'vars'),
    envAllowed: stringList(raw.env_allowed, display, 'env_allowed'),
    secrets: stringList(raw.secrets, display, 'secrets'),
    sources,
  };
}

function listOr(v: unknown, fallback: string[], file: string, where: string): string[] {
  const list = stringList(v, file, where);
  return list.length ? list : fallback;
}

function parseSource(name: string, value: unknown, file: string, projectName: string): SourceNode {
  const where = `sources.${name}`;
  const o = expectObj(value, file, where);
  const locationTemplate = expectString(o.location, file, `${where}.location`);
  const rendered = renderEnvTemplate(locationTemplate);
  if (rendered.missing.length) {
    throw projectError(file, `${where}.location needs env var ${rendered.missing.join(', ')} (or give it a default)`);
  }
  const format = optionalString(o.format, file, `${where}.format`) ?? 'parquet';
  if (format !== 'parquet') throw projectError(file, `${where}.format: only 'parquet' is supported, got '${format}'`);
  const columns: SourceColumn[] = expectArray(o.columns, file, `${where}.columns`).map((c, i) => {
    const col = expectObj(c, file, `${where}.columns[${i}]`);
    return {
      name: expectString(col.name, file, `${where}.columns[${i}].name`),
      type: (optionalString(col.type, file, `${where}.columns[${i}].type`) ?? 'VARCHAR').toUpperCase(),
      required: col.required !== false,
      description: optionalString(col.description, file, `${where}.columns[${i}].description`),
    };
  });
  const rules: SourceRule[] = expectArray(o.rules, file, `${where}.rules`).map((r, i) => {
    const rule = expectObj(r, file, `${where}.rules[${i}]`);
    return { name: expectString(rule.name, file, `${where}.rules[${i}].name`), check: expectString(rule.check, file, `${where}.rules[${i}].check`) };
  });
  let dedup: SourceNode['dedup'];
  if (o.dedup !== undefined) {
    const d = expectObj(o.dedup, file, `${where}.dedup`);
    dedup = { key: expectString(d.key, file, `${where}.dedup.key`), order: expectString(d.order, file, `${where}.dedup.order`) };
  }
  const columnTests: TestSpec[] = [];
  for (const c of expectArray(o.columns, file, `${where}.columns`)) {
    if (isObj(c) && c.tests !== undefined) columnTests.push(...parseTestList(c.tests, file, `${where}.columns.${String(c.name)}.tests`, String(c.name)));
  }
  return {
    kind: 'source',
    uniqueId: `source.${projectName}.${name}`,
    name,
    description: optionalString(o.description, file, `${where}.description`) ?? '',
    location: rendered.value,
    format: 'parquet',
    hivePartitioning: o.hive_partitioning !== false,
    columns,
    rules,
    dedup,
    datePartition: optionalString(o.date_partition, file, `${where}.date_partition`),
    clockColumn: optionalString(o.clock_column, file, `${where}.clock_column`),
    quarantine: o.quarantine === true,
    freshness: parseFreshness(o.freshness, file, `${where}.freshness`),
    tests: [...parseTestList(o.tests, file, `${where}.tests`), ...columnTests],
    path: file,
  };
}

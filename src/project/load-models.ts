import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isTypeError, parsePgType } from '../manifest/pg-type.js';
import { analyzeTemplate, type TemplateDeclarations } from '../compile/static-analysis.js';
import { projectError } from '../core/errors.js';
import type { ColumnSpec, ComputeEngine, IndexSpec, Materialization, ModelConfig, ModelNode, RetentionSpec, TestSpec, UnitTestSpec } from '../manifest/types.js';
import type { ProjectConfig } from './load-project.js';
import { parseKindConfig, type ConfigOrigin } from './model-kinds.js';
import { stateDirOf } from './state-dir.js';
import { parseTestList } from './test-specs.js';
import { parseUnitTests } from './unit-test-specs.js';
import { listFiles, projectRelative } from './walk.js';
import { closestName, didYouMean } from '../core/suggest.js';
import { checkShape, problemMessage } from './yaml-shape.js';
import { ENGINE_NAMES } from '../engines/compute/traits.js';
import { MATERIALIZATIONS, MODEL_CONFIG_SHAPE, MODEL_SHAPES } from './yaml-shapes.js';
import { parseFreshness } from './load-freshness.js';
import { checkYamlShape, expectArray, expectObj, expectString, lineOfPath, loadYaml, memoByContent, optionalNumber, optionalString, parseYamlText, readLocatedYamlFile, readYamlFile, stringList, type Obj } from './yaml-file.js';

/** A model's YAML entry, before it meets its SQL file. */
interface ModelYaml {
  readonly file: string;
  /** Its place in the file, for errors: `['models', i]`. */
  readonly keyPath: readonly (string | number)[];
  readonly description: string;
  readonly config: Obj;
  readonly columns: ColumnSpec[];
  readonly primaryKey: string[];
  readonly indexes: IndexSpec[];
  readonly tests: TestSpec[];
  readonly unitTests: UnitTestSpec[];
}

/** Models of the project; `vars` (project vars with --vars applied) render templated kind settings. */
export async function loadModels(project: ProjectConfig, vars: Readonly<Record<string, unknown>>): Promise<ModelNode[]> {
  const yamlByName = new Map<string, ModelYaml>();
  const sqlFiles: { file: string; root: string }[] = [];
  for (const modelPath of project.modelPaths) {
    const root = path.join(project.projectDir, modelPath);
    for (const file of await listFiles(root, ['.yml', '.yaml'])) {
      const display = projectRelative(project.projectDir, file);
      const doc = expectObj(await readYamlFile(file, display, stateDirOf(project.projectDir)), display, 'the file');
      await checkYamlShape(doc, MODEL_SHAPES, file, display, stateDirOf(project.projectDir));
      await checkContractTypes(doc, file, display, stateDirOf(project.projectDir));
      for (const [i, entry] of expectArray(doc.models, display, 'models').entries()) {
        const parsed = parseModelYaml(entry, display, ['models', i]);
        if (yamlByName.has(parsed.name)) {
          throw projectError(display, `model '${parsed.name}' is declared twice (also in ${yamlByName.get(parsed.name)!.file})`);
        }
        yamlByName.set(parsed.name, parsed.yaml);
      }
    }
    for (const file of await listFiles(root, ['.sql'])) sqlFiles.push({ file, root });
  }
  await checkEveryEntryHasSql(project.projectDir, yamlByName, sqlFiles.map((f) => path.basename(f.file, '.sql')));
  const models: ModelNode[] = [];
  const seen = new Map<string, string>();
  for (const { file, root } of sqlFiles) {
    const display = projectRelative(project.projectDir, file);
    const name = path.basename(file, '.sql');
    if (seen.has(name)) throw projectError(display, `model name '${name}' is used twice (also ${seen.get(name)})`);
    seen.set(name, display);
    const text = await readFile(file, 'utf8');
    const front = FRONT_MATTER.exec(text);
    const parsedFront = front ? expectObj(parseYamlText(front[1], display, 1, await loadYaml()), display, 'front matter') : {};
    const { body, bodyLine } = splitFrontMatter(text);
    const declared = await memoByContent(stateDirOf(project.projectDir), `template:${display}:${bodyLine}`, body, () => analyzeTemplate(body, display, bodyLine - 1));
    checkConfigInSql(parsedFront, text, display, (key) => new RegExp(`^[ \\t]*${key}[ \\t]*:`, 'm'), 'front matter: ');
    checkConfigInSql(declared.config, text, display, (key) => new RegExp(`\\b${key}\\s*=`), '{{config}}: ');
    models.push(buildModel(project, vars, name, display, path.relative(root, path.dirname(file)), { body, bodyLine, declared }, parsedFront, yamlByName.get(name)));
    yamlByName.delete(name);
  }
  return models;
}

/** Contract types are parsed with PostgreSQL's grammar at load, so `INTEGR` is an error at its line. */
async function checkContractTypes(doc: Obj, file: string, display: string, cacheDir: string): Promise<void> {
  for (const [i, entry] of ((doc.models ?? []) as Obj[]).entries()) {
    for (const [j, column] of ((entry.columns ?? []) as Obj[]).entries()) {
      const parsed = parsePgType(String(column.type));
      if (!isTypeError(parsed)) continue;
      const located = await readLocatedYamlFile(file, display, cacheDir);
      throw projectError(display, `model '${String(entry.name)}', column '${String(column.name)}': ${parsed.error}`, lineOfPath(located, ['models', i, 'columns', j, 'type']));
    }
  }
}

/** A YAML entry whose name matches no SQL file is a typo more often than not: say so, at its line. */
async function checkEveryEntryHasSql(projectDir: string, yamlByName: ReadonlyMap<string, ModelYaml>, sqlNames: readonly string[]): Promise<void> {
  const names = new Set(sqlNames);
  for (const [name, yaml] of yamlByName) {
    if (names.has(name)) continue;
    const suggestion = closestName(name, sqlNames.filter((n) => !yamlByName.has(n)));
    const located = await readLocatedYamlFile(path.join(projectDir, yaml.file), yaml.file, stateDirOf(projectDir));
    throw projectError(yaml.file, `models entry '${name}' matches no model: there is no ${name}.sql${didYouMean(suggestion)}`, lineOfPath(located, [...yaml.keyPath, 'name']));
  }
}

/** Config written in a model's SQL (front matter, `{{config}}`) is checked as the YAML's is, at its line. */
function checkConfigInSql(config: Obj, text: string, file: string, keyPattern: (key: string) => RegExp, where: string): void {
  const problem = checkShape(config, MODEL_SHAPES, MODEL_CONFIG_SHAPE);
  if (!problem) return;
  const key = String(problem.keyPath[0] ?? '');
  const at = key ? keyPattern(key.replace(/[^\w-]/g, '')).exec(text) : null;
  const line = at ? text.slice(0, at.index).split('\n').length : undefined;
  throw projectError(file, `${where}${problemMessage(config, problem)}`, line);
}

function parseModelYaml(entry: unknown, file: string, keyPath: readonly (string | number)[]): { name: string; yaml: ModelYaml } {
  const where = `models[${String(keyPath[1])}]`;
  const o = expectObj(entry, file, where);
  const name = expectString(o.name, file, `${where}.name`);
  const w = `model '${name}'`;
  const columns: ColumnSpec[] = expectArray(o.columns, file, `${w}: columns`).map((c, i) => {
    const col = expectObj(c, file, `${w}: columns[${i}]`);
    const colName = expectString(col.name, file, `${w}: columns[${i}].name`);
    return {
      name: colName,
      type: expectString(col.type, file, `${w}: column '${colName}' type`),
      description: optionalString(col.description, file, `${w}: column '${colName}' description`),
      tests: parseTestList(col.tests, file, `${w}: column '${colName}' tests`, colName),
    };
  });
  const indexes: IndexSpec[] = expectArray(o.indexes, file, `${w}: indexes`).map((ix, i) => {
    if (typeof ix === 'string' || Array.isArray(ix)) return { columns: stringList(ix, file, `${w}: indexes[${i}]`) };
    const io = expectObj(ix, file, `${w}: indexes[${i}]`);
    return { columns: stringList(io.columns, file, `${w}: indexes[${i}].columns`), unique: io.unique === true };
  });
  return {
    name,
    yaml: {
      file,
      keyPath,
      description: optionalString(o.description, file, `${w}: description`) ?? '',
      config: expectObj(o.config, file, `${w}: config`),
      columns,
      primaryKey: stringList(o.primary_key, file, `${w}: primary_key`),
      indexes,
      tests: parseTestList(o.tests, file, `${w}: tests`),
      unitTests: parseUnitTests(o.unit_tests, file, name),
    },
  };
}

/** A leading `---` YAML block (front matter) of a model's SQL. */
const FRONT_MATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(\r?\n|$)/;

/** Splits the front matter from the SQL; returns the body and the line where it starts. */
function splitFrontMatter(text: string): { body: string; bodyLine: number } {
  const m = FRONT_MATTER.exec(text);
  if (!m) return { body: text, bodyLine: 1 };
  const bodyLine = m[0].split('\n').length - (m[0].endsWith('\n') ? 1 : 0) + 1;
  return { body: text.slice(m[0].length), bodyLine };
}

/** A model's SQL without its front matter, and what its template declares. */
interface ModelSql {
  readonly body: string;
  readonly bodyLine: number;
  readonly declared: TemplateDeclarations;
}

function buildModel(project: ProjectConfig, vars: Readonly<Record<string, unknown>>, name: string, file: string, folder: string, sql: ModelSql, front: Obj, yaml: ModelYaml | undefined): ModelNode {
  const { body, bodyLine, declared } = sql;
  const merged: Obj = { ...(yaml?.config ?? {}), ...front, ...declared.config };
  const config = parseConfig(merged, { projectDir: project.projectDir, file: yaml?.file ?? file, model: name }, vars);
  const columns = yaml?.columns ?? [];
  const columnNames = new Set(columns.map((c) => c.name));
  const primaryKey = yaml?.primaryKey ?? [];
  for (const key of [...primaryKey, ...(yaml?.indexes ?? []).flatMap((ix) => ix.columns), ...(config.unique_key ?? [])]) {
    if (columns.length && !columnNames.has(key)) {
      throw projectError(yaml?.file ?? file, `model '${name}': key or index column '${key}' is not among its columns`);
    }
  }
  if (config.materialized !== 'temp' && columns.length === 0) {
    throw projectError(yaml?.file ?? file, `model '${name}' (${config.materialized}) needs declared columns with types in its YAML: tm creates its table from them`);
  }
  if ((config.materialized === 'upsert' || config.materialized === 'append') && !(config.unique_key?.length || primaryKey.length)) {
    throw projectError(yaml?.file ?? file, `model '${name}' (${config.materialized}) needs a unique_key or primary_key`);
  }
  if (config.materialized === 'snapshot' && !config.snapshot_key) {
    throw projectError(yaml?.file ?? file, `model '${name}' (snapshot) needs config snapshot_key: the column that identifies one snapshot`);
  }
  return {
    kind: 'model',
    uniqueId: `model.${project.name}.${name}`,
    name,
    path: file,
    folders: folder ? folder.split(path.sep) : [],
    description: yaml?.description ?? '',
    rawSql: body,
    bodyLine,
    config,
    columns,
    primaryKey,
    indexes: yaml?.indexes ?? [],
    tests: yaml?.tests ?? [],
    refs: declared.refs,
    sources: declared.sources,
    values: declared.values,
    yamlPath: yaml?.file,
    ...(yaml?.unitTests.length ? { unitTests: yaml.unitTests } : {}),
  };
}

function parseConfig(o: Obj, origin: ConfigOrigin, vars: Readonly<Record<string, unknown>>): ModelConfig {
  const { file, model } = origin;
  const w = `model '${model}': config`;
  const materialized = (optionalString(o.materialized, file, `${w}.materialized`) ?? 'replace') as Materialization;
  if (!(MATERIALIZATIONS as readonly string[]).includes(materialized)) {
    throw projectError(file, `${w}.materialized '${materialized}' is not one of ${MATERIALIZATIONS.join(', ')}${didYouMean(closestName(materialized, MATERIALIZATIONS))}`);
  }
  const engine = (optionalString(o.engine, file, `${w}.engine`) ?? 'duckdb') as ComputeEngine;
  if (!(ENGINE_NAMES as readonly string[]).includes(engine)) throw projectError(file, `${w}.engine '${engine}' is not one of ${ENGINE_NAMES.join(', ')}`);
  let retention: RetentionSpec | undefined;
  if (o.retention !== undefined) {
    const r = expectObj(o.retention, file, `${w}.retention`);
    retention = { column: expectString(r.column, file, `${w}.retention.column`), keep_after: expectString(r.keep_after, file, `${w}.retention.keep_after`) };
  }
  const uniqueKey = stringList(o.unique_key, file, `${w}.unique_key`);
  // Every key is known (checked against MODEL_CONFIG_SHAPE); free values for templates live under meta,
  // and {{config "x"}} reads meta's x.
  const extra: Obj = { ...((o.meta ?? {}) as Obj) };
  return {
    materialized,
    kind: parseKindConfig(materialized, o, vars, origin),
    engine,
    tags: stringList(o.tags, file, `${w}.tags`),
    unique_key: uniqueKey.length ? uniqueKey : undefined,
    snapshot_key: optionalString(o.snapshot_key, file, `${w}.snapshot_key`),
    retention,
    sla_minutes: optionalNumber(o.sla_minutes, file, `${w}.sla_minutes`),
    freshness: parseFreshness(o.freshness, file, `${w}.freshness`),
    extra,
  };
}

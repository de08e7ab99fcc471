/**
 * `tm check`: every model rendered and bound in DuckDB against empty relations made from contracts (its
 * sources' declared columns, its refs' contracts, its own contract for `{{this_rows}}`), without a target or
 * a file. DuckDB's `DESCRIBE` of the query binds it: unknown columns, functions and relations fail with the
 * binder's message, placed back in the template (format-engine-error.ts); the described columns are then
 * compared with the model's own contract (names, and type families a lossless cast cannot bridge).
 */
import path from 'node:path';
import { errorMessage, TmError } from '../core/errors.js';
import { quoteIdent } from '../core/sql-quote.js';
import { closestName } from '../core/suggest.js';
import { lineInYamlEntry } from '../core/yaml-entry-line.js';
import { enforceContract } from '../engines/compute/contract.js';
import { duckDbTraits, traitsOf } from '../engines/compute/traits.js';
import type { DescribedColumn, SqlSession } from '../engines/compute/types.js';
import { incrementalConfigOf } from '../manifest/kind-facts.js';
import { isTypeError, parsePgType, type TypeFamily } from '../manifest/pg-type.js';
import type { Manifest, ModelNode } from '../manifest/types.js';
import { placeEngineError } from './format-engine-error.js';
import { renderModelSql } from './render-model.js';
import type { TemplateEnv } from './template-env.js';

export interface CheckProblem {
  /** Project-relative file the problem is in: the model's SQL, or its YAML for a contract problem. */
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
  /** A name the model probably meant (a misspelled column: DuckDB's nearest candidate binding). */
  readonly suggestion?: string;
  /** The template line with a caret, the engine's detail. */
  readonly context: readonly string[];
}

export interface ModelCheck {
  readonly model: string;
  readonly path: string;
  readonly status: 'ok' | 'error' | 'skipped';
  /** Why a model was skipped. */
  readonly reason?: string;
  readonly problems: readonly CheckProblem[];
  readonly ms: number;
}

export interface BindCheckInput {
  readonly session: SqlSession;
  readonly manifest: Manifest;
  readonly templates: TemplateEnv;
  /** The models to check, parents before children. */
  readonly models: readonly ModelNode[];
  /** Run values the templates render with (stand-ins: the check knows no stream clock). */
  readonly valuesOf: (model: ModelNode) => Readonly<Record<string, string>>;
  /** Writes the model's rendered SQL where compiled SQL goes; returns its project-relative path (errors name it). */
  readonly compiledPathOf: (model: ModelNode, sql: string) => Promise<string>;
  /** Relation a source renders as in DuckDB, and the `{{this_rows}}` table of a model. */
  readonly sourceRelation: (name: string) => string;
  readonly thisRowsTable: (model: ModelNode) => string;
}

const dialect = duckDbTraits.dialect;

function tableOf(columns: readonly { readonly name: string; readonly type: string }[], typeFor: (t: string) => string): string {
  return `(${columns.map((c) => `${quoteIdent(c.name)} ${typeFor(c.type)}`).join(', ')})`;
}

/** Creates the empty relations of every source, then binds each model in order; a model's contract stands for it downstream. */
export async function bindCheckModels(input: BindCheckInput): Promise<ModelCheck[]> {
  const { session, manifest, models } = input;
  for (const source of manifest.sources.values()) {
    if (source.columns.length) await session.run(`CREATE OR REPLACE TABLE ${input.sourceRelation(source.name)} ${tableOf(source.columns, (t) => t)}`);
  }
  const failed = new Set<string>();
  const results: ModelCheck[] = [];
  for (const model of models) {
    const started = performance.now();
    const done = (status: ModelCheck['status'], problems: readonly CheckProblem[], reason?: string) => {
      if (status !== 'ok') failed.add(model.name);
      results.push({ model: model.name, path: model.path, status, reason, problems, ms: Math.round(performance.now() - started) });
    };
    const blocked = model.refs.find((r) => failed.has(r) && !manifest.models.get(r)?.columns.length);
    if (blocked) {
      done('skipped', [], `upstream model '${blocked}' failed the check and has no contract to stand for it`);
      continue;
    }
    if (traitsOf(model.config.engine).store !== 'run') {
      done('skipped', [], `runs in ${traitsOf(model.config.engine).label}: bound there when it runs`);
      continue;
    }
    const problems = await checkModel(input, model);
    done(problems.length ? 'error' : 'ok', problems);
  }
  return results;
}

async function checkModel(input: BindCheckInput, model: ModelNode): Promise<CheckProblem[]> {
  const { session, manifest } = input;
  if (model.columns.length) await session.run(`CREATE OR REPLACE TABLE ${quoteIdent(input.thisRowsTable(model))} ${tableOf(model.columns, dialect.typeFor)}`);
  // An incremental model is bound in both branches of `{{#if is_incremental}}`: the first run and the next ones.
  const branches = incrementalConfigOf(model) ? [true, false] : [false];
  let described: DescribedColumn[] = [];
  let firstSql = '';
  for (const isIncremental of branches) {
    let sql: string;
    try {
      sql = renderModelSql(input.templates, { model, manifest, schema: 'main', isIncremental, values: input.valuesOf(model), sourceRelation: input.sourceRelation });
    } catch (err) {
      return [{ file: model.path, message: errorMessage(err), context: [] }];
    }
    if (sql === firstSql) continue;
    firstSql ||= sql;
    const compiledPath = await input.compiledPathOf(model, sql);
    try {
      // DESCRIBE on a line of its own: DuckDB's `LINE n:` snippet is then a line of the rendered SQL.
      const rows = await session.all<{ column_name: string; column_type: string }>(`DESCRIBE\n${sql}`);
      described = rows.map((r) => ({ name: r.column_name, type: r.column_type }));
    } catch (err) {
      const placed = placeEngineError(err, { file: model.path, rendered: sql, body: model.rawSql, bodyLine: model.bodyLine, compiledPath });
      const branch = branches.length > 1 ? [`(rendered with is_incremental ${isIncremental})`] : [];
      return [{ file: placed.file, line: placed.line, column: placed.column, message: placed.message, suggestion: suggestionIn(placed.message), context: [...branch, ...placed.context] }];
    }
  }
  // The model's relation for its children: its contract when it has one, else its own (empty) query.
  if (model.columns.length) await session.run(`CREATE OR REPLACE TABLE ${quoteIdent(model.name)} ${tableOf(model.columns, dialect.typeFor)}`);
  else await session.run(`CREATE OR REPLACE VIEW ${quoteIdent(model.name)} AS ${firstSql}`);
  return model.columns.length ? contractProblems(model, described, manifest.projectDir) : [];
}

/** DuckDB's first candidate for an unknown column (`Candidate bindings: "a", "b"`), or its `Did you mean "x"?`. */
function suggestionIn(message: string): string | undefined {
  const unknown = /column "([^"]+)" not found/.exec(message)?.[1];
  const candidates = /Candidate bindings: (.*)/.exec(message)?.[1];
  if (unknown && candidates) {
    const names = [...candidates.matchAll(/"([^"]+)"/g)].map((m) => m[1].replace(/^.*\./, ''));
    return closestName(unknown, names) ?? names[0];
  }
  return /Did you mean "([^"]+)"/.exec(message)?.[1];
}

/** The described columns against the model's contract: names (exactly the declared ones) and type families. */
function contractProblems(model: ModelNode, described: readonly DescribedColumn[], projectDir: string): CheckProblem[] {
  const yamlFile = model.yamlPath ?? model.path;
  const lineOf = (column?: string) =>
    model.yamlPath ? lineInYamlEntry(path.join(projectDir, model.yamlPath), model.name, column ? new RegExp(`name:\\s*['"]?${column}['"]?\\s*[,}]?`) : /name:/) : undefined;
  try {
    enforceContract(model, 'SELECT 1', described, dialect);
  } catch (err) {
    if (!(err instanceof TmError)) throw err;
    const extra = described.map((d) => d.name).filter((n) => !model.columns.some((c) => c.name === n));
    const missing = model.columns.filter((c) => !described.some((d) => d.name === c.name));
    const suggestion = missing.length === 1 && extra.length === 1 ? extra[0] : undefined;
    return [{ file: yamlFile, line: lineOf(missing[0]?.name), message: err.message, suggestion, context: [] }];
  }
  return model.columns.flatMap((c) => {
    const modelType = described.find((d) => d.name === c.name)?.type ?? '';
    const why = typeMismatch(modelType, c.type);
    if (!why) return [];
    const made = model.rawSql.split('\n').findIndex((l) => new RegExp(`\\bAS\\s+"?${c.name}"?\\b`, 'i').test(l));
    const context = made < 0 ? [] : [`made at ${model.path}:${made + model.bodyLine}: ${model.rawSql.split('\n')[made].trim()}`];
    return [{ file: yamlFile, line: lineOf(c.name), message: `model '${model.name}': column '${c.name}' is ${modelType} in the query, ${why} the contract's ${c.type}`, context }];
  });
}

/** A DuckDB result type's family, in PostgreSQL's terms (manifest/pg-type.ts). */
function duckFamily(duckType: string): TypeFamily {
  const t = duckType.trim().toUpperCase();
  if (/^(U?TINYINT|U?SMALLINT|U?INTEGER|U?BIGINT|U?HUGEINT)$/.test(t)) return 'integer';
  if (/^DECIMAL/.test(t)) return 'decimal';
  if (/^(FLOAT|DOUBLE|REAL)$/.test(t)) return 'float';
  if (/^VARCHAR/.test(t)) return 'text';
  if (t === 'BOOLEAN') return 'boolean';
  if (t === 'DATE') return 'date';
  if (/^TIMESTAMP WITH TIME ZONE$|^TIMESTAMPTZ$/.test(t)) return 'timestamptz';
  if (/^TIMESTAMP(_S|_MS|_NS)?$/.test(t)) return 'timestamp';
  if (/^TIME$/.test(t)) return 'time';
  return 'other';
}

/** The contract families each family of the query's column may be cast to; a NULL literal (`"NULL"`) goes anywhere. */
const CASTS_TO: Readonly<Record<TypeFamily, readonly TypeFamily[]>> = {
  integer: ['integer', 'decimal', 'float'],
  decimal: ['integer', 'decimal', 'float'],
  float: ['integer', 'decimal', 'float'],
  text: ['text'],
  boolean: ['boolean'],
  date: ['date', 'timestamp', 'timestamptz'],
  timestamp: ['timestamp', 'timestamptz', 'date'],
  timestamptz: ['timestamp', 'timestamptz', 'date'],
  time: ['time'],
  other: [],
};

/** Why a column of DuckDB type `modelType` cannot fill a contract column of `contractType`, or undefined when it can. */
export function typeMismatch(modelType: string, contractType: string): string | undefined {
  const parsed = parsePgType(contractType);
  const from = duckFamily(modelType);
  if (isTypeError(parsed) || parsed.array || parsed.family === 'other' || parsed.family === 'text' || from === 'other' || modelType === '"NULL"') return undefined;
  return CASTS_TO[from].includes(parsed.family) ? undefined : `which does not cast to`;
}

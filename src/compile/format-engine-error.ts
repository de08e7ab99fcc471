/**
 * An engine's error on a model's SQL, whole (DuckDB's `Candidate bindings`, PostgreSQL's detail and hint)
 * and placed at the line to fix: DuckDB's `LINE n:` of the rendered SQL is mapped back through the
 * Handlebars rendering to `models/x.sql:LINE:COL`, shown with the template line and a caret.
 */
import path from 'node:path';
import { errorMessage } from '../core/errors.js';
import { lineInYamlEntry } from '../core/yaml-entry-line.js';
import { pgContractViolation } from '../engines/compute/lossless-cast.js';
import { statementPositionOf } from '../engines/compute/types.js';
import { templatePositionOf } from './source-map.js';

export interface ModelSqlContext {
  /** The model's file, project-relative. */
  readonly file: string;
  /** The SQL as rendered (what the engine ran, maybe inside a wrapper). */
  readonly rendered: string;
  /** The template without its front matter, and the file line it starts at. */
  readonly body: string;
  readonly bodyLine: number;
  /** The compiled SQL's path, project-relative. */
  readonly compiledPath: string;
  /** The statement the engine ran, when it holds `rendered` inside a wrapper: PostgreSQL's `position` counts in it. */
  readonly statement?: string;
  /** The model's name and YAML file (project-relative, in `projectDir`): a contract error names its column's line. */
  readonly model?: { readonly name: string; readonly yamlPath?: string; readonly projectDir: string };
}

/** `LINE 4: <text>` and the caret line under it, as DuckDB prints them. */
const LINE_PATTERN = /\n*LINE (\d+): (.*)\n( *)\^ *$/;

/** An engine's error placed in the model's template: what `formatEngineError` prints, as data (`tm check --output json`). */
export interface PlacedEngineError {
  readonly file: string;
  /** 1-based line and column in the model's file, when the error could be placed. */
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
  /** Detail and hint lines, then the template line with a caret (or the engine's own `LINE n:` snippet). */
  readonly context: readonly string[];
  readonly compiledPath: string;
}

export function placeEngineError(err: unknown, ctx: ModelSqlContext): PlacedEngineError {
  const raw = pgContractViolation(err) ?? errorMessage(err).replace(/\s+$/, '');
  const extra = ['detail', 'hint'].flatMap((k) => {
    const v = (err as Record<string, unknown> | null)?.[k];
    return typeof v === 'string' && v ? [`${k === 'hint' ? 'Hint' : 'Detail'}: ${v}`] : [];
  });
  const m = LINE_PATTERN.exec(raw);
  const position = m ? renderedPosition(ctx.rendered, Number(m[1]), m[2], m[3].length - `LINE ${m[1]}: `.length) : positionOfPg(err, ctx);
  const where = position && templatePositionOf(ctx.rendered, position.line, position.column, ctx.body, ctx.bodyLine);
  const message = withContractLine((m ? raw.slice(0, m.index) : raw).trim(), ctx.model);
  if (!where) return { file: ctx.file, message, context: [...extra, ...(m ? [m[0].trim()] : [])], compiledPath: ctx.compiledPath };
  const gutter = String(where.line).length;
  const frame = [`  ${where.line} | ${where.text}`, `  ${' '.repeat(gutter)} | ${' '.repeat(where.column - 1)}^`];
  return { file: ctx.file, line: where.line, column: where.column, message, context: [...extra, ...frame], compiledPath: ctx.compiledPath };
}

export function formatEngineError(err: unknown, ctx: ModelSqlContext): string {
  const placed = placeEngineError(err, ctx);
  const at = placed.line === undefined ? placed.file : `${placed.file}:${placed.line}:${placed.column}`;
  return [`${at}: ${placed.message}`, ...placed.context, `(compiled SQL: ${placed.compiledPath})`].join('\n');
}

/** A lossless-cast error (contract-check.ts) names the line of its column in the model's YAML. */
function withContractLine(message: string, model: ModelSqlContext['model']): string {
  const m = /column '([^']+)': value /.exec(message);
  if (!m || !model?.yamlPath) return message;
  const line = lineInYamlEntry(path.join(model.projectDir, model.yamlPath), model.name, new RegExp(`name:\\s*['"]?${m[1]}['"]?\\s*[,}]?`));
  return line === undefined ? message : message.replace(m[0], `column '${m[1]}' (contract: ${model.yamlPath}:${line}): value `);
}

/** PostgreSQL's `position` as a line and column of the rendered SQL. */
function positionOfPg(err: unknown, ctx: ModelSqlContext): { line: number; column: number } | undefined {
  const position = statementPositionOf(err) ?? NaN;
  const statement = ctx.statement ?? ctx.rendered;
  const start = statement.indexOf(ctx.rendered);
  const at = position - 1 - start;
  if (!Number.isInteger(position) || start < 0 || at < 0 || at >= ctx.rendered.length) return undefined;
  const before = ctx.rendered.slice(0, at);
  return { line: before.split('\n').length, column: at - before.lastIndexOf('\n') };
}

/**
 * The rendered line and column DuckDB points at: its snippet (maybe cut with `...` on either side) is
 * looked up in the rendered SQL, nearest to its line number (the statement may wrap the model's SQL).
 */
function renderedPosition(rendered: string, line: number, snippet: string, caret: number): { line: number; column: number } | undefined {
  const cutStart = snippet.startsWith('...');
  const text = snippet.replace(/^\.\.\./, '').replace(/\.\.\.$/, '');
  if (!text.trim()) return undefined;
  const lines = rendered.split('\n');
  const candidates = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  const found = candidates.sort((a, b) => Math.abs(a - line) - Math.abs(b - line))[0];
  if (found === undefined) return undefined;
  const column = lines[found - 1].indexOf(text) + (caret - (cutStart ? 3 : 0)) + 1;
  return { line: found, column: Math.max(1, column) };
}

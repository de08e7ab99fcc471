/**
 * Loads `dashboards/**.yml` and checks every chart against the contracts of the models it reads,
 * so a wrong name is a load error naming the file and line, never a failure when Superset opens it.
 */
import path from 'node:path';
import {
  AGGREGATES, CHART_FORMS, FILTER_OPS, TIME_GRAINS,
  type Aggregate, type ChartForm, type ChartSpec, type DashboardNode, type Filter, type FilterOp, type FilterValue,
  type GridPlace, type Metric, type OrderBy, type RecentWindow, type TimeGrain,
} from '../manifest/dashboard-types.js';
import { isNumericType, isTimeType, typeOf } from '../manifest/column-types.js';
import { projectError, TmError } from '../core/errors.js';
import { closestName, didYouMean } from '../core/suggest.js';
import type { ModelNode } from '../manifest/types.js';
import { listFiles, projectRelative } from './walk.js';
import { stateDirOf } from './state-dir.js';
import { isObj, lineOfKey, lineOfPath, readLocatedYamlFile, type LocatedYaml } from './yaml-file.js';
import { checkShape, problemMessage } from './yaml-shape.js';
import { DASHBOARD_SHAPES } from './yaml-shapes.js';

/** Where dashboards live, relative to the project. */
export const DASHBOARD_PATH = 'dashboards';
const GRID_COLUMNS = 12;

/** Reads a YAML value and answers the line of any key path in it. */
interface Located {
  readonly value: unknown;
  readonly lineOf: (keyPath: readonly (string | number)[]) => number;
  readonly keyLineOf: (keyPath: readonly (string | number)[]) => number;
}

export async function loadDashboards(projectDir: string, projectName: string, models: ReadonlyMap<string, ModelNode>): Promise<DashboardNode[]> {
  const dashboards: DashboardNode[] = [];
  const seen = new Map<string, string>();
  for (const file of await listFiles(path.join(projectDir, DASHBOARD_PATH), ['.yml', '.yaml'])) {
    const display = projectRelative(projectDir, file);
    const located = locate(await readLocatedYamlFile(file, display, stateDirOf(projectDir)));
    const doc = located.value;
    if (!isObj(doc) || !Array.isArray(doc.dashboards)) throw projectError(display, `expected a 'dashboards:' list`, located.lineOf([]));
    const problem = checkShape(doc, DASHBOARD_SHAPES);
    if (problem) throw projectError(display, problemMessage(doc, problem), problem.atKey ? located.keyLineOf(problem.keyPath) : located.lineOf(problem.keyPath));
    for (const [i, entry] of doc.dashboards.entries()) {
      const dashboard = parseDashboard(entry, { file: display, lineOf: (p) => located.lineOf(['dashboards', i, ...p]) }, projectName, models);
      const other = seen.get(dashboard.name);
      if (other !== undefined) throw projectError(display, `dashboard '${dashboard.name}' is declared twice (also in ${other})`, dashboard.line);
      seen.set(dashboard.name, `${display}:${dashboard.line}`);
      dashboards.push(dashboard);
    }
  }
  return dashboards;
}

function locate(file: LocatedYaml): Located {
  return { value: file.value, lineOf: (keyPath) => lineOfPath(file, keyPath), keyLineOf: (keyPath) => lineOfKey(file, keyPath) };
}

/** Names the file, line, dashboard and chart of every problem. */
interface Where {
  readonly file: string;
  readonly lineOf: (keyPath: readonly (string | number)[]) => number;
}

function fail(where: Where, keyPath: readonly (string | number)[], what: string, message: string): TmError {
  return projectError(where.file, `${what}: ${message}`, where.lineOf(keyPath));
}

function parseDashboard(entry: unknown, where: Where, projectName: string, models: ReadonlyMap<string, ModelNode>): DashboardNode {
  if (!isObj(entry)) throw projectError(where.file, 'a dashboard must be a mapping', where.lineOf([]));
  const name = identifier(entry.name, where, ['name'], 'a dashboard');
  const what = `dashboard '${name}'`;
  if (!Array.isArray(entry.charts) || entry.charts.length === 0) throw fail(where, ['charts'], what, `'charts' must be a non-empty list`);
  const charts = entry.charts.map((c, i) => parseChart(c, { file: where.file, lineOf: (p) => where.lineOf(['charts', i, ...p]) }, name, models));
  const names = new Set<string>();
  for (const chart of charts) {
    if (names.has(chart.name)) throw projectError(where.file, `${what}, chart '${chart.name}': the name is used twice in the dashboard`, chart.line);
    names.add(chart.name);
  }
  checkRowWidths(charts, where, what);
  const refresh = entry.refresh_seconds ?? 0;
  if (typeof refresh !== 'number' || !Number.isInteger(refresh) || refresh < 0) throw fail(where, ['refresh_seconds'], what, `refresh_seconds must be a whole number >= 0`);
  return {
    kind: 'dashboard',
    uniqueId: `dashboard.${projectName}.${name}`,
    name,
    title: optionalText(entry.title, where, ['title'], what) ?? name,
    description: optionalText(entry.description, where, ['description'], what) ?? '',
    path: where.file,
    line: where.lineOf([]),
    refreshSeconds: refresh,
    charts,
    refs: [...new Set(charts.map((c) => c.model))].sort(),
  };
}

function checkRowWidths(charts: readonly ChartSpec[], where: Where, what: string): void {
  const widths = new Map<number, number>();
  for (const chart of charts) {
    const width = (widths.get(chart.place.row) ?? 0) + chart.place.width;
    widths.set(chart.place.row, width);
    if (width > GRID_COLUMNS) {
      throw projectError(where.file, `${what}, chart '${chart.name}': row ${chart.place.row} is ${width} columns wide, more than the grid's ${GRID_COLUMNS}`, chart.line);
    }
  }
}

function parseChart(entry: unknown, where: Where, dashboard: string, models: ReadonlyMap<string, ModelNode>): ChartSpec {
  if (!isObj(entry)) throw projectError(where.file, `dashboard '${dashboard}': a chart must be a mapping`, where.lineOf([]));
  const name = identifier(entry.name, where, ['name'], `dashboard '${dashboard}': a chart`);
  const what = `dashboard '${dashboard}', chart '${name}'`;

  const modelName = text(entry.model, where, ['model'], what, 'model');
  const model = models.get(modelName);
  if (model === undefined) throw fail(where, ['model'], what, `model '${modelName}' is not a model of the project${didYouMean(closestName(modelName, models.keys()))}`);
  if (model.columns.length === 0) throw fail(where, ['model'], what, `model '${modelName}' declares no columns in its contract, so its charts cannot be checked`);
  const form = oneOf(entry.form, CHART_FORMS, where, ['form'], what, 'form') as ChartForm;
  const column = (value: unknown, keyPath: readonly (string | number)[]): string => contractColumn(value, model, where, keyPath, what);
  const optionalColumn = (key: string): string | undefined => (entry[key] === undefined ? undefined : column(entry[key], [key]));
  const columnList = (key: string): string[] => list(entry[key], where, [key], what).map((c, i) => column(c, [key, i]));

  const x = optionalColumn('x');
  const timeGrain = entry.time_grain === undefined ? undefined : (oneOf(entry.time_grain, TIME_GRAINS, where, ['time_grain'], what, 'time_grain') as TimeGrain);
  if (timeGrain !== undefined && (x === undefined || !isTimeType(typeOf(model, x)))) {
    throw fail(where, ['time_grain'], what, `time_grain needs x to be a DATE or TIMESTAMP column`);
  }
  const metrics = list(entry.metrics, where, ['metrics'], what).map((m, i) => parseMetric(m, model, where, ['metrics', i], what));
  const labels = new Set<string>();
  for (const [i, metric] of metrics.entries()) {
    if (labels.has(metric.label)) throw fail(where, ['metrics', i], what, `two metrics are labelled '${metric.label}' (give one a label)`);
    labels.add(metric.label);
  }
  const chart: ChartSpec = {
    name,
    title: optionalText(entry.title, where, ['title'], what) ?? name,
    description: optionalText(entry.description, where, ['description'], what) ?? '',
    model: modelName,
    form,
    x,
    timeGrain,
    y: optionalColumn('y'),
    column: optionalColumn('column'),
    bins: positiveInteger(entry.bins, where, ['bins'], what),
    columns: columnList('columns'),
    metrics,
    groupBy: columnList('group_by'),
    seriesLimit: positiveInteger(entry.series_limit, where, ['series_limit'], what),
    filters: list(entry.filters, where, ['filters'], what).map((f, i) => parseFilter(f, column, where, ['filters', i], what)),
    latest: optionalColumn('latest'),
    recent: entry.recent === undefined ? undefined : parseRecent(entry.recent, column, x, where, what),
    orderBy: list(entry.order_by, where, ['order_by'], what).map((o, i) => parseOrder(o, model, labels, x, where, ['order_by', i], what)),
    rowLimit: positiveInteger(entry.row_limit, where, ['row_limit'], what),
    place: parsePlace(entry.place, where, what),
    line: where.lineOf([]),
  };
  checkFormNeeds(chart, model, where, what);
  return chart;
}

/** What each form needs, so that a chart that cannot draw fails at load. */
function checkFormNeeds(chart: ChartSpec, model: ModelNode, where: Where, what: string): void {
  const need = (ok: boolean, key: string, message: string): void => {
    if (!ok) throw fail(where, [key], what, `a ${chart.form} chart ${message}`);
  };
  switch (chart.form) {
    case 'line':
    case 'bar':
    case 'area':
      need(chart.x !== undefined, 'x', 'needs x');
      need(chart.metrics.length > 0, 'metrics', 'needs metrics');
      break;
    case 'table':
      need(chart.metrics.length > 0 || chart.columns.length > 0, 'columns', 'needs columns (raw rows) or metrics (aggregated)');
      need(!(chart.metrics.length > 0 && chart.columns.length > 0), 'columns', 'takes columns (raw rows) or metrics with group_by, not both');
      break;
    case 'pie':
      need(chart.groupBy.length > 0, 'group_by', 'needs group_by');
      need(chart.metrics.length === 1, 'metrics', 'needs exactly one metric');
      break;
    case 'heatmap':
      need(chart.x !== undefined && chart.y !== undefined, 'x', 'needs x and y');
      need(chart.metrics.length === 1, 'metrics', 'needs exactly one metric');
      break;
    case 'histogram':
      need(chart.column !== undefined && isNumericType(typeOf(model, chart.column)), 'column', 'needs a numeric column');
      break;
    case 'box_plot':
      need(chart.column !== undefined && isNumericType(typeOf(model, chart.column)), 'column', 'needs a numeric column');
      need(chart.timeGrain === undefined, 'time_grain', 'groups by the plain x column (Superset\'s box plot has no time grain)');
      break;
    case 'big_number':
      need(chart.metrics.length === 1, 'metrics', 'needs exactly one metric');
      break;
  }
  if (chart.seriesLimit !== undefined) need(chart.groupBy.length > 0 && chart.metrics.length > 0, 'series_limit', 'with series_limit needs group_by and metrics');
}

const METRIC_PATTERN = /^\s*([a-z_]+)\s*\(\s*(\*|[A-Za-z_][A-Za-z0-9_]*)\s*\)\s*(?:as\s+([A-Za-z_][A-Za-z0-9_]*)\s*)?$/i;

/** `sum(col)`, `count(*)`, `count_distinct(col) as x`, or `{sql: ..., label: ...}` (checked when the chart first runs). */
function parseMetric(value: unknown, model: ModelNode, where: Where, keyPath: readonly (string | number)[], what: string): Metric {
  if (isObj(value)) {
    const sql = text(value.sql, where, [...keyPath, 'sql'], what, 'a SQL metric');
    const label = identifier(value.label, where, [...keyPath, 'label'], `${what}: a SQL metric`);
    return { kind: 'sql', sql, label };
  }
  const match = typeof value === 'string' ? METRIC_PATTERN.exec(value) : null;
  if (!match) throw fail(where, keyPath, what, `a metric is 'aggregate(column)' (${AGGREGATES.join(', ')}), 'count(*)', or {sql: ..., label: ...}`);
  const aggregate = match[1].toLowerCase();
  if (!(AGGREGATES as readonly string[]).includes(aggregate)) {
    throw fail(where, keyPath, what, `unknown aggregate '${match[1]}' (expected one of: ${AGGREGATES.join(', ')})${didYouMean(closestName(aggregate, AGGREGATES))}`);
  }
  if (match[2] === '*' && aggregate !== 'count') throw fail(where, keyPath, what, `only count takes '*'`);
  const column = match[2] === '*' ? null : contractColumn(match[2], model, where, keyPath, what);
  return { kind: 'aggregate', aggregate: aggregate as Aggregate, column, label: match[3] ?? (column === null ? 'count' : `${aggregate}_${column}`) };
}

function parseFilter(value: unknown, column: (v: unknown, k: readonly (string | number)[]) => string, where: Where, keyPath: readonly (string | number)[], what: string): Filter {
  if (!isObj(value)) throw fail(where, keyPath, what, `a filter is {column, op, value}`);
  const op = oneOf(typeof value.op === 'string' ? value.op.toLowerCase() : value.op, FILTER_OPS, where, [...keyPath, 'op'], what, 'filter op') as FilterOp;
  const name = column(value.column, [...keyPath, 'column']);
  const isScalar = (v: unknown): v is FilterValue => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (op === 'is null' || op === 'is not null') {
    if (value.value !== undefined) throw fail(where, [...keyPath, 'value'], what, `'${op}' takes no value`);
    return { column: name, op };
  }
  if (op === 'in' || op === 'not in') {
    if (!Array.isArray(value.value) || value.value.length === 0 || !value.value.every(isScalar)) throw fail(where, [...keyPath, 'value'], what, `'${op}' takes a non-empty list of values`);
    return { column: name, op, value: value.value };
  }
  if (!isScalar(value.value)) throw fail(where, [...keyPath, 'value'], what, `'${op}' takes one value (string, number or boolean)`);
  return { column: name, op, value: value.value };
}

function parseRecent(value: unknown, column: (v: unknown, k: readonly (string | number)[]) => string, x: string | undefined, where: Where, what: string): RecentWindow {
  if (!isObj(value)) throw fail(where, ['recent'], what, `recent is {last: '6 hours', column: <time column, default x>}`);
  const last = text(value.last, where, ['recent', 'last'], what, 'recent.last');
  if (!/^\d+\s+(minutes?|hours?|days?|weeks?|months?|years?)$/i.test(last)) throw fail(where, ['recent', 'last'], what, `recent.last must read like '6 hours' or '90 days'`);
  if (value.column === undefined && x === undefined) throw fail(where, ['recent'], what, `recent needs a column (or x)`);
  return { column: value.column === undefined ? (x as string) : column(value.column, ['recent', 'column']), last };
}

function parseOrder(value: unknown, model: ModelNode, labels: ReadonlySet<string>, x: string | undefined, where: Where, keyPath: readonly (string | number)[], what: string): OrderBy {
  const match = typeof value === 'string' ? /^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?\s*$/i.exec(value) : null;
  if (!match) throw fail(where, keyPath, what, `order_by takes 'name' or 'name desc'`);
  const by = match[1];
  if (!labels.has(by) && by !== x && !model.columns.some((c) => c.name === by)) {
    throw fail(where, keyPath, what, `order_by '${by}' is neither a metric label nor a column of '${model.name}'`);
  }
  return { by, descending: match[2]?.toLowerCase() === 'desc' };
}

function parsePlace(value: unknown, where: Where, what: string): GridPlace {
  if (!isObj(value)) throw fail(where, ['place'], what, `place is {row: N, width: 1..12, height: N}`);
  const row = positiveInteger(value.row, where, ['place', 'row'], what);
  const width = positiveInteger(value.width, where, ['place', 'width'], what);
  if (row === undefined || width === undefined) throw fail(where, ['place'], what, `place needs row and width`);
  if (width > GRID_COLUMNS) throw fail(where, ['place', 'width'], what, `width ${width} is more than the grid's ${GRID_COLUMNS} columns`);
  return { row, width, height: positiveInteger(value.height, where, ['place', 'height'], what) ?? 50 };
}

function contractColumn(value: unknown, model: ModelNode, where: Where, keyPath: readonly (string | number)[], what: string): string {
  const name = text(value, where, keyPath, what, keyPath.filter((k) => typeof k === 'string').join('.'));
  if (!model.columns.some((c) => c.name === name)) {
    const known = model.columns.map((c) => c.name);
    throw fail(where, keyPath, what, `column '${name}' is not in the contract of '${model.name}'${didYouMean(closestName(name, known))} (columns: ${known.join(', ')})`);
  }
  return name;
}


function identifier(value: unknown, where: Where, keyPath: readonly (string | number)[], what: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw fail(where, keyPath, what, `'name' must be a word of letters, digits and '_'`);
  return value;
}

function text(value: unknown, where: Where, keyPath: readonly (string | number)[], what: string, key: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw fail(where, keyPath, what, `${key} must be a non-empty string`);
  return value;
}

function optionalText(value: unknown, where: Where, keyPath: readonly (string | number)[], what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw fail(where, keyPath, what, `${String(keyPath[keyPath.length - 1])} must be a string`);
  return value.trim();
}

function list(value: unknown, where: Where, keyPath: readonly (string | number)[], what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw fail(where, keyPath, what, `${String(keyPath[keyPath.length - 1])} must be a list`);
  return value;
}

function oneOf(value: unknown, allowed: readonly string[], where: Where, keyPath: readonly (string | number)[], what: string, key: string): string {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    const suggestion = typeof value === 'string' ? didYouMean(closestName(value, allowed)) : '';
    throw fail(where, keyPath, what, `unknown ${key} '${String(value)}'${suggestion} (expected one of: ${allowed.join(', ')})`);
  }
  return value;
}

function positiveInteger(value: unknown, where: Where, keyPath: readonly (string | number)[], what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw fail(where, keyPath, what, `${String(keyPath[keyPath.length - 1])} must be a whole number >= 1`);
  return value;
}

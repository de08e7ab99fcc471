import type { FingerprintPart } from '../graph/state-selection.js';
import type { ChartSpec, DashboardNode } from '../manifest/dashboard-types.js';
import type { Manifest, ModelNode } from '../manifest/types.js';
import { contractOf, type StoredContract } from './model-fingerprint.js';

/**
 * How a modified model's change reaches its readers. Breaking: a column dropped, renamed or retyped,
 * or the primary key changed (readers and descendants must rebuild, charts may break). Non-breaking:
 * columns added, or only the body, config, vars or macros changed. Unknown: the other target stored
 * no contract for it (built before contracts were stored).
 */
export type ChangeCategory = 'new' | 'breaking' | 'non-breaking' | 'unknown';

export interface ChartImpact {
  readonly dashboard: string;
  readonly chart: string;
  /** The changed or dropped columns the chart reads. */
  readonly columns: readonly string[];
}

export interface ModelChange {
  readonly model: string;
  readonly category: ChangeCategory;
  readonly parts: readonly FingerprintPart[];
  /** What makes it breaking, or the columns added: `column peak_hour dropped`, `column n retyped integer -> bigint`. */
  readonly reasons: readonly string[];
  /** Charts that read a column dropped, renamed or retyped. */
  readonly charts: readonly ChartImpact[];
}

export function categorize(model: ModelNode, manifest: Manifest, parts: readonly FingerprintPart[] | undefined, stored: StoredContract | undefined): ModelChange {
  if (parts === undefined) return { model: model.name, category: 'new', parts: [], reasons: [], charts: [] };
  if (!stored) return { model: model.name, category: 'unknown', parts, reasons: ['no contract stored in the other target'], charts: [] };
  const now = contractOf(model);
  const before = new Map(stored.columns.map((c, i) => [c.name, { ...c, i }]));
  const after = new Map(now.columns.map((c, i) => [c.name, { ...c, i }]));
  const reasons: string[] = [];
  const touched: string[] = [];
  const added = now.columns.filter((c) => !before.has(c.name));
  for (const old of stored.columns) {
    const current = after.get(old.name);
    if (current) {
      if (current.type !== old.type) {
        reasons.push(`column ${old.name} retyped ${old.type} -> ${current.type}`);
        touched.push(old.name);
      }
      continue;
    }
    const index = before.get(old.name)!.i;
    const renamed = added.find((c) => after.get(c.name)!.i === index && c.type === old.type);
    reasons.push(renamed ? `column ${old.name} renamed to ${renamed.name}` : `column ${old.name} dropped`);
    touched.push(old.name);
  }
  if (stored.primaryKey.join(',') !== now.primaryKey.join(',')) reasons.push(`primary key (${stored.primaryKey.join(', ')}) -> (${now.primaryKey.join(', ')})`);
  const breaking = reasons.length > 0;
  const renamedTo = new Set(reasons.flatMap((r) => /renamed to (\S+)$/.exec(r)?.[1] ?? []));
  const additions = added.filter((c) => !renamedTo.has(c.name)).map((c) => `column ${c.name} added`);
  return {
    model: model.name,
    category: breaking ? 'breaking' : 'non-breaking',
    parts,
    reasons: [...reasons, ...additions],
    charts: chartsReading(manifest.dashboards.values(), model.name, touched),
  };
}

/** The charts of `model` that read any of `columns`, by dashboard and chart name. */
export function chartsReading(dashboards: Iterable<DashboardNode>, model: string, columns: readonly string[]): ChartImpact[] {
  if (!columns.length) return [];
  const out: ChartImpact[] = [];
  for (const dashboard of dashboards) {
    for (const chart of dashboard.charts) {
      if (chart.model !== model) continue;
      const read = columnsOf(chart);
      const hit = columns.filter((c) => read.has(c) || [...read].some((text) => text.includes(' ') && new RegExp(`\\b${c}\\b`).test(text)));
      if (hit.length) out.push({ dashboard: dashboard.name, chart: chart.name, columns: hit });
    }
  }
  return out;
}

/** Column names a chart reads, and its SQL metrics' text (searched for whole words). */
function columnsOf(chart: ChartSpec): Set<string> {
  const names = [chart.x, chart.y, chart.column, chart.latest, chart.recent?.column, ...chart.columns, ...chart.groupBy, ...chart.filters.map((f) => f.column), ...chart.orderBy.map((o) => o.by)];
  for (const metric of chart.metrics) names.push(metric.kind === 'aggregate' ? (metric.column ?? undefined) : ` ${metric.sql} `);
  return new Set(names.filter((n): n is string => n !== undefined));
}

/** `mart_x  breaking (body, contract)` and, indented, its reasons and the charts it breaks; `change` undefined: unchanged. */
export function changeLines(name: string, change: ModelChange | undefined, against: string): string[] {
  if (!change) return [`${name}  unchanged in this comparison`];
  if (change.category === 'new') return [`${name}  new: never built in ${against}`];
  return [
    `${name}  ${change.category} (${change.parts.join(', ')})`,
    ...change.reasons.map((reason) => `    ${reason}`),
    ...change.charts.map((chart) => `    breaks chart ${chart.chart} of dashboard ${chart.dashboard} (reads ${chart.columns.join(', ')})`),
  ];
}

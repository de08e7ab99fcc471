import { TmError } from '../core/errors.js';
import type { DiffCounts } from './diff-sql.js';

/** One model's relation here against the other target's, as `tm diff` reports it. */
export interface ModelDiff {
  readonly model: string;
  readonly here: { readonly target: string; readonly relation: string; readonly rows: number };
  readonly there: { readonly target: string; readonly relation: string; readonly rows: number };
  readonly key: readonly string[];
  readonly onlyHere: number;
  readonly onlyThere: number;
  readonly changed: number;
  /** Matched rows whose compared columns are all equal. */
  readonly identical: number;
  readonly columnsOnlyHere: readonly string[];
  readonly columnsOnlyThere: readonly string[];
  /** Compared columns with at least one changed value. */
  readonly columns: readonly ColumnDiff[];
  /** Partition-aware models: the days that differ. */
  readonly dayColumn?: string;
  readonly days?: readonly DayDiff[];
  readonly onlyHereKeys: readonly (readonly unknown[])[];
  readonly onlyThereKeys: readonly (readonly unknown[])[];
  readonly seconds: number;
}

export interface ColumnDiff {
  readonly column: string;
  readonly changed: number;
  readonly examples: readonly { readonly key: readonly unknown[]; readonly here: unknown; readonly there: unknown }[];
}

export interface DayDiff {
  readonly day: string;
  readonly onlyHere: number;
  readonly onlyThere: number;
  readonly changed: number;
}

export function modelDiffOf(base: Pick<ModelDiff, 'model' | 'here' | 'there' | 'key' | 'columnsOnlyHere' | 'columnsOnlyThere' | 'dayColumn' | 'seconds'>, compared: readonly string[], counts: DiffCounts): ModelDiff {
  const t = counts.totals;
  const columns = compared
    .map((column, i) => ({ column, changed: Number(t[`c${i}`] ?? 0), examples: counts.examples[`c${i}`] ?? [] }))
    .filter((c) => c.changed > 0);
  const days = counts.days?.map((d) => ({ day: d.day, onlyHere: Number(d.only_here), onlyThere: Number(d.only_there), changed: Number(d.changed) }));
  return {
    ...base,
    here: { ...base.here, rows: Number(counts.rows_here) },
    there: { ...base.there, rows: Number(counts.rows_there) },
    onlyHere: Number(t.only_here),
    onlyThere: Number(t.only_there),
    changed: Number(t.changed),
    identical: Number(counts.rows_there) - Number(t.only_there) - Number(t.changed),
    columns,
    ...(days ? { days } : {}),
    onlyHereKeys: counts.only_here_keys ?? [],
    onlyThereKeys: counts.only_there_keys ?? [],
  };
}

/** `--fail-if changed_rows>0.01`: a metric, `>` or `>=`, and a count, a fraction (below 1, with a point) or a percentage of the rows there. */
export interface FailIf {
  readonly text: string;
  readonly metric: FailMetric;
  readonly op: '>' | '>=';
  readonly count?: number;
  readonly fraction?: number;
}

export const FAIL_METRICS = ['changed_rows', 'only_here_rows', 'only_there_rows', 'diff_rows'] as const;
type FailMetric = (typeof FAIL_METRICS)[number];

export function parseFailIf(text: string): FailIf {
  const m = /^\s*([a-z_]+)\s*(>=|>)\s*(\d+(?:\.\d+)?)(%?)\s*$/.exec(text);
  const usage = `--fail-if '${text}': expected METRIC>VALUE or METRIC>=VALUE with METRIC one of ${FAIL_METRICS.join(', ')}, VALUE a count (100), a fraction of the rows compared with (0.01) or a percentage (1%)`;
  if (!m) throw new TmError(usage, 2);
  const [, metric, op, number, percent] = m;
  if (!(FAIL_METRICS as readonly string[]).includes(metric)) throw new TmError(usage, 2);
  const value = Number(number);
  const isFraction = percent === '%' || (number.includes('.') && value < 1);
  return { text: text.trim(), metric: metric as FailMetric, op: op as '>' | '>=', ...(isFraction ? { fraction: percent ? value / 100 : value } : { count: value }) };
}

/** The thresholds a diff crosses, as lines saying so. */
export function crossedThresholds(diff: ModelDiff, rules: readonly FailIf[]): string[] {
  const values: Record<FailMetric, number> = { changed_rows: diff.changed, only_here_rows: diff.onlyHere, only_there_rows: diff.onlyThere, diff_rows: diff.changed + diff.onlyHere + diff.onlyThere };
  const out: string[] = [];
  for (const rule of rules) {
    const value = values[rule.metric];
    const measured = rule.fraction !== undefined ? (diff.there.rows === 0 ? (value > 0 ? Infinity : 0) : value / diff.there.rows) : value;
    const limit = rule.fraction ?? rule.count!;
    if (rule.op === '>' ? measured > limit : measured >= limit) {
      const shown = rule.fraction !== undefined ? `${value} of ${diff.there.rows} rows (${percent(value, diff.there.rows)})` : String(value);
      out.push(`${diff.model}: ${rule.metric} = ${shown}: crosses --fail-if ${rule.text}`);
    }
  }
  return out;
}

function percent(n: number, of: number): string {
  return of === 0 ? '-' : `${((100 * n) / of).toFixed(2)}%`;
}

function value(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function keyText(key: readonly unknown[]): string {
  return key.map(value).join(', ');
}

/** The diff as text lines for a terminal. */
export function diffTable(d: ModelDiff): string[] {
  const lines = [
    `${d.model}: ${d.here.relation} in ${d.here.target} (${d.here.rows} rows) against ${d.there.relation} in ${d.there.target} (${d.there.rows} rows), matched on ${d.key.join(', ')}`,
    `  rows only here    ${d.onlyHere}`,
    `  rows only there   ${d.onlyThere}`,
    `  rows changed      ${d.changed} (${percent(d.changed, d.there.rows)} of the rows there)`,
    `  rows identical    ${d.identical}`,
  ];
  if (d.columnsOnlyHere.length) lines.push(`  columns only here: ${d.columnsOnlyHere.join(', ')}`);
  if (d.columnsOnlyThere.length) lines.push(`  columns only there: ${d.columnsOnlyThere.join(', ')}`);
  if (d.columns.length) {
    const width = Math.max(6, ...d.columns.map((c) => c.column.length));
    lines.push(`  ${'column'.padEnd(width)}  changed  examples (${d.key.join(', ')}: here -> there)`);
    for (const c of d.columns) lines.push(`  ${c.column.padEnd(width)}  ${String(c.changed).padStart(7)}  ${c.examples.map((e) => `${keyText(e.key)}: ${value(e.here)} -> ${value(e.there)}`).join('; ')}`);
  }
  if (d.onlyHereKeys.length) lines.push(`  e.g. only here: ${d.onlyHereKeys.map(keyText).join('; ')}`);
  if (d.onlyThereKeys.length) lines.push(`  e.g. only there: ${d.onlyThereKeys.map(keyText).join('; ')}`);
  if (d.days?.length) {
    lines.push(`  per ${d.dayColumn} (only the days that differ):`);
    lines.push(`  ${'day'.padEnd(10)}  only here  only there  changed`);
    for (const day of d.days) lines.push(`  ${day.day.padEnd(10)}  ${String(day.onlyHere).padStart(9)}  ${String(day.onlyThere).padStart(10)}  ${String(day.changed).padStart(7)}`);
  }
  if (!d.onlyHere && !d.onlyThere && !d.changed) lines.push('  no difference');
  return lines;
}

/** The diff as Markdown, for a pull-request comment. */
export function diffMarkdown(d: ModelDiff): string[] {
  const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const lines = [
    `### \`${d.model}\`: ${d.here.target} against ${d.there.target}`,
    '',
    `Matched on \`${d.key.join(', ')}\`: ${d.here.rows} rows here, ${d.there.rows} there.`,
    '',
    '| rows only here | rows only there | rows changed | rows identical |',
    '|---:|---:|---:|---:|',
    `| ${d.onlyHere} | ${d.onlyThere} | ${d.changed} (${percent(d.changed, d.there.rows)}) | ${d.identical} |`,
  ];
  if (d.columnsOnlyHere.length || d.columnsOnlyThere.length) {
    lines.push('', `Columns only here: ${d.columnsOnlyHere.map((c) => `\`${c}\``).join(', ') || 'none'}; only there: ${d.columnsOnlyThere.map((c) => `\`${c}\``).join(', ') || 'none'}.`);
  }
  if (d.columns.length) {
    lines.push('', `| column | values changed | examples (\`${cell(d.key.join(', '))}\`: here → there) |`, '|---|---:|---|');
    for (const c of d.columns) lines.push(`| \`${c.column}\` | ${c.changed} | ${cell(c.examples.map((e) => `${keyText(e.key)}: ${value(e.here)} → ${value(e.there)}`).join('; '))} |`);
  }
  if (d.days?.length) {
    const shown = d.days.slice(0, 31);
    lines.push('', `| ${d.dayColumn} | only here | only there | changed |`, '|---|---:|---:|---:|');
    for (const day of shown) lines.push(`| ${day.day} | ${day.onlyHere} | ${day.onlyThere} | ${day.changed} |`);
    if (d.days.length > shown.length) lines.push('', `…and ${d.days.length - shown.length} more days that differ.`);
  }
  if (!d.onlyHere && !d.onlyThere && !d.changed) lines.push('', 'No difference.');
  return lines;
}

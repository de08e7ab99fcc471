import { formatCount } from '../core/progress.js';
import { snapshotOf } from './clock.js';
import { addsToStoredRows, type FileSummary, type RunPlan, type SourceStep } from './types.js';

/** The plan as text: what `tm run --dry-run` prints, one line per source and per model. */
export function explainPlan(plan: RunPlan, options: { readonly sql?: ReadonlyMap<string, string> } = {}): string[] {
  const lines: string[] = [];
  const windows = plan.clock
    ? `stream clock C ${plan.clock}, snapshot S ${snapshotOf(plan.clock)}${plan.idle ? ' (unchanged: nothing new)' : ''}`
    : 'no stream clock (no incremental model, or no valid event)';
  lines.push(`Plan (run ${plan.runId}, now ${plan.now}${plan.fullRefresh ? ', full refresh' : ''}): ${windows}`);
  for (const s of plan.sources) lines.push(`  source ${s.name}: ${describeSource(s)}`);
  if (plan.duckSlots > 1) lines.push(`  DuckDB: up to ${plan.duckSlots} models' queries at once (small inputs)`);
  const width = Math.max(...plan.steps.map((s) => s.model.name.length), 10);
  for (const [i, step] of plan.steps.entries()) {
    const extras: string[] = [];
    if (step.kind === 'incremental' && step.hotStart) extras.push(`H ${step.hotStart}`);
    if (step.kind !== 'full' && step.files) extras.push(`reads ${describeFiles(step.files)}`);
    if (step.kind === 'partitioned' && step.partitions) extras.push(`replaces ${step.partitions.column} ${describeDays(step.partitions.parts)}`);
    if (step.kind === 'partitioned' && step.batches) extras.push(`computed in ${step.batches.bounds.length + 1} batches of days`);
    if (step.relationName !== step.model.name) extras.push(`writes ${step.relationName}`);
    if (addsToStoredRows(step)) extras.push('incremental');
    const head = `${String(i + 1).padStart(String(plan.steps.length).length)} ${step.model.name.padEnd(width)} ${step.action.padEnd(5)} ${step.model.config.materialized.padEnd(8)}`;
    lines.push(`  ${head} ${step.reason}${extras.length ? ` (${extras.join('; ')})` : ''}`);
    const sql = options.sql?.get(step.model.name);
    if (sql !== undefined) lines.push(...sql.trimEnd().split('\n').map((l) => `      | ${l}`));
  }
  const nameOf = new Map(plan.steps.map((s) => [s.model.uniqueId, s.model.name]));
  const names = (ids: readonly string[]) => ids.map((id) => nameOf.get(id) ?? id).join(', ');
  for (const t of plan.tests ?? []) {
    const when = t.skipReason ? `skip: ${t.skipReason}` : t.dependsOn.length ? `after ${names(t.dependsOn)}` : 'first';
    lines.push(`  test ${t.name} ${when}${t.blocks.length ? ` (blocks ${names(t.blocks)})` : ''}`);
  }
  const count = (a: string) => plan.steps.filter((s) => s.action === a).length;
  const tests = plan.tests?.length ? `, ${plan.tests.length} test${plan.tests.length === 1 ? '' : 's'}` : '';
  lines.push(`${count('build')} to build, ${count('check')} to check, ${count('skip')} to skip${tests}`);
  return lines;
}

function describeSource(s: SourceStep): string {
  if (s.days) {
    if (!s.days.length) return `partition-aware: no changed day among ${describeFiles(s.listed ?? s.files)}, nothing read`;
    return `partition-aware: ${s.days.length} day${s.days.length === 1 ? '' : 's'} read (${describeDays(s.days)}), ${describeFiles(s.files)} of ${describeFiles(s.listed ?? s.files)}`;
  }
  const window = s.windowed ? `window from ${s.fromPart ?? 'the first partition'}${s.partitions !== undefined ? ` (of ${formatCount(s.partitions)} partitions)` : ''}` : 'every file';
  return `${window}, ${describeFiles(s.files)}${s.read ? '' : ', nothing new: no row read'}`;
}

function describeFiles(f: FileSummary): string {
  const range = f.firstPart ? (f.firstPart === f.lastPart ? ` of ${f.firstPart}` : ` from ${f.firstPart} to ${f.lastPart}`) : '';
  return `${formatCount(f.count)} file${f.count === 1 ? '' : 's'}${range} (${formatBytes(f.bytes)})`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Days as runs of consecutive dates: `2020-01-01..2020-01-03, 2020-02-10` (at most 12 runs, then a count). */
export function describeDays(days: readonly string[]): string {
  const sorted = [...days].sort();
  const runs: [string, string][] = [];
  const next = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  for (const d of sorted) {
    const last = runs[runs.length - 1];
    if (last && next(last[1]) === d) last[1] = d;
    else runs.push([d, d]);
  }
  const shown = runs.slice(0, 12).map(([a, b]) => (a === b ? a : `${a}..${b}`));
  return shown.join(', ') + (runs.length > 12 ? ` and ${runs.length - 12} more ranges` : '');
}

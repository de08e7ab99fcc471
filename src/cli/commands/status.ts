import { Option, type Command } from 'commander';
import type { ModelFreshness, SourceFreshness, StatusOutcome, StatusOptions } from '../../api/status.js';
import type { LagReading, Lags } from '../../state/freshness.js';
import { action } from '../action.js';
import { commonOptions, withCommon, withSelection, type GlobalFlags, type SelectionFlags } from '../options.js';

interface StatusFlags extends GlobalFlags, SelectionFlags {
  readonly now?: string;
  readonly json?: boolean;
  readonly output?: 'text' | 'json';
  readonly relativeTo?: 'now' | 'stream';
}

/** The flags `tm status` and `tm source freshness` share. */
function withFreshnessFlags(command: Command): Command {
  return withSelection(withCommon(command))
    .option('--now <timestamp>', 'wall-clock time to measure lags against (UTC)')
    .addOption(new Option('--relative-to <clock>', 'data lag against the wall clock, or against the sources\' newest event (a replay of old data is not late)').choices(['now', 'stream']).default('now'))
    .addOption(new Option('--output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--json', 'same as --output json');
}

const optionsOf = (flags: StatusFlags): StatusOptions => ({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, now: flags.now, relativeTo: flags.relativeTo });

/**
 * `tm status` (three lags of incremental models and their sources) and `tm source freshness` (of
 * sources, as dbt's): exit 0 fresh, 1 a threshold crossed or an SLA breached, 2 connection or project error.
 */
export function registerStatusCommand(program: Command): void {
  withFreshnessFlags(program.command('status').description('pipeline, data and arrival lag of incremental models and their sources (exit 1 when a threshold is crossed)'))
    .action(
      action(async (flags: StatusFlags) => {
        const { status } = await import('../../api/status.js');
        return print(await status(optionsOf(flags)), flags, true);
      }),
    );
  const source = program.command('source').description('commands about sources');
  withFreshnessFlags(source.command('freshness').description('pipeline, data and arrival lag of sources against their freshness thresholds (exit 1 when one is crossed)'))
    .action(
      action(async (flags: StatusFlags) => {
        const { sourceFreshness } = await import('../../api/status.js');
        return print(await sourceFreshness(optionsOf(flags)), flags, false);
      }),
    );
}

async function print(outcome: StatusOutcome, flags: StatusFlags, withModels: boolean): Promise<number> {
  if (flags.json || flags.output === 'json') {
    const { exitCode: _, ...body } = outcome;
    process.stdout.write(JSON.stringify(withModels ? body : { relativeTo: body.relativeTo, sources: body.sources }, null, 2) + '\n');
  } else {
    const { formatAge } = await import('../../api/status.js');
    process.stdout.write(formatTables(outcome, withModels, formatAge));
  }
  return outcome.exitCode;
}

const LAG_COLUMNS = [['pipeline_lag', 'pipeline lag'], ['data_lag', 'data lag'], ['arrival_lag', 'arrival lag']] as const;

function lagCell(l: LagReading, formatAge: (s: number) => string): string {
  const value = l.seconds === null ? '-' : formatAge(l.seconds);
  return l.state === 'warn' ? `${value} WARN` : l.state === 'error' ? `${value} ERROR` : value;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
}

/** The lags past their thresholds, named: `mart_x: data lag 31m 00s > error_after 15m 00s`. */
function crossings(name: string, lags: Lags, formatAge: (s: number) => string): string[] {
  return LAG_COLUMNS.flatMap(([key, label]) => {
    const l = lags[key];
    if (l.state !== 'warn' && l.state !== 'error') return [];
    const limit = l.state === 'error' ? l.error_after_s : l.warn_after_s;
    const past = l.seconds === null ? 'never measured' : `${formatAge(l.seconds)} > ${l.state === 'error' ? 'error_after' : 'warn_after'} ${formatAge(limit ?? 0)}`;
    return [`${l.state === 'error' ? 'ERROR' : 'WARN'} ${name}: ${label} ${past}`];
  });
}

function formatTables(outcome: StatusOutcome, withModels: boolean, formatAge: (s: number) => string): string {
  const lines: string[] = [];
  const models: readonly ModelFreshness[] = outcome.models;
  const sources: readonly SourceFreshness[] = outcome.sources;
  if (withModels) {
    if (!models.length) lines.push('No incremental models selected.');
    else {
      lines.push(...table([
        ['model', 'last success (UTC)', ...LAG_COLUMNS.map(([, l]) => l), 'clock reached (UTC)', 'sla', 'status'],
        ...models.map((m) => [
          m.name, m.lastSuccessAt?.slice(0, 19) ?? 'never', ...LAG_COLUMNS.map(([k]) => lagCell(m.lags[k], formatAge)), m.clockReached?.slice(0, 19) ?? '-',
          m.slaMinutes === null ? '-' : `${m.slaMinutes}m`,
          m.state === 'late' ? 'LATE' : m.state === 'never' ? 'NEVER RUN' : m.status === 'error' ? 'ERROR' : m.status === 'warn' ? 'WARN' : m.state === 'ok' || m.status === 'ok' ? 'OK' : '-',
        ]),
      ]));
    }
  }
  if (sources.length) {
    if (withModels) lines.push('');
    lines.push(...table([
      ['source', 'last listed (UTC)', ...LAG_COLUMNS.map(([, l]) => l), 'newest event (UTC)', 'newest file (UTC)', 'status'],
      ...sources.map((s) => [
        s.name, s.lastListedAt?.slice(0, 19) ?? 'never', ...LAG_COLUMNS.map(([k]) => lagCell(s.lags[k], formatAge)), s.newestEvent?.slice(0, 19) ?? '-',
        s.newestFileAt?.slice(0, 19) ?? '-', s.status === 'error' ? 'ERROR' : s.status === 'warn' ? 'WARN' : s.status === 'ok' ? 'OK' : '-',
      ]),
    ]));
  } else if (!withModels) lines.push('No sources selected.');
  const problems = [
    ...models.flatMap((m) => [
      ...(m.state === 'late' ? [`ERROR ${m.name}: past its SLA of ${m.slaMinutes}m (last success ${m.ageSeconds === null ? 'never' : `${formatAge(m.ageSeconds)} ago`})`] : []),
      ...(m.state === 'never' ? [`ERROR ${m.name}: never ran`] : []),
      ...crossings(m.name, m.lags, formatAge).filter((line) => !(m.state === 'late' && line.includes('pipeline lag'))),
    ]),
    ...sources.flatMap((s) => crossings(`source ${s.name}`, s.lags, formatAge)),
  ];
  lines.push(...problems);
  const where = outcome.relativeTo === 'stream' ? ' (data lag relative to the stream)' : '';
  lines.push(problems.length ? `${problems.length} freshness problem${problems.length === 1 ? '' : 's'}${where}` : `All ${withModels ? 'models and sources' : 'sources'} fresh${where}`);
  return lines.join('\n') + '\n';
}

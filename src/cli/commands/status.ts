import type { Command } from 'commander';
import type { ModelFreshness } from '../../api/status.js';
import { action } from '../action.js';
import { commonOptions, withCommon, withSelection, type GlobalFlags, type SelectionFlags } from '../options.js';

/** `tm status` (freshness of incremental models): exit 0 fresh, 1 an SLA breached, 2 connection or project error. */
export function registerStatusCommand(program: Command): void {
  withSelection(withCommon(program.command('status').description('freshness of incremental models against their SLA (exit 1 when one is late)')))
    .option('--now <timestamp>', 'wall-clock time to measure ages against (UTC)')
    .option('--json', 'print JSON')
    .action(
      action(async (flags: GlobalFlags & SelectionFlags & { now?: string; json?: boolean }) => {
        const { status, formatAge } = await import('../../api/status.js');
        const outcome = await status({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, now: flags.now });
        if (flags.json) process.stdout.write(JSON.stringify(outcome.models, null, 2) + '\n');
        else process.stdout.write(formatTable(outcome.models, formatAge));
        return outcome.exitCode;
      }),
    );
}

function formatTable(models: readonly ModelFreshness[], formatAge: (seconds: number) => string): string {
  if (!models.length) return 'No incremental models selected.\n';
  const rows = [
    ['model', 'last success (UTC)', 'age', 'clock reached (UTC)', 'sla', 'status'],
    ...models.map((m) => [
      m.name,
      m.lastSuccessAt?.slice(0, 19) ?? 'never',
      m.ageSeconds === null ? '-' : formatAge(m.ageSeconds),
      m.clockReached?.slice(0, 19) ?? '-',
      m.slaMinutes === null ? '-' : `${m.slaMinutes}m`,
      m.state === 'late' ? 'LATE' : m.state === 'never' ? 'NEVER RUN' : m.state === 'ok' ? 'OK' : '-',
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  const late = models.filter((m) => m.state === 'late' || m.state === 'never').length;
  lines.push(late ? `${late} model${late === 1 ? '' : 's'} past ${late === 1 ? 'its' : 'their'} SLA` : 'All models within their SLA');
  return lines.join('\n') + '\n';
}

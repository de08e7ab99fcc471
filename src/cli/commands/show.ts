import { Option, type Command } from 'commander';
import { EXIT_OK, TmError } from '../../core/errors.js';
import { interruptible } from '../../core/signals.js';
import { action } from '../action.js';
import { commonOptions, withCommon, withDeferTo, withSelection, type GlobalFlags, type SelectionFlags } from '../options.js';

interface ShowFlags extends GlobalFlags, SelectionFlags {
  readonly limit: number;
  readonly output: 'table' | 'json' | 'csv';
  readonly now?: string;
  readonly deferTo?: string;
  readonly inline?: string;
}

/** `tm show`: a model's first rows as a run would compute them; nothing is written to the target. */
export function registerShowCommand(program: Command): void {
  withDeferTo(withSelection(withCommon(program.command('show').description("print a model's first rows as a run would compute them (in its engine), writing nothing to the target"))))
    .option('--limit <n>', 'rows to show', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new TmError(`--limit must be a whole number >= 1, got '${v}'`, 2);
      return n;
    }, 10)
    .addOption(new Option('--output <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .option('--inline <query>', 'a DuckDB query over {{ref "model"}} and {{source "name"}} to show instead of a model')
    .option('--now <timestamp>', 'wall-clock time to use (UTC)')
    .action(
      action(async (flags: ShowFlags) => {
        const { show } = await import('../../api/show.js');
        // SIGINT/SIGTERM stop it as they stop a run.
        return interruptible(async () => {
          const shown = await show({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, deferTo: flags.deferTo, now: flags.now, limit: flags.limit, inline: flags.inline });
          process.stdout.write(format(shown.columns, shown.rows, flags.output));
          return EXIT_OK;
        });
      }),
    );
}

function text(v: unknown): string {
  if (v === null || v === undefined) return NULL_TEXT;
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}
const NULL_TEXT = 'NULL';

function format(columns: readonly string[], rows: readonly Record<string, unknown>[], output: ShowFlags['output']): string {
  if (output === 'json') return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
  if (output === 'csv') {
    const cell = (v: unknown) => (v === null || v === undefined ? '' : /[",\n]/.test(text(v)) ? `"${text(v).replaceAll('"', '""')}"` : text(v));
    return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
  }
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => Math.min(60, text(r[c]).length))));
  const line = (cells: string[]) => cells.map((c, i) => (c.length > 60 ? `${c.slice(0, 59)}…` : c).padEnd(widths[i])).join('  ').trimEnd();
  return [line([...columns]), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => text(r[c]))))].join('\n') + `\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
}

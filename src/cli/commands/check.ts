import { Option, type Command } from 'commander';
import { action } from '../action.js';
import { commonOptions, withCommon, withSelection, type GlobalFlags, type SelectionFlags } from '../options.js';

/** `tm check`: exit 0 every model binds cleanly, 1 a model has a problem, 2 a project error. */
export function registerCheckCommand(program: Command): void {
  withSelection(withCommon(program.command('check').description("bind every selected model in DuckDB against its inputs' contracts, without a target or data: unknown columns, functions, relations and contract mismatches, at their line")))
    .option('--now <timestamp>', 'wall-clock time to render with (UTC)')
    .addOption(new Option('--output <format>', 'output format: lines, or one JSON document for editors').choices(['text', 'json']).default('text'))
    .action(
      action(async (flags: GlobalFlags & SelectionFlags & { now?: string; output: 'text' | 'json' }) => {
        const { check } = await import('../../api/check.js');
        return (await check({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, now: flags.now, output: flags.output })).exitCode;
      }),
    );
}

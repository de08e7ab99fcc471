import type { Command } from 'commander';
import { EXIT_OK } from '../../core/errors.js';
import { action } from '../action.js';
import { commonOptions, withCommon, withSelection, type GlobalFlags, type SelectionFlags } from '../options.js';

export function registerCompileCommand(program: Command): void {
  withSelection(withCommon(program.command('compile').description('render the selected models to target/compiled/ (no database needed; run-time values are marked stand-ins)')))
    .option('--now <timestamp>', 'wall-clock time to render with (UTC)')
    .action(
      action(async (flags: GlobalFlags & SelectionFlags & { now?: string }) => {
        const { compile } = await import('../../api/compile.js');
        await compile({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, now: flags.now });
        return EXIT_OK;
      }),
    );
}

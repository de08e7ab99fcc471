import type { Command } from 'commander';
import { EXIT_OK, EXIT_USAGE } from '../../core/errors.js';
import { action } from '../action.js';
import { commonOptions, withCommon, type GlobalFlags } from '../options.js';

export function registerDebugCommand(program: Command): void {
  withCommon(program.command('debug').description('check the project, the profile, the target connection, DuckDB and Spark (when configured or used)')).action(
    action(async (flags: GlobalFlags) => {
      const { debug } = await import('../../api/debug.js');
      const checks = await debug(commonOptions(flags));
      for (const c of checks) process.stdout.write(`  ${c.ok ? 'OK   ' : 'ERROR'} ${c.name}: ${c.detail}\n`);
      const ok = checks.every((c) => c.ok) && checks.length >= 4;
      process.stdout.write(ok ? 'All checks passed.\n' : 'Some checks failed.\n');
      return ok ? EXIT_OK : EXIT_USAGE;
    }),
  );
}

import type { Command } from 'commander';
import { EXIT_OK } from '../../core/errors.js';
import { shellWord } from '../../init/run-command.js';
import { action } from '../action.js';

/** `tm init DIR`: scaffolds a project that builds at once on the embedded PGlite target. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('create a new tm project in DIR (new or empty): sample Parquet data, a staging model, a mart, tests; builds with no server')
    .argument('<dir>', 'folder to create the project in')
    .option('--name <name>', 'project name (default: the folder name as an identifier)')
    .option('--debug', 'print stack traces of errors')
    .action(
      action(async (dir: string, flags: { name?: string }) => {
        const { init } = await import('../../api/init.js');
        const result = await init({ dir, name: flags.name });
        process.stdout.write(`Created project ${result.name} in ${result.dir} (${result.files.length} files)\n`);
        for (const f of result.files) process.stdout.write(`  ${f}\n`);
        const tm = result.tmCommand;
        process.stdout.write(`Next: cd ${shellWord(dir)} && ${tm} build && ${tm} docs generate\n`);
        return EXIT_OK;
      }),
    );
}

import { Option, type Command } from 'commander';
import { EXIT_OK } from '../../core/errors.js';
import { action } from '../action.js';
import { commonOptions, withCommon, withSelection, withStateFrom, type GlobalFlags, type SelectionFlags } from '../options.js';

type NodeKind = 'model' | 'test' | 'source' | 'dashboard';

export function registerLsCommand(program: Command): void {
  withStateFrom(withSelection(withCommon(program.command('ls').description('list the selected nodes, one per line, in run order'))))
    .addOption(new Option('--output <format>', 'output format').choices(['name', 'json', 'path']).default('name'))
    .addOption(new Option('--resource-type <kinds...>', 'kinds of node to list').choices(['model', 'test', 'source', 'dashboard']))
    .action(
      action(async (flags: GlobalFlags & SelectionFlags & { output: string; resourceType?: NodeKind[] }) => {
        const { ls } = await import('../../api/ls.js');
        const nodes = await ls({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, stateFrom: flags.stateFrom, kinds: flags.resourceType });
        for (const n of nodes) process.stdout.write((flags.output === 'json' ? JSON.stringify(n) : flags.output === 'path' ? n.path : n.name) + '\n');
        return EXIT_OK;
      }),
    );
}

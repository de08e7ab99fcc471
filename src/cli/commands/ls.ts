import { Option, type Command } from 'commander';
import { EXIT_OK, TmError } from '../../core/errors.js';
import { action } from '../action.js';
import { commonOptions, withCommon, withSelection, withStateFrom, type GlobalFlags, type SelectionFlags } from '../options.js';

type NodeKind = 'model' | 'test' | 'source' | 'dashboard';

export function registerLsCommand(program: Command): void {
  withStateFrom(withSelection(withCommon(program.command('ls').description('list the selected nodes, one per line, in run order'))))
    .addOption(new Option('--output <format>', 'output format (changes: with --state-from, what changed per model, its category and the charts it breaks)').choices(['name', 'json', 'path', 'changes']).default('name'))
    .addOption(new Option('--resource-type <kinds...>', 'kinds of node to list').choices(['model', 'test', 'source', 'dashboard']))
    .action(
      action(async (flags: GlobalFlags & SelectionFlags & { output: string; resourceType?: NodeKind[] }) => {
        if (flags.output === 'changes' && !flags.stateFrom) throw new TmError('--output changes compares with another target: name it with --state-from TARGET', 2);
        const { ls } = await import('../../api/ls.js');
        const { changeLines } = await import('../../state/change-category.js');
        const nodes = await ls({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, stateFrom: flags.stateFrom, kinds: flags.resourceType });
        const width = Math.max(0, ...nodes.map((n) => n.name.length));
        for (const n of nodes) {
          const changes = () => (n.kind === 'model' ? changeLines(n.name.padEnd(width), n.change, flags.stateFrom!).join('\n') : n.name);
          const text = flags.output === 'json' ? JSON.stringify(n) : flags.output === 'path' ? n.path : flags.output === 'changes' ? changes() : n.name;
          process.stdout.write(text + '\n');
        }
        return EXIT_OK;
      }),
    );
}

import { Option, type Command } from 'commander';
import type { ListedNode } from '../../api/ls.js';
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
        const nodes = await ls({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, stateFrom: flags.stateFrom, kinds: flags.resourceType });
        const width = Math.max(0, ...nodes.map((n) => n.name.length));
        for (const n of nodes) {
          const text = flags.output === 'json' ? JSON.stringify(n) : flags.output === 'path' ? n.path : flags.output === 'changes' ? changeLines(n, width, flags.stateFrom!) : n.name;
          process.stdout.write(text + '\n');
        }
        return EXIT_OK;
      }),
    );
}

/** `mart_x  breaking (body, contract)` and, indented, its reasons and the charts it breaks. */
function changeLines(node: ListedNode, width: number, against: string): string {
  const change = node.change;
  const name = node.name.padEnd(width);
  if (node.kind !== 'model') return name;
  if (!change) return `${name}  unchanged in this comparison`;
  if (change.category === 'new') return `${name}  new: never built in ${against}`;
  const lines = [`${name}  ${change.category} (${change.parts.join(', ')})`];
  for (const reason of change.reasons) lines.push(`    ${reason}`);
  for (const chart of change.charts) lines.push(`    breaks chart ${chart.chart} of dashboard ${chart.dashboard} (reads ${chart.columns.join(', ')})`);
  return lines.join('\n');
}

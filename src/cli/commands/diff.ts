import { Option, type Command } from 'commander';
import { EXIT_FAILED, EXIT_OK, TmError } from '../../core/errors.js';
import type { FailIf } from '../../diff/report.js';
import { action } from '../action.js';
import { commonOptions, withCommon, withSelection, withStateFrom, type GlobalFlags, type SelectionFlags } from '../options.js';

interface DiffFlags extends GlobalFlags, SelectionFlags {
  readonly against: string;
  readonly output: 'table' | 'json' | 'markdown';
  readonly failIf?: string[];
  readonly examples: number;
}

/** `tm diff`: exit 0 compared (differences or not), 1 a --fail-if threshold crossed, 2 usage or connection error. */
export function registerDiffCommand(program: Command): void {
  withStateFrom(withSelection(withCommon(program.command('diff').description("compare the selected models' relations in this target with another target's (same database), matched on the primary key"))))
    .requiredOption('--against <target>', 'target to compare with, e.g. prod (a schema of the same database)')
    .addOption(new Option('--output <format>', 'output format (markdown: for a pull-request comment)').choices(['table', 'json', 'markdown']).default('table'))
    .option('--fail-if <rules...>', 'exit 1 when a rule holds for a model: changed_rows, only_here_rows, only_there_rows or diff_rows, > or >=, a count (10), a fraction of the rows there (0.01) or a percentage (1%), e.g. changed_rows>0.01')
    .option('--examples <n>', 'changed values shown per column', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 100) throw new TmError(`--examples must be a whole number from 0 to 100, got '${v}'`, 2);
      return n;
    }, 3)
    .action(
      action(async (flags: DiffFlags) => {
        const { parseFailIf, diffMarkdown, diffTable } = await import('../../diff/report.js');
        const failIf: FailIf[] = (flags.failIf ?? []).flatMap((text) => text.split(',')).filter((t) => t.trim()).map(parseFailIf);
        const { diff } = await import('../../api/diff.js');
        const outcome = await diff({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, stateFrom: flags.stateFrom, against: flags.against, failIf, examples: flags.examples });
        const out = (line: string) => process.stdout.write(line + '\n');
        if (flags.output === 'json') out(JSON.stringify(outcome, null, 2));
        else {
          const render = flags.output === 'markdown' ? diffMarkdown : diffTable;
          outcome.diffs.forEach((d, i) => {
            if (i > 0) out('');
            render(d).forEach(out);
          });
          for (const s of outcome.skipped) out(flags.output === 'markdown' ? `\n_\`${s.model}\` not compared: ${s.reason}._` : `${s.model}: not compared: ${s.reason}`);
          if (!outcome.diffs.length && !outcome.skipped.length) out(flags.output === 'markdown' ? '_No model selected to compare._' : 'No model selected to compare.');
        }
        for (const line of outcome.crossed) process.stderr.write(line + '\n');
        return outcome.crossed.length ? EXIT_FAILED : EXIT_OK;
      }),
    );
}

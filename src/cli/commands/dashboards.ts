/** `tm dashboards export|build|serve|ls`: flags in, one api call, lines out. */
import type { Command } from 'commander';
import type { BuildOutcome } from '../../api/dashboards.js';
import { EXIT_OK, TmError } from '../../core/errors.js';
import { action } from '../action.js';
import { exposureWarning } from '../../core/local-server.js';
import { commonOptions, withCommon, withSelection } from '../options.js';

type Flags = Parameters<typeof commonOptions>[0] & { select?: string[]; exclude?: string[] };

function positiveInt(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new TmError(`${name} must be a whole number >= ${min}, got '${value}'`);
    return n;
  };
}

export function registerDashboardsCommand(program: Command): void {
  const dashboards = program.command('dashboards').description('dashboards declared in dashboards/*.yml: Superset bundle, static page, live page');

  withSelection(withCommon(dashboards.command('export').description('write a Superset (3.1+) import bundle of the dashboards')))
    .requiredOption('--out <file.zip>', 'bundle to write')
    .option('--database-uri <url>', 'the marts\' PostgreSQL as Superset reaches it (required for a PGlite target); its password is never written')
    .option('--database-name <name>', 'database name in Superset (default: tm_<project>)')
    .action(
      action(async (flags: Flags & { out: string; databaseUri?: string; databaseName?: string }) => {
        const { exportDashboards } = await import('../../api/dashboards.js');
        const outcome = await exportDashboards({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, out: flags.out, databaseUri: flags.databaseUri, databaseName: flags.databaseName });
        process.stdout.write(`Wrote ${outcome.file}: ${outcome.dashboards} dashboards, ${outcome.charts} charts, ${outcome.datasets} datasets (password masked)\n`);
        return EXIT_OK;
      }),
    );

  withSelection(withCommon(dashboards.command('build').description('write DIR/index.html: the dashboards drawn from the target\'s marts (offline, no Superset)')))
    .requiredOption('--out <dir>', 'folder of the site')
    .action(
      action(async (flags: Flags & { out: string }) => {
        const { buildDashboards } = await import('../../api/dashboards.js');
        const outcome = await buildDashboards({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, out: flags.out });
        process.stdout.write(summary(outcome));
        return outcome.exitCode;
      }),
    );

  withSelection(withCommon(dashboards.command('serve').description('serve the dashboards live; the ones with refresh_seconds refetch their data')))
    .option('--port <n>', 'port (0: any free one)', positiveInt('--port', 0), 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--allow-host <names...>', 'host names (besides the bound address) the server answers to, e.g. behind a proxy')
    .option('--refresh <seconds>', 'refresh period of the refreshing dashboards (default: their refresh_seconds)', positiveInt('--refresh', 1))
    .action(
      action(async (flags: Flags & { port: number; host: string; allowHost?: string[]; refresh?: number }) => {
        const { serveDashboards } = await import('../../api/dashboards.js');
        const server = await serveDashboards({ ...commonOptions(flags), select: flags.select, exclude: flags.exclude, port: flags.port, host: flags.host, allowHosts: flags.allowHost, refreshSeconds: flags.refresh });
        const warning = exposureWarning(flags.host, 'the marts the dashboards show');
        if (warning) process.stderr.write(`${warning}\n`);
        process.stdout.write(`Serving dashboards at ${server.url} (Ctrl-C to stop)\n`);
        await new Promise<void>((resolve) => {
          const stop = (): void => void server.close().then(resolve, resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        return EXIT_OK;
      }),
    );

  withCommon(dashboards.command('ls').description('list the dashboards, their charts and the models they read')).action(
    action(async (flags: Flags) => {
      const { loadProjectContext } = await import('../../api/project-context.js');
      const ctx = await loadProjectContext(commonOptions(flags));
      for (const d of ctx.manifest.dashboards.values()) {
        process.stdout.write(`${d.name}  ${d.path}:${d.line}  ${d.charts.length} charts  reads: ${d.refs.join(', ')}\n`);
      }
      return EXIT_OK;
    }),
  );
}

function summary(outcome: BuildOutcome): string {
  const lines = [`Wrote ${outcome.index} (${(outcome.bytes / 1024 / 1024).toFixed(2)} MB, ${outcome.charts.length} charts) in ${outcome.seconds.toFixed(2)}s`];
  if (outcome.failed.length > 0) {
    lines.push(`${outcome.failed.length} chart${outcome.failed.length === 1 ? '' : 's'} failed: ${outcome.failed.map((f) => `${f.dashboard}/${f.chart}`).join(', ')}`);
    for (const f of outcome.failed) lines.push(`  ${f.dashboard}/${f.chart}: ${f.message}`);
  }
  return lines.join('\n') + '\n';
}

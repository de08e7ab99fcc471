import type { Command } from 'commander';
import { EXIT_OK, TmError } from '../../core/errors.js';
import { action } from '../action.js';
import { exposureWarning } from '../../core/local-server.js';
import { commonOptions, withCommon } from '../options.js';

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new TmError(`--port must be a whole number from 0 to 65535, got '${value}'`);
  return n;
}

/** `tm docs generate` and `tm docs serve`. */
export function registerDocsCommand(program: Command): void {
  const docs = program.command('docs').description('documentation site of the project: lineage, models, sources, tests, last runs');
  withCommon(docs.command('generate').description('write target/index.html (one offline page) and target/catalog.json (relations of the target: columns, types, exact row counts, sizes)'))
    .option('--now <timestamp>', 'wall-clock time (UTC) that freshness is measured against')
    .action(
      action(async (flags: Parameters<typeof commonOptions>[0] & { now?: string }) => {
        const { docsGenerate } = await import('../../api/docs.js');
        await docsGenerate({ ...commonOptions(flags), now: flags.now });
        return EXIT_OK;
      }),
    );
  docs
    .command('serve')
    .description('serve target/index.html and its artifacts over HTTP (until Ctrl-C)')
    .option('--project-dir <dir>', 'tm project folder (default: current folder)')
    .option('--port <n>', 'port to listen on', parsePort, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--allow-host <names...>', 'host names (besides the bound address) the server answers to, e.g. behind a proxy')
    .option('--debug', 'print stack traces of errors')
    .action(
      action(async (flags: { projectDir?: string; port: number; host: string; allowHost?: string[] }) => {
        const { docsServe } = await import('../../api/docs.js');
        const server = await docsServe({ projectDir: flags.projectDir, port: flags.port, host: flags.host, allowHosts: flags.allowHost });
        const warning = exposureWarning(flags.host, 'the project docs');
        if (warning) process.stderr.write(`${warning}\n`);
        process.stdout.write(`Serving the docs on ${server.url} (Ctrl-C to stop)\n`);
        await new Promise<void>((resolve) => {
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
        });
        await server.close();
        return EXIT_OK;
      }),
    );
}

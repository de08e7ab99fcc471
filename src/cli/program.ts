import { Command } from 'commander';
import { tmVersion } from '../core/version.js';
import { registerCheckCommand } from './commands/check.js';
import { registerCompileCommand } from './commands/compile.js';
import { registerDashboardsCommand } from './commands/dashboards.js';
import { registerDebugCommand } from './commands/debug.js';
import { registerDiffCommand } from './commands/diff.js';
import { registerDocsCommand } from './commands/docs.js';
import { registerInitCommand } from './commands/init.js';
import { registerLsCommand } from './commands/ls.js';
import { registerQualityCommands } from './commands/quality.js';
import { registerRunCommand } from './commands/run.js';
import { registerShowCommand } from './commands/show.js';
import { registerStatusCommand } from './commands/status.js';

/**
 * The `tm` program: every command from its own module under commands/. Building it runs nothing, and
 * each command loads its implementation (api/) only when it runs: `tm --help` and a hot cycle do not
 * pay for the dashboards, docs or init modules.
 */
export function createProgram(): Command {
  const program = new Command('tm')
    .description('tm: declarative SQL transforms from a Parquet lake (local or S3) to PostgreSQL marts, computed in DuckDB')
    .version(tmVersion())
    .showHelpAfterError('(run tm --help for usage)')
    .exitOverride();
  registerRunCommand(program);
  registerCompileCommand(program);
  registerCheckCommand(program);
  registerLsCommand(program);
  registerDebugCommand(program);
  registerQualityCommands(program);
  registerStatusCommand(program);
  registerInitCommand(program);
  registerDocsCommand(program);
  registerDashboardsCommand(program);
  registerDiffCommand(program);
  registerShowCommand(program);
  return program;
}

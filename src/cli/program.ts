import { Command } from 'commander';
import { registerCompileCommand } from './commands/compile.js';
import { registerDebugCommand } from './commands/debug.js';
import { registerLsCommand } from './commands/ls.js';
import { registerQualityCommands } from './commands/quality.js';
import { registerRunCommand } from './commands/run.js';
import { registerStatusCommand } from './commands/status.js';

/** The `tm` program: every command from its own module under commands/. Building it runs nothing. */
export function createProgram(): Command {
  const program = new Command('tm')
    .description('tm: declarative SQL transforms from a Parquet lake (local or S3) to PostgreSQL marts, computed in DuckDB')
    .version('0.1.0')
    .showHelpAfterError('(run tm --help for usage)')
    .exitOverride();
  registerRunCommand(program);
  registerCompileCommand(program);
  registerLsCommand(program);
  registerDebugCommand(program);
  registerQualityCommands(program);
  registerStatusCommand(program);
  return program;
}

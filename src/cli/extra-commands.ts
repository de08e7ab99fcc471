import type { Command } from 'commander';
import { registerDocsCommand } from './commands/docs.js';
import { registerInitCommand } from './commands/init.js';
import { registerQualityCommands } from './quality-commands.js';
import { registerStatusCommand } from './status-command.js';

/** Commands beyond run/compile/ls/debug, each from its own module. */
export function registerExtraCommands(program: Command): void {
  registerQualityCommands(program);
  registerStatusCommand(program);
  registerInitCommand(program);
  registerDocsCommand(program);
}

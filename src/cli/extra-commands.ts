import type { Command } from 'commander';
import { registerDashboardsCommand } from './commands/dashboards.js';
import { registerQualityCommands } from './quality-commands.js';
import { registerStatusCommand } from './status-command.js';

/** Commands beyond run/compile/ls/debug, each from its own module. */
export function registerExtraCommands(program: Command): void {
  registerQualityCommands(program);
  registerStatusCommand(program);
  registerDashboardsCommand(program);
}

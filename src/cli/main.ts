/** The `tm` executable (bin/tm.js): parse the arguments, run the command, set the exit code. */
import { CommanderError } from 'commander';
import { EXIT_OK, EXIT_USAGE } from '../core/errors.js';
import { commandExitCode, reportError } from './action.js';
import { createProgram } from './program.js';
import { usePrivateUmask } from '../core/file-modes.js';
import { guardTerminalOutput } from '../core/printable.js';

usePrivateUmask();
guardTerminalOutput();

let exitCode: number;
try {
  await createProgram().parseAsync(process.argv);
  exitCode = commandExitCode();
} catch (err) {
  exitCode = err instanceof CommanderError ? (err.exitCode === 0 ? EXIT_OK : EXIT_USAGE) : reportError(err);
}
process.exitCode = exitCode;

import type { Command } from 'commander';
import type { CommonOptions } from '../api/project-context.js';
import { TmError } from '../core/errors.js';

/** Flags every command takes. */
export interface GlobalFlags {
  readonly projectDir?: string;
  readonly target?: string;
  readonly vars?: string;
  readonly debug?: boolean;
}

export interface SelectionFlags {
  readonly select?: string[];
  readonly exclude?: string[];
  readonly stateFrom?: string;
}

export function commonOptions(flags: GlobalFlags): CommonOptions {
  return { projectDir: flags.projectDir, target: flags.target, vars: parseVarsOption(flags.vars) };
}

export function withCommon(cmd: Command): Command {
  return cmd
    .option('--project-dir <dir>', 'tm project folder (default: current folder)')
    .option('-t, --target <name>', 'target from profiles.yml (default: its default_target)')
    .option('--vars <json>', `project variables as JSON, e.g. '{"hot_lookback_minutes": 30}'`)
    .option('--debug', 'print stack traces of errors');
}

export function withSelection(cmd: Command): Command {
  return cmd
    .option('-s, --select <criteria...>', 'nodes to include: names, tag:x, path:dir, +ancestors, descendants+ (space = union, comma = intersection)')
    .option('--exclude <criteria...>', 'nodes to leave out (same grammar)');
}

/** `--defer-to`, for the commands that build: unselected refs not built here read that target's relations. */
export function withDeferTo(cmd: Command): Command {
  return cmd.option('--defer-to <target>', "refs to models not selected and not built in this target read that target's relations (a schema of the same database), e.g. prod");
}

/** `--state-from`, for the commands whose selection may use `state:modified` / `state:new`. */
export function withStateFrom(cmd: Command): Command {
  return cmd.option('--state-from <target>', 'target whose built models state:modified and state:new compare with (its stored fingerprints)');
}

export function parseThreads(value: string): number {
  return parseWholeNumber('--threads', value);
}

/** A flag's value that must be a whole number >= 1. */
export function parseWholeNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new TmError(`${flag} must be a whole number >= 1, got '${value}'`);
  return n;
}

/** `--vars` accepts JSON (or YAML-ish `{key: value}` is not accepted: JSON keeps it unambiguous). */
export function parseVarsOption(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TmError(`--vars must be a JSON object, e.g. '{"hot_lookback_minutes": 30}': ${(err as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new TmError(`--vars must be a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * A cached Python virtual environment for a bench peer, created from a constraints file when missing.
 * Lives outside the work tree (~/.cache/tm/venvs/<name>-<hash of the constraints>), so a changed pin
 * makes a new one; a `.complete` marker is written last, so an interrupted install is redone.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface PythonEnv {
  /** The venv folder. */
  readonly dir: string;
  /** `<dir>/bin/<name>`: an executable of the venv (python, dbt...). */
  bin(name: string): string;
}

/** Where the venv for these constraints is (or would be), without creating it. */
export async function venvLocation(name: string, constraintsFile: string): Promise<PythonEnv> {
  const hash = createHash('sha256').update(await readFile(constraintsFile)).digest('hex').slice(0, 10);
  const root = process.env.TM_VENV_DIR || path.join(os.homedir(), '.cache', 'tm', 'venvs');
  const dir = path.join(root, `${name}-${hash}`);
  return { dir, bin: (exe) => path.join(dir, 'bin', exe) };
}

export function venvReady(env: PythonEnv): boolean {
  return existsSync(path.join(env.dir, '.complete'));
}

/**
 * The venv with `packages` installed under `constraintsFile`; created when missing (one line through
 * `log`, the minutes pip takes). Throws with pip's last lines when the install fails.
 */
export async function ensureVenv(name: string, constraintsFile: string, packages: readonly string[], log: (line: string) => void): Promise<PythonEnv> {
  const env = await venvLocation(name, constraintsFile);
  if (venvReady(env)) return env;
  log(`python: creating virtualenv ${env.dir} (${packages.join(', ')} pinned by ${path.basename(constraintsFile)}; once, a minute or two)`);
  await rm(env.dir, { recursive: true, force: true });
  const python = process.env.TM_PYTHON || 'python3';
  try {
    await execFileAsync(python, ['-m', 'venv', env.dir]);
    await execFileAsync(env.bin('python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-c', constraintsFile, ...packages], {
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const tail = (e.stderr ?? '').split('\n').filter((l) => l.trim() && !l.startsWith('WARNING: Location')).slice(-8).join('\n');
    throw new Error(`could not create the ${name} virtualenv in ${env.dir}: ${tail || e.message}`);
  }
  await writeFile(path.join(env.dir, '.complete'), `${packages.join(' ')}\n`);
  return env;
}

/**
 * Python peers of the suite (Superset, later Spark and dbt) live in virtual environments the suite
 * creates when missing, pinned by a constraints file of the repository and cached outside the work
 * tree: `~/.cache/tm/venvs/<name>-<hash>`, the hash over the constraints, the requirements and the
 * Python version, so a changed pin makes a new environment. One line is printed per install.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface PythonEnvSpec {
  /** Names the folder, e.g. `superset-3.1.3`. */
  readonly name: string;
  /** A pip constraints file (every package pinned). */
  readonly constraints: string;
  /** What to install under those constraints, e.g. `apache-superset==3.1.3`. */
  readonly requirements: readonly string[];
  /** The interpreter that creates the environment (default `python3`). */
  readonly python?: string;
}

export interface PythonEnv {
  readonly dir: string;
  /** The environment's `bin/` folder (put it first on PATH to run its commands). */
  readonly bin: string;
  readonly python: string;
  /** Seconds the install took; undefined when the cached environment was used. */
  readonly installSeconds?: number;
}

/** Written last: an environment without it is a broken install and is made again. */
const COMPLETE = '.tm-complete';

export function venvRoot(): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'tm', 'venvs');
}

export async function ensurePythonEnv(spec: PythonEnvSpec, log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<PythonEnv> {
  const python = spec.python ?? 'python3';
  const { stdout: version } = await exec(python, ['-c', 'import sys; print(sys.version)']);
  const constraints = await readFile(spec.constraints);
  const hash = createHash('sha256').update(constraints).update(JSON.stringify(spec.requirements)).update(version).digest('hex').slice(0, 12);
  const dir = path.join(venvRoot(), `${spec.name}-${hash}`);
  const env: PythonEnv = { dir, bin: path.join(dir, 'bin'), python: path.join(dir, 'bin', 'python') };
  if (existsSync(path.join(dir, COMPLETE))) return env;

  const started = performance.now();
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  await exec(python, ['-m', 'venv', dir]);
  try {
    await exec(env.python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-c', spec.constraints, ...spec.requirements], { maxBuffer: 64 << 20 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`installing ${spec.requirements.join(' ')} into ${dir} failed:\n${stderr.split('\n').slice(-30).join('\n')}`);
  }
  const installSeconds = (performance.now() - started) / 1000;
  await writeFile(path.join(dir, COMPLETE), `${spec.requirements.join(' ')}\n`);
  log(`python env ${spec.name}: installed ${spec.requirements.join(' ')} in ${installSeconds.toFixed(0)}s into ${dir}`);
  return { ...env, installSeconds };
}

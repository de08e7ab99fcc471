/**
 * Python peers of the suite and the bench (Superset, Spark, dbt) live in virtual environments created when
 * missing, pinned by a constraints file of the repository and cached outside the work tree:
 * `~/.cache/tm/venvs/<name>-<hash>`, the hash over the constraints, the requirements and the Python
 * version, so a changed pin makes a new environment. One line is printed per install. A marker written
 * last tells a complete install from a killed one; test files installing at once wait for each other.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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
/** An install lock older than this is the leftover of a killed process. */
const STALE_LOCK_MS = 30 * 60_000;

export function venvRoot(): string {
  return process.env.TM_VENVS_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'tm', 'venvs');
}

/** Where the environment of `spec` is (or would be), and whether it is complete, without creating it. */
export async function locatePythonEnv(spec: PythonEnvSpec): Promise<{ env: PythonEnv; ready: boolean }> {
  const python = spec.python ?? 'python3';
  const { stdout: version } = await exec(python, ['-c', 'import sys; print(sys.version)']);
  const constraints = await readFile(spec.constraints);
  const hash = createHash('sha256').update(constraints).update(JSON.stringify(spec.requirements)).update(version).digest('hex').slice(0, 12);
  const dir = path.join(venvRoot(), `${spec.name}-${hash}`);
  const env: PythonEnv = { dir, bin: path.join(dir, 'bin'), python: path.join(dir, 'bin', 'python') };
  return { env, ready: existsSync(path.join(dir, COMPLETE)) };
}

export async function ensurePythonEnv(spec: PythonEnvSpec, log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<PythonEnv> {
  const { env, ready } = await locatePythonEnv(spec);
  if (ready) return env;
  const lock = `${env.dir}.lock`;
  await mkdir(venvRoot(), { recursive: true });
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      const since = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (since > STALE_LOCK_MS) await rmdir(lock).catch(() => undefined);
      await sleep(1000);
    }
  }
  try {
    if ((await locatePythonEnv(spec)).ready) return env;
    const started = performance.now();
    await rm(env.dir, { recursive: true, force: true });
    await exec(spec.python ?? 'python3', ['-m', 'venv', env.dir]);
    try {
      await exec(env.python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-c', spec.constraints, ...spec.requirements], { maxBuffer: 64 << 20 });
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new Error(`installing ${spec.requirements.join(' ')} into ${env.dir} failed:\n${stderr.split('\n').slice(-30).join('\n')}`);
    }
    const installSeconds = (performance.now() - started) / 1000;
    await writeFile(path.join(env.dir, COMPLETE), `${spec.requirements.join(' ')}\n`);
    log(`python env ${spec.name}: installed ${spec.requirements.join(' ')} in ${installSeconds.toFixed(0)}s into ${env.dir}`);
    return { ...env, installSeconds };
  } finally {
    await rmdir(lock).catch(() => undefined);
  }
}

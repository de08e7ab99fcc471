/**
 * A real Apache Superset for the suite: installed from the package index into a cached virtual
 * environment (test-support/python-env.ts) under the repository's constraints, prepared by
 * deploy/superset/init.sh with deploy/superset/superset_config.py (SQLite metadata in a temp folder),
 * served by gunicorn on loopback, and fed tm's bundle by deploy/superset/import_bundle.py: the same
 * files the compose stack runs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensurePythonEnv, type PythonEnv } from './python-env.js';

const repoRoot = path.resolve(import.meta.dirname, '..');
const deploySuperset = path.join(repoRoot, 'deploy', 'superset');

/** The Superset releases the suite verifies: the seed's line and the current release. */
export const SUPERSET_VERSIONS = ['3.1.3', '6.1.0'] as const;
export type SupersetVersion = (typeof SUPERSET_VERSIONS)[number];

export function supersetEnv(version: SupersetVersion): Promise<PythonEnv> {
  return ensurePythonEnv({
    name: `superset-${version}`,
    constraints: path.join(deploySuperset, `constraints-${version}.txt`),
    requirements: [`apache-superset==${version}`, 'psycopg2-binary'],
  });
}

/** The suite's admin: a throwaway server on loopback, its metadata in a temp folder. */
const ADMIN = { user: 'admin', password: 'tm-suite-admin' } as const;

export interface SupersetServer {
  readonly version: SupersetVersion;
  readonly url: string;
  readonly admin: { readonly user: string; readonly password: string };
  /** Seconds from the call until /health answered (init.sh included when it ran). */
  readonly startSeconds: number;
  /** Imports a `tm dashboards export` ZIP through the assets API, the marts' password in `passwords`. */
  importBundle(bundle: string, martsPassword: string): Promise<string>;
  /** The server's output so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export async function startSuperset(version: SupersetVersion): Promise<SupersetServer> {
  const venv = await supersetEnv(version);
  const started = performance.now();
  const admin = ADMIN;
  const environment = (home: string): NodeJS.ProcessEnv => ({
    ...withoutSupersetVars(process.env),
    PATH: `${venv.bin}:${process.env.PATH ?? ''}`,
    VIRTUAL_ENV: venv.dir,
    FLASK_APP: 'superset',
    SUPERSET_HOME: home,
    SUPERSET_CONFIG_PATH: path.join(deploySuperset, 'superset_config.py'),
    SUPERSET_ADMIN_USER: admin.user,
    SUPERSET_ADMIN_PASSWORD: admin.password,
  });
  // init.sh runs once per environment, script and config (its ~300 migrations take a minute or
  // two); every start copies the metadata it left, so each run begins from a freshly initialised Superset.
  const template = path.join(venv.dir, `tm-metadata-${await initHash()}.db`);
  if (!existsSync(template)) {
    const initHome = await scratchDir(`tm-superset-init-${version}-`);
    try {
      await run('sh', [path.join(deploySuperset, 'init.sh')], environment(initHome), `superset ${version} init.sh`);
      await copyFile(path.join(initHome, 'superset.db'), `${template}.partial`);
      await rename(`${template}.partial`, template);
    } finally {
      await rm(initHome, { recursive: true, force: true });
    }
  }
  const home = await scratchDir(`tm-superset-${version}-`);
  await copyFile(template, path.join(home, 'superset.db'));
  const env = environment(home);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const server: ChildProcess = spawn(
    path.join(venv.bin, 'gunicorn'),
    ['--bind', `127.0.0.1:${port}`, '--workers', '1', '--threads', '8', '--timeout', '120', '--limit-request-line', '0', '--limit-request-field_size', '0', 'superset.app:create_app()'],
    { env, cwd: home, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  server.stdout?.on('data', keep);
  server.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (server.exitCode === null && server.pid !== undefined) {
      process.kill(-server.pid, 'SIGTERM');
      const timer = setTimeout(() => server.pid !== undefined && server.exitCode === null && process.kill(-server.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(home, { recursive: true, force: true });
  };
  try {
    await waitForHealth(url, server, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    version,
    url,
    admin,
    startSeconds: (performance.now() - started) / 1000,
    log: () => output,
    stop,
    importBundle: (bundle, martsPassword) =>
      run(venv.python, [path.join(deploySuperset, 'import_bundle.py'), '--url', url, '--bundle', bundle], { ...env, MARTS_DB_PASSWORD: martsPassword }, `superset ${version} import_bundle.py`),
  };
}

/** init.sh and the config decide what the initialised metadata holds. */
async function initHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['init.sh', 'superset_config.py']) hash.update(await readFile(path.join(deploySuperset, file)));
  return hash.digest('hex').slice(0, 12);
}

/** SQLite metadata on tmpfs when there is one: its many small commits cost nothing there. */
function scratchDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), prefix));
}

/** The caller's own Superset settings must not leak into the suite's server (compose's variables, say). */
function withoutSupersetVars(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('SUPERSET_') && k !== 'MARTS_DB_PASSWORD'));
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 600_000, maxBuffer: 32 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${what} failed (${error.code ?? error.signal}):\n${(stdout + stderr).split('\n').slice(-40).join('\n')}`));
      else resolve(stdout);
    });
  });
}

async function waitForHealth(url: string, server: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`superset exited (${server.exitCode}) before answering /health:\n${output().slice(-4000)}`);
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`superset did not answer ${url}/health within 180 s:\n${output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

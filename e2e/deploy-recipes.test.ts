import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaffoldProject } from '../src/init/scaffold.js';
import { freshSchema, pgUrl, queryRows, repoRoot, tempDir } from '../test-support/harness.js';

const exec = promisify(execFile);
const deploy = path.join(repoRoot, 'deploy');

/** `Key=value` lines of a unit's section (a key may repeat, as ExecStart does in a oneshot). */
function unitValues(text: string, key: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
}

/** `Environment=A=1 B=2` lines as a map. */
function unitEnvironment(text: string): Record<string, string> {
  return Object.fromEntries(unitValues(text, 'Environment').flatMap((v) => v.split(' ')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** systemd's `${VAR}` expansion of an ExecStart line. */
function expand(command: string, env: Record<string, string>): string[] {
  return command.split(' ').map((word) => word.replace(/\$\{(\w+)\}/g, (_, name: string) => env[name] ?? ''));
}

describe('run recipes in deploy/', () => {
  let schema: Awaited<ReturnType<typeof freshSchema>>;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let projectDir: string;
  let binDir: string;
  beforeAll(async () => {
    schema = await freshSchema('deploy');
    tmp = await tempDir('tm-deploy-');
    projectDir = (await scaffoldProject({ dir: path.join(tmp.dir, 'project') })).dir;
    // `tm` on PATH, as `npm install tm-transform` puts it in node_modules/.bin.
    binDir = path.join(tmp.dir, 'bin');
    await mkdir(binDir);
    await writeFile(path.join(binDir, 'tm'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(repoRoot, 'bin', 'tm.js')}" "$@"\n`);
    await chmod(path.join(binDir, 'tm'), 0o755);
  });
  afterAll(async () => {
    await schema?.drop();
    await tmp?.remove();
  });
  const targetEnv = () => ({ TM_PG_URL: pgUrl, TM_PG_SCHEMA: schema.schema });

  it('systemd units pass systemd-analyze verify without a warning', async () => {
    const units = ['tm-hot.service', 'tm-cold.service', 'tm-cold.timer'].map((u) => `./${u}`);
    const res = await exec('systemd-analyze', ['verify', ...units], { cwd: path.join(deploy, 'systemd') }).then(
      (r) => ({ code: 0, stderr: r.stderr }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
    expect(res, res.stderr).toEqual({ code: 0, stderr: '' });
    // The cold unit runs, then tests: the commands the cron line and the Airflow DAG run too.
    const cold = await readFile(path.join(deploy, 'systemd', 'tm-cold.service'), 'utf8');
    expect(unitValues(cold, 'ExecStart').map((c) => expand(c, unitEnvironment(cold)).slice(1, 5).join(' '))).toEqual([
      'tm run --select cold', 'tm test --select cold',
    ]);
  });

  it('the hot unit\'s command loops, and stopping it (SIGTERM) ends with an exit code systemd counts as success', async () => {
    const unit = await readFile(path.join(deploy, 'systemd', 'tm-hot.service'), 'utf8');
    const env = { ...unitEnvironment(unit), TM_HOT_SELECT: 'stg_orders', TM_HOT_EVERY: '1s' };
    const [, ...argv] = expand(unitValues(unit, 'ExecStart')[0], env); // drop /usr/bin/env
    expect(argv.slice(0, 2)).toEqual(['tm', 'run']);
    const success = [0, ...unitValues(unit, 'SuccessExitStatus').flatMap((v) => v.split(' ')).map(Number)];
    const child = spawn(argv[0], argv.slice(1), { cwd: projectDir, env: { ...process.env, ...env, ...targetEnv(), PATH: `${binDir}:${process.env.PATH}` } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no cycle finished in 60 s:\n${out}`)), 60_000);
      child.stdout.on('data', () => {
        if (/Finished 1 model/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(success, out).toContain(code);
    expect(out).toMatch(/SIGTERM received, stopping after the current cycle/);
    expect((await queryRows<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema.schema}.stg_orders`))[0].n).toBe('22');
  });

  it('the cron line runs the cold run then its tests', async () => {
    const cron = await readFile(path.join(deploy, 'cron', 'tm-cold.cron'), 'utf8');
    const line = cron.split('\n').find((l) => /^[\d*]/.test(l))!;
    const fields = line.split(/\s+/);
    expect(fields.slice(0, 6)).toEqual(['30', '2', '*', '*', '*', 'tm']); // 02:30 daily, as user tm
    expect(cron).toMatch(/^CRON_TZ=UTC$/m);
    // The command as cron's sh runs it, with the install paths of this machine instead of /opt/tm and /etc/tm.
    const envFile = path.join(tmp.dir, 'tm.env');
    await writeFile(envFile, Object.entries(targetEnv()).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    await mkdir(path.join(tmp.dir, 'log'));
    const command = fields.slice(6).join(' ')
      .replaceAll('/opt/tm/project', projectDir).replaceAll('/opt/tm/node_modules/.bin', binDir)
      .replaceAll('/etc/tm/tm.env', envFile).replaceAll('/var/log/tm', path.join(tmp.dir, 'log')).replaceAll('/tmp/tm-cold.lock', path.join(tmp.dir, 'lock'))
      .replaceAll('--select cold', '--select stg_orders');
    const res = await exec('sh', ['-c', command], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }).then(() => 0, (err: { code: number }) => err.code);
    const log = await readFile(path.join(tmp.dir, 'log', 'cold.log'), 'utf8');
    expect(res, log).toBe(0);
    expect(log).toMatch(/Finished 1 models? .*: 1 OK/);
    expect(log).toMatch(/Finished \d+ tests .*: \d+ PASS, 0 WARN, 0 FAIL, 0 ERROR/);
  });

  it('the Airflow DAG compiles and runs the cold run, then tm test', async () => {
    const dag = path.join(deploy, 'airflow', 'tm_cold_dag.py');
    const cache = path.join(tmp.dir, 'pycache');
    await exec('python3', ['-m', 'py_compile', dag], { env: { ...process.env, PYTHONPYCACHEPREFIX: cache } });
    const text = await readFile(dag, 'utf8');
    expect(text).toMatch(/from airflow import DAG/);
    expect(text).toMatch(/\{TM\} run --select \{SELECT\} --target prod/);
    expect(text).toMatch(/\{TM\} test --select \{SELECT\} --target prod/);
    expect(text).toMatch(/^ {4}cold_run >> cold_test$/m);
  });
});

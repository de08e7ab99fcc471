import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';

const exec = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

/** A PostgreSQL cluster of a test's own, on a free port: it can be stopped and restarted without touching the shared server. */
export interface OwnPostgres {
  readonly url: string;
  readonly port: number;
  /** `pg_ctl restart -m fast`: every backend is terminated, the server is back when it resolves. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster and removes its folder. */
  remove(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL tool as the postgres user (it refuses to run as root). */
function asPostgres(tool: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  const run = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', path.join(BIN, tool), ...args]] as const : [path.join(BIN, tool), args] as const;
  return exec(run[0], [...run[1]], { timeout: 60_000 });
}

/** Whether this machine can start a cluster of its own here: the binaries, and root or the postgres user. */
export async function canRunOwnPostgres(): Promise<boolean> {
  return exec(path.join(BIN, 'pg_ctl'), ['--version']).then(() => process.getuid?.() === 0, () => false);
}

/**
 * initdb + pg_ctl on a free port of 127.0.0.1 (trust auth, fsync off: a test cluster), database
 * `test`. Its folder lives under the system temp folder and goes with `remove()`.
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tm-own-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const pgUser = (await exec('id', ['-u', 'postgres'])).stdout.trim();
  const pgGroup = (await exec('id', ['-g', 'postgres'])).stdout.trim();
  await chown(dir, Number(pgUser), Number(pgGroup));
  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60`;
  const url = `postgres://postgres@127.0.0.1:${port}/test`;
  const ready = async () => {
    for (let i = 0; i < 100; i++) {
      const client = new pg.Client({ connectionString: url.replace(/\/test$/, '/postgres'), connectionTimeoutMillis: 2_000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch {
        await sleep(100);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    throw new Error(`the test's own PostgreSQL on port ${port} did not come up`);
  };
  const ctl = (...args: string[]) => asPostgres('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-o', options, '-w', ...args]);
  const start = async () => {
    await ctl('start');
    await ready();
  };
  await start();
  const admin = new pg.Client({ connectionString: url.replace(/\/test$/, '/postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE test');
  await admin.end();
  let stopped = false;
  return {
    url,
    port,
    start: async () => {
      await start();
      stopped = false;
    },
    stop: async () => {
      await ctl('-m', 'fast', 'stop');
      stopped = true;
    },
    restart: async () => {
      await ctl('-m', 'fast', 'restart');
      await ready();
    },
    remove: async () => {
      if (!stopped) await ctl('-m', 'immediate', 'stop').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A real Spark standalone cluster on loopback for the suite and the bench: one master, workers of
 * 1 core / 1 GB each, and the Spark Connect server as the cluster's one application. Spark comes from
 * pyspark's wheel (pinned in deploy/spark/constraints.txt, in a cached venv): its jars/ folder holds
 * all of Spark, but no sbin/start-* scripts, so the daemons' classes run through bin/spark-class and
 * bin/spark-submit directly, as foreground children that stop() ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensurePythonEnv } from './python-env.js';

// From the sources (test-support/) or from the build the bench runs (dist/test-support/).
const PARENT = path.resolve(import.meta.dirname, '..');
const REPO_ROOT = path.basename(PARENT) === 'dist' ? path.dirname(PARENT) : PARENT;
export const SPARK_CONSTRAINTS = path.join(REPO_ROOT, 'deploy', 'spark', 'constraints.txt');

const MASTER_CLASS = 'org.apache.spark.deploy.master.Master';
const WORKER_CLASS = 'org.apache.spark.deploy.worker.Worker';
const CONNECT_SERVER_CLASS = 'org.apache.spark.sql.connect.service.SparkConnectServer';

export interface SparkCluster {
  /** `sc://127.0.0.1:<port>`: the Spark Connect address tm is given. */
  readonly connectAddress: string;
  /** `spark://127.0.0.1:<port>`. */
  readonly masterUrl: string;
  /** The master's web UI; `${masterUiUrl}/json` lists workers and applications. */
  readonly masterUiUrl: string;
  /** The Connect server's driver UI; `${driverUiUrl}/api/v1/applications` is Spark's REST API. */
  readonly driverUiUrl: string;
  /** SPARK_HOME (pyspark's package folder). */
  readonly sparkHome: string;
  /** Milliseconds from the first process spawned to the Connect server accepting connections. */
  readonly startMs: number;
  /** The daemons' recent output, for a failing test's message. */
  logs(): string;
  /** Stops the Connect server, the workers, then the master (SIGTERM, SIGKILL after 10 s), removes its folder. */
  stop(): Promise<void>;
}

export interface StartSparkClusterOptions {
  readonly workers?: number;
  /** `--conf` pairs for the Connect server, over the defaults below (session time zone UTC, 1-core executors...). */
  readonly conf?: Readonly<Record<string, string>>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A port free on 127.0.0.1 now (the OS's choice); Spark's daemons are given explicit ports. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => (clearTimeout(timer), resolve(true)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (!(await waitForExit(child, 10_000))) {
    child.kill('SIGKILL');
    await waitForExit(child, 5_000);
  }
  running.delete(child);
}

interface MasterState {
  readonly workers?: readonly { readonly state: string }[];
}

/** Starts the cluster (installing pyspark into its cached venv first when missing) and waits until it serves. */
export async function startSparkCluster(options: StartSparkClusterOptions = {}): Promise<SparkCluster> {
  const venv = await ensurePythonEnv({ name: 'spark', constraints: SPARK_CONSTRAINTS, requirements: ['pyspark'] });
  const sitePackages = path.join(venv.dir, 'lib');
  const python = (await readdir(sitePackages)).find((name) => name.startsWith('python'));
  if (!python) throw new Error(`no python folder in ${sitePackages}`);
  const sparkHome = path.join(sitePackages, python, 'site-packages', 'pyspark');
  const workerCount = options.workers ?? 2;

  const dir = await mkdtemp(path.join(os.tmpdir(), 'tm-spark-'));
  const [masterPort, masterUiPort, connectPort, driverUiPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const masterUrl = `spark://127.0.0.1:${masterPort}`;
  const masterUiUrl = `http://127.0.0.1:${masterUiPort}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SPARK_HOME: sparkHome,
    SPARK_LOCAL_IP: '127.0.0.1',
    SPARK_LOCAL_DIRS: path.join(dir, 'local'),
    SPARK_LOG_DIR: path.join(dir, 'logs'),
    SPARK_CONF_DIR: path.join(dir, 'conf'),
    PYSPARK_PYTHON: path.join(venv.bin, 'python'),
  };
  // The master and workers only schedule: a small heap and the quick JIT start them sooner on a busy machine.
  // Not for the Connect server, which spark-submit also launches with the daemon settings.
  const daemonEnv: NodeJS.ProcessEnv = { ...env, SPARK_DAEMON_MEMORY: '256m', SPARK_DAEMON_JAVA_OPTS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC' };

  let output = '';
  const children: ChildProcess[] = [];
  function launch(name: string, script: string, args: readonly string[], childEnv = daemonEnv): ChildProcess {
    const child = spawn(path.join(sparkHome, 'bin', script), args, { env: childEnv, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    children.push(child);
    let partial = '';
    const keep = (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      output = (output + lines.map((line) => `[${name}] ${line}\n`).join('')).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', (code, signal) => {
      output += `[${name}] exited (${signal ?? code})\n`;
    });
    return child;
  }
  async function stop(): Promise<void> {
    for (const child of [...children].reverse()) await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  }
  async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      const dead = children.find((child) => child.exitCode !== null || child.signalCode !== null);
      if (dead || Date.now() > deadline) {
        await stop();
        throw new Error(`spark cluster: ${dead ? 'a daemon exited' : 'timed out'} waiting for ${what}\n${output}`);
      }
      await sleep(250);
    }
  }

  // All daemons start at once: the workers and the Connect server's driver retry the master until it is up.
  const started = Date.now();
  launch('master', 'spark-class', [MASTER_CLASS, '--host', '127.0.0.1', '--port', String(masterPort), '--webui-port', String(masterUiPort)]);
  for (let i = 0; i < workerCount; i++) {
    launch(`worker${i + 1}`, 'spark-class', [
      WORKER_CLASS, '--host', '127.0.0.1', '--cores', '1', '--memory', '1G', '--webui-port', String(await freePort()),
      '--work-dir', path.join(dir, `worker${i + 1}`), masterUrl,
    ]);
  }
  const conf: Record<string, string> = {
    'spark.connect.grpc.binding.address': '127.0.0.1',
    'spark.connect.grpc.binding.port': String(connectPort),
    'spark.ui.port': String(driverUiPort),
    'spark.driver.host': '127.0.0.1',
    'spark.driver.bindAddress': '127.0.0.1',
    'spark.driver.memory': '1g',
    'spark.executor.memory': '512m',
    'spark.executor.cores': '1',
    'spark.cores.max': String(workerCount),
    'spark.sql.session.timeZone': 'UTC',
    'spark.sql.shuffle.partitions': String(workerCount),
    // Test-sized work: the quick JIT costs the 2 shared cores less than C2 compiling for queries that last seconds.
    'spark.driver.extraJavaOptions': '-XX:TieredStopAtLevel=1',
    'spark.executor.extraJavaOptions': '-XX:TieredStopAtLevel=1',
    'spark.ui.showConsoleProgress': 'false',
    ...options.conf,
  };
  const connectJar = (await readdir(path.join(sparkHome, 'jars'))).find((name) => /^spark-connect_[\d.]+-[\d.]+\.jar$/.test(name));
  if (!connectJar) throw new Error(`no spark-connect jar in ${sparkHome}/jars`);
  launch('connect', 'spark-submit', [
    '--class', CONNECT_SERVER_CLASS, '--master', masterUrl, '--name', 'tm Spark Connect server',
    ...Object.entries(conf).flatMap(([key, value]) => ['--conf', `${key}=${value}`]),
    path.join(sparkHome, 'jars', connectJar),
  ], env);
  await until(async () => {
    const state = (await fetch(`${masterUiUrl}/json`).then((r) => r.json()).catch(() => ({}))) as MasterState;
    return (state.workers ?? []).filter((w) => w.state === 'ALIVE').length >= workerCount;
  }, `${workerCount} workers`, 180_000);
  await until(() => portOpen(connectPort), 'the Connect server', 180_000);

  return {
    connectAddress: `sc://127.0.0.1:${connectPort}`,
    masterUrl,
    masterUiUrl,
    driverUiUrl: `http://127.0.0.1:${driverUiPort}`,
    sparkHome,
    startMs: Date.now() - started,
    logs: () => output,
    stop,
  };
}

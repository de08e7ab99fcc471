/**
 * A real S3 API for tests: s3rver in a child process, plus helpers to fill it.
 * Reusable by end-to-end tests of whole runs from S3 (see s3rverEnv for child processes).
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** s3rver accepts this key pair; it rejects unknown key ids but does not verify signatures. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** Environment for the standard AWS credential chain (merge into process.env or a child's env). */
export function s3rverEnv(): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
  };
}

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>`, for options.s3.endpoint (path-style). */
  readonly endpoint: string;
  readonly port: number;
  /** Where s3rver keeps buckets and objects. */
  readonly dir: string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its folder if startS3rver created it. */
  stop(): Promise<void>;
}

export interface StartS3rverOptions {
  /** Data folder; default a fresh temporary folder, removed by stop(). */
  readonly dir?: string;
  /** Default: a free port chosen by the OS. */
  readonly port?: number;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts s3rver 3.7.1 as a child process on 127.0.0.1. `--openssl-legacy-provider` because its
 * ListObjectsV2 continuation token uses DES: without it every page after the first is a 500.
 * The port is read from the server's own "listening" line, so port 0 has no race.
 */
export async function startS3rver(options: StartS3rverOptions = {}): Promise<S3rverHandle> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'tm-s3rver-')));
  const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
  const args = ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', String(options.port ?? 0), '--silent'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);

  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    let started = false;
    const timer = setTimeout(() => fail('did not start within 15 s'), 15_000);
    function fail(why: string): void {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`s3rver ${why}\n${stderr}`));
    }
    child.once('exit', (code) => {
      running.delete(child);
      if (!started) fail(`exited with code ${code}`);
    });
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      if (started) return; // keep draining so the pipe never fills up
      stdout += text;
      const match = /listening on [^:\s]+:(\d+)/.exec(stdout);
      if (match) {
        started = true;
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    dir,
    async stop() {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 5_000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5_000);
      }
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

const clients = new Map<string, S3Client>();

/** An S3 client for arranging test data (explicit s3rver credentials, path-style, SDK retries on). */
export function testS3Client(endpoint: string): S3Client {
  let client = clients.get(endpoint);
  if (!client) {
    client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { ...S3RVER_CREDENTIALS },
      // s3rver does not understand aws-chunked uploads with checksum trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    clients.set(endpoint, client);
  }
  return client;
}

export async function createBucket(endpoint: string, bucket: string): Promise<void> {
  await testS3Client(endpoint).send(new CreateBucketCommand({ Bucket: bucket }));
}

export async function putObject(endpoint: string, bucket: string, key: string, body: Uint8Array | string): Promise<void> {
  await testS3Client(endpoint).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function walkFiles(dir: string, relative = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, relative), { withFileTypes: true })) {
    const rel = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await walkFiles(dir, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/**
 * Uploads every file under `localDir` (recursively) to `prefix` + its relative path, '/'-separated,
 * 16 at a time. `prefix` is used as given: pass 'curated/' for a folder. Returns the keys.
 */
export async function uploadDir(endpoint: string, bucket: string, prefix: string, localDir: string): Promise<string[]> {
  const files = await walkFiles(localDir);
  const keys = files.map((rel) => prefix + rel);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < files.length) {
      const index = next++;
      await putObject(endpoint, bucket, keys[index], await readFile(path.join(localDir, files[index])));
    }
  }
  await Promise.all(Array.from({ length: Math.min(16, files.length) }, worker));
  return keys;
}

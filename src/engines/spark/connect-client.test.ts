import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparkConnectClient, SparkError } from './connect-client.js';

/** Servers that are no Spark: nothing listening, and a socket that accepts and never answers. */
describe('connecting to an address where no Spark Connect answers', () => {
  let silent: net.Server;
  let silentPort: number;
  let closedPort: number;
  const sockets: net.Socket[] = [];
  beforeAll(async () => {
    silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as net.AddressInfo).port;
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('a refused connection is one SparkError naming the address, without its parameters', async () => {
    const error = await SparkConnectClient.connect(`sc://127.0.0.1:${closedPort}/;user_id=etl;token=secret`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SparkError);
    expect((error as SparkError).unreachable).toBe(true);
    expect((error as SparkError).message).toContain(`Spark Connect at sc://127.0.0.1:${closedPort} is unreachable`);
    expect((error as SparkError).message).not.toContain('secret');
  });

  it('a server that never answers fails after the connect timeout', async () => {
    const started = performance.now();
    const error = await SparkConnectClient.connect(`sc://127.0.0.1:${silentPort}`, { connectTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SparkError);
    expect((error as SparkError).unreachable).toBe(true);
    expect((error as SparkError).message).toBe(`Spark Connect at sc://127.0.0.1:${silentPort} did not answer within 1 s`);
    expect(performance.now() - started).toBeLessThan(4000);
  });
});

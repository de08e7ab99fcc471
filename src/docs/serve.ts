import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { TmError } from '../core/errors.js';
import { allowedHosts, refuseRequest } from '../core/local-server.js';

/** The files `tm docs serve` hands out: the page and the artifacts it was made from, nothing else. */
const SERVED: Readonly<Record<string, string>> = {
  '/index.html': 'text/html; charset=utf-8',
  '/catalog.json': 'application/json',
  '/manifest.json': 'application/json',
  '/run_results.json': 'application/json',
  '/test_results.json': 'application/json',
};

export interface DocsServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `targetDir/index.html` and its artifacts on `host:port` (port 0 picks a free one). */
export async function serveDocs(targetDir: string, host: string, port: number, allowHosts: readonly string[] = []): Promise<DocsServer> {
  const allowed = allowedHosts(host, allowHosts);
  const server: Server = createServer((req, res) => {
    if (refuseRequest(req, res, allowed)) return;
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const name = pathname === '/' ? '/index.html' : pathname;
    const type = SERVED[name];
    if (!type) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    // Read on each request: a `tm docs generate` while serving shows on the next reload.
    readFile(path.join(targetDir, name.slice(1)))
      .then((body) => res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body))
      .catch(() => res.writeHead(404, { 'content-type': 'text/plain' }).end(`${name.slice(1)} not found (tm docs generate writes it)\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new TmError(`port ${port} on ${host} is in use: pick another with --port`) : err),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

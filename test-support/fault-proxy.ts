/**
 * An HTTP proxy in front of s3rver that injects S3 failures and records requests: throttling
 * (503 SlowDown), server errors (500), connections reset in the middle of a body, slow answers.
 * Point options.s3.endpoint at `proxy.endpoint`. Path-style requests only.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type RequestKind = 'list' | 'get' | 'put' | 'other';

export interface ProxiedRequest {
  readonly method: string;
  readonly kind: RequestKind;
  readonly bucket: string;
  /** Object key (decoded) for object requests, '' otherwise. */
  readonly key: string;
  /** Query parameters, e.g. `prefix`, `delimiter`, `continuation-token` of a listing. */
  readonly query: Readonly<Record<string, string>>;
  /** Status sent to the client; 0 when the connection was reset instead. */
  status: number;
  /** The fault injected, if any. */
  fault?: 'slowDown' | 'internalError' | 'reset';
}

export interface FaultPlan {
  /** Which requests the faults and delays apply to; default: every request. */
  readonly match?: (request: ProxiedRequest) => boolean;
  /** Answer the first N matching requests with 503 SlowDown. */
  readonly slowDown?: number;
  /** Then answer the next N matching requests with 500 InternalError. */
  readonly internalError?: number;
  /**
   * Then, for N matching object GETs, pass `afterBytes` bytes of the body and reset the connection
   * (TCP RST). A body no longer than `afterBytes` passes whole and does not count.
   */
  readonly reset?: { readonly afterBytes: number; readonly times: number };
  /** Wait this long before forwarding each matching request (makes overlap observable). */
  readonly delayMs?: number;
  /** Wait this long after each forwarded body chunk of a matching request (slow transfers). */
  readonly chunkDelayMs?: number;
}

export interface FaultProxy {
  readonly endpoint: string;
  readonly port: number;
  /** Every request so far, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  /** Requests of a kind (or all), optionally only those matching `where`. */
  count(kind?: RequestKind, where?: (request: ProxiedRequest) => boolean): number;
  /** Most object GETs that were in flight at the same time. */
  maxConcurrentGets(): number;
  /** Replaces the plan; its counters start afresh. */
  setPlan(plan: FaultPlan): void;
  /** Forgets recorded requests and the concurrency peak. */
  clearLog(): void;
  /** Closes the proxy and drops open connections. */
  stop(): Promise<void>;
}

function describe(req: http.IncomingMessage): ProxiedRequest {
  const url = new URL(req.url ?? '/', 'http://proxy');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = rest.map((s) => decodeURIComponent(s)).join('/');
  const query = Object.fromEntries(url.searchParams);
  const method = req.method ?? 'GET';
  const kind: RequestKind =
    method === 'GET' && key ? 'get' : method === 'GET' && bucket && !key ? 'list' : method === 'PUT' ? 'put' : 'other';
  return { method, kind, bucket: decodeURIComponent(bucket), key, query, status: 0 };
}

function s3ErrorBody(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`;
}

/** A TCP RST rather than a clean FIN, like a dropped connection; falls back to destroy(). */
function resetSocket(socket: Socket | null): void {
  if (!socket) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

export async function startFaultProxy(targetPort: number, plan: FaultPlan = {}): Promise<FaultProxy> {
  const agent = new http.Agent({ keepAlive: true });
  const requests: ProxiedRequest[] = [];
  let current = plan;
  let left = { slowDown: 0, internalError: 0, resets: 0 };
  let inFlightGets = 0;
  let peakGets = 0;
  function setPlan(next: FaultPlan): void {
    current = next;
    left = { slowDown: next.slowDown ?? 0, internalError: next.internalError ?? 0, resets: next.reset?.times ?? 0 };
  }
  setPlan(plan);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const info = describe(req);
    requests.push(info);
    const matched = current.match ? current.match(info) : true;
    if (info.kind === 'get') {
      inFlightGets++;
      peakGets = Math.max(peakGets, inFlightGets);
      res.once('close', () => inFlightGets--);
    }
    if (matched && current.delayMs) await sleep(current.delayMs);

    const status = matched && left.slowDown > 0 ? 503 : matched && left.internalError > 0 ? 500 : 0;
    if (status) {
      if (status === 503) left.slowDown--;
      else left.internalError--;
      info.fault = status === 503 ? 'slowDown' : 'internalError';
      info.status = status;
      req.resume();
      const body = status === 503 ? s3ErrorBody('SlowDown', 'Please reduce your request rate.') : s3ErrorBody('InternalError', 'We encountered an internal error. Please try again.');
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    // Reserved now (parallel GETs must not overdraw it), given back if the body was too short to cut.
    const resetAfter = matched && info.kind === 'get' && left.resets > 0 ? current.reset?.afterBytes : undefined;
    if (resetAfter !== undefined) left.resets--;
    const chunkDelayMs = matched ? current.chunkDelayMs ?? 0 : 0;

    const upstream = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers, agent });
    // The target is gone (stopped server): drop the client's connection, as a dead server would.
    upstream.once('error', () => resetSocket(req.socket));
    upstream.once('response', (answer) => {
      void (async () => {
        try {
          info.status = answer.statusCode ?? 0;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          let sent = 0;
          if (resetAfter === 0) throw new Error('reset');
          for await (const chunk of answer as AsyncIterable<Buffer>) {
            if (resetAfter !== undefined && sent + chunk.length > resetAfter) {
              await new Promise<void>((done) => res.write(chunk.subarray(0, resetAfter - sent), () => done()));
              throw new Error('reset');
            }
            sent += chunk.length;
            if (!res.write(chunk)) await new Promise((done) => res.once('drain', done));
            if (chunkDelayMs) await sleep(chunkDelayMs);
          }
          if (resetAfter !== undefined) left.resets++;
          res.end();
        } catch {
          if (resetAfter !== undefined) info.fault = 'reset';
          info.status = 0;
          answer.destroy();
          resetSocket(req.socket);
        }
      })();
    });
    req.pipe(upstream);
  }

  const server = http.createServer((req, res) => void handle(req, res).catch(() => resetSocket(req.socket)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    requests,
    count(kind, where) {
      return requests.filter((r) => (!kind || r.kind === kind) && (!where || where(r))).length;
    },
    maxConcurrentGets: () => peakGets,
    setPlan,
    clearLog() {
      requests.length = 0;
      peakGets = inFlightGets;
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}

/**
 * What tm's two HTTP servers (`docs serve`, `dashboards serve`) share: they answer GET and HEAD only,
 * only to a Host naming the address they are bound to (or one listed with --allow-host: a DNS name
 * that resolves to 127.0.0.1 must not reach them, the precondition of DNS rebinding), never to a
 * request another site's page fires at them in the background (Sec-Fetch-Site), and every answer
 * carries nosniff and a Content-Security-Policy. Their pages are self-contained: inline scripts and
 * styles, data: images, fetches to their own origin only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function bare(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

export function isLoopback(host: string): boolean {
  const h = bare(host);
  return LOOPBACK.has(h) || h.startsWith('127.');
}

/** Host names a request may name: the bound address (each of the machine's when it is 0.0.0.0 or ::), loopback names, --allow-host. */
export function allowedHosts(bound: string, extra: readonly string[]): Set<string> {
  const hosts = new Set([bare(bound), ...extra.map(bare)]);
  if (isLoopback(bound)) for (const h of LOOPBACK) hosts.add(h);
  if (bare(bound) === '0.0.0.0' || bare(bound) === '::') {
    for (const h of LOOPBACK) hosts.add(h);
    hosts.add(os.hostname().toLowerCase());
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) hosts.add(bare(a.address));
  }
  return hosts;
}

/** The Host header's name, without port and brackets. */
function hostName(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(header.trim());
  return m ? bare(m[1]) : undefined;
}

/** Answers (and returns true) a request the server must not serve; else sets the security headers and returns false. */
export function refuseRequest(req: IncomingMessage, res: ServerResponse, allowed: ReadonlySet<string>): boolean {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  const refuse = (status: number, text: string, headers: Record<string, string> = {}): true => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${text}\n`);
    return true;
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(405, 'only GET and HEAD', { allow: 'GET, HEAD' });
  const host = hostName(req.headers.host);
  if (host === undefined || !allowed.has(host)) return refuse(403, `host not allowed: serve with --allow-host ${host ?? '<name>'} to reach this server by that name`);
  const site = req.headers['sec-fetch-site'];
  if ((site === 'cross-site' || site === 'same-site') && req.headers['sec-fetch-mode'] !== 'navigate') return refuse(403, 'requests from other sites are not served');
  return false;
}

/** The loud lines a server bound beyond loopback prints: whoever reaches the port reads what it serves. */
export function exposureWarning(bound: string, what: string): string | undefined {
  if (isLoopback(bound)) return undefined;
  return [
    `WARNING: listening on ${bound}, beyond this machine's loopback: anyone who can reach this port reads ${what}, without authentication.`,
    'WARNING: bind to 127.0.0.1 (the default) and put an authenticating proxy in front to share it.',
  ].join('\n');
}

/** The SQLAlchemy URI Superset stores for the marts' database: never with a real password. */
import { TmError } from '../core/errors.js';
import { maskUrl } from '../core/mask-url.js';

/**
 * `postgres://u:secret@host:5432/db` -> `postgresql+psycopg2://u:XXXXXXXXXX@host:5432/db`, secrets in
 * query parameters masked alike (core/mask-url.ts; Superset's importer asks for the real password
 * instead of storing the mask). A URI without a password stays without one (Superset's CLI import
 * then needs no password; the compose stack sets the real one afterwards with `superset set-database-uri`).
 */
export function supersetUri(url: string, origin: string): string {
  let u: URL;
  try {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new Error('no //');
    u = new URL(maskUrl(url));
  } catch {
    throw new TmError(`${origin}: not a valid URL (expected postgresql://user@host:5432/database): ${maskUrl(url)}`);
  }
  if (!/^postgres(ql)?(\+psycopg2)?:$/.test(u.protocol)) throw new TmError(`${origin}: Superset reads the marts through PostgreSQL; expected a postgresql:// URL, got ${u.protocol}//...`);
  const user = u.username === '' ? '' : `${u.username}${u.password === '' ? '' : `:${u.password}`}@`;
  const port = u.port === '' ? '' : `:${u.port}`;
  return `postgresql+psycopg2://${user}${u.hostname}${port}${u.pathname}${u.search}`;
}

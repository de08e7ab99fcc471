import { TmError } from '../core/errors.js';
import type { TargetConfig } from '../project/load-profile.js';

/**
 * Two schemas of one database: the same PGlite folder, or the same host, port and database (users may
 * differ). `purpose` says what needs it (`tm diff compares`, `--defer-to reads`).
 */
export function assertSameDatabase(a: TargetConfig, b: TargetConfig, purpose: string): void {
  const where = (t: TargetConfig): string => {
    if (t.type === 'pglite') return `pglite:${t.path}`;
    try {
      const url = new URL(t.url);
      return `postgres://${url.hostname}:${url.port || '5432'}${url.pathname}`;
    } catch {
      throw new TmError(`target '${t.name}' has a url that is not a postgres:// URL`);
    }
  };
  if (where(a) !== where(b)) {
    throw new TmError(`${purpose} two schemas of one database: targets '${a.name}' and '${b.name}' are different databases`, 2);
  }
  if (a.schema === b.schema) throw new TmError(`targets '${a.name}' and '${b.name}' are the same schema (${a.schema})`, 2);
}

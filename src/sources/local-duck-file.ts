import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { SqlSession } from '../engines/compute/types.js';
import { quoteLiteral } from '../core/sql-quote.js';
import { errorMessage } from '../core/errors.js';

/**
 * Attaches a local DuckDB file of tm's own (a cache, an index) as `db`; false when another process
 * holds it. A file DuckDB cannot open (damaged, another version) is deleted and made again: it only
 * ever holds what can be read again from the source.
 */
export async function attachLocalDuckFile(duck: SqlSession, db: string, file: string): Promise<boolean> {
  await mkdir(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await duck.run(`ATTACH ${quoteLiteral(file)} AS ${db}`);
      return true;
    } catch (err) {
      if (/lock/i.test(errorMessage(err)) || attempt === 1) return false;
      await rm(file, { force: true });
      await rm(`${file}.wal`, { force: true });
    }
  }
  return false;
}

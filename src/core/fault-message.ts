import path from 'node:path';

/**
 * One clear line for the faults that come from outside a model and that a user reads as such: the
 * PostgreSQL connection lost (the server restarted, a backend terminated, the network cut) and a full
 * disk (the folder named). The drivers word them many ways (`write EPIPE`, `Client has encountered a
 * connection error and is not queryable`, DuckDB's `IO Error: Could not write file ...`), often wrapped.
 */
export function faultMessage(err: unknown): string | undefined {
  // The innermost error is the driver's own wording; the wrappers add the model and its path, said elsewhere.
  for (const e of causes(err).reverse()) {
    const code = String((e as { code?: unknown }).code ?? '');
    const message = e instanceof Error ? e.message : String(e);
    const first = message.split('\n')[0];
    if (code === 'ENOSPC' || /No space left on device|ENOSPC/i.test(message)) {
      const file = (e as { path?: string }).path ?? /["']([^"']+)["']:? ?No space left/i.exec(message)?.[1] ?? /file ["']?(\/[^"'\s:]+)/.exec(message)?.[1];
      return file ? `the disk is full: no space left in ${folderOf(file)} (writing ${path.basename(file)})` : `the disk is full: no space left on device (${first})`;
    }
    if (code === '53100') return `PostgreSQL's disk is full (${first})`;
    if (LOST_CODES.has(code) || LOST_TEXT.test(message)) return `lost the connection to PostgreSQL: ${first} (the server restarted, or closed the connection)`;
  }
  return undefined;
}

/** The error and the causes it wraps, outermost first. */
function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err; e !== undefined && e !== null && out.length < 8; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

/** The folder a file is in, named for what it is when tm made it (its scratch or DuckDB's spill folder). */
function folderOf(file: string): string {
  const dir = path.dirname(file);
  // execute/scratch.ts: `<TMPDIR>/tm-run-<id>` and `<duckdb.temp_directory>/run-<id>`.
  const scratch = /^(.*\/tm-run-[0-9a-f]+)(\/|$)/.exec(dir)?.[1];
  if (scratch) return `the scratch folder ${scratch}`;
  const spill = /^(.*\/run-[0-9a-f]+)(\/|$)/.exec(dir)?.[1] ?? /^(.*\/duckdb_tmp)(\/|$)/.exec(dir)?.[1];
  if (spill) return `DuckDB's spill folder ${spill}`;
  return dir;
}

// admin_shutdown, crash_shutdown, cannot_connect_now and the connection_exception class; socket errors.
const LOST_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', 'ECONNRESET', 'EPIPE']);
const LOST_TEXT = /Connection terminated|connection error and is not queryable|server closed the connection|terminating connection due to administrator command|the database system is (shutting down|starting up)/i;

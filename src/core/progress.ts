/** Progress lines like a good CLI: one per model with status, rows and seconds. */

export type Log = (line: string) => void;

const WIDTH = 64;

/** `queuedSeconds`: how much of `seconds` went to waiting for DuckDB; shown from half a second on. */
export function modelLine(index: number, total: number, status: string, name: string, detail: string, seconds: number, queuedSeconds = 0): string {
  const head = `${String(index).padStart(String(total).length)} of ${total} ${status.padEnd(5)} ${name} `;
  const dots = '.'.repeat(Math.max(3, WIDTH - head.length));
  const queued = queuedSeconds >= 0.5 ? ` (${queuedSeconds.toFixed(2)}s queued for DuckDB)` : '';
  return `  ${head}${dots} ${detail} in ${seconds.toFixed(2)}s${queued}`;
}

/** `1,234,567`. Not toLocaleString: its first call loads ICU's locale data (measured: 19 ms of a hot run). */
export function formatCount(n: number): string {
  if (!Number.isInteger(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  return sign + String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function elapsedSince(start: number): number {
  return (performance.now() - start) / 1000;
}

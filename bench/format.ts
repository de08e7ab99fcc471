/** Small formatting helpers of the benchmark report. */

export function fmtCount(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : '?';
}

export function fmtBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '?';
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Left-aligned text columns, right-aligned numeric ones; the first row is the header. */
export function padTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const numeric = widths.map((_, i) => rows.slice(1).every((r) => r[i] === undefined || r[i] === '' || /^[\d,.?]+$/.test(r[i])));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('   ')
      .trimEnd(),
  );
}

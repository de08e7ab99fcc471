/** `500ms`, `5s`, `2m`, `1h`, `1d`, or a plain number of `bareUnit`s: milliseconds, or undefined when it is not a duration. */
export function durationMs(text: string | number, bareUnit: 's' | 'm' = 's'): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(String(text));
  if (!m) return undefined;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? bareUnit) as 'ms' | 's' | 'm' | 'h' | 'd'];
}

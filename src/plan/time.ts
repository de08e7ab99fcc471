import { TmError } from '../core/errors.js';

/** `YYYY-MM-DD HH:MM:SS.ffffff` in UTC: the form timestamps take in SQL and artifacts. */
export function sqlTimestampText(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

export function sqlTimestamp(date: Date): string {
  return `TIMESTAMP '${sqlTimestampText(date)}'`;
}

/** Parses `--now`; a value without zone is UTC. */
export function parseNow(text: string | undefined): Date {
  if (!text) return new Date();
  const normalized = /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`;
  const date = new Date(normalized);
  if (Number.isNaN(date.getTime())) throw new TmError(`--now '${text}' is not a timestamp (e.g. 2020-10-31T12:00:00Z)`);
  return date;
}

import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Who owns a lock file: a process named by its pid *and* its start time, because pids are reused
 * (a pid alone would keep a dead run's folder alive forever once another process got its number).
 * The start time is field 22 of /proc/<pid>/stat (Linux); elsewhere it is null and only the pid is
 * checked, which is weaker (a reused pid reads as the owner still alive: the folder stays, never the reverse).
 */
export interface ProcessOwner {
  readonly pid: number;
  readonly startTime: string | null;
  readonly host: string;
  /** What the process was started as, for messages (`tm run --select cold`). */
  readonly command: string;
  /** When the lock was taken (ISO), for messages. */
  readonly since: string;
}

export function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[22 - 3] ?? null;
  } catch {
    return null;
  }
}

export function currentOwner(): ProcessOwner {
  const args = process.argv.slice(2).join(' ');
  return { pid: process.pid, startTime: startTimeOf(process.pid), host: os.hostname(), command: `tm ${args}`.trim(), since: new Date().toISOString() };
}

/** False only when the owner is surely gone: on this host, and its pid is dead or now names another process. */
export function ownerAlive(owner: ProcessOwner): boolean {
  if (owner.host !== os.hostname()) return true; // another machine's process: cannot tell, assume alive
  if (owner.pid === process.pid) return owner.startTime === startTimeOf(process.pid);
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = startTimeOf(owner.pid);
  if (owner.startTime === null || now === null) return true;
  return now === owner.startTime;
}

export function parseOwner(text: string): ProcessOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<ProcessOwner>;
    if (typeof o.pid !== 'number' || typeof o.host !== 'string') return undefined;
    return { pid: o.pid, startTime: typeof o.startTime === 'string' ? o.startTime : null, host: o.host, command: String(o.command ?? ''), since: String(o.since ?? '') };
  } catch {
    return undefined;
  }
}

export function describeOwner(o: ProcessOwner): string {
  return `pid ${o.pid}${o.host !== os.hostname() ? ` on ${o.host}` : ''}${o.command ? `, '${o.command}'` : ''}${o.since ? `, since ${o.since}` : ''}`;
}

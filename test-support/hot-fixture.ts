import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeEventsParquet } from '../generator/parquet-writer.js';
import type { FixtureFile, FixtureRow } from './hot-reference.js';

/** A curated-stream folder under test: files are written for real (Parquet) and remembered for the reference. */
export interface Stream {
  readonly root: string;
  readonly files: Map<string, FixtureFile>;
  write(date: string, name: string, rows: readonly FixtureRow[]): Promise<string>;
  remove(date: string, name: string): Promise<void>;
  visible(): FixtureFile[];
}

export function stream(root: string): Stream {
  const files = new Map<string, FixtureFile>();
  return {
    root,
    files,
    async write(date, name, rows) {
      const dir = path.join(root, `event_date=${date}`);
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, name);
      await writeEventsParquet(file, rows.map((r) => ({ ...r, url: '', doi: '', keywords: '' })));
      files.set(file, { path: file, folderDate: date, rows });
      return file;
    },
    async remove(date, name) {
      const file = path.join(root, `event_date=${date}`, name);
      await rm(file);
      files.delete(file);
    },
    visible() {
      return [...files.values()];
    },
  };
}

let keySeq = 0;

/** `count` clicks of one session from `start`, every `everyMs`, cycling through `docs`. */
export function clicks(session: string, start: string, count: number, everyMs: number, docs: readonly number[], areas: string | null = ',Cardiology'): FixtureRow[] {
  const t0 = Date.parse(`${start.replace(' ', 'T')}Z`);
  return Array.from({ length: count }, (_, i) => {
    const doc = docs[i % docs.length];
    return {
      dedup_key: `k${String(++keySeq).padStart(6, '0')}`,
      event_ts: new Date(t0 + i * everyMs).toISOString().replace('T', ' ').replace('Z', ''),
      session_id: session,
      document_id: doc,
      title: `Document ${doc}`,
      clinical_areas: areas,
    };
  });
}

/** Ordinary traffic: a click every `everyMs` from `start` for `minutes`, spread over sessions, documents and areas. */
export function traffic(start: string, minutes: number, everyMs: number, seed: number): FixtureRow[] {
  const t0 = Date.parse(`${start.replace(' ', 'T')}Z`);
  const areas = [',Cardiology', 'Cardiology, Endocrinology,Cardiology', ' Neurology ', '', null, ',,Oncology', 'Endocrinology'];
  const out: FixtureRow[] = [];
  for (let t = t0, i = seed; t < t0 + minutes * 60_000; t += everyMs, i++) {
    const doc = 1 + ((i * 7) % 23);
    out.push({
      dedup_key: `k${String(++keySeq).padStart(6, '0')}`,
      event_ts: new Date(t).toISOString().replace('T', ' ').replace('Z', ''),
      session_id: `s${String((i * 5) % 11).padStart(23, '0')}x`,
      document_id: doc,
      title: i % 9 === 0 ? `Document ${doc} (revised)` : `Document ${doc}`,
      clinical_areas: areas[i % areas.length],
    });
  }
  return out;
}

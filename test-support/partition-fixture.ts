import { writeEventsFile, type FixtureEvent } from './fixtures.js';

const AREAS = [',Cardiology, Oncology', 'Oncology', '', null, 'Surgery ,Dentistry', 'Cardiology,Cardiology'];

/** `n` events of one day, deterministic: a few sessions and documents, spread over the day. */
export function dayEvents(day: string, n: number, tag: string, options: { readonly hourFrom?: number } = {}): FixtureEvent[] {
  const from = options.hourFrom ?? 0;
  return Array.from({ length: n }, (_, i) => {
    const minute = (i * 37) % 60;
    const hour = from + ((i * 7) % (24 - from));
    return {
      dedup_key: `${tag}-${day}-${i}`,
      event_ts: `${day} ${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.${String(i % 10)}`,
      session_id: `s-${day}-${i % 5}`,
      document_id: 100 + ((i * 3) % 11),
      title: `T${100 + ((i * 3) % 11)} ${tag}${i}`,
      clinical_areas: AREAS[i % AREAS.length],
    };
  });
}

/** The same event as another day's copy: the key kept, moved to `ts` (its own day folder decides where it lands). */
export function copyAt(e: FixtureEvent, ts: string, title?: string): FixtureEvent {
  return { ...e, event_ts: ts, title: title ?? e.title };
}

export const FIRST_DAYS = ['2020-03-01', '2020-03-02', '2020-03-03', '2020-03-04', '2020-03-05'];

/** Five days of events in two files each, a few invalid rows, and copies of some events in other days. */
export async function writePartitionFixture(root: string): Promise<Record<string, FixtureEvent[]>> {
  const byDay: Record<string, FixtureEvent[]> = {};
  for (const [i, day] of FIRST_DAYS.entries()) {
    const events = dayEvents(day, 30 + i * 3, 'a');
    byDay[day] = events;
    await writeEventsFile(root, day, 'part-0.parquet', events.slice(0, 20));
    await writeEventsFile(root, day, 'part-1.parquet', [
      ...events.slice(20),
      { dedup_key: null, event_ts: `${day} 06:00:00`, session_id: 'sx', document_id: 1 },
      { dedup_key: `bad-${day}`, event_ts: `${day} 06:00:00`, session_id: null, document_id: 1 },
    ]);
  }
  // In 03-02's folder: a later copy of a 03-01 event (it loses: the event stays on 03-01), an earlier copy of a
  // 03-03 event (it wins: the event counts on 03-02), and a copy whose event_date is not its event_ts's (invalid).
  await writeEventsFile(root, '2020-03-02', 'replay-0.parquet', [
    copyAt(byDay['2020-03-01'][3], '2020-03-02 09:00:00', 'later copy'),
    copyAt(byDay['2020-03-03'][2], '2020-03-02 12:00:00', 'earlier copy'),
    copyAt(byDay['2020-03-02'][5], '2020-03-03 01:00:00'),
  ]);
  return byDay;
}

import type { Target } from '../engines/target.js';
import type { ModelStateWrite, SeenFile } from './store.js';

/**
 * The files each model has seen, as this process last read or wrote them (a `--every` loop keeps
 * them between cycles), keyed by target and model. Trusted only while the model's state row still
 * carries the run id they belong to: another process writing the model changes it.
 */
const memo = new Map<string, { readonly runId: string; readonly files: readonly SeenFile[] }>();

function keyOf(target: Target, model: string): string {
  return `${target.kind}\n${target.label}\n${target.schema}\n${model}`;
}

export function recalledSeenFiles(target: Target, model: string, runId: string | null | undefined): readonly SeenFile[] | undefined {
  const entry = memo.get(keyOf(target, model));
  return entry && runId && entry.runId === runId ? entry.files : undefined;
}

/** What the state of the model holds after a committed write: the files seen before, minus those forgotten, plus the new ones. */
export function rememberSeenFiles(target: Target, before: readonly SeenFile[], w: ModelStateWrite): void {
  const gone = new Set([...w.forget, ...w.add.map((f) => f.uri)]);
  const kept = w.resetFiles ? [] : before.filter((f) => !gone.has(f.uri) && (!w.keepPartsFrom || !f.part || f.part >= w.keepPartsFrom));
  memo.set(keyOf(target, w.model), { runId: w.runId, files: [...kept, ...w.add] });
}

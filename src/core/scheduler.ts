/** Runs nodes in dependency order, `threads` at a time; a failure skips everything downstream of it. */

export type NodeStatus = 'success' | 'error' | 'skipped';

export interface ScheduledNode {
  readonly id: string;
  /** Ids of selected nodes this one waits for (unselected ones are ignored). */
  readonly dependsOn: readonly string[];
}

export interface NodeOutcome {
  readonly id: string;
  readonly status: NodeStatus;
  /** For skipped nodes: the failed ancestor. */
  readonly cause?: string;
}

export async function runInOrder(
  nodes: readonly ScheduledNode[],
  threads: number,
  work: (id: string) => Promise<'success' | 'error'>,
  onSkip: (id: string, cause: string) => void,
): Promise<NodeOutcome[]> {
  const ids = new Set(nodes.map((n) => n.id));
  const waiting = new Map(nodes.map((n) => [n.id, new Set(n.dependsOn.filter((d) => ids.has(d) && d !== n.id))]));
  const children = new Map<string, string[]>();
  for (const n of nodes) for (const d of waiting.get(n.id)!) children.set(d, [...(children.get(d) ?? []), n.id]);
  const order = new Map(nodes.map((n, i) => [n.id, i]));
  const outcomes = new Map<string, NodeOutcome>();
  const ready: string[] = nodes.filter((n) => waiting.get(n.id)!.size === 0).map((n) => n.id);
  let running = 0;
  return new Promise((resolve, reject) => {
    const skip = (id: string, cause: string) => {
      for (const child of children.get(id) ?? []) {
        if (outcomes.has(child)) continue;
        outcomes.set(child, { id: child, status: 'skipped', cause });
        onSkip(child, cause);
        skip(child, cause);
      }
    };
    const pump = () => {
      ready.sort((a, b) => order.get(a)! - order.get(b)!);
      while (running < Math.max(1, threads) && ready.length) {
        const id = ready.shift()!;
        if (outcomes.has(id)) continue;
        running++;
        work(id)
          .then((status) => {
            outcomes.set(id, { id, status });
            if (status === 'error') skip(id, id);
            for (const child of children.get(id) ?? []) {
              const w = waiting.get(child)!;
              w.delete(id);
              if (w.size === 0 && !outcomes.has(child)) ready.push(child);
            }
          })
          .catch(reject)
          .finally(() => {
            running--;
            if (outcomes.size === nodes.length) resolve(nodes.map((n) => outcomes.get(n.id)!));
            else pump();
          });
      }
      if (running === 0 && !ready.length && outcomes.size === nodes.length) resolve(nodes.map((n) => outcomes.get(n.id)!));
    };
    if (nodes.length === 0) resolve([]);
    else pump();
  });
}

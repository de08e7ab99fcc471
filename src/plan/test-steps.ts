import { ancestors, type ProjectGraph } from '../graph/build-graph.js';
import type { Manifest } from '../manifest/types.js';
import type { SourceStep, TestStep } from './types.js';

/** What planning a test needs to know of it. */
export interface PlannedTest {
  readonly uniqueId: string;
  readonly name: string;
  /** Models it reads. */
  readonly refs: readonly string[];
  /** Sources it reads. */
  readonly sources: readonly string[];
}

/**
 * `tm build`'s tests as steps among the models: a test runs once the models it reads are built, and the
 * selected models that read what it reads wait for it, so a failing error-severity test stops its
 * models' descendants from being built on bad data (as `dbt build` does). A test on a source of which the
 * run reads no row (a partition-aware read with no changed day) is skipped: what it would check was
 * checked when it was read.
 */
export function planTestSteps(
  tests: readonly PlannedTest[], manifest: Manifest, graph: ProjectGraph, selected: readonly string[], sources: readonly SourceStep[],
): TestStep[] {
  const chosen = new Set(selected);
  const modelId = (name: string) => manifest.models.get(name)!.uniqueId;
  const unread = new Map(sources.filter((s) => s.days !== undefined && s.days.length === 0).map((s) => [s.name, 'had no changed day: nothing read to test (tm test reads every file)']));
  return tests.map((test): TestStep => {
    const reads = [...test.refs.map(modelId), ...test.sources.map((s) => manifest.sources.get(s)!.uniqueId)];
    // Waiting for the test must not close a cycle: a model the test reads (or one above it) cannot wait.
    const upstream = new Set(test.refs.map(modelId).flatMap((id) => [id, ...ancestors(graph, id)]));
    const blocks = new Set<string>();
    for (const id of reads) for (const child of graph.graph.successors(id) ?? []) if (chosen.has(child) && !upstream.has(child)) blocks.add(child);
    const idle = test.sources.find((s) => unread.has(s));
    return {
      id: test.uniqueId, name: test.name, dependsOn: test.refs.map(modelId).filter((id) => chosen.has(id)), blocks: [...blocks],
      skipReason: idle ? `source '${idle}' ${unread.get(idle)}` : undefined,
    };
  });
}

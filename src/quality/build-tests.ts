/**
 * `tm build`'s tests as nodes scheduled with the models: a test runs once the models it reads are
 * built, and the models that read those models wait for it, so a failing error-severity test stops
 * its models' descendants from being built on bad data (as `dbt build` does).
 */
import type { ExtraNode } from '../execute/run-plan.js';
import type { Log } from '../core/progress.js';
import { ancestors, type ProjectGraph } from '../graph/build-graph.js';
import { buildTestLine } from './report.js';
import { runTest, type TestRunContext } from './run-test.js';
import type { QualityTest, TestOutcome } from './types.js';

export interface ScheduledTests {
  readonly nodes: readonly ExtraNode[];
  /** Outcomes so far, in the tests' order (complete once the run is over). */
  readonly outcomes: () => TestOutcome[];
}

/**
 * `unread`: sources of which this run read no row (a partition-aware read with no changed day), with why.
 * Their tests are skipped, not run over an empty relation: what they would check was checked when it was read.
 */
export function scheduleTests(
  tests: readonly QualityTest[], graph: ProjectGraph, selected: readonly string[], ctx: TestRunContext, log: Log,
  unread: ReadonlyMap<string, string> = new Map(),
): ScheduledTests {
  const chosen = new Set(selected);
  const outcomes = new Map<string, TestOutcome>();
  const modelId = (name: string) => ctx.manifest.models.get(name)!.uniqueId;
  const nodes = tests.map((test): ExtraNode => {
    const reads = [...test.refs.map(modelId), ...test.sources.map((s) => ctx.manifest.sources.get(s)!.uniqueId)];
    // Waiting for the test must not close a cycle: a model the test reads (or one above it) cannot wait.
    const upstream = new Set(test.refs.map(modelId).flatMap((id) => [id, ...ancestors(graph, id)]));
    const blocks = new Set<string>();
    for (const id of reads) for (const child of graph.graph.successors(id) ?? []) if (chosen.has(child) && !upstream.has(child)) blocks.add(child);
    return {
      id: test.uniqueId,
      name: test.name,
      dependsOn: test.refs.map(modelId).filter((id) => chosen.has(id)),
      blocks: [...blocks],
      run: async () => {
        const idle = test.sources.find((s) => unread.has(s));
        const outcome: TestOutcome = idle
          ? { test, status: 'skipped', seconds: 0, message: `skipped: source '${idle}' ${unread.get(idle)}` }
          : await runTest(test, ctx);
        outcomes.set(test.uniqueId, outcome);
        log(buildTestLine(outcome));
        if (outcome.status === 'error' && outcome.message) log(`        ${outcome.message}`);
        return outcome.status === 'fail' || outcome.status === 'error' ? 'error' : 'success';
      },
      skip: (cause) => {
        const outcome: TestOutcome = { test, status: 'skipped', seconds: 0, message: `skipped: upstream '${cause}' failed` };
        outcomes.set(test.uniqueId, outcome);
        log(buildTestLine(outcome));
      },
    };
  });
  return { nodes, outcomes: () => tests.flatMap((t) => outcomes.get(t.uniqueId) ?? []) };
}

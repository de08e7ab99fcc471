import { buildGraph, type ProjectGraph } from '../graph/build-graph.js';
import { selectNodes } from '../graph/select.js';
import type { StateComparison } from '../graph/state-selection.js';
import type { Manifest } from '../manifest/types.js';
import { collectTests, manifestWithTests } from './collect-tests.js';
import type { QualityTest } from './types.js';

export interface TestSelection {
  readonly tests: readonly QualityTest[];
  /** The project graph with generic tests as nodes. */
  readonly graph: ProjectGraph;
}

/**
 * The tests `--select`/`--exclude` pick, with the usual grammar: a test by its name, or the tests
 * of the selected models and sources (a test comes when every model it reads is selected).
 */
export function selectTests(manifest: Manifest, select?: readonly string[], exclude?: readonly string[], state?: StateComparison): TestSelection {
  const all = collectTests(manifest);
  const graph = buildGraph(manifestWithTests(manifest, all));
  const byId = new Map(all.map((t) => [t.uniqueId, t]));
  const ids = selectNodes(graph, { select, exclude, kinds: ['test'], state });
  return { tests: ids.map((id) => byId.get(id)!), graph };
}

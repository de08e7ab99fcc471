import { selectNodes, type NodeKind } from '../graph/select.js';
import { selectTests } from '../quality/select-tests.js';
import { loadProjectContext, type CommonOptions } from './project-context.js';
import type { ModelChange } from '../state/change-category.js';
import { changesOf, stateFrom } from './state-selection.js';

export interface LsOptions extends CommonOptions {
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  readonly stateFrom?: string;
  readonly kinds?: readonly NodeKind[];
}

export interface ListedNode {
  readonly unique_id: string;
  readonly name: string;
  readonly kind: NodeKind;
  readonly path: string;
  readonly tags: readonly string[];
  readonly materialized?: string;
  /** Dashboards: how many charts. */
  readonly charts?: number;
  /** With `--state-from`: how the model differs from what that target built (absent: unchanged there). */
  readonly change?: ModelChange;
}

/** `tm ls`: the selected nodes, in run order. */
export async function ls(options: LsOptions): Promise<ListedNode[]> {
  const ctx = await loadProjectContext(options);
  // The graph with generic tests as nodes, so they can be listed and selected by name.
  const { graph } = selectTests(ctx.manifest, [], []);
  const state = await stateFrom(options, ctx);
  const changes = state ? changesOf(ctx.manifest, state) : new Map<string, ModelChange>();
  const ids = selectNodes(graph, { select: options.select, exclude: options.exclude, kinds: options.kinds ?? ['model'], state: state?.comparison });
  return ids.map((id) => {
    const node = graph.nodes.get(id)!;
    return {
      unique_id: id,
      name: node.name,
      kind: node.kind,
      path: node.path,
      tags: node.kind === 'model' ? node.config.tags : [],
      ...(node.kind === 'dashboard' ? { charts: node.charts.length } : {}),
      materialized: node.kind === 'model' ? node.config.materialized : undefined,
      ...(node.kind === 'model' && changes.has(node.name) ? { change: changes.get(node.name) } : {}),
    };
  });
}

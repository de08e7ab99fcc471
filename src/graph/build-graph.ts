/**
 * The project graph: models, sources and singular tests as nodes, with an edge from each
 * dependency to its dependent (`source -> model`, `model -> model`, `model -> test`, `model -> dashboard`).
 */
import { Graph, alg } from '@dagrejs/graphlib';

import type { Manifest, ManifestNode } from '../manifest/types.js';
import { GraphError } from './errors.js';
import { closestName, didYouMean } from '../core/suggest.js';

export interface ProjectGraph {
  /** Nodes are uniqueIds; labels are unused (look nodes up in `nodes`). Acyclic. */
  readonly graph: Graph;
  readonly manifest: Manifest;
  /** Every node by uniqueId. */
  readonly nodes: ReadonlyMap<string, ManifestNode>;
  /** Every uniqueId in the deterministic topological order of `topologicalOrder`. */
  readonly order: readonly string[];
}

/**
 * Builds and checks the graph. Throws a GraphError listing every unknown `ref`/`source`
 * (with the referencing file), or printing the cycles when the models depend on each other.
 */
export function buildGraph(manifest: Manifest): ProjectGraph {
  const nodes = new Map<string, ManifestNode>();
  for (const node of [...manifest.sources.values(), ...manifest.models.values(), ...manifest.tests.values(), ...manifest.dashboards.values()]) {
    nodes.set(node.uniqueId, node);
  }
  const graph = new Graph({ directed: true });
  for (const id of nodes.keys()) graph.setNode(id);

  const modelIds = idsByName(manifest.models.values());
  const sourceIds = idsByName(manifest.sources.values());
  const problems: string[] = [];
  for (const node of [...manifest.models.values(), ...manifest.tests.values(), ...manifest.dashboards.values()]) {
    for (const name of node.refs) {
      const from = modelIds.get(name);
      if (from === undefined) {
        problems.push(`${node.path}: ref('${name}') names no model${didYouMean(closestName(name, modelIds.keys()))}`);
      } else {
        graph.setEdge(from, node.uniqueId);
      }
    }
    for (const name of node.kind === 'dashboard' ? [] : node.sources) {
      const from = sourceIds.get(name);
      if (from === undefined) {
        problems.push(`${node.path}: source('${name}') names no source${didYouMean(closestName(name, sourceIds.keys()))}`);
      } else {
        graph.setEdge(from, node.uniqueId);
      }
    }
  }
  if (problems.length > 0) throw new GraphError(problems.sort().join('\n'));

  const cycles = findCyclePaths(graph, nodes);
  if (cycles.length > 0) {
    throw new GraphError(cycles.map((cycle) => `cycle in the model graph: ${cycle.join(' -> ')}`).join('\n'), cycles);
  }

  const partial = { graph, manifest, nodes };
  return { ...partial, order: kahn(partial, nodes.keys(), (id) => graph.predecessors(id) ?? []) };
}

/**
 * The given nodes in topological order: each after everything it depends on, even through nodes
 * not in `ids`. Among nodes that could come next, the smallest name (then uniqueId) goes first,
 * so the order is the same on every run.
 */
export function topologicalOrder(g: ProjectGraph, ids: Iterable<string>): string[] {
  const subset = new Set(ids);
  for (const id of subset) requireNode(g, id);
  if (subset.size === g.order.length) return [...g.order];

  // For each node, the subset members it depends on most directly, looking through non-members.
  const nearestMembers = new Map<string, Set<string>>();
  for (const id of g.order) {
    const members = new Set<string>();
    for (const parent of g.graph.predecessors(id) ?? []) {
      if (subset.has(parent)) members.add(parent);
      else for (const member of nearestMembers.get(parent) ?? []) members.add(member);
    }
    nearestMembers.set(id, members);
  }
  return kahn(g, subset, (id) => nearestMembers.get(id) ?? []);
}

/** uniqueIds the node depends on, directly or not; `depth` limits how many edges up (1 = parents). */
export function ancestors(g: ProjectGraph, id: string, depth?: number): Set<string> {
  return walk(g, id, depth, (v) => g.graph.predecessors(v) ?? []);
}

/** uniqueIds that depend on the node, directly or not; `depth` limits how many edges down (1 = children). */
export function descendants(g: ProjectGraph, id: string, depth?: number): Set<string> {
  return walk(g, id, depth, (v) => g.graph.successors(v) ?? []);
}

/** Direct dependencies of the node, sorted by name then uniqueId. */
export function parentsOf(g: ProjectGraph, id: string): string[] {
  requireNode(g, id);
  return sortByName(g, g.graph.predecessors(id) ?? []);
}

/** Direct dependents of the node, sorted by name then uniqueId. */
export function childrenOf(g: ProjectGraph, id: string): string[] {
  requireNode(g, id);
  return sortByName(g, g.graph.successors(id) ?? []);
}

/** The manifest node with this uniqueId; throws a GraphError for an unknown id. */
export function nodeOf(g: Pick<ProjectGraph, 'nodes'>, id: string): ManifestNode {
  return requireNode(g, id);
}

function requireNode(g: Pick<ProjectGraph, 'nodes'>, id: string): ManifestNode {
  const node = g.nodes.get(id);
  if (node === undefined) throw new GraphError(`no node '${id}' in the project graph`);
  return node;
}

function idsByName(nodes: Iterable<ManifestNode>): Map<string, string> {
  const ids = new Map<string, string>();
  for (const node of nodes) ids.set(node.name, node.uniqueId);
  return ids;
}

type NodeNames = Pick<ProjectGraph, 'nodes'>;

function compareByName(g: NodeNames, a: string, b: string): number {
  const nameA = requireNode(g, a).name;
  const nameB = requireNode(g, b).name;
  if (nameA !== nameB) return nameA < nameB ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortByName(g: NodeNames, ids: Iterable<string>): string[] {
  return [...ids].sort((a, b) => compareByName(g, a, b));
}

/** Kahn's algorithm over `ids`, taking the smallest ready node by name each step. Assumes no cycle. */
function kahn(g: NodeNames, ids: Iterable<string>, parents: (id: string) => Iterable<string>): string[] {
  const members = [...ids];
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const id of members) {
    let count = 0;
    for (const parent of parents(id)) {
      count++;
      const list = dependents.get(parent);
      if (list === undefined) dependents.set(parent, [id]);
      else list.push(id);
    }
    waitingOn.set(id, count);
  }
  // Sorted descending so the smallest ready node pops off the end.
  const ready = sortByName(g, members.filter((id) => waitingOn.get(id) === 0)).reverse();
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.pop() as string;
    order.push(id);
    for (const child of dependents.get(id) ?? []) {
      const left = (waitingOn.get(child) ?? 0) - 1;
      waitingOn.set(child, left);
      if (left === 0) insertDescending(g, ready, child);
    }
  }
  return order;
}

function insertDescending(g: NodeNames, ready: string[], id: string): void {
  let low = 0;
  let high = ready.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (compareByName(g, ready[mid], id) > 0) low = mid + 1;
    else high = mid;
  }
  ready.splice(low, 0, id);
}

/** Breadth-first walk, level by level so that `depth` counts edges. */
function walk(g: ProjectGraph, start: string, depth: number | undefined, next: (id: string) => string[]): Set<string> {
  requireNode(g, start);
  const seen = new Set<string>();
  let frontier = [start];
  for (let level = 0; frontier.length > 0 && (depth === undefined || level < depth); level++) {
    const following: string[] = [];
    for (const id of frontier) {
      for (const neighbour of next(id)) {
        if (neighbour === start || seen.has(neighbour)) continue;
        seen.add(neighbour);
        following.push(neighbour);
      }
    }
    frontier = following;
  }
  return seen;
}

/**
 * One printable cycle per strongly connected component (graphlib gives the members unordered):
 * the shortest path, along dependency edges, from the component's smallest name back to itself.
 */
function findCyclePaths(graph: Graph, nodes: ReadonlyMap<string, ManifestNode>): string[][] {
  const nameOf = (id: string): string => nodes.get(id)?.name ?? id;
  const byName = (a: string, b: string): number => compareByName({ nodes }, a, b);
  const cycles = alg.findCycles(graph).map((component) => {
    const members = new Set(component);
    const start = [...members].sort(byName)[0];
    return shortestCycle(graph, start, members, byName).map(nameOf);
  });
  return cycles.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function shortestCycle(graph: Graph, start: string, members: ReadonlySet<string>, byName: (a: string, b: string) => number): string[] {
  const cameFrom = new Map<string, string>();
  let frontier = [start];
  while (frontier.length > 0) {
    const following: string[] = [];
    for (const id of frontier) {
      for (const next of [...(graph.successors(id) ?? [])].sort(byName)) {
        if (!members.has(next)) continue;
        if (next === start) return [...pathTo(id, start, cameFrom), start];
        if (cameFrom.has(next)) continue;
        cameFrom.set(next, id);
        following.push(next);
      }
    }
    frontier = following;
  }
  return [start, start]; // unreachable for a strongly connected component
}

function pathTo(end: string, start: string, cameFrom: ReadonlyMap<string, string>): string[] {
  const path = [end];
  for (let id = end; id !== start; ) {
    id = cameFrom.get(id) as string;
    path.unshift(id);
  }
  return path;
}

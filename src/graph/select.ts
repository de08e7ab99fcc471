/**
 * Node selection with dbt's grammar: `--select 'a b'` is a union, `--select a,b` an intersection,
 * and each criterion is a method (`tag:`, `path:`, `source:`, `fqn:`, `dashboard:`, `state:` or a bare word) with
 * optional graph operators (`+x`, `x+`, `2+x`, `x+1`, `@x`).
 */
import type { ManifestNode, ModelNode } from '../manifest/types.js';
import { ancestors, descendants, nodeOf, topologicalOrder, type ProjectGraph } from './build-graph.js';
import { SelectionError } from './errors.js';
import { FINGERPRINT_PARTS, type StateComparison } from './state-selection.js';
import { closestName, didYouMean } from '../core/suggest.js';

export type NodeKind = ManifestNode['kind'];

export interface SelectOptions {
  /** Criteria to include; none (or only blanks) selects every node of `kinds`. */
  readonly select?: readonly string[];
  /** Criteria to leave out, same grammar as `select`. */
  readonly exclude?: readonly string[];
  /** Kinds of node returned; default `['model']`. */
  readonly kinds?: readonly NodeKind[];
  /** What `state:` criteria compare with (`--state-from`); a `state:` criterion without it is an error. */
  readonly state?: StateComparison;
}

/** The flag a criterion came from, used to prefix messages. */
type Flag = '--select' | '--exclude';

interface SelectorMethod {
  /** uniqueIds of the nodes, of any kind, that the value names. `value` is never empty. */
  readonly match: (g: ProjectGraph, value: string, state: StateComparison | undefined) => Set<string>;
  /** Matching nothing is an answer, not a typo (`state:modified` when nothing changed). */
  readonly mayMatchNothing?: boolean;
  /** What the value should have named, for "matches no ...". */
  readonly names: string;
  /** Values that would have matched, for a "did you mean". */
  readonly candidates: (g: ProjectGraph) => Iterable<string>;
}

/** A parsed criterion such as `2+tag:hot+`. */
interface Criterion {
  /** As written, for messages. */
  readonly text: string;
  /** Key of `selectorMethods`, or undefined for a bare word. */
  readonly method: MethodName | undefined;
  readonly value: string;
  /** Ancestors to add: undefined for none, Infinity for all, else a number of levels. */
  readonly parents: number | undefined;
  readonly children: number | undefined;
  /** `@`: descendants and all their ancestors. */
  readonly childrensParents: boolean;
}

/**
 * Selected uniqueIds in deterministic topological order (ties by name).
 * Sources come only through graph operators or `source:`/`path:`, and only when `kinds` has 'source'.
 * With 'test' in `kinds`, a singular test comes when it is selected itself (name, path) or when
 * every model it tests is selected (every source, for a test on sources only) — and it is not excluded.
 */
export function selectNodes(g: ProjectGraph, options: SelectOptions): string[] {
  const kinds = new Set<NodeKind>(options.kinds ?? ['model']);
  const select = parseCriteria(options.select, '--select');
  const exclude = parseCriteria(options.exclude, '--exclude');

  const chosen = select.length === 0 ? everythingByDefault(g) : evaluate(g, select, '--select', options.state);
  const excluded = evaluate(g, exclude, '--exclude', options.state);
  const kept = new Set([...chosen].filter((id) => !excluded.has(id)));
  if (kinds.has('test')) {
    for (const test of g.manifest.tests.values()) {
      if (!excluded.has(test.uniqueId) && testedNodesSelected(g, test.uniqueId, kept)) kept.add(test.uniqueId);
    }
  }
  return topologicalOrder(g, [...kept].filter((id) => kinds.has(nodeOf(g, id).kind)));
}

type MethodName = 'dashboard' | 'fqn' | 'path' | 'source' | 'state' | 'tag';

/** `state:` values: `new`, `modified` (new ones included, as in dbt) and `modified.<part>`. */
const STATE_VALUES = ['modified', 'new', ...FINGERPRINT_PARTS.map((part) => `modified.${part}`)];

const selectorMethods: Readonly<Record<MethodName, SelectorMethod>> = {
  tag: {
    names: 'tag',
    match: (g, value) => {
      const isWanted = matcher(value);
      return idsWhere(models(g), (model) => model.config.tags.some(isWanted));
    },
    candidates: (g) => allTags(g),
  },
  // A project-relative path (`models/cold`, `models/cold/x.sql`) or, for models, a path relative to
  // the model folder (`cold`, `cold/x.sql`): a folder selects everything under it.
  path: {
    names: 'file or folder',
    match: (g, value) => {
      const wanted = pathMatcher(value);
      return idsWhere(g.nodes.values(), (node) => pathsOf(node).some(wanted));
    },
    candidates: (g) => [...g.nodes.values()].flatMap((node) => pathsOf(node).flatMap(withParentFolders)),
  },
  // `+dashboard:realtime`: the models (and sources) a dashboard reads.
  dashboard: {
    names: 'dashboard',
    match: (g, value) => {
      const isWanted = matcher(value);
      return idsWhere(g.manifest.dashboards.values(), (dashboard) => isWanted(dashboard.name));
    },
    candidates: (g) => [...g.manifest.dashboards.values()].map((dashboard) => dashboard.name),
  },
  source: {
    names: 'source',
    match: (g, value) => {
      const isWanted = matcher(value);
      return idsWhere(g.manifest.sources.values(), (source) => isWanted(source.name));
    },
    candidates: (g) => [...g.manifest.sources.values()].map((source) => source.name),
  },
  // `state:modified+`: models whose definition differs from what the `--state-from` target built.
  state: {
    names: 'state',
    mayMatchNothing: true,
    match: (g, value, state) => {
      if (!STATE_VALUES.includes(value)) throw new SelectionError(`'state:${value}' is not a state selector; use one of ${STATE_VALUES.map((v) => `state:${v}`).join(', ')}`, `state:${value}`);
      if (!state) throw new SelectionError(`'state:${value}' compares with another target's state: name it with --state-from TARGET`, `state:${value}`);
      const part = value.startsWith('modified.') ? value.slice('modified.'.length) : undefined;
      return idsWhere(models(g), (model) => {
        if (value === 'new') return state.new.has(model.name);
        if (value === 'modified' && state.new.has(model.name)) return true;
        const parts = state.modified.get(model.name);
        return parts !== undefined && (part === undefined || parts.has(part as (typeof FINGERPRINT_PARTS)[number]));
      });
    },
    candidates: () => STATE_VALUES,
  },
  // dbt's fqn rule on models: `<project>.<folders...>.<name>`, with or without the project, '.' or '/'
  // between parts; a prefix selects everything below it, and the bare model name matches too.
  fqn: {
    names: 'model',
    match: (g, value) => {
      const wanted = value.replaceAll('/', '.');
      const isWanted = hasGlob(wanted) ? matcher(wanted) : (fqn: string) => fqn === wanted || fqn.startsWith(`${wanted}.`);
      return idsWhere(models(g), (model) => model.name === value || fqnsOf(g, model).some(isWanted));
    },
    candidates: (g) => [...models(g)].flatMap((model) => [model.name, ...fqnsOf(g, model).flatMap(withParentFqns)]),
  },
};

/** Method names a criterion may start with (`tag:hot`), sorted. */
export const selectorMethodNames: readonly string[] = Object.keys(selectorMethods).sort();

/**
 * A bare word: `*` for everything; else the models and singular tests of that name, else the
 * models with that folder anywhere in their folders (`hot` for models/hot/x.sql and
 * models/x/hot/y.sql), else the models with that tag. (One that looks like a path is a `path:`.)
 */
const bareWord: SelectorMethod = {
  names: 'model, folder or tag',
  match: (g, value) => {
    if (value === '*') return new Set(g.nodes.keys());
    const isWanted = matcher(value);
    const byName = idsWhere([...models(g), ...g.manifest.tests.values()], (node) => isWanted(node.name));
    if (byName.size > 0) return byName;
    const byFolder = idsWhere(models(g), (model) => model.folders.some(isWanted));
    if (byFolder.size > 0) return byFolder;
    return selectorMethods.tag.match(g, value, undefined);
  },
  candidates: (g) => [
    ...[...models(g), ...g.manifest.tests.values()].map((node) => node.name),
    ...[...models(g)].flatMap((model) => model.folders),
    ...allTags(g),
  ],
};

function parseCriteria(elements: readonly string[] | undefined, flag: Flag): Criterion[][] {
  const union: Criterion[][] = [];
  for (const element of elements ?? []) {
    for (const word of element.split(/\s+/).filter((w) => w !== '')) {
      union.push(word.split(',').map((part) => parseCriterion(part, word, flag)));
    }
  }
  return union;
}

function parseCriterion(text: string, word: string, flag: Flag): Criterion {
  if (text === '') throw malformed(flag, word, `has an empty part between commas`);
  let rest = text;
  const childrensParents = rest.startsWith('@');
  if (childrensParents) rest = rest.slice(1);
  const up = /^(\d*)\+/.exec(rest);
  if (up) rest = rest.slice(up[0].length);
  const down = /\+(\d*)$/.exec(rest);
  if (down) rest = rest.slice(0, -down[0].length);
  if (childrensParents && up) throw malformed(flag, text, `combines '@' with a leading '+'`);
  if (rest === '') throw malformed(flag, text, 'names nothing');

  const methodMatch = /^([A-Za-z_][\w.]*):(.*)$/.exec(rest);
  let method: MethodName | undefined;
  let value = rest;
  if (methodMatch) {
    const [, name, methodValue] = methodMatch;
    if (!isMethodName(name)) {
      const suggestion = closestName(name, selectorMethodNames);
      const meant = suggestion === undefined ? undefined : `${suggestion}:${methodValue}`;
      throw malformed(flag, text, `has an unknown method '${name}'${didYouMean(meant)}`);
    }
    if (methodValue === '') throw malformed(flag, text, `has nothing after '${name}:'`);
    method = name;
    value = methodValue;
  }
  return {
    text,
    method,
    value,
    parents: depthOf(up?.[1]),
    children: depthOf(down?.[1]),
    childrensParents,
  };
}

function isMethodName(name: string): name is MethodName {
  return selectorMethodNames.includes(name);
}

/** `+` alone means all levels; `2+` two. */
function depthOf(digits: string | undefined): number | undefined {
  if (digits === undefined) return undefined;
  return digits === '' ? Infinity : Number(digits);
}

function malformed(flag: Flag, criterion: string, problem: string): SelectionError {
  const methods = selectorMethodNames.map((name) => `${name}:`).join(', ');
  return new SelectionError(
    `${flag}: '${criterion}' ${problem}; a criterion is a bare name (model, folder or tag) or one of ${methods}, ` +
      `optionally with graph operators (+x, x+, 2+x, x+1, @x)`,
    criterion,
  );
}

/** Union of intersections. */
function evaluate(g: ProjectGraph, union: readonly (readonly Criterion[])[], flag: Flag, state: StateComparison | undefined): Set<string> {
  const selected = new Set<string>();
  for (const intersection of union) {
    const [first, ...others] = intersection.map((criterion) => evaluateCriterion(g, criterion, flag, state));
    for (const id of first) if (others.every((set) => set.has(id))) selected.add(id);
  }
  return selected;
}

function evaluateCriterion(g: ProjectGraph, criterion: Criterion, flag: Flag, state: StateComparison | undefined): Set<string> {
  const method = methodOf(criterion);
  const matched = method.match(g, criterion.value, state);
  if (matched.size === 0 && !method.mayMatchNothing) throw matchesNothing(g, criterion, method, flag);

  const selected = new Set(matched);
  const add = (ids: Iterable<string>): void => {
    for (const id of ids) selected.add(id);
  };
  for (const id of matched) {
    if (criterion.parents !== undefined) add(ancestors(g, id, finite(criterion.parents)));
    if (criterion.children !== undefined) add(withoutTests(g, descendants(g, id, finite(criterion.children))));
    if (criterion.childrensParents) {
      for (const member of [id, ...withoutTests(g, descendants(g, id))]) {
        selected.add(member);
        add(ancestors(g, member));
      }
    }
  }
  return selected;
}

/** A bare word that looks like a path (has '/' or ends in `.sql`) is a `path:`, as in dbt. */
function methodOf(criterion: Criterion): SelectorMethod {
  if (criterion.method !== undefined) return selectorMethods[criterion.method];
  return looksLikePath(criterion.value) ? selectorMethods.path : bareWord;
}

function matchesNothing(g: ProjectGraph, criterion: Criterion, method: SelectorMethod, flag: Flag): SelectionError {
  const prefix = criterion.method === undefined ? '' : `${criterion.method}:`;
  const suggestion = closestName(criterion.value, method.candidates(g));
  const meant = suggestion === undefined ? undefined : prefix + suggestion;
  return new SelectionError(
    `${flag}: '${prefix}${criterion.value}' matches no ${method.names}${didYouMean(meant)}`,
    criterion.text,
  );
}

function finite(depth: number): number | undefined {
  return depth === Infinity ? undefined : depth;
}

/**
 * Operators walk models and sources only: tests are leaves, and they join through
 * `testedNodesSelected` rather than as descendants, so `a+` does not drag in tests of other models.
 */
function withoutTests(g: ProjectGraph, ids: Iterable<string>): string[] {
  return [...ids].filter((id) => nodeOf(g, id).kind !== 'test');
}

/** With no `--select`: every model and source, tests with no dependencies; other tests follow their models. */
function everythingByDefault(g: ProjectGraph): Set<string> {
  return idsWhere(g.nodes.values(), (node) => node.kind !== 'test' || (node.refs.length === 0 && node.sources.length === 0));
}

/** A test runs along when all the models it tests are selected (all its sources, if it tests no model). */
function testedNodesSelected(g: ProjectGraph, testId: string, selected: ReadonlySet<string>): boolean {
  const parents = g.graph.predecessors(testId) ?? [];
  const modelParents = parents.filter((id) => nodeOf(g, id).kind === 'model');
  const relevant = modelParents.length > 0 ? modelParents : parents;
  return relevant.length > 0 && relevant.every((id) => selected.has(id));
}

function models(g: ProjectGraph): Iterable<ModelNode> {
  return g.manifest.models.values();
}

function allTags(g: ProjectGraph): string[] {
  return [...models(g)].flatMap((model) => model.config.tags);
}

function idsWhere<T extends ManifestNode>(nodes: Iterable<T>, predicate: (node: T) => boolean): Set<string> {
  const ids = new Set<string>();
  for (const node of nodes) if (predicate(node)) ids.add(node.uniqueId);
  return ids;
}

function hasGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/** Equality, or a glob where `*` is any run of characters and `?` one character. */
function matcher(pattern: string): (text: string) => boolean {
  if (!hasGlob(pattern)) return (text) => text === pattern;
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  const regex = new RegExp(`^${source}$`);
  return (text) => regex.test(text);
}

function looksLikePath(word: string): boolean {
  return word.includes('/') || word.endsWith('.sql');
}

function normalizePath(path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/** A folder matches the files under it; a glob must match a whole path. */
function pathMatcher(value: string): (path: string) => boolean {
  const wanted = normalizePath(value);
  if (hasGlob(wanted)) return matcher(wanted);
  return (path) => path === wanted || path.startsWith(`${wanted}/`);
}

/** The node's project-relative path and, for models, its path relative to the model folder. */
function pathsOf(node: ManifestNode): string[] {
  if (node.kind !== 'model') return [node.path];
  const fileName = node.path.slice(node.path.lastIndexOf('/') + 1);
  return [node.path, [...node.folders, fileName].join('/')];
}

function withParentFolders(path: string): string[] {
  const parts = path.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

function fqnsOf(g: ProjectGraph, model: ModelNode): string[] {
  const unscoped = [...model.folders, model.name].join('.');
  return [`${g.manifest.projectName}.${unscoped}`, unscoped];
}

function withParentFqns(fqn: string): string[] {
  const parts = fqn.split('.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
}

/** True when a criterion uses `state:` (the caller then reads the `--state-from` target first). */
export function usesStateSelector(...criteria: (readonly string[] | undefined)[]): boolean {
  return criteria.some((elements) => (elements ?? []).some((element) => /(^|[\s,@+])state:/.test(element)));
}

import { describe, expect, it } from 'vitest';

import { ancestors, buildGraph, childrenOf, descendants, parentsOf, topologicalOrder, type ProjectGraph } from './build-graph.js';
import { GraphError } from './errors.js';
import { manifest, model, singularTest, source } from '../../test-support/manifest.js';

/*
 * events -> stg_events -> int_sessions -> mart_daily_traffic -> assert_traffic_positive
 * users  -> stg_users  ---------------/  \-> mart_user_stats
 * int_sessions, stg_users -> assert_sessions_match_users;  events -> assert_events_fresh;  lonely
 */
function project(): ProjectGraph {
  return buildGraph(
    manifest([
      model('mart_user_stats', { folders: ['cold'], refs: ['stg_users'] }),
      model('mart_daily_traffic', { folders: ['cold', 'marts'], refs: ['int_sessions', 'stg_users'] }),
      model('int_sessions', { folders: ['hot'], refs: ['stg_events'] }),
      model('stg_users', { folders: ['staging'], sources: ['users'] }),
      model('stg_events', { folders: ['staging'], sources: ['events'] }),
      model('lonely'),
      source('users'),
      source('events'),
      singularTest('assert_traffic_positive', { refs: ['mart_daily_traffic'] }),
      singularTest('assert_sessions_match_users', { refs: ['int_sessions', 'stg_users'] }),
      singularTest('assert_events_fresh', { sources: ['events'] }),
    ]),
  );
}

const names = (g: ProjectGraph, ids: Iterable<string>): string[] => [...ids].map((id) => g.nodes.get(id)?.name ?? `?${id}`);
const sortedNames = (g: ProjectGraph, ids: Iterable<string>): string[] => names(g, ids).sort();

describe('buildGraph', () => {
  it('has every model, source and test, with edges from dependency to dependent', () => {
    const g = project();
    expect(g.graph.nodes().sort()).toEqual([
      'model.proj.int_sessions',
      'model.proj.lonely',
      'model.proj.mart_daily_traffic',
      'model.proj.mart_user_stats',
      'model.proj.stg_events',
      'model.proj.stg_users',
      'source.proj.events',
      'source.proj.users',
      'test.proj.assert_events_fresh',
      'test.proj.assert_sessions_match_users',
      'test.proj.assert_traffic_positive',
    ]);
    const edges = g.graph.edges().map((e) => `${g.nodes.get(e.v)?.name} -> ${g.nodes.get(e.w)?.name}`);
    expect(edges.sort()).toEqual([
      'events -> assert_events_fresh',
      'events -> stg_events',
      'int_sessions -> assert_sessions_match_users',
      'int_sessions -> mart_daily_traffic',
      'mart_daily_traffic -> assert_traffic_positive',
      'stg_events -> int_sessions',
      'stg_users -> assert_sessions_match_users',
      'stg_users -> mart_daily_traffic',
      'stg_users -> mart_user_stats',
      'users -> stg_users',
    ]);
  });

  it('orders all nodes topologically, smallest name first among ready nodes', () => {
    const g = project();
    expect(names(g, g.order)).toEqual([
      'events',
      'assert_events_fresh',
      'lonely',
      'stg_events',
      'int_sessions',
      'users',
      'stg_users',
      'assert_sessions_match_users',
      'mart_daily_traffic',
      'assert_traffic_positive',
      'mart_user_stats',
    ]);
  });

  it('reports an unknown ref with the file and a suggestion', () => {
    const build = () => buildGraph(manifest([model('int_sessions'), model('mart', { folders: ['cold'], refs: ['int_sesions'] })]));
    expect(build).toThrow(GraphError);
    expect(build).toThrow("models/cold/mart.sql: ref('int_sesions') names no model (did you mean 'int_sessions'?)");
  });

  it('reports an unknown source, without a suggestion when nothing is close', () => {
    const build = () => buildGraph(manifest([source('events'), model('stg', { sources: ['clickstream'] })]));
    expect(build).toThrow(new GraphError("models/stg.sql: source('clickstream') names no source"));
  });

  it('lists every unknown name, sorted by file', () => {
    const build = () =>
      buildGraph(
        manifest([
          source('events'),
          model('b', { refs: ['nope'] }),
          model('a', { sources: ['evnts'] }),
          singularTest('t', { refs: ['a', 'bb'] }),
        ]),
      );
    expect(build).toThrow(
      [
        "models/a.sql: source('evnts') names no source (did you mean 'events'?)",
        "models/b.sql: ref('nope') names no model",
        "tests/t.sql: ref('bb') names no model (did you mean 'b'?)",
      ].join('\n'),
    );
  });
});

describe('cycles', () => {
  function cycleError(models: Parameters<typeof manifest>[0]): GraphError {
    try {
      buildGraph(manifest(models));
    } catch (error) {
      if (error instanceof GraphError) return error;
      throw error;
    }
    throw new Error('expected a GraphError');
  }

  it('prints the cycle from its smallest name, along dependency edges', () => {
    // c refs b, b refs a, a refs c: a -> b -> c -> a; d hangs off the cycle and is not part of it.
    const error = cycleError([
      model('c', { refs: ['b'] }),
      model('a', { refs: ['c'] }),
      model('b', { refs: ['a'] }),
      model('d', { refs: ['c'] }),
    ]);
    expect(error.message).toBe('cycle in the model graph: a -> b -> c -> a');
    expect(error.cycles).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('prints the shortest way round when the cycle has chords', () => {
    // a -> b -> c -> d -> a, plus b -> d: shortest is a -> b -> d -> a.
    const error = cycleError([
      model('a', { refs: ['d'] }),
      model('b', { refs: ['a'] }),
      model('c', { refs: ['b'] }),
      model('d', { refs: ['c', 'b'] }),
    ]);
    expect(error.message).toBe('cycle in the model graph: a -> b -> d -> a');
  });

  it('prints a model that refs itself and every separate cycle', () => {
    const error = cycleError([
      model('y', { refs: ['x'] }),
      model('x', { refs: ['y'] }),
      model('self', { refs: ['self'] }),
      model('ok'),
    ]);
    expect(error.message).toBe(['cycle in the model graph: self -> self', 'cycle in the model graph: x -> y -> x'].join('\n'));
  });
});

describe('graph helpers', () => {
  const g = project();
  const id = (name: string): string => [...g.nodes.values()].find((n) => n.name === name)?.uniqueId ?? name;

  it('gives parents and children sorted by name', () => {
    expect(names(g, parentsOf(g, id('mart_daily_traffic')))).toEqual(['int_sessions', 'stg_users']);
    expect(names(g, childrenOf(g, id('stg_users')))).toEqual(['assert_sessions_match_users', 'mart_daily_traffic', 'mart_user_stats']);
    expect(parentsOf(g, id('events'))).toEqual([]);
  });

  it('walks ancestors, all or to a depth', () => {
    expect(sortedNames(g, ancestors(g, id('mart_daily_traffic')))).toEqual(['events', 'int_sessions', 'stg_events', 'stg_users', 'users']);
    expect(sortedNames(g, ancestors(g, id('mart_daily_traffic'), 1))).toEqual(['int_sessions', 'stg_users']);
    expect(sortedNames(g, ancestors(g, id('mart_daily_traffic'), 2))).toEqual(['int_sessions', 'stg_events', 'stg_users', 'users']);
    expect(sortedNames(g, ancestors(g, id('mart_daily_traffic'), 0))).toEqual([]);
  });

  it('walks descendants, all or to a depth', () => {
    expect(sortedNames(g, descendants(g, id('events')))).toEqual([
      'assert_events_fresh',
      'assert_sessions_match_users',
      'assert_traffic_positive',
      'int_sessions',
      'mart_daily_traffic',
      'stg_events',
    ]);
    expect(sortedNames(g, descendants(g, id('events'), 1))).toEqual(['assert_events_fresh', 'stg_events']);
    expect(sortedNames(g, descendants(g, id('lonely')))).toEqual([]);
  });

  it('rejects an unknown id', () => {
    expect(() => ancestors(g, 'model.proj.nope')).toThrow(new GraphError("no node 'model.proj.nope' in the project graph"));
  });

  it('orders a subset by dependencies through nodes outside it', () => {
    // b_base -> z_mid -> a_top: a name sort would put a_top first.
    const chain = buildGraph(manifest([model('a_top', { refs: ['z_mid'] }), model('z_mid', { refs: ['b_base'] }), model('b_base'), model('c_free')]));
    expect(names(chain, topologicalOrder(chain, ['model.proj.a_top', 'model.proj.c_free', 'model.proj.b_base']))).toEqual(['b_base', 'a_top', 'c_free']);
    expect(names(g, topologicalOrder(g, [id('mart_user_stats'), id('lonely'), id('users')]))).toEqual(['lonely', 'users', 'mart_user_stats']);
  });
});

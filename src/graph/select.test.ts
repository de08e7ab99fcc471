import { describe, expect, it } from 'vitest';

import { buildGraph, type ProjectGraph } from './build-graph.js';
import { SelectionError } from './errors.js';
import { selectNodes, selectorMethodNames, type SelectOptions } from './select.js';
import type { FingerprintPart } from './state-selection.js';
import { manifest, model, singularTest, source } from '../../test-support/manifest.js';

/*
 * events -> stg_events -> int_sessions -> mart_daily_traffic -> assert_traffic_positive
 * users  -> stg_users  ---------------/  \-> mart_user_stats
 * int_sessions, stg_users -> assert_sessions_match_users;  events -> assert_events_fresh;  lonely
 *
 * folders: staging (stg_*), hot (int_sessions), cold (both marts), cold/marts (mart_daily_traffic)
 * tags: hot (stg_events), cold (stg_users, both marts), daily (mart_daily_traffic), nightly (lonely)
 */
const g: ProjectGraph = buildGraph(
  manifest([
    model('mart_user_stats', { folders: ['cold'], refs: ['stg_users'], tags: ['cold'] }),
    model('mart_daily_traffic', { folders: ['cold', 'marts'], refs: ['int_sessions', 'stg_users'], tags: ['cold', 'daily'] }),
    model('int_sessions', { folders: ['hot'], refs: ['stg_events'] }),
    model('stg_users', { folders: ['staging'], sources: ['users'], tags: ['cold'] }),
    model('stg_events', { folders: ['staging'], sources: ['events'], tags: ['hot'] }),
    model('lonely', { tags: ['nightly'] }),
    source('users'),
    source('events'),
    singularTest('assert_traffic_positive', { refs: ['mart_daily_traffic'] }),
    singularTest('assert_sessions_match_users', { refs: ['int_sessions', 'stg_users'] }),
    singularTest('assert_events_fresh', { sources: ['events'] }),
  ]),
);

/** Selected node names, in the returned order. */
function pick(select: string | readonly string[] | undefined, options: Omit<SelectOptions, 'select'> = {}): string[] {
  const selectList = typeof select === 'string' ? [select] : select;
  return selectNodes(g, { ...options, select: selectList }).map((id) => g.nodes.get(id)?.name ?? `?${id}`);
}

function selectionError(run: () => unknown): SelectionError {
  try {
    run();
  } catch (error) {
    if (error instanceof SelectionError) return error;
    throw error;
  }
  throw new Error('expected a SelectionError');
}

const ALL_MODELS = ['lonely', 'stg_events', 'int_sessions', 'stg_users', 'mart_daily_traffic', 'mart_user_stats'];
const VALID = `a criterion is a bare name (model, folder or tag) or one of dashboard:, fqn:, path:, source:, state:, tag:, optionally with graph operators (+x, x+, 2+x, x+1, @x)`;

describe('no selection', () => {
  it('selects every model in topological order, ties by name', () => {
    expect(pick(undefined)).toEqual(ALL_MODELS);
    expect(pick([])).toEqual(ALL_MODELS);
    expect(pick(['  ', ''])).toEqual(ALL_MODELS);
  });

  it('selects every node of the requested kinds', () => {
    expect(pick(undefined, { kinds: ['model', 'source', 'test'] })).toEqual([
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
    expect(pick(undefined, { kinds: ['source'] })).toEqual(['events', 'users']);
    expect(pick(undefined, { kinds: ['test'] })).toEqual(['assert_events_fresh', 'assert_sessions_match_users', 'assert_traffic_positive']);
  });

  it('keeps tests with no dependencies', () => {
    const alone = buildGraph(manifest([model('m'), singularTest('free')]));
    expect(selectNodes(alone, { kinds: ['model', 'test'] })).toEqual(['test.proj.free', 'model.proj.m']);
  });
});

describe('bare words', () => {
  it('match a model name', () => {
    expect(pick('int_sessions')).toEqual(['int_sessions']);
  });

  it('match a folder anywhere in the model folders', () => {
    expect(pick('cold')).toEqual(['mart_daily_traffic', 'mart_user_stats']);
    expect(pick('marts')).toEqual(['mart_daily_traffic']);
    expect(pick('staging')).toEqual(['stg_events', 'stg_users']);
  });

  it('prefer a folder over a tag of the same name', () => {
    // stg_events is tagged hot, but models/hot exists.
    expect(pick('hot')).toEqual(['int_sessions']);
  });

  it('fall back to a tag', () => {
    expect(pick('nightly')).toEqual(['lonely']);
    expect(pick('daily')).toEqual(['mart_daily_traffic']);
  });

  it('prefer a model name over a folder of the same name', () => {
    const clash = buildGraph(manifest([model('cold'), model('x', { folders: ['cold'] })]));
    expect(selectNodes(clash, { select: ['cold'] })).toEqual(['model.proj.cold']);
  });

  it('accept * for everything and globs', () => {
    expect(pick('*')).toEqual(ALL_MODELS);
    expect(pick('*', { kinds: ['source'] })).toEqual(['events', 'users']);
    expect(pick('mart_*')).toEqual(['mart_daily_traffic', 'mart_user_stats']);
    expect(pick('stg_?sers')).toEqual(['stg_users']);
  });

  it('are paths when they look like one', () => {
    expect(pick('models/staging')).toEqual(['stg_events', 'stg_users']);
    expect(pick('models/cold/mart_user_stats.sql')).toEqual(['mart_user_stats']);
    expect(pick('lonely.sql')).toEqual(['lonely']);
  });
});

describe('methods', () => {
  it('tag: selects models carrying the tag', () => {
    expect(pick('tag:cold')).toEqual(['stg_users', 'mart_daily_traffic', 'mart_user_stats']);
    expect(pick('tag:hot')).toEqual(['stg_events']);
    expect(pick('tag:*ly')).toEqual(['lonely', 'mart_daily_traffic']);
  });

  it('path: takes a project-relative folder or file', () => {
    expect(pick('path:models/cold')).toEqual(['mart_daily_traffic', 'mart_user_stats']);
    expect(pick('path:models/cold/')).toEqual(['mart_daily_traffic', 'mart_user_stats']);
    expect(pick('path:./models/cold/marts')).toEqual(['mart_daily_traffic']);
    expect(pick('path:models/cold/mart_user_stats.sql')).toEqual(['mart_user_stats']);
    expect(pick('path:models')).toEqual(ALL_MODELS);
  });

  it('path: takes a folder or file relative to the model folder', () => {
    expect(pick('path:cold')).toEqual(['mart_daily_traffic', 'mart_user_stats']);
    expect(pick('path:cold/marts/mart_daily_traffic.sql')).toEqual(['mart_daily_traffic']);
    expect(pick('path:lonely.sql')).toEqual(['lonely']);
  });

  it('path: matches whole path segments, globs whole paths', () => {
    expect(() => pick('path:models/col')).toThrow(SelectionError);
    expect(pick('path:models/cold/*.sql')).toEqual(['mart_daily_traffic', 'mart_user_stats']);
    expect(pick('path:*/mart_user_stats.sql')).toEqual(['mart_user_stats']);
  });

  it('path: reaches sources (their YAML) and tests', () => {
    expect(pick('path:models/sources.yml', { kinds: ['source'] })).toEqual(['events', 'users']);
    expect(pick('path:tests', { kinds: ['test'] })).toEqual(['assert_events_fresh', 'assert_sessions_match_users', 'assert_traffic_positive']);
    expect(pick('tests/assert_traffic_positive.sql', { kinds: ['test'] })).toEqual(['assert_traffic_positive']);
  });

  it('source: selects a source, returned only when sources are asked for', () => {
    expect(pick('source:events')).toEqual([]);
    expect(pick('source:events', { kinds: ['model', 'source'] })).toEqual(['events']);
    expect(pick('source:*', { kinds: ['source'] })).toEqual(['events', 'users']);
  });

  it('fqn: matches folder/name prefixes, with or without the project, and the model name', () => {
    expect(pick('fqn:cold')).toEqual(['mart_daily_traffic', 'mart_user_stats']);
    expect(pick('fqn:cold/marts')).toEqual(['mart_daily_traffic']);
    expect(pick('fqn:cold.marts.mart_daily_traffic')).toEqual(['mart_daily_traffic']);
    expect(pick('fqn:proj.staging')).toEqual(['stg_events', 'stg_users']);
    expect(pick('fqn:proj')).toEqual(ALL_MODELS);
    expect(pick('fqn:lonely')).toEqual(['lonely']);
    expect(pick('fqn:staging.stg_*')).toEqual(['stg_events', 'stg_users']);
    // Unlike a bare word, fqn: does not match an inner folder.
    expect(() => pick('fqn:marts')).toThrow(SelectionError);
  });
});

describe('graph operators', () => {
  it('+x adds all ancestors', () => {
    expect(pick('+mart_daily_traffic')).toEqual(['stg_events', 'int_sessions', 'stg_users', 'mart_daily_traffic']);
    expect(pick('+mart_daily_traffic', { kinds: ['model', 'source'] })).toEqual([
      'events',
      'stg_events',
      'int_sessions',
      'users',
      'stg_users',
      'mart_daily_traffic',
    ]);
  });

  it('n+x adds ancestors up to n levels', () => {
    expect(pick('1+mart_daily_traffic')).toEqual(['int_sessions', 'stg_users', 'mart_daily_traffic']);
    expect(pick('2+mart_daily_traffic', { kinds: ['model', 'source'] })).toEqual([
      'stg_events',
      'int_sessions',
      'users',
      'stg_users',
      'mart_daily_traffic',
    ]);
  });

  it('x+ adds all descendants, x+n up to n levels', () => {
    expect(pick('stg_events+')).toEqual(['stg_events', 'int_sessions', 'mart_daily_traffic']);
    expect(pick('stg_events+1')).toEqual(['stg_events', 'int_sessions']);
    expect(pick('source:users+')).toEqual(['stg_users', 'mart_daily_traffic', 'mart_user_stats']);
  });

  it('+x+ adds both', () => {
    expect(pick('+int_sessions+')).toEqual(['stg_events', 'int_sessions', 'mart_daily_traffic']);
  });

  it('@x adds descendants and all their ancestors', () => {
    expect(pick('int_sessions+')).toEqual(['int_sessions', 'mart_daily_traffic']);
    expect(pick('@int_sessions')).toEqual(['stg_events', 'int_sessions', 'stg_users', 'mart_daily_traffic']);
    expect(pick('@stg_users', { kinds: ['model', 'source'] })).toEqual([
      'events',
      'stg_events',
      'int_sessions',
      'users',
      'stg_users',
      'mart_daily_traffic',
      'mart_user_stats',
    ]);
  });

  it('apply to every node a method matches', () => {
    expect(pick('+tag:hot+1')).toEqual(['stg_events', 'int_sessions']);
    expect(pick('1+path:models/cold')).toEqual(['int_sessions', 'stg_users', 'mart_daily_traffic', 'mart_user_stats']);
    expect(pick('@source:events')).toEqual(['stg_events', 'int_sessions', 'stg_users', 'mart_daily_traffic']);
  });
});

describe('set operations', () => {
  it('space-separated criteria and separate elements are a union', () => {
    expect(pick('mart_user_stats lonely')).toEqual(['lonely', 'mart_user_stats']);
    expect(pick(['mart_user_stats', 'lonely'])).toEqual(['lonely', 'mart_user_stats']);
    expect(pick('tag:hot  hot')).toEqual(['stg_events', 'int_sessions']);
  });

  it('comma-separated parts are an intersection', () => {
    expect(pick('tag:cold,cold')).toEqual(['mart_daily_traffic', 'mart_user_stats']);
    expect(pick('stg_users+,path:models/cold/marts')).toEqual(['mart_daily_traffic']);
    expect(pick('+mart_daily_traffic,+mart_user_stats')).toEqual(['stg_users']);
    expect(pick('tag:hot,cold')).toEqual([]);
  });

  it('exclude removes what its criteria match', () => {
    expect(pick('cold', { exclude: ['mart_user_stats'] })).toEqual(['mart_daily_traffic']);
    expect(pick(undefined, { exclude: ['tag:cold'] })).toEqual(['lonely', 'stg_events', 'int_sessions']);
    expect(pick(undefined, { exclude: ['stg_events+ lonely'] })).toEqual(['stg_users', 'mart_user_stats']);
    expect(pick('+mart_daily_traffic', { exclude: ['tag:cold,staging'] })).toEqual(['stg_events', 'int_sessions', 'mart_daily_traffic']);
  });
});

describe('tests', () => {
  const withTests = { kinds: ['model', 'test'] } as const;

  it('come along when every model they test is selected', () => {
    // +x reaches the source events, so the test on events comes too.
    expect(pick('+mart_daily_traffic', withTests)).toEqual([
      'assert_events_fresh',
      'stg_events',
      'int_sessions',
      'stg_users',
      'assert_sessions_match_users',
      'mart_daily_traffic',
      'assert_traffic_positive',
    ]);
    expect(pick('int_sessions stg_users', withTests)).toEqual(['int_sessions', 'stg_users', 'assert_sessions_match_users']);
  });

  it('stay out when one of their models is not selected', () => {
    expect(pick('int_sessions', withTests)).toEqual(['int_sessions']);
    // Descendants do not drag in tests of other models.
    expect(pick('stg_events+', withTests)).toEqual(['stg_events', 'int_sessions', 'mart_daily_traffic', 'assert_traffic_positive']);
  });

  it('on sources only come along with their sources', () => {
    expect(pick('source:events', { kinds: ['source', 'test'] })).toEqual(['events', 'assert_events_fresh']);
    expect(pick('source:events+', withTests)).toEqual([
      'assert_events_fresh',
      'stg_events',
      'int_sessions',
      'mart_daily_traffic',
      'assert_traffic_positive',
    ]);
    expect(pick('stg_events', withTests)).toEqual(['stg_events']);
  });

  it('can be selected by name or path', () => {
    expect(pick('assert_traffic_positive', withTests)).toEqual(['assert_traffic_positive']);
    expect(pick('assert_*', { kinds: ['test'] })).toEqual(['assert_events_fresh', 'assert_sessions_match_users', 'assert_traffic_positive']);
  });

  it('follow exclusions of their models, and can be excluded themselves', () => {
    expect(pick(undefined, { ...withTests, exclude: ['mart_daily_traffic'] })).toEqual([
      'assert_events_fresh',
      'lonely',
      'stg_events',
      'int_sessions',
      'stg_users',
      'assert_sessions_match_users',
      'mart_user_stats',
    ]);
    expect(pick('+mart_daily_traffic', { ...withTests, exclude: ['assert_sessions_match_users assert_events_fresh'] })).toEqual([
      'stg_events',
      'int_sessions',
      'stg_users',
      'mart_daily_traffic',
      'assert_traffic_positive',
    ]);
  });

  it('are not returned unless asked for', () => {
    expect(pick('assert_traffic_positive')).toEqual([]);
    expect(pick('+mart_daily_traffic')).toEqual(['stg_events', 'int_sessions', 'stg_users', 'mart_daily_traffic']);
  });
});

describe('selection errors', () => {
  it('name the word that matches nothing, with the closest name, folder or tag', () => {
    const error = selectionError(() => pick('mart_dialy_traffic'));
    expect(error.message).toBe("--select: 'mart_dialy_traffic' matches no model, folder or tag (did you mean 'mart_daily_traffic'?)");
    expect(error.criterion).toBe('mart_dialy_traffic');

    const folder = selectionError(() => pick('+stagin+'));
    expect(folder.message).toBe("--select: 'stagin' matches no model, folder or tag (did you mean 'staging'?)");
    expect(folder.criterion).toBe('+stagin+');

    expect(selectionError(() => pick('nightyl')).message).toBe(
      "--select: 'nightyl' matches no model, folder or tag (did you mean 'nightly'?)",
    );
  });

  it('leave out the suggestion when nothing is close', () => {
    expect(selectionError(() => pick('lonely', { exclude: ['zzz'] })).message).toBe("--exclude: 'zzz' matches no model, folder or tag");
  });

  it('suggest in the method spelling', () => {
    expect(selectionError(() => pick('tag:hott')).message).toBe("--select: 'tag:hott' matches no tag (did you mean 'tag:hot'?)");
    expect(selectionError(() => pick('source:evnts+')).message).toBe("--select: 'source:evnts' matches no source (did you mean 'source:events'?)");
    expect(selectionError(() => pick('path:models/col')).message).toBe(
      "--select: 'path:models/col' matches no file or folder (did you mean 'path:models/cold'?)",
    );
    expect(selectionError(() => pick('models/stagng')).message).toBe(
      "--select: 'models/stagng' matches no file or folder (did you mean 'models/staging'?)",
    );
    expect(selectionError(() => pick('fqn:cold.mart')).message).toBe("--select: 'fqn:cold.mart' matches no model (did you mean 'fqn:cold.marts'?)");
  });

  it('check every part of an intersection', () => {
    expect(selectionError(() => pick('cold,tag:nope')).message).toBe("--select: 'tag:nope' matches no tag");
  });

  it('list the valid methods for a malformed criterion', () => {
    expect(selectorMethodNames).toEqual(['dashboard', 'fqn', 'path', 'source', 'state', 'tag']);
    const empty = selectionError(() => pick('tag:'));
    expect(empty.message).toBe(`--select: 'tag:' has nothing after 'tag:'; ${VALID}`);
    expect(empty.criterion).toBe('tag:');

    expect(selectionError(() => pick('foo:bar')).message).toBe(`--select: 'foo:bar' has an unknown method 'foo'; ${VALID}`);
    expect(selectionError(() => pick('tagg:hot')).message).toBe(
      `--select: 'tagg:hot' has an unknown method 'tagg' (did you mean 'tag:hot'?); ${VALID}`,
    );
    expect(selectionError(() => pick('lonely', { exclude: ['+'] })).message).toBe(`--exclude: '+' names nothing; ${VALID}`);
    expect(selectionError(() => pick('@+lonely')).message).toBe(`--select: '@+lonely' combines '@' with a leading '+'; ${VALID}`);
    expect(selectionError(() => pick('lonely,,cold')).message).toBe(`--select: 'lonely,,cold' has an empty part between commas; ${VALID}`);
  });
});

describe('state: against another target', () => {
  const state = {
    against: 'prod',
    modified: new Map<string, ReadonlySet<FingerprintPart>>([['int_sessions', new Set(['body'])], ['stg_users', new Set(['contract', 'config'])]]),
    new: new Set(['lonely']),
  };

  it('state:modified selects the changed and the new models; + adds their descendants, as any method', () => {
    expect(pick('state:modified', { state })).toEqual(['int_sessions', 'lonely', 'stg_users']);
    expect(pick('state:modified+', { state })).toEqual(['int_sessions', 'lonely', 'stg_users', 'mart_daily_traffic', 'mart_user_stats']);
    expect(pick('state:new', { state })).toEqual(['lonely']);
  });

  it('sub-selectors say what changed; comma intersects and --exclude leaves out', () => {
    expect(pick('state:modified.body', { state })).toEqual(['int_sessions']);
    expect(pick('state:modified.contract+', { state })).toEqual(['stg_users', 'mart_daily_traffic', 'mart_user_stats']);
    expect(pick('state:modified.vars', { state })).toEqual([]);
    expect(pick('state:modified+,tag:cold', { state })).toEqual(['stg_users', 'mart_daily_traffic', 'mart_user_stats']);
    expect(pick('state:modified+', { state, exclude: ['mart_user_stats', 'state:new'] })).toEqual(['int_sessions', 'stg_users', 'mart_daily_traffic']);
  });

  it('nothing modified selects nothing, without an error', () => {
    expect(pick('state:modified+', { state: { against: 'prod', modified: new Map(), new: new Set() } })).toEqual([]);
  });

  it('an unknown state value, or no --state-from, is a clear error', () => {
    expect(selectionError(() => pick('state:changed', { state })).message).toContain("'state:changed' is not a state selector; use one of state:modified, state:new, state:modified.body");
    expect(selectionError(() => pick('state:modified+')).message).toContain('name it with --state-from TARGET');
  });
});

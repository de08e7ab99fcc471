import { describe, expect, it } from 'vitest';
import { diffFiles, isEmptyDiff } from './file-diff.js';

const f = (uri: string, size = 10, version = '1') => ({ source: 's', uri, size, version, part: '2020-01-01' });

describe('files seen against files listed', () => {
  it('finds new, changed and vanished files', () => {
    const diff = diffFiles([f('a'), f('b', 11), f('d')], [f('a'), f('b'), f('c')]);
    expect(diff.added.map((x) => x.uri)).toEqual(['b', 'd']);
    expect(diff.removed.map((x) => x.uri)).toEqual(['b', 'c']);
    expect(diff.unchanged).toBe(1);
    expect(isEmptyDiff(diff)).toBe(false);
  });

  it('a file with a new version (rewritten in place) counts as changed', () => {
    const diff = diffFiles([f('a', 10, '2')], [f('a', 10, '1')]);
    expect(diff.added).toHaveLength(1);
    expect(diff.removed).toHaveLength(1);
  });

  it('the same files: nothing to do', () => {
    expect(isEmptyDiff(diffFiles([f('a'), f('b')], [f('b'), f('a')]))).toBe(true);
  });
});

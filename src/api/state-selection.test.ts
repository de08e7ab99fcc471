import { describe, expect, it } from 'vitest';
import { manifest, model } from '../../test-support/manifest.js';
import { fingerprintParts, contractOf } from '../state/model-fingerprint.js';
import { modelFingerprint } from '../plan/values.js';
import { compareState } from './state-selection.js';

const built = model('built');
const changed = model('changed');
const legacySame = model('legacy_same');
const legacyOld = model('legacy_old');
const bare = model('bare');
const fresh = model('fresh');
const here = manifest([built, { ...changed, rawSql: 'select 2' }, legacySame, legacyOld, bare, fresh]);
const there = manifest([built, changed]);

describe('compareState', () => {
  it('compares stored parts, old whole hashes, bare relations, and calls the rest new', () => {
    const stored = {
      fingerprints: new Map([built, changed].map((m) => [m.name, { model: m.name, parts: fingerprintParts(m, there, {}), contract: contractOf(m), builtAt: '2026-01-01' }])),
      legacyHashes: new Map([['legacy_same', modelFingerprint(legacySame, here)], ['legacy_old', 'f00']]),
      relations: new Set(['built', 'changed', 'legacy_same', 'legacy_old', 'bare']),
    };
    const result = compareState(here, stored, 'prod', {});
    expect([...result.modified.keys()].sort()).toEqual(['bare', 'changed', 'legacy_old']);
    expect([...result.modified.get('changed')!]).toEqual(['body']);
    expect(result.modified.get('bare')!.size).toBe(5);
    expect([...result.new]).toEqual(['fresh']);
  });
});

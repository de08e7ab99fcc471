import { TmError } from '../core/errors.js';
import { usesStateSelector } from '../graph/select.js';
import { FINGERPRINT_PARTS, type FingerprintPart, type StateComparison } from '../graph/state-selection.js';
import type { Manifest } from '../manifest/types.js';
import { partitionedFingerprint } from '../plan/changed-partitions.js';
import { modelFingerprint } from '../plan/values.js';
import { loadTargetConfig } from '../project/load-profile.js';
import { readFingerprints, type TargetFingerprints } from '../state/fingerprints.js';
import { categorize, type ModelChange } from '../state/change-category.js';
import { fingerprintParts } from '../state/model-fingerprint.js';
import type { ProjectContext } from './project-context.js';
import { openTarget } from './runtime.js';

export interface StateSelectionOptions {
  readonly projectDir?: string;
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  /** `--state-from`: the target whose built models `state:` criteria compare with. */
  readonly stateFrom?: string;
}

/** The comparison `state:` criteria need, read from the `--state-from` target; undefined when no criterion uses `state:` and none was asked. */
export async function stateComparisonFor(options: StateSelectionOptions, ctx: ProjectContext): Promise<StateComparison | undefined> {
  return (await stateFrom(options, ctx))?.comparison;
}

/** The `--state-from` target's fingerprints and the comparison with them. */
export async function stateFrom(options: StateSelectionOptions, ctx: ProjectContext): Promise<{ readonly comparison: StateComparison; readonly stored: TargetFingerprints } | undefined> {
  if (!options.stateFrom) {
    if (usesStateSelector(options.select, options.exclude)) throw new TmError(`state: selectors compare with another target's state: name it with --state-from TARGET`, 2);
    return undefined;
  }
  const stored = await readTargetFingerprints(ctx.project.projectDir, options.stateFrom);
  return { comparison: compareState(ctx.manifest, stored, options.stateFrom), stored };
}

/** Per model new or modified: its change category, and the charts a breaking change reaches. */
export function changesOf(manifest: Manifest, state: { readonly comparison: StateComparison; readonly stored: TargetFingerprints }): Map<string, ModelChange> {
  const out = new Map<string, ModelChange>();
  for (const model of manifest.models.values()) {
    const isNew = state.comparison.new.has(model.name);
    const parts = state.comparison.modified.get(model.name);
    if (!isNew && !parts) continue;
    const ordered = parts ? FINGERPRINT_PARTS.filter((p) => parts.has(p)) : undefined;
    out.set(model.name, categorize(model, manifest, ordered, state.stored.fingerprints.get(model.name)?.contract));
  }
  return out;
}

/** Opens the named target just long enough to read its fingerprints (nothing is written to it). */
export async function readTargetFingerprints(projectDir: string, targetName: string): Promise<TargetFingerprints> {
  const config = await loadTargetConfig(projectDir, targetName);
  const target = await openTarget(config, 1);
  try {
    return await readFingerprints(target);
  } finally {
    await target.close();
  }
}

/**
 * Each model of the project against what the other target built: a stored fingerprint compares part
 * by part; a model built before parts were stored compares its whole hash (a difference marks every
 * part); a relation with no state at all counts as modified in every part; else the model is new.
 */
export function compareState(manifest: Manifest, stored: TargetFingerprints, against: string, env: NodeJS.ProcessEnv = process.env): StateComparison {
  const modified = new Map<string, ReadonlySet<FingerprintPart>>();
  const fresh = new Set<string>();
  const every = new Set<FingerprintPart>(FINGERPRINT_PARTS);
  for (const model of manifest.models.values()) {
    const previous = stored.fingerprints.get(model.name);
    if (previous) {
      const now = fingerprintParts(model, manifest, env);
      const differ = new Set(FINGERPRINT_PARTS.filter((p) => previous.parts[p] !== now[p]));
      if (differ.size) modified.set(model.name, differ);
      continue;
    }
    const legacy = stored.legacyHashes.get(model.name);
    if (legacy !== undefined) {
      if (legacy !== modelFingerprint(model, manifest) && legacy !== partitionedFingerprint(model, manifest)) modified.set(model.name, every);
    } else if (stored.relations.has(model.name)) modified.set(model.name, every);
    else fresh.add(model.name);
  }
  return { against, modified, new: fresh };
}

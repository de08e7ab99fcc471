/**
 * What `state:` selectors compare: each model of the project against the fingerprints another target
 * stored when it last built it. Computed before selection (it reads that target), handed in as data.
 */

/** The parts of a model's fingerprint, each of which `state:modified.<part>` selects. */
export const FINGERPRINT_PARTS = ['body', 'config', 'contract', 'vars', 'macros'] as const;
export type FingerprintPart = (typeof FINGERPRINT_PARTS)[number];

export interface StateComparison {
  /** The target compared with, for messages. */
  readonly against: string;
  /** Models built there whose definition differs here, by name: the parts that differ. */
  readonly modified: ReadonlyMap<string, ReadonlySet<FingerprintPart>>;
  /** Models that target has never built, by name. */
  readonly new: ReadonlySet<string>;
}

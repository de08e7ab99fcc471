import { inTargetTraits, sourceEngineTraits } from '../engines/compute/traits.js';
import type { Manifest } from '../manifest/types.js';
import type { Placement, QualityTest } from './types.js';

/**
 * A test runs where the tables it reads live: models' tables in the target, sources and `temp` models in
 * the engine that reads sources (DuckDB). A test that reads both is refused: joining them would mean copying one
 * side across, which a test should not do behind the user's back.
 */
export function placeTest(test: QualityTest, manifest: Manifest): Placement {
  const tempModels = test.refs.filter((name) => manifest.models.get(name)?.config.materialized === 'temp');
  const tables = test.refs.filter((name) => !tempModels.includes(name));
  const inDuck = [...test.sources.map((s) => `${s} (source)`), ...tempModels.map((m) => `${m} (temp model)`)];
  if (tables.length && inDuck.length) {
    return {
      runs: 'refused',
      reason:
        `test '${test.name}' reads ${tables.join(', ')} (in ${inTargetTraits.label}) and ${inDuck.join(', ')} (in ${sourceEngineTraits.label}): ` +
        `a test runs in one engine and cannot join the two; test each side on its own, or test a model built from the source`,
    };
  }
  if (inDuck.length) return { runs: 'in-source-engine', tempModels, sources: test.sources };
  return { runs: 'in-target' };
}

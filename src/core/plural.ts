import { formatCount } from './progress.js';

/** `1 model`, `2 models`, `1,204 duplicates`: a count and its noun, in the right number. */
export function counted(n: number, singular: string, plural = `${singular}s`): string {
  return `${formatCount(n)} ${n === 1 ? singular : plural}`;
}

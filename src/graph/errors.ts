/**
 * Errors of the project graph and of node selection: user mistakes, so TmErrors (exit code 2)
 * whose message the CLI prints as is.
 */
import { TmError } from '../core/errors.js';

/** The project's dependencies are broken: an unknown `ref`/`source`, or a cycle. */
export class GraphError extends TmError {
  /** Every cycle found, each as node names from the first back to itself (`['a', 'b', 'a']`). Empty for other errors. */
  readonly cycles: readonly (readonly string[])[];

  constructor(message: string, cycles: readonly (readonly string[])[] = []) {
    super(message);
    this.name = 'GraphError';
    this.cycles = cycles;
  }
}

/** A `--select`/`--exclude` criterion that is malformed or matches nothing. */
export class SelectionError extends TmError {
  constructor(
    message: string,
    /** The criterion as the user wrote it, e.g. `+tag:hot`. */
    readonly criterion: string,
  ) {
    super(message);
    this.name = 'SelectionError';
  }
}

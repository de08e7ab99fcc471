import type { Command } from 'commander';

/** `tm status` (freshness of incremental models). */
export function registerStatusCommand(_program: Command): void {}

import type { Command } from 'commander';

/** `tm test` and `tm build` (data quality). */
export function registerQualityCommands(_program: Command): void {}

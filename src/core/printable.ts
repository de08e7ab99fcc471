/**
 * Text from outside the project (file and folder names in a lake, values in errors) can carry
 * terminal escape sequences that rewrite what a user sees. tm itself prints no control character
 * but newline and tab, so every other one is shown as `\xNN` on the CLI's stdout and stderr.
 */

// C0 controls but tab and newline, DEL, and the C1 controls (U+0080..U+009F: CSI is U+009B).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Makes the process's stdout and stderr print `printable` text (the CLI calls it once at start). */
export function guardTerminalOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => write(typeof chunk === 'string' ? printable(chunk) : chunk, ...rest)) as typeof stream.write;
  }
}

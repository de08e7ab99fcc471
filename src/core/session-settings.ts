/**
 * Settings every PostgreSQL (and PGlite) session of tm runs with, set by a statement after connecting
 * so that nothing in a URL (`?options=-c ...`, `client_encoding=...`) can change them:
 * - `standard_conforming_strings = on`: core/sql-quote.ts doubles quotes and leaves backslashes alone,
 *   which is only a closed literal when backslashes are not escapes (off, `'\''` would reopen it);
 * - `client_encoding = 'UTF8'`: in some multi-byte encodings (SJIS, BIG5, GBK) a quote can be the
 *   second byte of a character, which defeats quote doubling;
 * - UTC and ISO dates: values read back as text mean what the spec says.
 */
export const SESSION_SETTINGS_SQL = [
  'SET standard_conforming_strings = on',
  `SET client_encoding = 'UTF8'`,
  `SET TimeZone = 'UTC'`,
  `SET DateStyle = 'ISO'`,
  `SET IntervalStyle = 'postgres'`,
].join('; ');

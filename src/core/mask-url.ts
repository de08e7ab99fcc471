/**
 * The one way a connection URL leaves the process (messages, labels, Superset bundles): with every
 * secret replaced by PASSWORD_MASK. libpq and node-postgres take a password in the user info
 * (`user:pw@`) and in the `password` and `sslpassword` query parameters; a malformed URL
 * (`postgres:/user:pw@host/db`) has no user info to find, so everything between its scheme and
 * its last `@` is masked.
 */

export const PASSWORD_MASK = 'XXXXXXXXXX';

/** Query parameters whose value is a secret (libpq's names; node-postgres reads the same). */
const SECRET_PARAMS = new Set(['password', 'sslpassword']);

/** Whether `url` has the `scheme://authority` form whose user info WHATWG parsing finds. */
function parseAuthority(url: string): URL | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

export function maskUrl(url: string): string {
  const u = parseAuthority(url);
  if (u === undefined) return maskMalformed(url);
  if (u.password !== '') u.password = PASSWORD_MASK;
  for (const name of [...u.searchParams.keys()]) if (SECRET_PARAMS.has(name.toLowerCase())) u.searchParams.set(name, PASSWORD_MASK);
  return u.toString();
}

function maskMalformed(url: string): string {
  let out = url;
  const at = out.lastIndexOf('@');
  if (at >= 0) {
    const scheme = /^[a-z][a-z0-9+.-]*:\/{0,2}/i.exec(out)?.[0] ?? '';
    out = `${scheme}${PASSWORD_MASK}${out.slice(at)}`;
  }
  return out.replace(/([?&](?:ssl)?password=)[^&#]*/gi, `$1${PASSWORD_MASK}`);
}

/** The secret values a URL carries, raw and percent-decoded (for masking free text such as a driver's error). */
export function urlSecrets(url: string): string[] {
  const found: string[] = [];
  const u = parseAuthority(url);
  if (u !== undefined) {
    found.push(u.password);
    for (const [name, value] of u.searchParams) if (SECRET_PARAMS.has(name.toLowerCase())) found.push(value);
  } else {
    const at = url.lastIndexOf('@');
    if (at >= 0) {
      const userInfo = url.slice(0, at).replace(/^[a-z][a-z0-9+.-]*:\/{0,2}/i, '');
      found.push(userInfo, userInfo.slice(userInfo.indexOf(':') + 1));
    }
    for (const m of url.matchAll(/[?&](?:ssl)?password=([^&#]*)/gi)) found.push(m[1]);
  }
  const decoded = found.flatMap((s) => {
    try {
      return [s, decodeURIComponent(s)];
    } catch {
      return [s];
    }
  });
  // Longest first, so a secret that contains another is masked whole.
  return [...new Set(decoded.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
}

/** `text` with every secret of `url` masked. */
export function maskSecretsIn(text: string, url: string): string {
  let out = text;
  for (const secret of urlSecrets(url)) out = out.split(secret).join(PASSWORD_MASK);
  return out;
}

import { createHash } from 'node:crypto';

/** tm's namespace for name-based (v5) uuids of Superset objects. */
const NAMESPACE = '5b0c8f5e-7d3a-4c1e-9a52-0f6d2b7c9e14';

/** RFC 4122 version-5 uuid of `name`: the same name gives the same uuid, so a re-import overwrites. */
export function uuidFromName(name: string): string {
  const hash = createHash('sha1').update(Buffer.from(NAMESPACE.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

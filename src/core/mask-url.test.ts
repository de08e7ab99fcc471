import { describe, expect, it } from 'vitest';
import { maskSecretsIn, maskUrl, PASSWORD_MASK } from './mask-url.js';

const M = PASSWORD_MASK;

describe('maskUrl: no form of a connection URL lets its password out', () => {
  const cases: [string, string, readonly string[]][] = [
    ['user info', 'postgres://tm:s3cret@db:5432/marts', ['s3cret']],
    ['encoded user info', 'postgresql://tm:p%40ss%2Fw@db/marts', ['p%40ss%2Fw', 'p@ss/w']],
    ['password parameter', 'postgres://tm@db:5432/marts?password=s3cret&sslmode=require', ['s3cret']],
    ['sslpassword parameter, any case', 'postgres://tm@db/marts?sslmode=require&SSLPassword=k3y-pass', ['k3y-pass']],
    ['both at once', 'postgres://tm:one@db/marts?password=two&sslpassword=three', ['one', 'two', 'three']],
    ['one slash (malformed)', 'postgres:/postgres:PW@host/db', ['PW']],
    ['no slash (malformed)', 'postgres:tm:PW@host/db?password=two', ['PW', 'two']],
    ['not a URL at all', 'tm:PW@host', ['PW']],
  ];
  for (const [form, url, secrets] of cases) {
    it(form, () => {
      const masked = maskUrl(url);
      for (const secret of secrets) expect(masked).not.toContain(secret);
      expect(masked).toContain(M);
      const text = `could not connect with ${url} (${secrets.map(decodeURIComponent).join(', ')})`;
      for (const secret of secrets) expect(maskSecretsIn(text, url)).not.toContain(secret);
    });
  }

  it('keeps what is not secret: user, host, port, database, other parameters', () => {
    expect(maskUrl('postgres://tm:s3cret@db:5432/marts?password=x&sslmode=require')).toBe(`postgres://tm:${M}@db:5432/marts?password=${M}&sslmode=require`);
    expect(maskUrl('postgres://tm@db/marts')).toBe('postgres://tm@db/marts');
  });
});

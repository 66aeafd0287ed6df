import { appKeyMatches, hashSecret, importAppKey, issueAppKey, parseAppKey } from '../../lambdas/core/app-keys';

describe('app keys', () => {
  it('issues a key whose secret is stored only as a hash, and recognises it', () => {
    const { apiKey, record } = issueAppKey('checkout', { rateLimit: 200 });
    const parsed = parseAppKey(apiKey)!;
    expect(parsed.keyId).toBe(record.keyId);
    expect(JSON.stringify(record)).not.toContain(parsed.secret);
    expect(record.secretHash).toBe(hashSecret(parsed.secret));
    expect(appKeyMatches(record, parsed.secret)).toBe(true);
    expect(appKeyMatches(record, parsed.secret.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))).toBe(false);
    expect(appKeyMatches({ ...record, revokedAt: '2026-11-23T10:00:00Z' }, parsed.secret)).toBe(false);
  });

  it('addresses imported keys by a hash of themselves', () => {
    const record = importAppKey('local', 'local-ingest-key');
    const parsed = parseAppKey('local-ingest-key')!;
    expect(parsed.keyId).toBe(record.keyId);
    expect(appKeyMatches(record, parsed.secret)).toBe(true);
    expect(parseAppKey('short')).toBeUndefined();
    expect(parseAppKey(undefined)).toBeUndefined();
  });

  it('refuses bad app names and rate limits', () => {
    expect(() => issueAppKey('Checkout App')).toThrow(/app name/);
    expect(() => issueAppKey('checkout', { rateLimit: 0 })).toThrow(/rateLimit/);
  });
});

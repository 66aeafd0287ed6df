import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * App credentials. A key reads `atk_<keyId>_<secret>`: the id addresses the
 * stored record, the secret is only ever kept as its SHA-256. A fast hash is
 * right here (unlike for passwords): the secret is 256 random bits, so there
 * is nothing to brute-force, and the authorizer runs on the hot path.
 */
export interface AppKeyRecord {
  keyId: string;
  /** The app's name: stamped as `source` on every event it posts. */
  app: string;
  secretHash: string;
  createdAt: string;
  createdBy?: string;
  revokedAt?: string;
  /** Events per second; the deployment default when absent. */
  rateLimit?: number;
  /** Whether the caller's IP and user agent may fill `actor` (browser apps: yes; servers: no). */
  captureClientIp?: boolean;
}

export const APP_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Sources no app key may carry: `audit-trail` stamps the admin.* events this system records about itself. */
export const RESERVED_APP_NAMES: readonly string[] = ['audit-trail'];
const KEY_PATTERN = /^atk_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function issueAppKey(
  app: string,
  options: { createdBy?: string; rateLimit?: number; captureClientIp?: boolean; now?: Date } = {},
): { apiKey: string; record: AppKeyRecord } {
  if (!APP_NAME_PATTERN.test(app)) throw new Error('an app name is 1-63 lower-case letters, digits, dots, dashes or underscores');
  // The system's own admin events carry this source; an app under that name could forge them.
  if (RESERVED_APP_NAMES.includes(app)) throw new Error(`the app name ${app} is reserved for this system's own events`);
  if (options.rateLimit !== undefined && !(Number.isInteger(options.rateLimit) && options.rateLimit > 0)) {
    throw new Error('rateLimit must be a positive whole number of events per second');
  }
  const keyId = randomBytes(10).toString('hex').slice(0, 16);
  const secret = randomBytes(32).toString('base64url');
  const record: AppKeyRecord = {
    keyId,
    app,
    secretHash: hashSecret(secret),
    createdAt: (options.now ?? new Date()).toISOString(),
    ...(options.createdBy ? { createdBy: options.createdBy } : {}),
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...(options.captureClientIp ? { captureClientIp: true } : {}),
  };
  return { apiKey: `atk_${keyId}_${secret}`, record };
}

/** Imported keys (any other format) must still be long enough not to be guessable by hand. */
const IMPORTED_KEY_PATTERN = /^[\x21-\x7e]{16,256}$/;

/**
 * Splits a presented key into the id that addresses its record and the
 * secret to check. Keys this system issued carry their id; a key imported
 * from elsewhere (an existing app's key, the local stack's INGEST_API_KEY)
 * is addressed by a hash of itself.
 */
export function parseAppKey(apiKey: string | undefined): { keyId: string; secret: string } | undefined {
  const key = apiKey?.trim();
  if (!key) return undefined;
  const issued = KEY_PATTERN.exec(key);
  if (issued) return { keyId: issued[1], secret: issued[2] };
  return IMPORTED_KEY_PATTERN.test(key) ? { keyId: `imported-${hashSecret(key).slice(0, 16)}`, secret: key } : undefined;
}

/** A record for a key that already exists elsewhere; its secret is the whole key. */
export function importAppKey(app: string, apiKey: string, options: { createdBy?: string; rateLimit?: number; captureClientIp?: boolean; now?: Date } = {}): AppKeyRecord {
  const parsed = parseAppKey(apiKey);
  if (!parsed || !parsed.keyId.startsWith('imported-')) throw new Error('an imported key is 16-256 printable characters and not in this system\'s atk_ format');
  const { record } = issueAppKey(app, options);
  return { ...record, keyId: parsed.keyId, secretHash: hashSecret(parsed.secret) };
}

/** True when the secret matches the record and the key is not revoked. */
export function appKeyMatches(record: AppKeyRecord | undefined, secret: string): boolean {
  if (!record || record.revokedAt) return false;
  const expected = Buffer.from(record.secretHash, 'hex');
  const actual = Buffer.from(hashSecret(secret), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

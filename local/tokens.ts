import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';
import { USER_GROUPS, type UserGroup } from '../lib/declarations/routes';

/**
 * Local stand-in for Cognito: bearer tokens signed with a key kept under the
 * local data folder, carrying the same claims a Cognito ID token does
 * (`sub`, `email`, `cognito:groups`, `token_use`), so handlers read them
 * exactly as they read the Cognito authorizer's claims on AWS.
 */
const ISSUER = 'audit-trail-local';
const AUDIENCE = 'audit-trail-admin';

function signingKey(dataDir: string): Uint8Array {
  const file = join(dataDir, 'keys', 'token-signing.key');
  if (!existsSync(file)) {
    mkdirSync(join(dataDir, 'keys'), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  }
  return Buffer.from(readFileSync(file, 'utf8'), 'base64');
}

export async function issueLocalToken(dataDir: string, options: { role: UserGroup; user?: string; ttlSeconds?: number }): Promise<string> {
  if (!USER_GROUPS.includes(options.role)) throw new Error(`role must be one of ${USER_GROUPS.join(', ')}`);
  const user = options.user ?? `${options.role}@local`;
  return new SignJWT({ email: user, 'cognito:groups': [options.role], token_use: 'id' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(`local-${user}`)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? 12 * 3600))
    .sign(signingKey(dataDir));
}

/** Returns the claims as API Gateway's Cognito authorizer hands them on, or undefined for a bad token. */
export function localTokenVerifier(dataDir: string): (token: string) => Promise<Record<string, string> | undefined> {
  const key = signingKey(dataDir);
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
      // API Gateway passes claims as strings; groups arrive comma-separated.
      return Object.fromEntries(
        Object.entries(payload).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : String(value)]),
      );
    } catch {
      return undefined;
    }
  };
}

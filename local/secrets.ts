import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTIONS, type SecretDeclaration } from '../lib/declarations/functions';

/**
 * Local stand-in for the Secrets Manager secrets functions declare: each is
 * generated once (32 random bytes, base64) and kept under the data folder's
 * keys/, like the token signing key, so cursors stay valid across restarts.
 * Handlers get the value directly in the declared variable.
 */
function localSecret(dataDir: string, secret: SecretDeclaration): string {
  const dir = join(dataDir, 'keys');
  const file = join(dir, `${secret.id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}.key`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process (a second `npm start` on the same folder) made it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return readFileSync(file, 'utf8').trim();
}

/** The environment that gives every declared secret its local value. */
export function localSecretEnvironment(dataDir: string): Record<string, string> {
  const secrets = new Map(FUNCTIONS.flatMap((fn) => fn.secrets ?? []).map((secret) => [secret.id, secret]));
  return Object.fromEntries([...secrets.values()].map((secret) => [secret.valueEnvVar, localSecret(dataDir, secret)]));
}

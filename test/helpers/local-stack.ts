import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../lib/config';
import { startLocalStack, type LocalStack } from '../../local/stack';

/**
 * The local stack as the tests that seed a data set start it: DynamoDB in memory, a data folder of its own,
 * no rate limit worth the name (seeding posts far faster than an app's default allows), quiet functions.
 * The caller stops the stack and removes `dataDir`.
 */
export async function startSeededStack(name: string, ingestApiKey: string): Promise<{ stack: LocalStack; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), `audit-${name}-`));
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    ingestApiKey,
    inMemory: true,
    config: { ...DEFAULT_CONFIG, defaultAppRateLimit: 1_000_000, logLevel: 'ERROR' },
    log: () => undefined,
  });
  return { stack, dataDir };
}

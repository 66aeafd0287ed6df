import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { CURSOR_SIGNING_SECRET } from '../../lib/declarations/functions';
import { cursorKeyFromBase64, cursorKeyFromSecret } from '../core/query-cursor';

/**
 * The key that signs pagination cursors. Locally the stack passes it in
 * CURSOR_SIGNING_KEY (base64); on AWS the function gets the ARN of a
 * generated Secrets Manager secret in CURSOR_SECRET_ARN and fetches it once
 * per cold start. The value itself never sits in the function's
 * configuration.
 */
export async function loadCursorKey(env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const value = env[CURSOR_SIGNING_SECRET.valueEnvVar];
  if (value) return cursorKeyFromBase64(value);
  const arn = env[CURSOR_SIGNING_SECRET.arnEnvVar];
  if (arn) return cursorKeyFromSecret(await getSecret(arn));
  throw new Error(`neither ${CURSOR_SIGNING_SECRET.valueEnvVar} nor ${CURSOR_SIGNING_SECRET.arnEnvVar} is set`);
}

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { APP_KEYS_TABLE } from '../lib/declarations/tables';
import { localStackStateFile } from '../local/stack';

/**
 * `npm run app-key -- create --app checkout [--rate-limit 200] [--capture-client-ip]`
 * `npm run app-key -- list`
 * `npm run app-key -- revoke --key-id <id>`
 *
 * Against AWS when APP_KEYS_TABLE names the deployed table (credentials from
 * the usual AWS environment); otherwise against the running local stack.
 */
const usage = 'usage: npm run app-key -- create --app NAME [--rate-limit N] [--capture-client-ip] | list | revoke --key-id ID';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      app: { type: 'string' },
      'rate-limit': { type: 'string' },
      'capture-client-ip': { type: 'boolean', default: false },
      'key-id': { type: 'string' },
    },
  });
  if (!process.env[APP_KEYS_TABLE.envVar]) pointAtLocalStack();

  // Imported after the environment is set: the adapters read it when they are built.
  const { DynamoAppKeyStore } = await import('../lambdas/adapters/app-key-store');
  const { issueAppKey } = await import('../lambdas/core/app-keys');
  const keys = new DynamoAppKeyStore();

  switch (positionals[0]) {
    case 'create': {
      if (!values.app) throw new Error(`--app is required\n${usage}`);
      const { apiKey, record } = issueAppKey(values.app, {
        createdBy: process.env.USER ?? 'cli',
        rateLimit: values['rate-limit'] ? Number(values['rate-limit']) : undefined,
        captureClientIp: values['capture-client-ip'],
      });
      await keys.create(record);
      console.log(`Created key ${record.keyId} for app ${record.app}. The key is shown this once; store it as a secret:\n\n${apiKey}\n`);
      return;
    }
    case 'list':
      for (const key of await keys.list()) {
        console.log([key.keyId, key.app, key.createdAt, key.revokedAt ? `revoked ${key.revokedAt}` : 'active', key.rateLimit ? `${key.rateLimit}/s` : ''].join('\t'));
      }
      return;
    case 'revoke': {
      const keyId = values['key-id'];
      if (!keyId) throw new Error(`--key-id is required\n${usage}`);
      if (!(await keys.revoke(keyId))) throw new Error(`no key has id ${keyId}`);
      console.log(`Revoked ${keyId}. API Gateway may accept it for up to 5 more minutes (the authorizer cache).`);
      return;
    }
    default:
      throw new Error(usage);
  }
}

function pointAtLocalStack(): void {
  const stateFile = localStackStateFile(resolve(process.env.LOCAL_DATA_DIR ?? '.local'));
  if (!existsSync(stateFile)) {
    throw new Error('the local stack is not running (start it with `npm start`), and APP_KEYS_TABLE is not set for AWS');
  }
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  Object.assign(process.env, {
    AWS_REGION: 'local',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: state.dynamoDbEndpoint,
    ...state.tableNames,
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

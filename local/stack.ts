import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_CONFIG, functionEnvironment, type AuditTrailConfig } from '../lib/config';
import { APP_KEY_AUTHORIZER_FUNCTION } from '../lib/declarations/functions';
import { ROUTES } from '../lib/declarations/routes';
import { TABLES } from '../lib/declarations/tables';
import { adminSiteFallback } from './admin-site';
import { createLocalApi, listen, type LambdaHandler } from './api-gateway';
import { localAwsClientConfig, startDynamoDbLocal } from './dynamodb-local';
import { prepareLocalArchive } from './archive';
import { startLocalExports } from './exports';
import { localS3Env, startLocalS3 } from './s3-local';
import { startSchedules } from './schedules';
import { localWebhookEnvironment, startStreamConsumers } from './stream-consumers';
import { localSecretEnvironment } from './secrets';
import { ensureTable } from './tables';
import { localTokenVerifier } from './tokens';
import { LOCAL_METRICS_ENV } from '../lambdas/shared/metrics';

export interface LocalStackOptions {
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  /** The key local apps send as x-api-key; registered for the app `local`. */
  ingestApiKey: string;
  /** Keep DynamoDB in memory (tests); the default persists under dataDir. */
  inMemory?: boolean;
  config?: AuditTrailConfig;
  authorizerCacheSeconds?: number;
  log?: (line: string) => void;
  /**
   * Where the functions reach DynamoDB, given DynamoDB Local's endpoint (by default, directly). The fault tests
   * put a proxy there; table set-up and the stream pollers still talk to DynamoDB Local itself, as on AWS the
   * event source mapping, not the function, reads the stream.
   */
  functionsDynamoDbEndpoint?: (dynamoDbLocalEndpoint: string) => Promise<string>;
  /** Email and SMS to these SNS topics (tests mock the SNS client) instead of the local outbox file. */
  snsTopics?: { email?: string; sms?: string };
}

export interface LocalStack {
  url: string;
  dataDir: string;
  dynamoDbEndpoint: string;
  s3Endpoint: string;
  tableNames: Record<string, string>;
  stop(): Promise<void>;
}

export function localStackStateFile(dataDir: string): string {
  return join(dataDir, 'stack.json');
}

/** Reads the local contract's variables (DESIGN.md) with their defaults. */
export function localOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): LocalStackOptions {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, not ${env.PORT}`);
  return {
    port,
    dataDir: resolve(env.LOCAL_DATA_DIR ?? '.local'),
    ingestApiKey: env.INGEST_API_KEY ?? 'local-ingest-key',
  };
}

/**
 * The whole system on this machine: DynamoDB Local with the declared tables,
 * a local S3, and the Lambda handlers behind a local API Gateway. The
 * handlers are imported only after the environment points the AWS SDK at
 * the local services, exactly as Lambda would configure them.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const config = options.config ?? DEFAULT_CONFIG;
  mkdirSync(options.dataDir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
  };

  try {
    const dynamo = await startDynamoDbLocal({ dataDir: options.dataDir, inMemory: options.inMemory });
    stops.push(() => dynamo.stop());
    const s3 = await startLocalS3({ dataDir: options.dataDir });
    stops.push(() => s3.stop());

    const admin = new DynamoDBClient(localAwsClientConfig(dynamo.endpoint));
    const tableNames: Record<string, string> = {};
    for (const table of TABLES) tableNames[table.envVar] = await ensureTable(admin, table);
    admin.destroy();

    Object.assign(process.env, {
      AWS_REGION: 'local',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: options.functionsDynamoDbEndpoint ? await options.functionsDynamoDbEndpoint(dynamo.endpoint) : dynamo.endpoint,
      ...localS3Env(s3.endpoint),
      ...functionEnvironment(config),
      // Powertools Metrics would print an EMF line per invocation to this console; CloudWatch reads them on AWS only.
      ...LOCAL_METRICS_ENV,
      ...tableNames,
      // Secrets functions declare (the cursor signing key): generated once under dataDir/keys/.
      ...localSecretEnvironment(options.dataDir),
    });
    // The archive (issue 6): its bucket in the local S3, and the digest signing key pair under dataDir/keys/.
    Object.assign(process.env, await prepareLocalArchive({ dataDir: options.dataDir, s3Endpoint: s3.endpoint }));
    // Exports (issue 3): their bucket, Lambda's Invoke API for starting the export function, download links.
    const localExports = await startLocalExports({ s3Endpoint: s3.endpoint, config: config.exports ?? DEFAULT_CONFIG.exports, log });
    stops.push(() => localExports.stop());
    Object.assign(process.env, localExports.env);

    const { DynamoAppKeyStore } = await import('../lambdas/adapters/app-key-store');
    const { importAppKey } = await import('../lambdas/core/app-keys');
    const keys = new DynamoAppKeyStore();
    const localKey = importAppKey('local', options.ingestApiKey, { createdBy: 'npm start', captureClientIp: true });
    if (!(await keys.get(localKey.keyId))) await keys.create(localKey);

    const handlers: Record<string, LambdaHandler<never, never>> = {};
    for (const route of ROUTES) {
      if (route.function && !handlers[route.function.id]) {
        handlers[route.function.id] = (await import(`../${route.function.entry.replace(/\.ts$/, '')}`)).handler;
      }
    }
    const authorizerModule = await import(`../${APP_KEY_AUTHORIZER_FUNCTION.entry.replace(/\.ts$/, '')}`);

    // Rules and notifications (issue 4): the default rules once per data folder, SNS replaced by an outbox
    // file, and the stream consumers (the rule function) polling DynamoDB Local's stream as Lambda would.
    if (options.snsTopics) {
      delete process.env.LOCAL_OUTBOX_FILE;
      Object.assign(process.env, { EMAIL_TOPIC_ARN: options.snsTopics.email ?? '', SMS_TOPIC_ARN: options.snsTopics.sms ?? '' });
    } else {
      process.env.LOCAL_OUTBOX_FILE = join(options.dataDir, 'outbox.ndjson');
    }
    Object.assign(process.env, localWebhookEnvironment(options.dataDir, config.notifications?.webhooks ?? []));
    const { DynamoRuleStore } = await import('../lambdas/adapters/rule-store');
    const { DEFAULT_RULES } = await import('../lambdas/core/rules');
    await new DynamoRuleStore().ensureDefaults(DEFAULT_RULES);
    const streamConsumers = await startStreamConsumers({ dataDir: options.dataDir, dynamoDbEndpoint: dynamo.endpoint, tableNames, log });
    stops.push(() => streamConsumers.stop());
    const schedules = await startSchedules({ log });
    stops.push(() => schedules.stop());

    const adminSite = adminSiteFallback();
    let ready = false;
    const server = createLocalApi({
      routes: ROUTES,
      handlers: handlers as never,
      appKeyAuthorizer: authorizerModule.handler,
      verifyBearer: localTokenVerifier(options.dataDir),
      authorizerCacheSeconds: options.authorizerCacheSeconds,
      isReady: () => ready,
      // Export download links (presigned, checked and served like S3's), then the admin SPA at `/`.
      fallback: async (req, res) => (await localExports.fallback(req, res)) || (await adminSite(req, res)),
    });
    const port = await listen(server, options.port);
    stops.push(
      () =>
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
    );
    ready = true;
    const url = `http://127.0.0.1:${port}`;
    localExports.setApiUrl(url);
    // Links in notifications point at this stack's admin SPA unless the config names another.
    process.env.ADMIN_URL = config.notifications?.adminUrl || url;
    // Where the running stack is, for the command-line tools (npm run app-key) to find it.
    const stateFile = localStackStateFile(options.dataDir);
    writeFileSync(stateFile, JSON.stringify({ pid: process.pid, url, dynamoDbEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint, tableNames }, null, 2));
    stops.push(async () => rmSync(stateFile, { force: true }));
    return { url, dataDir: options.dataDir, dynamoDbEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint, tableNames, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

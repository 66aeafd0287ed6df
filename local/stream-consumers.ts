import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { passesStreamFilter, STREAM_CONSUMERS, type StreamConsumerDeclaration } from '../lib/declarations/streams';
import { localAwsClientConfig } from './dynamodb-local';
import { invokeHandler } from './invocations';
import { pollTableStream, type StreamBatchResult, type StreamPoller } from './streams';

/**
 * The local stand-in for Lambda's event source mappings: one poller per
 * declared stream consumer, on DynamoDB Local's real stream, with the
 * declaration's filter, batch size, window, retries and bisection. Records
 * whose retries run out are appended to `<dataDir>/dead-letters.ndjson`
 * (the on-failure SQS queue on AWS). Positions are kept under
 * `<dataDir>/streams/`, so a restart goes on where it stopped.
 *
 * Call after the environment points the SDK at the local services: the
 * handlers are imported here.
 */
export async function startStreamConsumers(options: {
  dataDir: string;
  dynamoDbEndpoint: string;
  tableNames: Record<string, string>;
  consumers?: readonly StreamConsumerDeclaration[];
  log: (line: string) => void;
}): Promise<{ stop(): Promise<void> }> {
  const pollers: StreamPoller[] = [];
  const deadLetters = join(options.dataDir, 'dead-letters.ndjson');
  for (const consumer of options.consumers ?? STREAM_CONSUMERS) {
    const module = (await import(`../${consumer.function.entry.replace(/\.ts$/, '')}`)) as {
      handler: (event: DynamoDBStreamEvent, context: Context) => Promise<StreamBatchResult>;
    };
    const poller = pollTableStream({
      clientConfig: localAwsClientConfig(options.dynamoDbEndpoint),
      tableName: options.tableNames[consumer.table.envVar]!,
      batchSize: consumer.batchSize,
      maxBatchingWindowMs: consumer.maxBatchingWindowSeconds * 1000,
      startingPosition: consumer.startingPosition,
      filter: (record) => passesStreamFilter(consumer, record),
      // Each invocation in its own context, as the API's are: log lines keep their own request ids.
      handler: (event) => invokeHandler(module.handler, event, streamContext(consumer)),
      retryAttempts: consumer.retryAttempts,
      bisectOnError: consumer.bisectOnError,
      onFailure: async (records, error) => {
        await mkdir(options.dataDir, { recursive: true });
        const line = { at: new Date().toISOString(), consumer: consumer.id, error: String((error as Error)?.message ?? error), records };
        await appendFile(deadLetters, `${JSON.stringify(line)}\n`);
        options.log(`${consumer.id}: ${records.length} record(s) sent to ${deadLetters}`);
      },
      checkpointFile: join(options.dataDir, 'streams', `${consumer.id}.json`),
      log: (line) => options.log(`${consumer.id}: ${line}`),
    });
    pollers.push(poller);
  }
  // Ready means positioned: with LATEST, anything written after this is seen.
  await Promise.all(pollers.map((poller) => poller.ready));
  return { stop: async () => void (await Promise.all(pollers.map((poller) => poller.stop()))) };
}

function streamContext(consumer: StreamConsumerDeclaration): Context {
  const deadline = Date.now() + consumer.function.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `audit-trail-${consumer.function.id}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:audit-trail-${consumer.function.id}`,
    memoryLimitInMB: String(consumer.function.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/audit-trail-${consumer.function.id}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Webhooks locally: they really post (to the configured URLs), signed with a
 * key generated once under `<dataDir>/keys/webhook-signing.key` (Secrets
 * Manager's stand-in).
 */
export function localWebhookEnvironment(dataDir: string, urls: readonly string[]): Record<string, string> {
  const file = join(dataDir, 'keys', 'webhook-signing.key');
  if (!existsSync(file)) {
    mkdirSync(join(dataDir, 'keys'), { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return { WEBHOOK_URLS: JSON.stringify(urls), WEBHOOK_SIGNING_KEY: readFileSync(file, 'utf8').trim() };
}

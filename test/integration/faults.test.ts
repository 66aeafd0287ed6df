/**
 * Faults on the local stack, met by the real code: DynamoDB unreachable or
 * throttling (a proxy between the functions and DynamoDB Local answers with
 * DynamoDB's own errors or cuts the connection; the functions keep their SDK
 * clients and retry strategy), a stream record the rule function cannot
 * finish, and SNS refusing to publish (SNS cannot run here: its client is
 * mocked, everything around it is real). The stack killed mid-ingestion is
 * test/integration/crash-recovery.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ulid } from 'ulidx';
import { createClient, unregistered } from '../../client/src';
import { DEFAULT_CONFIG } from '../../lib/config';
import { EVENTS_TABLE, NOTIFICATIONS_TABLE } from '../../lib/declarations/tables';
import { STREAM_CONSUMERS } from '../../lib/declarations/streams';
import { localAwsClientConfig } from '../../local/dynamodb-local';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { issueLocalToken } from '../../local/tokens';
import { startDynamoDbFaultProxy, type DynamoDbFaultProxy } from '../helpers/dynamodb-fault-proxy';

jest.setTimeout(120_000);

const API_KEY = 'integration-test-faults-key';
/** The AWS SDK's attempts per call (standard retry mode: one try and two retries). */
const SDK_ATTEMPTS = 3;
const EMAIL_TOPIC = 'arn:aws:sns:local:000000000000:audit-trail-email';
const sns = mockClient(SNSClient);
let proxy: DynamoDbFaultProxy;
let stack: LocalStack;
let dataDir: string;
let admin: string;
let direct: DynamoDBDocumentClient;
/** What the local stack logged: the stream pollers say how often they tried a batch. */
const stackLog: string[] = [];

beforeAll(async () => {
  // The functions log every injected fault at ERROR (as they should on AWS): their JSON log lines are kept out
  // of the test output, anything else passes.
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) =>
      String(chunk).startsWith('{"level":') ? true : write(chunk, ...rest)) as typeof stream.write);
  }
  sns.on(PublishCommand).resolves({ MessageId: 'sns-ok' });
  dataDir = mkdtempSync(join(tmpdir(), 'audit-faults-'));
  // Rules created below reach the rule function within a second.
  process.env.RULES_CACHE_SECONDS = '1';
  stack = await startLocalStack({
    port: 0,
    dataDir,
    ingestApiKey: API_KEY,
    inMemory: true,
    config: { ...DEFAULT_CONFIG, defaultAppRateLimit: 1_000_000, logLevel: 'ERROR' },
    log: (line) => void stackLog.push(line),
    functionsDynamoDbEndpoint: async (endpoint) => (proxy = await startDynamoDbFaultProxy(endpoint)).endpoint,
    snsTopics: { email: EMAIL_TOPIC },
  });
  admin = await issueLocalToken(dataDir, { role: 'admin' });
  direct = DynamoDBDocumentClient.from(new DynamoDBClient(localAwsClientConfig(stack.dynamoDbEndpoint)));
  // Warm the authorizer's cache, as a running API's would be; the authorizer failing is tested on its own below.
  expect((await post([{ type: 'fault.warmup', category: 'user_activity' }])).status).toBe(200);
}, 90_000);

afterAll(async () => {
  jest.restoreAllMocks();
  await stack?.stop();
  await proxy?.stop();
  direct?.destroy();
  sns.restore();
  delete process.env.RULES_CACHE_SECONDS;
  rmSync(dataDir, { recursive: true, force: true });
});

afterEach(() => proxy.clear());

async function post(events: Record<string, unknown>[], apiKey = API_KEY) {
  const response = await fetch(`${stack.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ events }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), json: (await response.json()) as any };
}

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as any };
}

/** The stored items among these ids, read from DynamoDB Local directly (not through the proxy). */
async function stored(ids: string[]): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < ids.length; i += 100) {
    const keys = ids.slice(i, i + 100).map((pk) => ({ pk }));
    let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = { [stack.tableNames[EVENTS_TABLE.envVar]!]: { Keys: keys } };
    while (request && Object.keys(request).length > 0) {
      const answer = await direct.send(new BatchGetCommand({ RequestItems: request }));
      for (const item of Object.values(answer.Responses ?? {}).flat()) found.set(item.pk as string, item);
      request = answer.UnprocessedKeys as typeof request;
    }
  }
  return found;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const drill = (type: string, extra: Record<string, unknown> = {}) => ({ id: ulid(), type, category: 'user_activity', ...extra });
const isEventsTable = (tableName?: string) => tableName === stack.tableNames[EVENTS_TABLE.envVar];

describe('DynamoDB unavailable', () => {
  test('ingestion answers 503 with Retry-After and stores nothing; the same request later stores every event once', async () => {
    const events = Array.from({ length: 20 }, () => drill('fault.unavailable'));
    const down = proxy.inject({ fault: 'unavailable', when: () => true });
    const refused = await post(events);
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe('1');
    expect(refused.json.error.code).toBe('service_unavailable');
    expect(down.hits).toBeGreaterThan(0);
    down.remove();

    const ids = events.map((event) => event.id);
    expect((await stored(ids)).size).toBe(0);
    const retried = await post(events);
    expect(retried.status).toBe(200);
    expect(retried.json.accepted).toBe(20);
    expect((await stored(ids)).size).toBe(20);
  });

  test('DynamoDB lost mid-batch: each event is stored whole or not at all, the answer says which, and a retry completes the batch', async () => {
    const events = Array.from({ length: 30 }, () => drill('fault.midbatch'));
    let puts = 0;
    // The first 10 event writes go through, then DynamoDB is gone.
    proxy.inject({ fault: 'drop', when: (call) => call.operation === 'PutItem' && isEventsTable(call.tableName) && ++puts > 10 });
    const partial = await post(events);
    expect(partial.status).toBe(503);
    expect(partial.retryAfter).toBe('1');
    const accepted = partial.json.results.filter((r: { status: string }) => r.status === 'accepted').map((r: { id: string }) => r.id);
    const failed = partial.json.results.filter((r: { status: string }) => r.status === 'failed').map((r: { id: string }) => r.id);
    expect(accepted.length).toBe(10);
    expect(failed.length).toBe(20);
    proxy.clear();

    const items = await stored(events.map((event) => event.id));
    expect([...items.keys()].sort()).toEqual([...accepted].sort());
    // Whole: the stored document parses and is the event that was sent.
    for (const id of accepted) expect(JSON.parse(items.get(id)!.doc as string)).toMatchObject({ id, type: 'fault.midbatch' });

    const retried = await post(events);
    expect(retried.status).toBe(200);
    expect(retried.json).toMatchObject({ accepted: 20, duplicates: 10, failed: 0 });
    expect((await stored(events.map((event) => event.id))).size).toBe(30);
  });

  test('the app-key check failing answers 503 with Retry-After, not a 500 or a 401', async () => {
    // A key the authorizer has not cached: it must read the key table, which is unreachable.
    const minted = await api('POST', '/v1/app-keys', { app: 'faults-fresh-app' });
    expect(minted.status).toBe(201);
    proxy.inject({ fault: 'drop', when: () => true });
    const refused = await post([drill('fault.authorizer')], minted.json.apiKey);
    // The authorizer threw the SDK's error (not "Unauthorized"): API Gateway's AUTHORIZER_FAILURE.
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe('1');
    expect(refused.json.error.code).toBe('service_unavailable');
  });
});

describe('DynamoDB throttling', () => {
  test('throttled writes are retried with backoff by the SDK, then by the client on 503: every event stored exactly once', async () => {
    // Every other event write throttled for the whole run: some events exhaust the SDK's attempts and come
    // back as `failed` with Retry-After; the client SDK resends exactly those.
    // One event's first SDK_ATTEMPTS writes are all throttled, so the client's own retry is certainly exercised.
    const unlucky = ulid();
    proxy.inject({ fault: 'throttle', times: SDK_ATTEMPTS, when: (call) => call.operation === 'PutItem' && call.body.includes(unlucky) });
    let writes = 0;
    const throttled = proxy.inject({ fault: 'throttle', when: (call) => call.operation === 'PutItem' && isEventsTable(call.tableName) && ++writes % 2 === 0 });
    const client = createClient({ endpoint: stack.url, apiKey: API_KEY, batchSize: 50, collapseWindowMs: 0, retry: { baseDelayMs: 50, maxDelayMs: 1_000 }, onWarning: () => undefined });
    const ids = Array.from({ length: 100 }, (_, i) => client.log({ ...(i === 0 ? { id: unlucky } : {}), type: unregistered('fault.throttled'), category: 'user_activity', page: `/t/${i}` }));
    try {
      expect(await client.flush({ timeoutMs: 90_000 })).toEqual({ pending: 0 });
    } finally {
      await client.close();
    }
    expect(throttled.hits).toBeGreaterThanOrEqual(ids.length / 2);
    // The unlucky event came back `failed` (503, Retry-After) and the client sent it again.
    expect(client.stats.retries).toBeGreaterThan(0);
    const writesOf = (id: string) => proxy.calls.filter((call) => call.operation === 'PutItem' && isEventsTable(call.tableName) && call.body.includes(id));
    for (const id of ids) {
      // Each throttled write was tried again until one went through, and only one did.
      expect(writesOf(id).filter((call) => !call.fault)).toHaveLength(1);
    }
    const items = await stored(ids);
    expect(items.size).toBe(ids.length);
    for (const id of ids) expect(JSON.parse(items.get(id)!.doc as string).id).toBe(id);
  });
});

describe('the rule function failing on one stream record', () => {
  const rules = STREAM_CONSUMERS.find((consumer) => consumer.id === 'RulesStream')!;

  test('the rest of the batch is processed, the failed record is retried, then dead-lettered, and the stream moves on', async () => {
    // Five events in one batch; the third cannot be finished.
    const created = await api('POST', '/v1/rules', { id: 'fault-drill', name: 'Fault drill', match: { type: 'fault.drill' }, channels: ['inApp'] });
    expect(created.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the rule function's rule cache (1 s here)

    const batch = Array.from({ length: 5 }, () => drill('fault.drill'));
    const poison = batch[2]!.id;
    // Every attempt to record this event's notification fails as a DynamoDB 500 would.
    const failing = proxy.inject({
      fault: 'internal-error',
      when: (call) => call.tableName === stack.tableNames[NOTIFICATIONS_TABLE.envVar] && call.operation === 'PutItem' && call.body.includes(poison),
    });
    expect((await post(batch)).status).toBe(200);

    const notified = async (eventId: string) =>
      ((await api('GET', '/v1/notifications?rule=fault-drill')).json.items as { eventId: string }[]).some((n) => n.eventId === eventId);
    const others = batch.filter((event) => event.id !== poison).map((event) => event.id);
    await waitFor(async () => ((await Promise.all(others.map(notified))).every(Boolean) ? true : undefined), 'the other four notifications', 20_000);

    const deadLetters = join(dataDir, 'dead-letters.ndjson');
    const line = await waitFor(
      async () => (existsSync(deadLetters) ? readFileSync(deadLetters, 'utf8').split('\n').find((l) => l.includes(poison)) : undefined),
      'the poison record in the dead-letter file',
      90_000,
    );
    const letter = JSON.parse(line) as { consumer: string; records: { dynamodb: { Keys: { pk: { S: string } } } }[] };
    expect(letter.consumer).toBe(rules.id);
    // As Lambda does with partial batch responses, retries resumed from the failed record: the letter starts
    // with it and may carry the records after it in the stream (ingestion writes a batch's events concurrently,
    // so that order is not the posted one), which were processed already: replaying them is harmless, the rule
    // engine is idempotent.
    const lettered = letter.records.map((record) => record.dynamodb.Keys.pk.S);
    expect(lettered[0]).toBe(poison);
    for (const id of lettered.slice(1)) expect(others).toContain(id);
    // Tried once, then retried as declared, before being given up on.
    expect(stackLog.some((line) => line.startsWith(`${rules.id}:`) && line.includes(`after ${rules.retryAttempts + 1} failed attempt(s)`))).toBe(true);
    expect(await notified(poison)).toBe(false);
    failing.remove();

    // The shard is not stuck behind it.
    const after = drill('fault.drill');
    expect((await post([after])).status).toBe(200);
    await waitFor(async () => ((await notified(after.id)) ? true : undefined), 'the next event’s notification', 20_000);
    // Only the poison record was given up on, by any consumer (the others retried through the brief outages above).
    expect(readFileSync(deadLetters, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('SNS refusing to publish', () => {
  test('the notification is recorded as failed with the reason, retried with the event, then sent once', async () => {
    const created = await api('POST', '/v1/rules', { id: 'fault-email', name: 'Fault email', match: { type: 'fault.email' }, channels: ['email', 'inApp'] });
    expect(created.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    sns.reset();
    sns.on(PublishCommand).rejects(Object.assign(new Error('Rate exceeded (injected by the test)'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    const event = drill('fault.email');
    expect((await post([event])).status).toBe(200);

    const notificationOf = async () =>
      ((await api('GET', '/v1/notifications?rule=fault-email')).json.items as any[]).find((n) => n.eventId === event.id);
    const failed = await waitFor(async () => {
      const notification = await notificationOf();
      return notification?.delivery === 'failed' ? notification : undefined;
    }, 'the notification marked failed');
    expect(failed.deliveries.email).toMatchObject({ status: 'failed', error: expect.stringContaining('Rate exceeded') });
    // Still being retried: the stream re-delivers the event while SNS refuses.
    const triesWhileDown = sns.commandCalls(PublishCommand).length;
    await waitFor(async () => (sns.commandCalls(PublishCommand).length > triesWhileDown ? true : undefined), 'another publish attempt');

    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'sns-message-1' });
    const sent = await waitFor(async () => {
      const notification = await notificationOf();
      return notification?.delivery === 'sent' ? notification : undefined;
    }, 'the notification sent');
    expect(sent.deliveries.email).toMatchObject({ status: 'sent', messageId: 'sns-message-1' });
    const published = sns.commandCalls(PublishCommand).filter((call) => call.args[0].input.TopicArn === EMAIL_TOPIC);
    expect(published).toHaveLength(1); // once it went through, it is not sent again
    expect(published[0]!.args[0].input.MessageAttributes?.type?.StringValue).toBe('fault.email');
  });
});

/**
 * Rules and notifications end to end on the local stack: events posted over
 * HTTP, DynamoDB Local's real stream polled into the rule function, the
 * outbox file standing in for SNS, and the notifications and rules APIs.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DEFAULT_CONFIG } from '../../lib/config';
import { verifyWebhook } from '../../lambdas/core/webhooks';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { localAwsClientConfig } from '../../local/dynamodb-local';
import { invokeHandler } from '../../local/invocations';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { issueLocalToken } from '../../local/tokens';

jest.setTimeout(60_000);

const API_KEY = 'integration-test-rules-key';
let stack: LocalStack;
let dataDir: string;
let viewer: string;
let admin: string;
let sentinels = 0;
/** A webhook receiver on this machine: what the rule function posted. */
let receiver: Server;
const hooks: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'audit-rules-'));
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      hooks.push({ headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/slack`;
  // Rules edited through the API reach the rule function within a second instead of 30.
  process.env.RULES_CACHE_SECONDS = '1';
  const config = { ...DEFAULT_CONFIG, notifications: { ...DEFAULT_CONFIG.notifications, webhooks: [webhookUrl] } };
  stack = await startLocalStack({ port: 0, dataDir, ingestApiKey: API_KEY, config, log: () => undefined });
  viewer = await issueLocalToken(dataDir, { role: 'viewer' });
  admin = await issueLocalToken(dataDir, { role: 'admin' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
  delete process.env.RULES_CACHE_SECONDS;
  rmSync(dataDir, { recursive: true, force: true });
});

async function post(events: Record<string, unknown>[]): Promise<string[]> {
  const response = await fetch(`${stack.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify({ events }),
  });
  const body = (await response.json()) as { results: { id: string; status: string }[] };
  expect(body.results.every((r) => r.status === 'accepted')).toBe(true);
  return body.results.map((r) => r.id);
}

async function api(method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

const notificationsOf = async (query: string) => (await api('GET', `/v1/notifications?${query}`, viewer)).json as { items: any[]; unreadCount: number };

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A critical event of a type never seen before, and its notification: once
 * it is there, everything posted before it went through the rules (the
 * local table's stream is one shard, read in order).
 */
async function drain(): Promise<void> {
  const type = `test.sentinel.s${++sentinels}`;
  const [id] = await post([{ type, category: 'system_error', severity: 'critical' }]);
  await waitFor(async () => (await notificationsOf('rule=critical-events')).items.find((n) => n.eventId === id));
}

const failedLogin = (userId: string) => ({ type: 'user.login.failed', actor: { userId, ip: '198.51.100.20' }, message: 'wrong password' });

describe('threshold rule: repeated failed logins', () => {
  let notificationId: string;

  test('5 failed logins for one user → exactly one notification within a few seconds', async () => {
    const started = Date.now();
    const ids = await post(Array.from({ length: 5 }, () => failedLogin('alice')));
    // The record appears first (outbox), then its delivery status once the channels were published.
    const found = await waitFor(async () => {
      const { items } = await notificationsOf('rule=failed-logins');
      return items.length > 0 && items[0].delivery !== 'pending' ? items : undefined;
    }, 5_000);
    const latency = Date.now() - started;
    console.log(`event → notification latency: ${latency} ms`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ ruleId: 'failed-logins', group: 'alice', count: 5, eventIds: ids, status: 'new', delivery: 'sent' });
    // The event that completed the threshold (the batch is written concurrently, so the stream's order is not the posting order).
    expect(ids).toContain(found[0].eventId);
    expect(found[0].deliveries.email).toMatchObject({ status: 'sent', messageId: expect.stringMatching(/^local-/) });
    expect(found[0].deliveries.sms).toMatchObject({ status: 'sent' });
    notificationId = found[0].id;

    // The outbox (SNS's stand-in) got one email and one SMS, with attributes and the link.
    const lines = readFileSync(join(dataDir, 'outbox.ndjson'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const mine = lines.filter((line) => line.notificationId === notificationId);
    expect(mine.map((line) => line.channel).sort()).toEqual(['email', 'sms']);
    const email = mine.find((line) => line.channel === 'email');
    expect(email.attributes).toEqual({ severity: 'warning', category: 'security', type: 'user.login.failed', rule: 'failed-logins' });
    expect(email.text).toContain(`${stack.url}/#/events/${found[0].eventId}`);
    expect(mine.find((line) => line.channel === 'sms').text.length).toBeLessThanOrEqual(160);
  });

  test('4 failed logins for another user → none', async () => {
    await post(Array.from({ length: 4 }, () => failedLogin('bob')));
    await drain();
    const { items } = await notificationsOf('rule=failed-logins');
    expect(items.map((n) => n.group)).toEqual(['alice']);
  });

  test('10 more for the first user → still one (throttled for 30 minutes)', async () => {
    await post(Array.from({ length: 10 }, () => failedLogin('alice')));
    await drain();
    const { items } = await notificationsOf('rule=failed-logins');
    expect(items).toHaveLength(1);
    expect(items[0].id).toBe(notificationId);
  });

  test('a batch delivered again after a crash mid-way creates and sends nothing twice', async () => {
    // Replay the stream records of the first five events straight into the rule function, twice.
    const client = DynamoDBDocumentClient.from(new DynamoDBClient(localAwsClientConfig(stack.dynamoDbEndpoint)));
    const { items } = await notificationsOf('rule=failed-logins');
    const eventIds: string[] = items[0].eventIds;
    const records = [];
    for (const [i, id] of eventIds.entries()) {
      const { Item } = await client.send(new GetCommand({ TableName: stack.tableNames.EVENTS_TABLE, Key: { pk: id } }));
      records.push({ eventID: `replay-${i}`, eventName: 'INSERT', eventSource: 'aws:dynamodb', dynamodb: { SequenceNumber: `9${i}`, NewImage: marshall(Item!) } });
    }
    client.destroy();
    const outboxBefore = readFileSync(join(dataDir, 'outbox.ndjson'), 'utf8');
    const { handler } = (await import('../../lambdas/rules/handler')) as unknown as { handler: (e: DynamoDBStreamEvent, c: Context) => Promise<{ batchItemFailures: unknown[] }> };
    const context = { functionName: 'rules', awsRequestId: 'replay', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(await invokeHandler(handler, { Records: records } as DynamoDBStreamEvent, context)).toEqual({ batchItemFailures: [] });
    }
    expect(readFileSync(join(dataDir, 'outbox.ndjson'), 'utf8')).toBe(outboxBefore);
    expect((await notificationsOf('rule=failed-logins')).items).toHaveLength(1);
  });
});

describe('critical events', () => {
  test('a critical event → one notification, linking the event and its record', async () => {
    const [id] = await post([{ type: 'security.suspicious_activity', severity: 'critical', actor: { userId: 'carol' }, record: { type: 'account', id: 'ACC-9' } }]);
    const notification = await waitFor(async () => (await notificationsOf('rule=critical-events')).items.find((n) => n.eventId === id));
    expect(notification).toMatchObject({ severity: 'critical', record: { type: 'account', id: 'ACC-9' }, count: 1 });
    const critical = await notificationsOf('severity=critical&rule=critical-events');
    expect(critical.items.filter((n) => n.eventId === id)).toHaveLength(1);
  });
});

describe('notification workflow', () => {
  test('new → read (viewer) → resolved with a note (admin), who and when recorded, unread count follows', async () => {
    const [id] = await post([{ type: 'security.suspicious_activity', severity: 'critical', actor: { userId: 'dave' }, message: 'workflow' }]);
    // Same type as the test above: the critical rule's 5-minute throttle per type applies, so use another type.
    const [id2] = await post([{ type: 'test.workflow.critical', category: 'security', severity: 'critical', actor: { userId: 'dave' } }]);
    const notification = await waitFor(async () => (await notificationsOf('status=new')).items.find((n) => n.eventId === id2));
    expect((await notificationsOf('status=new')).items.some((n) => n.eventId === id)).toBe(false); // throttled
    const unreadBefore = (await notificationsOf('')).unreadCount;
    expect(unreadBefore).toBeGreaterThanOrEqual(1);

    const read = await api('PATCH', `/v1/notifications/${notification.id}`, viewer, { status: 'read' });
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ status: 'read', readBy: 'viewer@local', readAt: expect.any(String) });
    expect((await notificationsOf('')).unreadCount).toBe(unreadBefore - 1);
    expect((await notificationsOf('status=read')).items.map((n) => n.id)).toContain(notification.id);
    expect((await notificationsOf('status=new')).items.map((n) => n.id)).not.toContain(notification.id);
    // Marking read again is a no-op.
    expect((await api('PATCH', `/v1/notifications/${notification.id}`, viewer, { status: 'read' })).status).toBe(200);

    const byViewer = await api('PATCH', `/v1/notifications/${notification.id}`, viewer, { status: 'resolved', note: 'nope' });
    expect(byViewer.status).toBe(403);
    const resolved = await api('PATCH', `/v1/notifications/${notification.id}`, admin, { status: 'resolved', note: 'False alarm: load test' });
    expect(resolved.status).toBe(200);
    expect(resolved.json).toMatchObject({ status: 'resolved', resolvedBy: 'admin@local', resolvedAt: expect.any(String), note: 'False alarm: load test', readBy: 'viewer@local' });
    expect((await notificationsOf('status=resolved')).items.map((n) => n.id)).toContain(notification.id);

    const backToRead = await api('PATCH', `/v1/notifications/${notification.id}`, viewer, { status: 'read' });
    expect(backToRead.status).toBe(409);
    expect((await api('PATCH', `/v1/notifications/${'0'.repeat(32)}`, viewer, { status: 'read' })).status).toBe(404);
    expect((await api('PATCH', `/v1/notifications/${notification.id}`, viewer, { status: 'open' })).json.error.code).toBe('invalid_status');
  });

  test('the list filters by status, severity and rule, newest first, and pages with a cursor', async () => {
    const all = await notificationsOf('limit=100');
    const times = all.items.map((n) => n.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    const first = await notificationsOf('limit=2');
    expect(first.items).toHaveLength(2);
    const next = (await api('GET', `/v1/notifications?limit=2&cursor=${(first as any).nextCursor}`, viewer)).json;
    expect(next.items[0].id).toBe(all.items[2].id);
    expect((await notificationsOf('severity=warning')).items.every((n) => n.severity === 'warning')).toBe(true);
    expect((await api('GET', '/v1/notifications?status=open', viewer)).status).toBe(400);
  });
});

describe('rules API', () => {
  test('defaults exist; only admins manage rules', async () => {
    const list = await api('GET', '/v1/rules', admin);
    expect(list.status).toBe(200);
    expect(list.json.rules.map((r: { id: string }) => r.id)).toEqual(
      expect.arrayContaining(['failed-logins', 'failed-payment', 'critical-events', 'signup-failures', 'update-failures', 'api-failure-burst', 'security-events']),
    );
    expect((await api('GET', '/v1/rules', viewer)).status).toBe(403);
  });

  test('create, read, replace, dry-run and delete, with validation errors by field path', async () => {
    const invalid = await api('POST', '/v1/rules', admin, { name: 'Bad', match: { minSeverity: 'loud', fields: { 'details.plan': { x: 1 } } }, threshold: { count: 0, windowSeconds: 60 }, channels: ['pigeon'] });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.code).toBe('invalid_rule');
    expect(invalid.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['channels[0]', 'match.fields.details.plan', 'match.minSeverity', 'threshold.count']);
    expect((await api('POST', '/v1/rules', admin, '{"name":')).status).toBe(400);

    const rule = { id: 'alice-logins', name: 'Alice logins', match: { type: 'user.login.*', fields: { 'actor.userId': 'alice' } }, threshold: { count: 3, windowSeconds: 600, groupBy: 'actor.userId' }, throttleSeconds: 60, channels: ['email', 'inApp'] };
    const created = await api('POST', '/v1/rules', admin, rule);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ ...rule, enabled: true, createdBy: 'admin@local' });
    expect((await api('POST', '/v1/rules', admin, rule)).status).toBe(409);
    expect((await api('GET', '/v1/rules/alice-logins', admin)).json).toMatchObject(rule);

    const replaced = await api('PUT', '/v1/rules/alice-logins', admin, { ...rule, id: undefined, enabled: false, throttleSeconds: 0 });
    expect(replaced.status).toBe(200);
    expect(replaced.json).toMatchObject({ enabled: false, createdBy: 'admin@local', updatedBy: 'admin@local' });
    expect(replaced.json.throttleSeconds).toBeUndefined();
    expect((await api('PUT', '/v1/rules/alice-logins', admin, { ...rule, id: 'other' })).json.errors[0].path).toBe('id');
    expect((await api('PUT', '/v1/rules/nobody', admin, rule)).status).toBe(404);

    // 15 failed logins for alice were posted above; without a throttle, 3 in a window → a notification per 3.
    const dryRun = await api('POST', '/v1/rules/alice-logins/test', admin, { days: 1 });
    expect(dryRun.status).toBe(200);
    expect(dryRun.json).toMatchObject({ ruleId: 'alice-logins', days: 1, matched: 15, notifications: 5, truncated: false });
    const defaultDryRun = await api('POST', '/v1/rules/failed-logins/test', admin);
    expect(defaultDryRun.json).toMatchObject({ matched: 19, notifications: 1 });

    expect((await api('DELETE', '/v1/rules/alice-logins', admin)).status).toBe(204);
    expect((await api('GET', '/v1/rules/alice-logins', admin)).status).toBe(404);
    expect((await api('DELETE', '/v1/rules/alice-logins', admin)).status).toBe(404);
  });
});

describe('webhooks', () => {
  test('a rule with the webhook channel really posts, signed with the local key', async () => {
    const rule = { id: 'webhook-test', name: 'Webhook test', match: { type: 'test.webhook.*' }, channels: ['webhook', 'inApp'] };
    expect((await api('POST', '/v1/rules', admin, rule)).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // the rule function's rules cache
    const [id] = await post([{ type: 'test.webhook.ping', category: 'system_error', message: 'hello' }]);
    const hook = await waitFor(async () => hooks.find((h) => h.body.includes(id!)));
    const key = readFileSync(join(dataDir, 'keys', 'webhook-signing.key'), 'utf8').trim();
    expect(verifyWebhook(key, Number(hook.headers['x-audit-timestamp']), hook.body, String(hook.headers['x-audit-signature']))).toBe(true);
    expect(JSON.parse(hook.body).text).toContain('Webhook test: test.webhook.ping');
    const notification = await waitFor(async () => (await notificationsOf('rule=webhook-test')).items.find((n) => n.delivery !== 'pending'));
    expect(notification.deliveries.webhook).toMatchObject({ status: 'sent', messageId: expect.stringContaining('200') });
    expect(hook.headers['x-audit-notification-id']).toBe(notification.id);
  });
});

describe('silent sources', () => {
  test('an app that went quiet past its window raises one notification per silence (scheduled check)', async () => {
    const rule = { id: 'heartbeat-quiet', name: 'Heartbeats stopped', match: { source: 'local', type: 'test.heartbeat.*' }, silence: { windowSeconds: 300 }, channels: ['email', 'inApp'] };
    expect((await api('POST', '/v1/rules', admin, rule)).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // the rule function's rules cache
    const [id] = await post([{ type: 'test.heartbeat.beat', category: 'system_error' }]);
    await drain();

    const { handler } = (await import('../../lambdas/silence/handler')) as unknown as { handler: (e: { time: string }, c: Context) => Promise<{ fired: string[] }> };
    const context = { functionName: 'silence', awsRequestId: 'check', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
    const check = (inMinutes: number) => invokeHandler(handler, { time: new Date(Date.now() + inMinutes * 60_000).toISOString() }, context);
    expect((await check(1)).fired).toEqual([]);
    const { fired } = await check(10);
    expect(fired).toHaveLength(1);
    expect((await check(20)).fired).toEqual(fired); // the same silence: the same notification, not sent again
    const { items } = await notificationsOf('rule=heartbeat-quiet');
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: fired[0], eventId: id, type: 'source.silent', source: 'local', delivery: 'sent' });
    const emails = readFileSync(join(dataDir, 'outbox.ndjson'), 'utf8').trim().split('\n').map((line) => JSON.parse(line)).filter((line) => line.notificationId === fired[0]);
    expect(emails).toHaveLength(1);
    expect(emails[0].text).toContain('no matching event for');
  });
});

test('nothing went to the dead-letter file', () => {
  expect(existsSync(join(dataDir, 'dead-letters.ndjson'))).toBe(false);
});

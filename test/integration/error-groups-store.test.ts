/**
 * The error tracker against DynamoDB Local (real transactions, conditions
 * and cancellation reasons): exactly-once counting under redelivery, exact
 * counts with many workers on one group at once, one reopen and one
 * announcement per regression, and the announcement repeated after a crash
 * between the write and the announcement.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ERROR_GROUPS_TABLE } from '../../lib/declarations/tables';
import { localAwsClientConfig, startDynamoDbLocal } from '../../local/dynamodb-local';
import { ensureTable } from '../../local/tables';
import { DynamoErrorGroupStore, markerKey } from '../../lambdas/adapters/error-group-store';
import type { AuditEvent } from '../../lambdas/core/event';
import { ErrorTracker, groupErrors, type TrackedGroup } from '../../lambdas/core/error-tracker';
import { SAMPLE_CAP, SAMPLE_EVENTS, SPARKLINE_HOURS, USER_SKETCH_CAP, denseHistogram, hourKey, sparkline } from '../../lambdas/core/error-groups';

jest.setTimeout(60_000);

let dataDir: string;
let ddbLocal: { endpoint: string; stop(): Promise<void> };
let raw: DynamoDBClient;
let client: DynamoDBDocumentClient;
let store: DynamoErrorGroupStore;
let tableName: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'audit-error-groups-'));
  ddbLocal = await startDynamoDbLocal({ dataDir, inMemory: true });
  raw = new DynamoDBClient(localAwsClientConfig(ddbLocal.endpoint));
  client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  tableName = await ensureTable(raw, ERROR_GROUPS_TABLE);
  store = new DynamoErrorGroupStore(client, tableName);
});

afterAll(async () => {
  raw?.destroy();
  await ddbLocal?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

let seq = 0;
/** An error event as the stream delivers it; `variant` changes the failing function, so the fingerprint. */
function failure(overrides: Partial<AuditEvent> = {}, variant = 'default'): AuditEvent {
  seq += 1;
  const at = new Date(Date.now() - 1000).toISOString();
  return {
    id: `01J${String(seq).padStart(23, '0')}`,
    occurredAt: at,
    receivedAt: at,
    type: 'server.error',
    category: 'system_error',
    severity: 'error',
    status: 'failure',
    source: 'checkout',
    actor: { userId: `user-${seq % 7}` },
    page: '/checkout',
    error: {
      name: 'TypeError',
      message: `Cannot read properties of undefined (reading 'total') for order ${1000 + seq}`,
      stack: `TypeError: x\n    at ${variant}Fn (/app/src/checkout/${variant}.ts:${seq}:7)\n    at /app/node_modules/express/lib/router/layer.js:95:5`,
    },
    ...overrides,
  };
}

function oneGroup(events: AuditEvent[]): TrackedGroup {
  const groups = [...groupErrors(events, 'audit-trail').values()];
  expect(groups).toHaveLength(1);
  return groups[0]!;
}

function tracker(announced: AuditEvent[] = [], options: { failAnnounce?: () => boolean } = {}) {
  return new ErrorTracker({
    store,
    systemSource: 'audit-trail',
    announce: async (event) => {
      if (options.failAnnounce?.()) throw new Error('SNS is down');
      announced.push(event);
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50))),
  });
}

test('a redelivered batch counts nothing twice; a partly new one counts only what is new', async () => {
  const events = Array.from({ length: 30 }, () => failure({}, 'redelivery'));
  const announced: AuditEvent[] = [];
  const first = await tracker(announced).track(oneGroup(events));
  expect(first).toMatchObject({ counted: 30, duplicates: 0 });
  const id = first.id;
  expect((await store.get(id))!.count).toBe(30);

  // The same batch again (the stream retried it), then half of it with 10 new events.
  const again = await tracker(announced).track(oneGroup(events));
  expect(again).toMatchObject({ counted: 0, duplicates: 30 });
  const mixed = await tracker(announced).track(oneGroup([...events.slice(0, 15), ...Array.from({ length: 10 }, () => failure({}, 'redelivery'))]));
  expect(mixed).toMatchObject({ counted: 10, duplicates: 15 });

  const group = (await store.get(id))!;
  expect(group.count).toBe(40);
  expect(Object.values(group.hist).reduce((a, b) => a + b, 0)).toBe(40);
  expect(group.affectedUsers).toBe(7);
  expect(group.endpoints).toEqual(['/checkout']);
  expect(group.samples.length).toBeLessThanOrEqual(SAMPLE_CAP);
  expect(group.title).toBe('TypeError: Cannot read properties of undefined (reading <str>) for order <n>');
  expect(group.culprit).toBe('redeliveryFn (src/checkout/redelivery.ts)');
  // Announced as new by the first delivery; a redelivery of the creating event announces it again under the same
  // id (it cannot know whether the first announcement went out), which the rule engine turns into no notification.
  expect(new Set(announced.map((e) => `${e.type} ${e.id}`)).size).toBe(1);
  expect(announced[0]).toMatchObject({ type: 'error.group.new', details: { triggerEventId: events[0]!.id } });
  // Each event left a marker that expires after the stream's retention.
  const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: markerKey(events[0]!.id) }));
  expect(Item?.expiresAt).toBeGreaterThan(Date.now() / 1000 + 86_400);
});

test('many workers adding to one group at once never lose a count, and exactly one creates it', async () => {
  const workers = 12;
  const perWorker = 15;
  const batches = Array.from({ length: workers }, () => Array.from({ length: perWorker }, () => failure({}, 'concurrent')));
  // Every worker also re-delivers two events of its neighbour's batch: duplicates across workers, racing.
  const withOverlap = batches.map((batch, i) => [...batch, ...batches[(i + 1) % workers]!.slice(0, 2)]);
  const announced: AuditEvent[] = [];
  const outcomes = await Promise.all(withOverlap.map((batch) => tracker(announced).track(oneGroup(batch))));

  const group = (await store.get(outcomes[0]!.id))!;
  expect(group.count).toBe(workers * perWorker);
  expect(outcomes.reduce((sum, o) => sum + o.counted, 0)).toBe(workers * perWorker);
  expect(Object.values(group.hist).reduce((a, b) => a + b, 0)).toBe(workers * perWorker);
  // One group created by one worker: every announcement (re-delivered creating events repeat it) is the same event.
  expect(new Set(announced.map((e) => `${e.type} ${e.id}`)).size).toBe(1);
  expect(group.samples.length).toBeLessThanOrEqual(SAMPLE_CAP);
  expect(group.samples.length).toBeGreaterThanOrEqual(1);
});

test('a resolved group that occurs again is reopened once, and announced once, however many workers see it', async () => {
  const seed = Array.from({ length: 5 }, () => failure({}, 'regression'));
  const { id } = await tracker().track(oneGroup(seed));
  const before = (await store.get(id))!;
  const resolvedAt = new Date().toISOString();
  const resolved = await store.changeStatus(id, { status: 'resolved', note: 'fixed in 1.2.3', by: 'alice@example.com', at: resolvedAt }, before);
  expect(resolved).toMatchObject({ status: 'resolved', resolvedBy: 'alice@example.com', resolvedAt, note: 'fixed in 1.2.3' });
  // A second change decided on the old state is refused (the API answers 409).
  expect(await store.changeStatus(id, { status: 'ignored', by: 'bob', at: resolvedAt }, before)).toBeUndefined();

  // An event received before the resolution, delivered late, is counted but does not reopen.
  const late = failure({ receivedAt: new Date(Date.parse(resolvedAt) - 5_000).toISOString() }, 'regression');
  const announced: AuditEvent[] = [];
  await tracker(announced).track(oneGroup([late]));
  expect((await store.get(id))!).toMatchObject({ status: 'resolved', count: 6 });
  expect(announced).toEqual([]);

  const after = new Date(Date.parse(resolvedAt) + 1_000).toISOString();
  const recurring = Array.from({ length: 6 }, () => Array.from({ length: 3 }, () => failure({ receivedAt: after }, 'regression')));
  await Promise.all(recurring.map((batch) => tracker(announced).track(oneGroup(batch))));
  const group = (await store.get(id))!;
  expect(group).toMatchObject({ status: 'unresolved', count: 6 + 18, regressions: 1, statusBy: 'audit-trail', resolvedBy: 'alice@example.com' });
  expect(group.regressedAt).toBeDefined();
  expect(announced.map((e) => e.type)).toEqual(['error.group.regressed']);
  expect(announced[0]).toMatchObject({ source: 'audit-trail', severity: 'error', record: { type: 'error_group', id }, details: { app: 'checkout', groupId: id, resolvedBy: 'alice@example.com' } });

  // Ignored groups count on and never reopen.
  const ignored = await store.changeStatus(id, { status: 'ignored', by: 'bob', at: new Date().toISOString() }, group);
  expect(ignored?.status).toBe('ignored');
  await tracker(announced).track(oneGroup([failure({ receivedAt: new Date(Date.now() + 1000).toISOString() }, 'regression')]));
  expect((await store.get(id))!).toMatchObject({ status: 'ignored', count: 25 });
  expect(announced).toHaveLength(1);
});

test('a crash between the write and the announcement is finished by the redelivery, without counting again', async () => {
  const events = Array.from({ length: 4 }, () => failure({}, 'crash'));
  const announced: AuditEvent[] = [];
  let down = true;
  await expect(tracker(announced, { failAnnounce: () => down }).track(oneGroup(events))).rejects.toThrow('SNS is down');
  down = false;
  const retry = await tracker(announced, { failAnnounce: () => down }).track(oneGroup(events));
  expect(retry).toMatchObject({ counted: 0, duplicates: 4, transitions: ['new'] });
  expect(announced).toHaveLength(1);
  expect((await store.get(retry.id))!.count).toBe(4);
  // The announcement's id is the same whichever delivery makes it (the rule engine dedupes on it).
  const again = await tracker(announced).track(oneGroup(events));
  expect(again.transitions).toEqual(['new']);
  expect(announced[1]!.id).toBe(announced[0]!.id);
});

test('bounded parts stay bounded: samples, user sketch, endpoints, histogram hours', async () => {
  const hours = 30;
  const events: AuditEvent[] = [];
  for (let i = 0; i < 300; i++) {
    const at = new Date(Date.now() - (i % hours) * 3_600_000 - 60_000).toISOString();
    events.push(failure({ occurredAt: at, actor: { userId: `bounded-user-${i}` }, page: `/orders/${i}/pay`, details: { method: 'POST', route: i % 2 ? `/v1/orders/:id/r${i % 40}` : '/v1/orders/:id' } }, 'bounded'));
  }
  const outcome = await tracker().track(oneGroup(events));
  expect(outcome.writes).toBeGreaterThan(3); // split by the transaction limit and by hours
  const group = (await store.get(outcome.id))!;
  expect(group.count).toBe(300);
  expect(group.samples.length).toBeLessThanOrEqual(SAMPLE_CAP);
  expect(group.samples.length).toBeGreaterThanOrEqual(SAMPLE_EVENTS);
  expect(group.users.length).toBeLessThanOrEqual(USER_SKETCH_CAP);
  // 300 distinct users, estimated by the sketch within its error.
  expect(group.affectedUsers).toBeGreaterThan(300 * 0.6);
  expect(group.affectedUsers).toBeLessThan(300 * 1.4);
  expect(group.endpoints.length).toBeLessThanOrEqual(20);
  expect(Object.keys(group.hist).length).toBe(hours);
  expect(Object.values(group.hist).reduce((a, b) => a + b, 0)).toBe(300);
  expect(group.hist[hourKey(new Date(Date.now() - 60_000).toISOString())]).toBe(10);

  // The list's histograms: one BatchGetItem, the key and the map only; unknown ids are simply absent.
  const unknown = 'f'.repeat(16);
  const histograms = await store.histograms([outcome.id, unknown, outcome.id]);
  expect([...histograms.keys()]).toEqual([outcome.id]);
  expect(histograms.get(outcome.id)).toEqual(group.hist);
  const now = new Date();
  const line = sparkline(histograms.get(outcome.id)!, now);
  expect(line).toEqual(denseHistogram(group.hist, now).slice(-SPARKLINE_HOURS).map((bucket) => bucket.count));
  expect(line.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(230); // 10 an hour (the current one may still be empty)
  await expect(store.histograms(Array.from({ length: 101 }, (_, i) => i.toString(16).padStart(16, '0')))).rejects.toThrow(/at most 100/);
});

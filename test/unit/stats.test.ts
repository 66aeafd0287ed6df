/** Stats counters: aggregation, transaction sizing, the exactly-once retry, and the read side. */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoStatsStore } from '../../lambdas/adapters/stats-store';
import {
  orderForAggregation,
  MAX_BUCKETS,
  MAX_TRANSACTION_ITEMS,
  chunkForTransactions,
  countedEventOf,
  countersFor,
  parseStatsQuery,
  summarizeStats,
  bucketStarts,
  type CountedEvent,
  type CounterItem,
} from '../../lambdas/core/stats';

const event = (n: number, overrides: Partial<CountedEvent> = {}): CountedEvent => ({
  id: `01JD7X8Y9ZABCDEFGHJKMN${String(n).padStart(4, '0')}`,
  occurredAt: '2026-11-23T10:15:00.000Z',
  severity: 'info',
  status: 'success',
  type: 'user.login.succeeded',
  ...overrides,
});

describe('countersFor', () => {
  test('aggregates a group into one delta per counter item, per hour and per day', () => {
    const events = [
      event(1, { severity: 'error', status: 'failure', page: '/checkout' }),
      event(2, { page: '/checkout' }),
      event(3, { type: 'payment.charge.failed', severity: 'critical', status: 'failure' }),
      event(4, { occurredAt: '2026-11-23T11:00:00.000Z' }),
    ];
    const deltas = countersFor(events, 2);
    const find = (pk: string, sk: string) => deltas.find((d) => d.pk === pk && d.sk === sk);
    expect(find('H#2026-11-23T10', 'sum#2')).toMatchObject({ kind: 'sum', count: 3, failures: 2, severities: { error: 1, info: 1, critical: 1 } });
    expect(find('H#2026-11-23T11', 'sum#2')).toMatchObject({ count: 1, failures: 0, severities: { info: 1 } });
    expect(find('D#2026-11-23', 'sum#2')).toMatchObject({ count: 4, failures: 2, severities: { error: 1, info: 2, critical: 1 } });
    expect(find('H#2026-11-23T10', 'type#2#user.login.succeeded')).toMatchObject({ kind: 'type', value: 'user.login.succeeded', count: 2, failures: 1 });
    expect(find('H#2026-11-23T10', 'page#2#/checkout')).toMatchObject({ kind: 'page', value: '/checkout', count: 2, failures: 1 });
    expect(find('D#2026-11-23', 'type#2#payment.charge.failed')).toMatchObject({ count: 1, failures: 1 });
    // 10:00: sum, 2 types, a page; 11:00: sum, a type; the day: sum, 2 types, a page.
    expect(deltas).toHaveLength(4 + 2 + 4);
    // Hour counters outlive most event retention; day counters longer.
    expect(find('H#2026-11-23T10', 'sum#2')!.expiresAt).toBe(Date.parse('2026-11-23T10:00:00Z') / 1000 + 400 * 86_400);
    expect(find('D#2026-11-23', 'sum#2')!.expiresAt).toBe(Date.parse('2026-11-23T00:00:00Z') / 1000 + 1100 * 86_400);
  });

  test('a page too long for a sort key is keyed by its hash and kept whole in value', () => {
    const page = `/search?q=${'x'.repeat(600)}`;
    const [delta] = countersFor([event(1, { page })], 0).filter((d) => d.kind === 'page');
    expect(delta.sk).toMatch(/^page#0#h:[0-9a-f]{32}$/);
    expect(delta.value).toBe(page);
  });
});

describe('chunkForTransactions', () => {
  test('every group fits one transaction (a marker per event + its counters), in order, nothing lost', () => {
    // Worst case: every event a new type and page in a new hour.
    const events = Array.from({ length: 333 }, (_, n) =>
      event(n, { type: `t.type${n % 97}`, page: `/p/${n % 53}`, occurredAt: new Date(Date.parse('2026-11-01T00:00:00Z') + (n % 40) * 3_600_000).toISOString() }),
    );
    const chunks = chunkForTransactions(events);
    expect(chunks.flat()).toEqual(events);
    for (const chunk of chunks) expect(chunk.length + countersFor(chunk).length).toBeLessThanOrEqual(MAX_TRANSACTION_ITEMS);
  });

  test('events of one hour share their counters: a large group per transaction', () => {
    const events = Array.from({ length: 500 }, (_, n) => event(n, { type: `t.type${n % 5}`, severity: n % 2 ? 'info' : 'error' }));
    const chunks = chunkForTransactions(events);
    // 2 sums + 10 type counters per group, the rest markers: 88 events each.
    expect(chunks.map((c) => c.length)).toEqual([88, 88, 88, 88, 88, 60]);
  });
});

test('ordering a batch by hour, page and type needs fewer counter items, and keeps every event', () => {
  const batch = Array.from({ length: 500 }, (_, n) => event(n, { type: `t.type${n % 30}`, page: `/p${(n * 7) % 50}` }));
  const items = (chunks: CountedEvent[][]) => chunks.reduce((sum, chunk) => sum + chunk.length + countersFor(chunk).length, 0);
  const ordered = orderForAggregation(batch);
  expect([...ordered].sort((a, b) => a.id.localeCompare(b.id))).toEqual(batch);
  expect(items(chunkForTransactions(ordered))).toBeLessThan(items(chunkForTransactions(batch)) * 0.6);
});

test('countedEventOf takes an events-table item and refuses what cannot be counted', () => {
  const item = { pk: 'x', id: 'x', occurredAt: '2026-11-23T10:00:00.000Z', severity: 'warning', status: 'failure', type: 'a.b', page: '/p', doc: '{}' };
  expect(countedEventOf(item)).toEqual({ id: 'x', occurredAt: item.occurredAt, severity: 'warning', status: 'failure', type: 'a.b', page: '/p' });
  expect(countedEventOf({ ...item, severity: 'loud' })).toBeUndefined();
  expect(countedEventOf({ ...item, occurredAt: undefined })).toBeUndefined();
  expect(countedEventOf({})).toBeUndefined();
});

describe('DynamoStatsStore.count: exactly once', () => {
  const dynamo = mockClient(DynamoDBDocumentClient);
  const store = new DynamoStatsStore(dynamo as unknown as DynamoDBDocumentClient, 'stats-test', async () => undefined);
  const canceled = (codes: string[]) =>
    new TransactionCanceledException({ message: 'canceled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

  beforeEach(() => dynamo.reset());

  test('events already counted (their markers exist) are dropped and the rest counted once', async () => {
    const events = [event(1), event(2, { severity: 'error' }), event(3)];
    dynamo.on(TransactWriteCommand).rejectsOnce(canceled(['None', 'ConditionalCheckFailed', 'None', 'None', 'None', 'None', 'None'])).resolves({});
    const outcome = await store.count(events);
    expect(outcome).toMatchObject({ counted: 2, duplicates: 1, transactions: 2 });
    const calls = dynamo.commandCalls(TransactWriteCommand);
    const second = calls[1].args[0].input.TransactItems!;
    const markers = second.filter((item) => item.Put).map((item) => item.Put!.Item!.pk);
    expect(markers).toEqual([`E#${events[0].id}`, `E#${events[2].id}`]);
    for (const item of second.filter((i) => i.Put)) expect(item.Put!.ConditionExpression).toBe('attribute_not_exists(pk)');
    const hourSum = second.find((item) => item.Update?.Key?.pk === 'H#2026-11-23T10' && String(item.Update.Key.sk).startsWith('sum#'))!;
    expect(hourSum.Update!.ExpressionAttributeValues).toMatchObject({ ':count': 2, ':failures': 0, ':info': 2 });
    expect(hourSum.Update!.ExpressionAttributeValues![':error']).toBeUndefined();
  });

  test('a batch whose every event was counted writes nothing more', async () => {
    dynamo.on(TransactWriteCommand).rejects(canceled(['ConditionalCheckFailed', 'ConditionalCheckFailed', 'None', 'None', 'None', 'None']));
    expect(await store.count([event(1), event(2)])).toMatchObject({ counted: 0, duplicates: 2, transactions: 1 });
  });

  test('a transaction conflict is retried; other failures are thrown', async () => {
    dynamo.on(TransactWriteCommand).rejectsOnce(canceled(['None', 'TransactionConflict'])).resolves({});
    expect(await store.count([event(1)])).toMatchObject({ counted: 1, transactions: 2 });
    dynamo.reset();
    dynamo.on(TransactWriteCommand).rejects(new Error('AccessDenied'));
    await expect(store.count([event(1)])).rejects.toThrow('AccessDenied');
  });
});

describe('GET /v1/stats parameters', () => {
  const now = new Date('2026-11-23T10:42:00.000Z');
  const parse = (q: Record<string, string>) => parseStatsQuery(Object.fromEntries(Object.entries(q).map(([k, v]) => [k, [v]])), now);

  test('defaults: the last 24 hours (hour buckets) or 30 days (day buckets), ending with now', () => {
    expect(parse({})).toEqual({ interval: 'hour', firstBucket: '2026-11-22T11:00:00.000Z', lastBucket: '2026-11-23T10:00:00.000Z', top: 10 });
    expect(bucketStarts(parse({}))).toHaveLength(24);
    expect(parse({ interval: 'day' })).toMatchObject({ firstBucket: '2026-10-25T00:00:00.000Z', lastBucket: '2026-11-23T00:00:00.000Z' });
    expect(bucketStarts(parse({ interval: 'day' }))).toHaveLength(30);
    expect(parse({ from: '2026-11-01', to: '2026-11-02', interval: 'day', top: '3' })).toMatchObject({
      firstBucket: '2026-11-01T00:00:00.000Z',
      lastBucket: '2026-11-02T00:00:00.000Z',
      top: 3,
    });
  });

  test.each([
    [{ interval: 'week' }, /interval must be one of hour, day/],
    [{ from: '2026-01-01' }, new RegExp(`at most ${MAX_BUCKETS} buckets \\(use interval=day\\)`)],
    [{ from: '2024-01-01', interval: 'day' }, /at most 366 buckets/],
    [{ from: '2026-11-24' }, /is after to/],
    [{ top: '0' }, /top must be/],
    [{ top: '51' }, /top must be/],
    [{ limit: '5' }, /limit is not a parameter/],
    [{ to: 'yesterday' }, /to must be an ISO-8601/],
  ])('%j → 400', (query, message) => {
    expect(() => parse(query as Record<string, string>)).toThrow(message);
  });
});

test('summarizeStats adds up shards and buckets, zero buckets included; top lists ordered', () => {
  const request = { interval: 'hour' as const, firstBucket: '2026-11-23T08:00:00.000Z', lastBucket: '2026-11-23T10:00:00.000Z', top: 2 };
  const items = new Map<string, CounterItem[]>([
    [
      'H#2026-11-23T08',
      [
        { pk: 'H#2026-11-23T08', sk: 'sum#0', count: 3, failures: 1, info: 2, error: 1 },
        { pk: 'H#2026-11-23T08', sk: 'sum#3', count: 2, failures: 2, critical: 2 },
        { pk: 'H#2026-11-23T08', sk: 'type#0#a.b', value: 'a.b', count: 3, failures: 1 },
        { pk: 'H#2026-11-23T08', sk: 'type#3#c.d', value: 'c.d', count: 2, failures: 2 },
        { pk: 'H#2026-11-23T08', sk: 'page#0#/x', value: '/x', count: 3, failures: 1 },
        { pk: 'H#2026-11-23T08', sk: 'page#3#/y', value: '/y', count: 2, failures: 2 },
      ],
    ],
    [
      'H#2026-11-23T10',
      [
        { pk: 'H#2026-11-23T10', sk: 'sum#1', count: 4, failures: 0, debug: 4 },
        { pk: 'H#2026-11-23T10', sk: 'type#1#e.f', value: 'e.f', count: 4, failures: 0 },
        { pk: 'H#2026-11-23T10', sk: 'page#1#/z', value: '/z', count: 4, failures: 0 },
      ],
    ],
  ]);
  const answer = summarizeStats(request, bucketStarts(request), items);
  expect(answer).toEqual({
    interval: 'hour',
    from: '2026-11-23T08:00:00.000Z',
    to: '2026-11-23T10:59:59.999Z',
    total: 9,
    failures: 3,
    failureRate: 0.3333,
    bySeverity: { debug: 4, info: 2, warning: 0, error: 1, critical: 2 },
    buckets: [
      { start: '2026-11-23T08:00:00.000Z', total: 5, failures: 3, bySeverity: { debug: 0, info: 2, warning: 0, error: 1, critical: 2 } },
      { start: '2026-11-23T09:00:00.000Z', total: 0, failures: 0, bySeverity: { debug: 0, info: 0, warning: 0, error: 0, critical: 0 } },
      { start: '2026-11-23T10:00:00.000Z', total: 4, failures: 0, bySeverity: { debug: 4, info: 0, warning: 0, error: 0, critical: 0 } },
    ],
    topTypes: [
      { type: 'e.f', count: 4, failures: 0 },
      { type: 'a.b', count: 3, failures: 1 },
    ],
    topFailingPages: [
      { page: '/y', failures: 2, count: 2, failureRate: 1 },
      { page: '/x', failures: 1, count: 3, failureRate: 0.3333 },
    ],
  });
});

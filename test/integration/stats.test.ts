/**
 * GET /v1/stats on the local stack: events posted over HTTP, counted by the
 * stats stream consumer from DynamoDB Local's real stream, read back per
 * hour and per day. Every expectation is computed here from what was posted.
 */
import { rmSync } from 'node:fs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ulid } from 'ulidx';
import type { LocalStack } from '../../local/stack';
import { seededRandom } from '../../local/seeded-random';
import { issueLocalToken } from '../../local/tokens';
import { startSeededStack } from '../helpers/local-stack';

jest.setTimeout(90_000);

const API_KEY = 'stats-test-ingest-key';
const SEVERITIES = ['debug', 'info', 'warning', 'error', 'critical'] as const;
const TYPES = ['user.login.failed', 'user.login.succeeded', 'payment.charge.failed', 'api.request.failed', 'page.viewed', 'file.uploaded', 'order.shipped'];
const PAGES = ['/checkout', '/login', '/settings', '/billing, "annual"', '/search'];
const HOUR = 3_600_000;

interface Seeded {
  id: string;
  occurredAt: string;
  type: string;
  severity: (typeof SEVERITIES)[number];
  status: 'success' | 'failure';
  page?: string;
}

let stack: LocalStack;
let dataDir: string;
let viewer: string;
let seeded: Seeded[];
let window: { from: string; to: string };

beforeAll(async () => {
  ({ stack, dataDir } = await startSeededStack('stats', API_KEY));
  viewer = await issueLocalToken(dataDir, { role: 'viewer' });

  // 900 events over the last three days, starting at a whole hour so the window is exact.
  const rand = seededRandom(42);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  const start = Math.floor((Date.now() - 3 * 24 * HOUR) / HOUR) * HOUR;
  seeded = Array.from({ length: 900 }, () => {
    const failing = rand() < 0.25;
    return {
      id: ulid(),
      occurredAt: new Date(start + Math.floor(rand() * (Date.now() - 60_000 - start))).toISOString(),
      type: pick(TYPES),
      severity: pick(SEVERITIES),
      status: failing ? ('failure' as const) : ('success' as const),
      ...(rand() < 0.7 ? { page: pick(PAGES) } : {}),
    };
  });
  window = { from: new Date(start).toISOString(), to: new Date().toISOString() };
  for (let i = 0; i < seeded.length; i += 100) {
    const events = seeded.slice(i, i + 100).map((e) => ({ ...e, category: 'user_activity', message: 'seeded' }));
    const response = await fetch(`${stack.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({ events }),
    });
    expect(response.status).toBe(200);
  }
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function stats(query: Record<string, string>, token: string | null = viewer) {
  const response = await fetch(`${stack.url}/v1/stats?${new URLSearchParams(query)}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, json: (await response.json()) as any };
}

/** Polls until the consumer has counted `count` events in the window (it runs on a 5 s batching window). */
async function caughtUp(query: Record<string, string>, count: number) {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const answer = await stats(query);
    expect(answer.status).toBe(200);
    if (answer.json.total >= count || Date.now() > deadline) return answer.json;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const zero = () => ({ debug: 0, info: 0, warning: 0, error: 0, critical: 0 });
const rate = (failures: number, total: number) => (total === 0 ? 0 : Math.round((failures / total) * 10_000) / 10_000);

/** What GET /v1/stats must answer, computed from the seeded events alone. */
function expected(events: Seeded[], interval: 'hour' | 'day', firstBucket: number, lastBucket: number, top: number) {
  const size = interval === 'hour' ? HOUR : 24 * HOUR;
  const buckets: any[] = [];
  for (let t = firstBucket; t <= lastBucket; t += size) buckets.push({ start: new Date(t).toISOString(), total: 0, failures: 0, bySeverity: zero() });
  const types = new Map<string, { count: number; failures: number }>();
  const pages = new Map<string, { count: number; failures: number }>();
  for (const e of events) {
    const bucket = buckets[Math.floor((Date.parse(e.occurredAt) - firstBucket) / size)];
    bucket.total += 1;
    bucket.bySeverity[e.severity] += 1;
    const failed = e.status === 'failure' ? 1 : 0;
    bucket.failures += failed;
    const t = types.get(e.type) ?? { count: 0, failures: 0 };
    types.set(e.type, { count: t.count + 1, failures: t.failures + failed });
    if (e.page) {
      const p = pages.get(e.page) ?? { count: 0, failures: 0 };
      pages.set(e.page, { count: p.count + 1, failures: p.failures + failed });
    }
  }
  const total = events.length;
  const failures = events.filter((e) => e.status === 'failure').length;
  const bySeverity = zero();
  for (const e of events) bySeverity[e.severity] += 1;
  return {
    interval,
    from: new Date(firstBucket).toISOString(),
    to: new Date(lastBucket + size - 1).toISOString(),
    total,
    failures,
    failureRate: rate(failures, total),
    bySeverity,
    buckets,
    topTypes: [...types]
      .sort(([a, x], [b, y]) => y.count - x.count || a.localeCompare(b))
      .slice(0, top)
      .map(([type, s]) => ({ type, ...s })),
    topFailingPages: [...pages]
      .filter(([, s]) => s.failures > 0)
      .sort(([a, x], [b, y]) => y.failures - x.failures || rate(y.failures, y.count) - rate(x.failures, x.count) || a.localeCompare(b))
      .slice(0, top)
      .map(([page, s]) => ({ page, failures: s.failures, count: s.count, failureRate: rate(s.failures, s.count) })),
  };
}

test('hourly stats over three days match the posted events exactly', async () => {
  const answer = await caughtUp({ ...window, interval: 'hour', top: '50' }, seeded.length);
  const first = Date.parse(window.from);
  const last = Math.floor(Date.parse(window.to) / HOUR) * HOUR;
  expect(answer).toEqual(expected(seeded, 'hour', first, last, 50));
  expect(answer.buckets.length).toBeGreaterThan(72);
});

test('daily stats and the top lists (top=3) match too', async () => {
  const answer = await caughtUp({ ...window, interval: 'day', top: '3' }, seeded.length);
  const first = Math.floor(Date.parse(window.from) / (24 * HOUR)) * 24 * HOUR;
  const last = Math.floor(Date.parse(window.to) / (24 * HOUR)) * 24 * HOUR;
  const want = expected(seeded, 'day', first, last, 3);
  expect(answer).toEqual(want);
  expect(answer.topTypes).toHaveLength(3);
  expect(answer.topFailingPages[0].failures).toBeGreaterThan(0);
});

test('a narrower window counts only its own hours', async () => {
  const from = new Date(Date.parse(window.from) + 10 * HOUR).toISOString();
  const to = new Date(Date.parse(window.from) + 20 * HOUR - 1).toISOString();
  const inside = seeded.filter((e) => e.occurredAt >= from && e.occurredAt <= to);
  const answer = (await stats({ from, to, interval: 'hour', top: '50' })).json;
  expect(answer).toEqual(expected(inside, 'hour', Date.parse(from), Date.parse(from) + 9 * HOUR, 50));
});

test('the consumer handed the same batch twice (and an overlapping one) counts each event once', async () => {
  // Events in an hour nothing else touches, fed to the handler directly as Lambda would on a retry.
  const { toEventItem } = await import('../../lambdas/core/event-keys');
  const { countBatch } = await import('../../lambdas/stats/handler');
  const hour = '2020-01-01T05';
  const events = Array.from({ length: 120 }, (_, n) => ({
    id: ulid(),
    occurredAt: `${hour}:${String(n % 60).padStart(2, '0')}:00.000Z`,
    receivedAt: '2020-01-01T06:00:00.000Z',
    type: n % 3 === 0 ? 'api.request.failed' : 'page.viewed',
    category: 'system_error' as const,
    severity: n % 4 === 0 ? ('error' as const) : ('info' as const),
    status: n % 3 === 0 ? ('failure' as const) : ('success' as const),
    source: 'local',
    ...(n % 2 === 0 ? { page: '/retry' } : {}),
  }));
  const records = events.map(
    (event, n): DynamoDBRecord => ({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      dynamodb: { SequenceNumber: String(1000 + n), NewImage: marshall(toEventItem(event), { removeUndefinedValues: true }) as never },
    }),
  );
  const batch = (list: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: list });
  expect(await countBatch(batch(records.slice(0, 80)))).toEqual({ batchItemFailures: [] });
  expect(await countBatch(batch(records.slice(0, 80)))).toEqual({ batchItemFailures: [] });
  // A retry that starts mid-way and brings new records: only the new ones count.
  expect(await countBatch(batch(records.slice(40, 120)))).toEqual({ batchItemFailures: [] });

  const answer = (await stats({ from: `${hour}:00:00Z`, to: `${hour}:59:59Z`, interval: 'hour', top: '50' })).json;
  expect(answer.total).toBe(120);
  expect(answer.failures).toBe(40);
  expect(answer.bySeverity).toEqual({ ...zero(), error: 30, info: 90 });
  expect(answer.topTypes).toEqual([
    { type: 'page.viewed', count: 80, failures: 0 },
    { type: 'api.request.failed', count: 40, failures: 40 },
  ]);
  expect(answer.topFailingPages).toEqual([{ page: '/retry', failures: 20, count: 60, failureRate: 0.3333 }]);
});

test('auth and bad parameters', async () => {
  expect((await stats({}, null)).status).toBe(401);
  expect((await stats({ interval: 'minute' })).json.error.code).toBe('invalid_filter');
  expect((await stats({ from: '2025-01-01', interval: 'hour' })).status).toBe(400);
  expect((await stats({ page: '/x' })).json.error.code).toBe('unknown_parameter');
});

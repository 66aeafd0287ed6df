/**
 * The read side end to end: thousands of events posted through the local
 * API Gateway into DynamoDB Local, then read back through GET /v1/events,
 * record histories and traces. Every expected answer is computed here from
 * the seeded events, independently of the planner.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ulid } from 'ulidx';
import type { LocalStack } from '../../local/stack';
import { seededRandom } from '../../local/seeded-random';
import { issueLocalToken } from '../../local/tokens';
import { startSeededStack } from '../helpers/local-stack';

jest.setTimeout(120_000);

const API_KEY = 'query-test-ingest-key';
const APPS: Record<string, string> = { local: API_KEY, billing: 'query-test-billing-key-0001', web: 'query-test-web-key-000001' };
const EVENT_COUNT = Number(process.env.QUERY_TEST_EVENTS ?? 3000);
const DAY = 86_400_000;
const SEVERITIES = ['debug', 'info', 'warning', 'error', 'critical'] as const;
const CATEGORIES = ['user_activity', 'admin_activity', 'system_error', 'payment', 'content_update', 'notification', 'security'] as const;
const TYPES = [
  'user.login.failed', 'user.logout', 'payment.charge.failed', 'payment.refund.issued', 'invoice.updated', 'order.shipped',
  'api.request.failed', 'db.query.slow', 'file.uploaded', 'security.mfa.disabled', 'admin.role.changed', 'notification.sent',
];
const HEAVY_TRACE = 'a'.repeat(31) + '1';
const ODD_USERS = ["' OR 1=1 --", '{"$ne":null}', '#sk'];

interface Seeded {
  id: string;
  occurredAt: string;
  type: string;
  category: string;
  severity: (typeof SEVERITIES)[number];
  status: 'success' | 'failure';
  source: string;
  userId?: string;
  recordType?: string;
  recordId?: string;
  traceId?: string;
}

let stack: LocalStack;
let dataDir: string;
let viewer: string;
let now: number;
let seeded: Seeded[] = [];
const timings: Record<string, number[]> = {};
const WIDE = { from: '', to: '' };

/** Deterministic, so a failure can be replayed. */
function generate(count: number): Seeded[] {
  const rand = seededRandom(20261123);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  const weighted = () => {
    const r = rand();
    return r < 0.2 ? 'debug' : r < 0.55 ? 'info' : r < 0.75 ? 'warning' : r < 0.92 ? 'error' : 'critical';
  };
  const traces = Array.from({ length: 150 }, (_, i) => i.toString(16).padStart(32, 'f'));
  const events: Seeded[] = [];
  const sevenDaysAgo = now - 7 * DAY;
  for (let n = 0; n < count; n++) {
    let at = now - 30 * DAY + Math.floor(rand() * (30 * DAY - 60_000));
    // Nothing near the default window's edge, where the test's clock and the server's could disagree.
    if (Math.abs(at - sevenDaysAgo) < 15 * 60_000) at += 30 * 60_000;
    // Some events share their millisecond with an earlier one: ties are ordered by id.
    const occurredAt = n > 10 && rand() < 0.05 ? events[n - 1 - Math.floor(rand() * 10)].occurredAt : new Date(at).toISOString();
    const r = rand();
    const event: Seeded = {
      id: ulid(),
      occurredAt,
      type: pick(TYPES),
      category: pick(CATEGORIES),
      severity: weighted(),
      status: rand() < 0.3 ? 'failure' : 'success',
      source: r < 0.5 ? 'local' : r < 0.8 ? 'billing' : 'web',
      ...(rand() < 0.8 ? { userId: `u-${Math.floor(rand() * 60)}` } : {}),
    };
    const record = rand();
    if (record < 0.03) Object.assign(event, { recordType: 'invoice', recordId: 'INV-1' });
    else if (record < 0.3) Object.assign(event, { recordType: 'invoice', recordId: `INV-${1 + Math.floor(rand() * 80)}` });
    else if (record < 0.42) Object.assign(event, { recordType: 'order', recordId: `ORD-${1 + Math.floor(rand() * 40)}` });
    const trace = rand();
    if (trace < 0.015) event.traceId = HEAVY_TRACE;
    else if (trace < 0.3) event.traceId = pick(traces);
    events.push(event);
  }
  // Values that look like injections are stored and found like any other.
  events[0].userId = ODD_USERS[0];
  events[1].userId = ODD_USERS[1];
  Object.assign(events[2], { userId: ODD_USERS[2], recordType: '#sk', recordId: ':v' });
  return events;
}

async function post(source: string, events: Seeded[]): Promise<void> {
  const body = JSON.stringify({
    events: events.map((e) => ({
      id: e.id,
      occurredAt: e.occurredAt,
      type: e.type,
      category: e.category,
      severity: e.severity,
      status: e.status,
      ...(e.userId ? { actor: { userId: e.userId } } : {}),
      ...(e.recordType ? { record: { type: e.recordType, id: e.recordId } } : {}),
      ...(e.traceId ? { traceId: e.traceId } : {}),
      message: `event ${e.id}`,
    })),
  });
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${stack.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': APPS[source] }, body });
    const json = (await response.json()) as { accepted: number; duplicates: number };
    // Retries repeat the same ids, so an event stored by an earlier attempt comes back as a duplicate.
    if (response.status === 200 && json.accepted + json.duplicates === events.length) return;
    if (attempt > 5) throw new Error(`seeding failed: ${response.status} ${JSON.stringify(json).slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

beforeAll(async () => {
  ({ stack, dataDir } = await startSeededStack('query', API_KEY));
  viewer = await issueLocalToken(dataDir, { role: 'viewer' });
  const { DynamoAppKeyStore } = await import('../../lambdas/adapters/app-key-store');
  const { importAppKey } = await import('../../lambdas/core/app-keys');
  const keys = new DynamoAppKeyStore();
  for (const app of ['billing', 'web']) await keys.create(importAppKey(app, APPS[app]));

  now = Date.now();
  seeded = generate(EVENT_COUNT);
  WIDE.from = new Date(now - 31 * DAY).toISOString();
  WIDE.to = new Date(now + 60_000).toISOString();

  const batches: Array<[string, Seeded[]]> = [];
  for (const source of Object.keys(APPS)) {
    const ofSource = seeded.filter((e) => e.source === source);
    for (let i = 0; i < ofSource.length; i += 100) batches.push([source, ofSource.slice(i, i + 100)]);
  }
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < batches.length) {
        const [source, events] = batches[next++];
        await post(source, events);
      }
    }),
  );
  timings.seed = [Date.now() - started];
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  const summary = Object.entries(timings).map(([name, ms]) => {
    const sorted = [...ms].sort((a, b) => a - b);
    return `${name}: n=${ms.length} median=${sorted[Math.floor(sorted.length / 2)]}ms max=${sorted[sorted.length - 1]}ms`;
  });
  if (process.env.QUERY_TEST_TIMINGS) console.log(`query.test.ts timings (${EVENT_COUNT} events)\n${summary.join('\n')}`);
});

type Params = Record<string, string | undefined>;

async function get(path: string, params: Params = {}, token: string = viewer, timing?: string) {
  const query = new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const started = Date.now();
  const response = await fetch(`${stack.url}${path}${query.size > 0 ? `?${query}` : ''}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  if (timing) (timings[timing] ??= []).push(Date.now() - started);
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

/** Every page of a query, following cursors; checks each page on the way. */
async function all(path: string, params: Params, limit?: number, timing = 'page') {
  const items: any[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await get(path, { ...params, ...(limit ? { limit: String(limit) } : {}), cursor }, viewer, timing);
    expect(page.status).toBe(200);
    expect(Object.keys(page.json).sort()).toEqual(page.json.cursor === undefined ? ['items'] : ['cursor', 'items']);
    if (limit) expect(page.json.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.json.items);
    cursor = page.json.cursor;
    pages += 1;
    if (pages > 2000) throw new Error('paging does not end');
  } while (cursor);
  return { items, pages };
}

const newestFirst = (a: Seeded, b: Seeded) => (a.occurredAt !== b.occurredAt ? (a.occurredAt < b.occurredAt ? 1 : -1) : a.id < b.id ? 1 : -1);
const oldestFirst = (a: Seeded, b: Seeded) => -newestFirst(a, b);

/** The events a filter set must return, newest first, computed from what was posted. */
function expected(filters: Params): Seeded[] {
  const rank = (s: string) => SEVERITIES.indexOf(s as never);
  return seeded
    .filter((e) => {
      if (e.occurredAt < filters.from! || e.occurredAt > filters.to!) return false;
      for (const name of ['userId', 'type', 'category', 'severity', 'status', 'source', 'recordType', 'recordId', 'traceId'] as const) {
        if (filters[name] !== undefined && e[name] !== filters[name]) return false;
      }
      return filters.minSeverity === undefined || rank(e.severity) >= rank(filters.minSeverity);
    })
    .sort(newestFirst);
}

async function expectExactly(filters: Params, limit?: number) {
  const want = expected(filters);
  const { items } = await all('/v1/events', filters, limit);
  expect(items.map((item) => item.id)).toEqual(want.map((e) => e.id));
  return { want, items };
}

it('seeded what the test thinks it seeded', async () => {
  expect(seeded).toHaveLength(EVENT_COUNT);
  const { items } = await expectExactly({ ...WIDE }, 200);
  expect(items).toHaveLength(EVENT_COUNT);
});

describe('GET /v1/events: every filter alone', () => {
  const sample = () => seeded[42];
  const cases: Array<[string, () => Params]> = [
    ['userId', () => ({ userId: sample().userId ?? 'u-1' })],
    ['type', () => ({ type: 'payment.charge.failed' })],
    ['category', () => ({ category: 'security' })],
    ['severity', () => ({ severity: 'critical' })],
    ['minSeverity', () => ({ minSeverity: 'error' })],
    ['minSeverity debug', () => ({ minSeverity: 'debug', source: 'web' })],
    ['status', () => ({ status: 'failure' })],
    ['source', () => ({ source: 'billing' })],
    ['recordType+recordId', () => ({ recordType: 'invoice', recordId: 'INV-1' })],
    ['traceId', () => ({ traceId: HEAVY_TRACE })],
    ['from/to, 3 days', () => ({ from: new Date(now - 12 * DAY).toISOString(), to: new Date(now - 9 * DAY).toISOString() })],
    ['from/to as dates', () => ({ from: new Date(now - 20 * DAY).toISOString().slice(0, 10), to: new Date(now - 18 * DAY).toISOString().slice(0, 10) })],
  ];
  it.each(cases)('%s', async (_name, filters) => {
    const given = filters();
    const from = given.from ?? WIDE.from;
    const to = given.to ?? WIDE.to;
    // Plain dates mean whole days (UTC).
    const window = { from: from.length === 10 ? `${from}T00:00:00.000Z` : from, to: to.length === 10 ? `${to}T23:59:59.999Z` : to };
    const want = expected({ ...given, ...window });
    expect(want.length).toBeGreaterThan(0);
    const { items } = await all('/v1/events', { ...given, from, to }, 200, 'filter');
    expect(items.map((item) => item.id)).toEqual(want.map((e) => e.id));
  });
});

describe('GET /v1/events: combinations', () => {
  const combos: Params[] = [
    { userId: 'u-3', type: 'user.login.failed' },
    { userId: 'u-7', minSeverity: 'warning' },
    { userId: 'u-11', status: 'failure', source: 'local' },
    { type: 'api.request.failed', severity: 'error' },
    { type: 'order.shipped', status: 'success', source: 'web' },
    { type: 'db.query.slow', minSeverity: 'critical' },
    { category: 'payment', severity: 'error', status: 'failure' },
    { severity: 'warning', source: 'billing' },
    { minSeverity: 'warning', category: 'security' },
    { recordType: 'invoice', recordId: 'INV-1', severity: 'info' },
    { recordType: 'invoice', recordId: 'INV-1', userId: 'u-5' },
    { traceId: HEAVY_TRACE, status: 'success' },
    { traceId: HEAVY_TRACE, userId: 'u-1', type: 'user.logout' },
    { category: 'notification', source: 'local', status: 'failure' },
    { userId: 'u-20', recordType: 'order', recordId: 'ORD-3' },
  ];
  it.each(combos)('%j', async (filters) => {
    await expectExactly({ ...WIDE, ...filters }, 200);
  });

  it('a narrow window with a user and a category', async () => {
    const window = { from: new Date(now - 6 * DAY).toISOString(), to: new Date(now - 2 * DAY).toISOString() };
    await expectExactly({ ...window, minSeverity: 'info', status: 'success' }, 50);
    await expectExactly({ ...window, userId: 'u-30' });
  });

  it('without from and to: the last 7 days, newest first, 50 a page', async () => {
    const first = await get('/v1/events', {}, viewer, 'default window, first page');
    expect(first.status).toBe(200);
    expect(first.json.items).toHaveLength(50);
    const want = expected({ from: new Date(now - 7 * DAY).toISOString(), to: new Date(now + DAY).toISOString() });
    const { items } = await all('/v1/events', {});
    expect(items.map((item) => item.id)).toEqual(want.map((e) => e.id));
  });

  it('answers list attributes only, as they were posted', async () => {
    const { items } = await all('/v1/events', { ...WIDE, recordType: 'invoice', recordId: 'INV-1' });
    const byId = new Map(seeded.map((e) => [e.id, e]));
    for (const item of items) {
      const e = byId.get(item.id)!;
      expect(item).toMatchObject({ id: e.id, occurredAt: e.occurredAt, type: e.type, category: e.category, severity: e.severity, status: e.status, source: e.source, recordType: 'invoice', recordId: 'INV-1', summary: `event ${e.id}` });
      expect(Object.keys(item).every((name) => !/Pk$|^pk$|^sk$|^doc$|^expiresAt$/.test(name))).toBe(true);
    }
  });
});

describe('paging', () => {
  it('with limit 7 over every shard of several severities returns each item once, in order', async () => {
    const window = { from: new Date(now - 10 * DAY).toISOString(), to: new Date(now - 6 * DAY).toISOString() };
    const { want, items } = await expectExactly({ ...window, minSeverity: 'warning' }, 7);
    expect(new Set(items.map((item) => item.id)).size).toBe(want.length);
    expect(want.length).toBeGreaterThan(50);
  });

  it('with limit 7 across a month boundary on the date index, filtered', async () => {
    const monthStart = new Date(now);
    monthStart.setUTCDate(1);
    monthStart.setUTCHours(0, 0, 0, 0);
    const around = monthStart.getTime() - 2 * DAY > now - 29 * DAY ? monthStart.getTime() : now - 2 * DAY;
    const window = { from: new Date(around - 2 * DAY).toISOString(), to: new Date(Math.min(around + 2 * DAY, now)).toISOString() };
    await expectExactly({ ...window }, 7);
    await expectExactly({ ...window, status: 'failure', category: 'payment' }, 7);
  });

  it('with limit 1 over a type (8 shards, filtered by status)', async () => {
    await expectExactly({ ...WIDE, type: 'invoice.updated', status: 'failure' }, 1);
  });
});

describe('GET /v1/records/{type}/{id}/history', () => {
  it('is every event of the record, oldest first, whatever the page size', async () => {
    const want = seeded.filter((e) => e.recordType === 'invoice' && e.recordId === 'INV-1').sort(oldestFirst);
    expect(want.length).toBeGreaterThan(40);
    const whole = await get('/v1/records/invoice/INV-1/history', {}, viewer, 'history');
    expect(whole.status).toBe(200);
    expect(whole.json.cursor).toBeUndefined();
    expect(whole.json.items.map((item: { id: string }) => item.id)).toEqual(want.map((e) => e.id));
    const paged = await all('/v1/records/invoice/INV-1/history', {}, 9);
    expect(paged.items.map((item) => item.id)).toEqual(want.map((e) => e.id));
    expect(paged.pages).toBe(Math.ceil(want.length / 9));
  });

  it('finds a record whose type and id look like expression syntax', async () => {
    const result = await get(`/v1/records/${encodeURIComponent('#sk')}/${encodeURIComponent(':v')}/history`);
    expect(result.status).toBe(200);
    expect(result.json.items.map((item: { id: string }) => item.id)).toEqual([seeded[2].id]);
  });

  it('is empty for a record nobody mentioned', async () => {
    expect((await get('/v1/records/invoice/NOPE-1/history')).json).toEqual({ items: [] });
  });
});

describe('GET /v1/traces/{traceId}', () => {
  it('is every event of the trace, oldest first', async () => {
    const want = seeded.filter((e) => e.traceId === HEAVY_TRACE).sort(oldestFirst);
    expect(want.length).toBeGreaterThan(20);
    const { items } = await all(`/v1/traces/${HEAVY_TRACE}`, {}, undefined, 'trace');
    expect(items.map((item) => item.id)).toEqual(want.map((e) => e.id));
    const paged = await all(`/v1/traces/${HEAVY_TRACE}`, {}, 4);
    expect(paged.items.map((item) => item.id)).toEqual(want.map((e) => e.id));
  });
});

describe('refusals', () => {
  it('401 without a token, on every read route', async () => {
    for (const path of ['/v1/events', '/v1/records/invoice/INV-1/history', `/v1/traces/${HEAVY_TRACE}`]) {
      const result = await get(path, {}, '');
      expect(result.status).toBe(401);
      expect(result.json.error.code).toBe('unauthorized');
    }
  });

  async function cursorFor(filters: Params): Promise<string> {
    const page = await get('/v1/events', { ...filters, limit: '3' });
    expect(page.json.cursor).toEqual(expect.any(String));
    return page.json.cursor;
  }

  it('refuses forged, altered and foreign cursors with 400 invalid_cursor', async () => {
    const filters = { ...WIDE, type: 'user.logout' };
    const cursor = await cursorFor(filters);
    const [payload, mac] = cursor.split('.');
    const state = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forgedPayload = Buffer.from(JSON.stringify({ ...state, p: state.p.map(() => null) })).toString('base64url');
    const flipped = cursor[5] === 'A' ? 'B' : 'A';
    const attempts: Array<[string, Params]> = [
      ['forged', { ...filters, cursor: `${forgedPayload}.${mac}` }],
      ['altered', { ...filters, cursor: cursor.slice(0, 5) + flipped + cursor.slice(6) }],
      ['truncated', { ...filters, cursor: cursor.slice(0, -1) }],
      ['garbage', { ...filters, cursor: 'bm90IGEgY3Vyc29y' }],
      ['other filters', { ...filters, type: 'user.login.failed', cursor }],
      ['fewer filters', { ...WIDE, cursor }],
    ];
    for (const [name, params] of attempts) {
      const result = await get('/v1/events', params);
      expect([name, result.status, result.json?.error?.code]).toEqual([name, 400, 'invalid_cursor']);
    }
    // The cursor itself still works with its own filters.
    expect((await get('/v1/events', { ...filters, limit: '3', cursor })).status).toBe(200);
    // And a history's cursor is not a list's.
    const history = await get('/v1/records/invoice/INV-1/history', { limit: '2' });
    expect((await get('/v1/events', { ...WIDE, cursor: history.json.cursor })).json.error.code).toBe('invalid_cursor');
  });

  it.each<[string, Params, string, RegExp]>([
    ['limit 500', { limit: '500' }, 'invalid_filter', /limit/],
    ['from after to', { from: '2026-11-20', to: '2026-11-01' }, 'invalid_filter', /from .*after to/],
    ['a bad severity', { severity: 'fatal' }, 'invalid_filter', /severity must be one of/],
    ['a bad minSeverity', { minSeverity: '1' }, 'invalid_filter', /minSeverity/],
    ['recordType without recordId', { recordType: 'invoice' }, 'invalid_filter', /recordType/],
    ['an unknown parameter', { sort: 'asc' }, 'unknown_parameter', /sort/],
    ['an injection in type', { type: "' OR 1=1 --" }, 'invalid_filter', /type/],
    ['expression syntax in type', { type: '#sk' }, 'invalid_filter', /type/],
    ['expression syntax in source', { source: ':v' }, 'invalid_filter', /source/],
    ['an injection in category', { category: '{"$ne":null}' }, 'invalid_filter', /category/],
    ['a bad from', { from: "' OR 1=1 --" }, 'invalid_filter', /from/],
  ])('%s → 400', async (_name, params, code, message) => {
    const result = await get('/v1/events', params);
    expect(result.status).toBe(400);
    expect(result.json.error).toEqual({ code, message: expect.stringMatching(message) });
    expect(result.text).not.toMatch(/\bat .+\.(ts|js):\d+/);
  });

  it('treats injection-looking values as plain values: exact matches or nothing, never a 500', async () => {
    for (const [i, userId] of ODD_USERS.entries()) {
      await expectExactly({ ...WIDE, userId });
      expect(expected({ ...WIDE, userId }).map((e) => e.id)).toEqual([seeded[i].id]);
    }
    await expectExactly({ ...WIDE, recordType: '#sk', recordId: ':v' });
    for (const params of [
      { userId: "' OR 1=1 -- x" },
      { userId: '{"$gt":""}' },
      { traceId: "' OR 1=1 --" },
      { traceId: ':v' },
      { recordType: ':v', recordId: '#sk' },
      { userId: 'u-1', traceId: '#partition' },
    ]) {
      const result = await get('/v1/events', { ...WIDE, ...params });
      expect([params, result.status, result.json.items]).toEqual([params, 200, []]);
    }
  });
});

it('keeps the local cursor signing key under the data folder', () => {
  expect(existsSync(join(dataDir, 'keys', 'cursor-signing-key.key'))).toBe(true);
});

/**
 * Error tracking end to end on the local stack: failures posted over HTTP,
 * grouped by the error tracker from DynamoDB Local's real stream, read and
 * resolved through /v1/errors, and the regression notification read back
 * through /v1/notifications (the rule engine's outbox).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fingerprintOf } from '../../lambdas/core/fingerprint';
import type { LocalStack } from '../../local/stack';
import { issueLocalToken } from '../../local/tokens';
import { startSeededStack } from '../helpers/local-stack';

jest.setTimeout(120_000);

const API_KEY = 'errors-test-ingest-key';
let stack: LocalStack;
let dataDir: string;
let viewer: string;
let admin: string;

beforeAll(async () => {
  ({ stack, dataDir } = await startSeededStack('errors', API_KEY));
  [viewer, admin] = await Promise.all([issueLocalToken(dataDir, { role: 'viewer' }), issueLocalToken(dataDir, { role: 'admin' })]);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function post(events: Record<string, unknown>[]): Promise<string[]> {
  const response = await fetch(`${stack.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify({ events }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { results: { id: string; status: string }[] };
  expect(body.results.map((r) => r.status)).toEqual(events.map(() => 'accepted'));
  return body.results.map((r) => r.id);
}

async function api(method: string, path: string, token: string | undefined, body?: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

// Generous: under a full CI run the stream consumers' transactions in DynamoDB Local conflict and retry with backoff.
async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 75_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The group once it has counted `count` occurrences (the tracker runs on a 2 s batching window). */
async function groupWithCount(id: string, count: number) {
  return waitFor(async () => {
    const answer = await api('GET', `/v1/errors/${id}`, viewer);
    return answer.status === 200 && answer.json.count >= count ? answer.json : undefined;
  }, `group ${id} to reach ${count}`);
}

let n = 0;
/** One checkout failure: ids, amounts and line numbers differ every time, the failure is the same. */
function checkoutFailure(): Record<string, unknown> {
  n += 1;
  const order = 10_000 + n * 37;
  return {
    type: 'payment.charge.failed',
    actor: { userId: `customer-${n % 6}` },
    record: { type: 'order', id: `ORD-${order}` },
    page: `/checkout/${order}`,
    message: `charge failed for order ${order}`,
    error: {
      name: 'PaymentGatewayError',
      message: `Charge ch_${randomUUID().replace(/-/g, '').slice(0, 14)} for order ${order} of ${(n * 13.7).toFixed(2)} EUR declined at ${new Date().toISOString()} (request ${randomUUID()})`,
      stack: [
        'PaymentGatewayError: declined',
        `    at chargeCard (/var/task/src/payments/charge.ts:${40 + (n % 5)}:${9 + n})`,
        `    at async placeOrder (/var/task/src/checkout/place-order.ts:${120 + n}:5)`,
        '    at async /var/task/node_modules/express/lib/router/layer.js:95:5',
      ].join('\n'),
    },
  };
}

function otherFailure(): Record<string, unknown> {
  return {
    type: 'database.error',
    message: 'query failed',
    error: { name: 'QueryFailedError', message: `deadlock detected on relation ${16_000 + n} for tx 0x${(n * 7919).toString(16)}`, stack: `QueryFailedError: deadlock\n    at saveInventory (/var/task/src/inventory/repository.ts:${n}:3)` },
    page: '/inventory',
  };
}

/** The id the tracker gives a failure: the fingerprint of what was posted, under the local app's name. */
const groupIdOf = (event: Record<string, unknown>) => fingerprintOf({ source: 'local', ...(event as object) } as Parameters<typeof fingerprintOf>[0]).id;

let checkoutGroup: string;
let otherGroup: string;
let checkoutIds: string[];

describe('grouping', () => {
  test('20 occurrences of one failure with varying ids and numbers are one group with count 20; a different failure is another', async () => {
    const failures = Array.from({ length: 20 }, checkoutFailure);
    checkoutGroup = groupIdOf(failures[0]!);
    expect(new Set(failures.map(groupIdOf))).toEqual(new Set([checkoutGroup]));
    checkoutIds = [...(await post(failures.slice(0, 8))), ...(await post(failures.slice(8)))];
    const other = Array.from({ length: 3 }, otherFailure);
    otherGroup = groupIdOf(other[0]!);
    expect(otherGroup).not.toBe(checkoutGroup);
    await post(other);
    // Not errors: never grouped.
    await post([{ type: 'user.login.succeeded', actor: { userId: 'u-1' } }, { type: 'page.viewed', category: 'user_activity', severity: 'warning' }]);

    const group = await groupWithCount(checkoutGroup, 20);
    expect(group).toMatchObject({
      id: checkoutGroup,
      count: 20,
      source: 'local',
      type: 'payment.charge.failed',
      status: 'unresolved',
      errorName: 'PaymentGatewayError',
      title: 'PaymentGatewayError: Charge <id> for order <n> of <n> EUR declined at <time> (request <uuid>)',
      culprit: 'chargeCard (src/payments/charge.ts)',
      affectedUsers: 6,
      affectedUsersExact: true,
      endpoints: ['/checkout/<n>'],
    });
    // The recent occurrences, newest first, read by id: real stored events of this failure.
    expect(group.recentEvents.length).toBe(10);
    for (const event of group.recentEvents) expect(checkoutIds).toContain(event.id);
    expect(group.recentEvents.map((e: { id: string }) => e.id)).toEqual(group.sampleEventIds);
    expect(group.histogram.buckets).toHaveLength(168);
    expect(group.histogram.buckets.reduce((sum: number, b: { count: number }) => sum + b.count, 0)).toBe(20);

    const second = await groupWithCount(otherGroup, 3);
    expect(second).toMatchObject({ count: 3, title: 'QueryFailedError: deadlock detected on relation <n> for tx <hex>', culprit: 'saveInventory (src/inventory/repository.ts)', affectedUsers: 0 });

    const list = await api('GET', '/v1/errors?sort=count', viewer);
    expect(list.status).toBe(200);
    expect(list.json.items.map((g: { id: string }) => g.id)).toEqual([checkoutGroup, otherGroup]);
    expect(list.json.items[0]).toMatchObject({ count: 20, title: group.title, status: 'unresolved', lastSeen: group.lastSeen });
    // Each row's sparkline (one BatchGetItem of the page's histograms): the last 24 hours, oldest first, this hour last.
    expect(list.json.items[0].sparkline).toEqual(group.histogram.buckets.slice(-24).map((b: { count: number }) => b.count));
    expect(list.json.items[0].sparkline.reduce((sum: number, n: number) => sum + n, 0)).toBe(20);
    expect(list.json.items[1].sparkline).toHaveLength(24);
    expect(list.json.items[1].sparkline.reduce((sum: number, n: number) => sum + n, 0)).toBe(3);
    const byLastSeen = await api('GET', '/v1/errors', viewer);
    expect(byLastSeen.json.items.map((g: { id: string }) => g.id)).toEqual([otherGroup, checkoutGroup]);
    // Pages of one, with a cursor.
    const first = await api('GET', '/v1/errors?sort=count&limit=1', viewer);
    expect(first.json.items).toHaveLength(1);
    const next = await api('GET', `/v1/errors?sort=count&limit=1&cursor=${first.json.cursor}`, viewer);
    expect(next.json.items.map((g: { id: string }) => g.id)).toEqual([otherGroup]);
  });

  test('a brand-new group raised a "new error" notification through the rule engine (the next, within 5 minutes, was throttled)', async () => {
    const notification = await waitFor(async () => {
      const { json } = await api('GET', '/v1/notifications?rule=error-group-new', viewer);
      return json.items.find((item: { record?: { id: string } }) => item.record?.id === checkoutGroup || item.record?.id === otherGroup);
    }, 'the new-error notification');
    expect(notification).toMatchObject({ type: 'error.group.new', source: 'audit-trail', severity: 'warning', ruleName: 'New error', record: { type: 'error_group' } });
    // Both groups are new, one app: the default rule's per-app throttle let one through.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const { json } = await api('GET', '/v1/notifications?rule=error-group-new', viewer);
    expect(json.items).toHaveLength(1);
  });
});

describe('lifecycle', () => {
  test('resolved via the API, then recurring: reopened, with a regression notification', async () => {
    expect((await api('PATCH', `/v1/errors/${checkoutGroup}`, viewer, { status: 'resolved' })).status).toBe(403);
    const resolved = await api('PATCH', `/v1/errors/${checkoutGroup}`, admin, { status: 'resolved', note: 'Retry on gateway timeouts (release 1.4.2)' });
    expect(resolved.status).toBe(200);
    expect(resolved.json).toMatchObject({ status: 'resolved', resolvedBy: 'admin@local', statusBy: 'admin@local', note: 'Retry on gateway timeouts (release 1.4.2)' });
    expect((await api('GET', '/v1/errors?status=resolved', viewer)).json.items.map((g: { id: string }) => g.id)).toEqual([checkoutGroup]);
    // Asking for the status it has is a no-op.
    expect((await api('PATCH', `/v1/errors/${checkoutGroup}`, admin, { status: 'resolved' })).json.statusAt).toBe(resolved.json.statusAt);

    // Recorded as an admin event on the group's record history.
    const history = await waitFor(async () => {
      const { json } = await api('GET', `/v1/records/error_group/${checkoutGroup}/history`, viewer);
      return json.items?.length > 0 ? json.items : undefined;
    }, 'the admin event');
    expect(history[0]).toMatchObject({ type: 'admin.error_group.changed', source: 'audit-trail' });

    const [recurrence] = await post([checkoutFailure()]);
    const reopened = await groupWithCount(checkoutGroup, 21);
    expect(reopened).toMatchObject({ status: 'unresolved', regressions: 1, statusBy: 'audit-trail', resolvedBy: 'admin@local', count: 21 });
    expect(reopened.regressedAt > resolved.json.statusAt).toBe(true);
    expect(reopened.recentEvents[0].id).toBe(recurrence);

    const notification = await waitFor(async () => {
      const { json } = await api('GET', '/v1/notifications?rule=error-group-regressed', viewer);
      return json.items.find((item: { record?: { id: string } }) => item.record?.id === checkoutGroup);
    }, 'the regression notification');
    expect(notification).toMatchObject({ type: 'error.group.regressed', severity: 'error', ruleName: 'Error regressed', status: 'new', record: { type: 'error_group', id: checkoutGroup } });

    // Ignored: counted on, never reopened, and reopened by hand.
    const ignored = await api('PATCH', `/v1/errors/${checkoutGroup}`, admin, { status: 'ignored' });
    expect(ignored.json.status).toBe('ignored');
    await post([checkoutFailure()]);
    expect(await groupWithCount(checkoutGroup, 22)).toMatchObject({ status: 'ignored' });
    expect((await api('PATCH', `/v1/errors/${checkoutGroup}`, admin, { status: 'unresolved', note: 'back on the list' })).json).toMatchObject({ status: 'unresolved', note: 'back on the list' });
  });
});

describe('concurrency', () => {
  test('many concurrent posts of the same failure: the count is exact', async () => {
    const failures = Array.from({ length: 60 }, checkoutFailure).map((event) => ({ ...event, type: 'api.request.failed' }));
    const id = groupIdOf(failures[0]!);
    // 60 requests, 15 in flight at once, some of them batches: the stream brings them in whatever batches it makes.
    const requests = [...failures.slice(0, 40).map((f) => [f]), failures.slice(40, 50), failures.slice(50)];
    let next = 0;
    await Promise.all(Array.from({ length: 15 }, async () => {
      while (next < requests.length) await post(requests[next++]!);
    }));
    const group = await groupWithCount(id, 60);
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // nothing more arrives: exactly 60, not more
    expect((await api('GET', `/v1/errors/${id}`, viewer)).json.count).toBe(60);
    expect(group.histogram.buckets.reduce((sum: number, b: { count: number }) => sum + b.count, 0)).toBe(60);
  });
});

describe('the API', () => {
  test('refuses what it cannot answer', async () => {
    expect((await api('GET', '/v1/errors', undefined)).status).toBe(401);
    expect((await api('GET', '/v1/errors?status=open', viewer)).json.error.code).toBe('invalid_query');
    expect((await api('GET', '/v1/errors?sort=title', viewer)).status).toBe(400);
    expect((await api('GET', '/v1/errors?limit=0', viewer)).status).toBe(400);
    expect((await api('GET', '/v1/errors?cursor=bm9wZQ', viewer)).json.error.code).toBe('invalid_cursor');
    expect((await api('GET', `/v1/errors/${'0'.repeat(16)}`, viewer)).status).toBe(404);
    expect((await api('GET', '/v1/errors/not-an-id', viewer)).status).toBe(404);
    expect((await api('PATCH', `/v1/errors/${checkoutGroup}`, admin, { status: 'fixed' })).json.error.code).toBe('invalid_status');
    expect((await api('PATCH', `/v1/errors/${checkoutGroup}`, admin, { status: 'resolved', by: 'me' })).json.error.code).toBe('invalid_body');
  });

  test('nothing went to the dead-letter file', () => {
    expect(existsSync(join(dataDir, 'dead-letters.ndjson'))).toBe(false);
  });
});

/**
 * Error groups, the pure part: what one write adds (and trims), when a
 * resolved group regresses, how occurrences are chunked, the user sketch's
 * accuracy, the histogram window, the lifecycle and admin events, and the
 * API's parsing. The DynamoDB side runs in test/integration/error-groups-store.test.ts.
 */
import { createHash } from 'node:crypto';
import { adminEvent } from '../../lambdas/core/admin-audit';
import {
  HISTOGRAM_HOURS,
  MAX_ENDPOINTS,
  MAX_HOURS_PRUNED_PER_WRITE,
  SAMPLE_CAP,
  SAMPLE_EVENTS,
  SPARKLINE_HOURS,
  USER_SKETCH_CAP,
  USER_SKETCH_K,
  chunkOccurrences,
  decodeErrorCursor,
  denseHistogram,
  encodeErrorCursor,
  errorGroupChanged,
  estimateDistinct,
  groupView,
  hourKey,
  lifecycleEvent,
  occurrenceOf,
  parseErrorGroupChange,
  parseErrorListQuery,
  planGroupWrite,
  regressionTrigger,
  sparkline,
  type ErrorGroup,
  type GroupDelta,
  type Occurrence,
} from '../../lambdas/core/error-groups';
import { fingerprintOf } from '../../lambdas/core/fingerprint';
import { notificationLink } from '../../lambdas/core/notifications';
import { ingestSettingsFromEnv } from '../../lambdas/core/settings';

const NOW = new Date('2026-11-23T12:30:00.000Z');
const HOUR = 3_600_000;
const identity = {
  fingerprint: fingerprintOf({ source: 'checkout', type: 'server.error', error: { name: 'TypeError', message: 'x is undefined', stack: 'TypeError: x\n    at pay (/app/src/pay.ts:1:1)' } }),
  source: 'checkout',
  type: 'server.error',
};

let seq = 0;
function occurrence(minutesAgo: number, overrides: Partial<Occurrence> = {}): Occurrence {
  seq += 1;
  const at = new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();
  return { eventId: `E${String(seq).padStart(5, '0')}`, occurredAt: at, receivedAt: at, userHash: hash(`user-${seq % 3}`), endpoint: '/checkout', ...overrides };
}
const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

function created(occurrences: Occurrence[]): ErrorGroup {
  const plan = planGroupWrite(undefined, identity, occurrences, NOW);
  if (plan.kind !== 'create') throw new Error('expected a create');
  return plan.group;
}

function delta(current: ErrorGroup, occurrences: Occurrence[], now = NOW): GroupDelta {
  const plan = planGroupWrite(current, identity, occurrences, now);
  if (plan.kind !== 'update') throw new Error('expected an update');
  return plan.delta;
}

describe('planGroupWrite', () => {
  test('a new group: counts, first and last seen, histogram, samples, users, endpoints; announced as new by its first occurrence', () => {
    const occurrences = [occurrence(30), occurrence(90), occurrence(5, { endpoint: '/cart' }), occurrence(8 * 24 * 60)];
    const plan = planGroupWrite(undefined, identity, occurrences, NOW);
    expect(plan).toMatchObject({ kind: 'create', transition: 'new', triggerEventId: occurrences[3]!.eventId });
    const group = created(occurrences);
    expect(group).toMatchObject({
      id: identity.fingerprint.id,
      count: 4,
      firstSeen: occurrences[3]!.occurredAt,
      lastSeen: occurrences[2]!.occurredAt,
      lastEventId: occurrences[2]!.eventId,
      status: 'unresolved',
      statusAt: NOW.toISOString(),
      title: 'TypeError: x is undefined',
      culprit: 'pay (app/src/pay.ts)',
      affectedUsers: 3,
      endpoints: ['/cart', '/checkout'],
    });
    // The 8-day-old occurrence counts but is outside the 7-day histogram.
    expect(group.hist).toEqual({ '2026112312': 2, '2026112311': 1 });
  });

  test('adds: lastSeen only when newer, firstSeen only when older, histogram hours incremented', () => {
    const group = created([occurrence(60), occurrence(10)]);
    const older = occurrence(600);
    const d = delta(group, [older]);
    expect(d).toMatchObject({ count: 1, firstSeen: older.occurredAt, histAdd: { [hourKey(older.occurredAt)]: 1 }, histRemove: [] });
    expect(d.lastSeen).toBeUndefined();
    const newer = occurrence(1);
    expect(delta(group, [newer])).toMatchObject({ lastSeen: { at: newer.occurredAt, eventId: newer.eventId } });
    expect(delta(group, [newer]).firstSeen).toBeUndefined();
  });

  test('histogram hours older than the window are pruned, a bounded number per write', () => {
    const group = created([occurrence(1)]);
    for (let h = 0; h < 40; h++) group.hist[hourKey(new Date(NOW.getTime() - (HISTOGRAM_HOURS + h) * HOUR).toISOString())] = 1;
    const d = delta(group, [occurrence(2)]);
    expect(d.histRemove).toHaveLength(MAX_HOURS_PRUNED_PER_WRITE);
    // Oldest first, and never an hour inside the window.
    expect(d.histRemove[0]).toBe(hourKey(new Date(NOW.getTime() - (HISTOGRAM_HOURS + 39) * HOUR).toISOString()));
    expect(d.histRemove.every((hour) => hour < hourKey(new Date(NOW.getTime() - (HISTOGRAM_HOURS - 1) * HOUR).toISOString()))).toBe(true);
  });

  test('samples: new ones added; past the cap, the set is replaced by the newest', () => {
    const group = created(Array.from({ length: 5 }, (_, i) => occurrence(100 + i)));
    expect(group.samples).toHaveLength(5);
    const few = [occurrence(3), occurrence(2)];
    expect(delta(group, few).samples).toEqual({ add: few.map((o) => `${o.occurredAt}#${o.eventId}`) });
    const many = Array.from({ length: SAMPLE_CAP }, (_, i) => occurrence(i));
    const replaced = delta(group, many).samples as { replace: string[] };
    expect(replaced.replace).toHaveLength(SAMPLE_EVENTS);
    expect(replaced.replace[0]).toBe(`${many[0]!.occurredAt}#${many[0]!.eventId}`);
  });

  test('users: below K every hash is kept; at K only hashes that can enter the sketch are added; past the cap it is trimmed to K', () => {
    const group = created(Array.from({ length: USER_SKETCH_K }, (_, i) => occurrence(10, { userHash: hash(`u${i}`) })));
    expect(group.users).toHaveLength(USER_SKETCH_K);
    expect(group.affectedUsers).toBe(USER_SKETCH_K);
    const kth = [...group.users].sort()[USER_SKETCH_K - 1]!;
    const low = '000000000001';
    const high = 'ffffffffffff';
    expect(delta(group, [occurrence(1, { userHash: high })]).users).toEqual({ add: [] });
    expect(delta(group, [occurrence(1, { userHash: low })]).users).toEqual({ add: [low] });
    expect(low < kth).toBe(true);
    const full = { ...group, users: Array.from({ length: USER_SKETCH_CAP }, (_, i) => (i + 1).toString(16).padStart(12, '0')) };
    const trimmed = delta(full, [occurrence(1, { userHash: '000000000000' })]).users as { replace: string[] };
    expect(trimmed.replace).toHaveLength(USER_SKETCH_K);
    expect(trimmed.replace[0]).toBe('000000000000');
  });

  test('endpoints: at most MAX_ENDPOINTS, the first ones seen', () => {
    const group = created([occurrence(5)]);
    const many = Array.from({ length: 30 }, (_, i) => occurrence(1, { endpoint: `/p/${String(i).padStart(2, '0')}` }));
    expect(delta(group, many).endpointsAdd).toHaveLength(MAX_ENDPOINTS - 1);
    expect(delta({ ...group, endpoints: Array.from({ length: MAX_ENDPOINTS }, (_, i) => `/e${i}`) }, many).endpointsAdd).toEqual([]);
  });
});

describe('regressions', () => {
  const resolvedAt = '2026-11-23T12:00:00.000Z';
  const resolved = (): ErrorGroup => ({ ...created([occurrence(120)]), status: 'resolved', statusAt: resolvedAt, resolvedAt, resolvedBy: 'alice' });

  test('a resolved group reopens on an occurrence received after the resolution, conditional on the status read', () => {
    const before = occurrence(40, { receivedAt: '2026-11-23T11:59:59.000Z' });
    const after = occurrence(20, { receivedAt: '2026-11-23T12:10:00.000Z' });
    const later = occurrence(10, { receivedAt: '2026-11-23T12:20:00.000Z' });
    expect(regressionTrigger(resolved(), [before])).toBeUndefined();
    const plan = planGroupWrite(resolved(), identity, [later, before, after], NOW);
    expect(plan).toMatchObject({ kind: 'update', transition: 'regressed', triggerEventId: after.eventId, expectStatusAt: resolvedAt });
    expect((plan as { delta: GroupDelta }).delta.reopen).toEqual({ at: NOW.toISOString(), eventId: after.eventId });
  });

  test('unresolved and ignored groups never regress', () => {
    const late = occurrence(1, { receivedAt: NOW.toISOString() });
    expect(regressionTrigger({ ...resolved(), status: 'ignored' }, [late])).toBeUndefined();
    expect(regressionTrigger({ ...resolved(), status: 'unresolved' }, [late])).toBeUndefined();
    expect(planGroupWrite({ ...resolved(), status: 'ignored' }, identity, [late], NOW)).not.toHaveProperty('transition');
  });

  test('the regression announcement: the system as source, the group as record, a deterministic id', () => {
    const trigger = occurrence(1);
    const group = { ...resolved(), count: 42, regressions: 1 };
    const event = lifecycleEvent('regressed', group, trigger, 'audit-trail');
    expect(event).toMatchObject({
      type: 'error.group.regressed',
      severity: 'error',
      category: 'system_error',
      status: 'failure',
      source: 'audit-trail',
      occurredAt: trigger.occurredAt,
      record: { type: 'error_group', id: group.id },
      page: '/checkout',
      details: { app: 'checkout', groupId: group.id, count: 42, resolvedBy: 'alice', triggerEventId: trigger.eventId },
    });
    expect(event.message).toContain('Error regressed in checkout: TypeError: x is undefined at pay (app/src/pay.ts)');
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(lifecycleEvent('regressed', group, trigger, 'audit-trail').id).toBe(event.id);
    expect(lifecycleEvent('new', group, trigger, 'audit-trail')).toMatchObject({ type: 'error.group.new', severity: 'warning' });
    expect(lifecycleEvent('new', group, trigger, 'audit-trail').id).not.toBe(event.id);
    // Notifications about a group link to the group, not to an event that is not stored.
    expect(notificationLink('https://audit.example.com/', event)).toBe(`https://audit.example.com/#/errors/${group.id}`);
    expect(notificationLink('https://audit.example.com', { id: 'E1', type: 'server.error' })).toBe('https://audit.example.com/#/events/E1');
  });
});

describe('occurrences', () => {
  test('chunks: at most 99 per write and 24 distinct hours, oldest first, duplicates dropped', () => {
    const many = Array.from({ length: 250 }, () => occurrence(1));
    const chunks = chunkOccurrences([...many, many[0]!]);
    expect(chunks.map((c) => c.length)).toEqual([99, 99, 52]);
    const spread = Array.from({ length: 60 }, (_, i) => occurrence(i * 60));
    const byHour = chunkOccurrences(spread);
    expect(byHour.map((c) => new Set(c.map((o) => hourKey(o.occurredAt))).size).every((hours) => hours <= 24)).toBe(true);
    expect(byHour.flat()).toHaveLength(60);
    expect(byHour[0]![0]!.occurredAt <= byHour.at(-1)![0]!.occurredAt).toBe(true);
  });

  test('an occurrence keeps a hash of the app and user (or session), never the user id, and the endpoint', () => {
    const base = { id: 'E1', occurredAt: NOW.toISOString(), receivedAt: NOW.toISOString(), source: 'checkout' };
    const a = occurrenceOf({ ...base, actor: { userId: 'alice@example.com' }, details: { method: 'post', route: '/v1/orders/:id' } });
    expect(a.userHash).toMatch(/^[0-9a-f]{12}$/);
    expect(JSON.stringify(a)).not.toContain('alice');
    expect(a.endpoint).toBe('POST /v1/orders/:id');
    expect(occurrenceOf({ ...base, source: 'billing', actor: { userId: 'alice@example.com' } }).userHash).not.toBe(a.userHash);
    expect(occurrenceOf({ ...base, sessionId: 's-1' }).userHash).toMatch(/^[0-9a-f]{12}$/);
    expect(occurrenceOf(base).userHash).toBeUndefined();
  });

  test('the user sketch estimates thousands of users within its error', () => {
    for (const users of [500, 5_000, 50_000]) {
      const hashes = Array.from({ length: users }, (_, i) => hash(`sketch-${users}-${i}`));
      const sketch = [...hashes].sort().slice(0, USER_SKETCH_K);
      const estimate = estimateDistinct(sketch);
      expect(Math.abs(estimate - users) / users).toBeLessThan(0.4);
    }
    expect(estimateDistinct(['a', 'b', 'b'])).toBe(2);
  });

  test('the dense histogram: 168 hours up to now, oldest first', () => {
    const buckets = denseHistogram({ '2026112312': 3, '2026112211': 2, '2026110101': 9 }, NOW);
    expect(buckets).toHaveLength(HISTOGRAM_HOURS);
    expect(buckets.at(-1)).toEqual({ start: '2026-11-23T12:00:00.000Z', count: 3 });
    expect(buckets[0]!.start).toBe('2026-11-16T13:00:00.000Z');
    expect(buckets.reduce((sum, b) => sum + b.count, 0)).toBe(5);
  });

  test('the sparkline: the last 24 hourly counts up to now, oldest first, the tail of the dense histogram', () => {
    const hist = { '2026112312': 3, '2026112213': 2, '2026112212': 8, '2026110101': 9 };
    const line = sparkline(hist, NOW);
    expect(line).toHaveLength(SPARKLINE_HOURS);
    expect(line[0]).toBe(2); // 2026-11-22 13:00, 23 hours before this hour
    expect(line.at(-1)).toBe(3);
    expect(line.reduce((a, b) => a + b, 0)).toBe(5);
    expect(line).toEqual(denseHistogram(hist, NOW).slice(-SPARKLINE_HOURS).map((bucket) => bucket.count));
    expect(sparkline({}, NOW, 6)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('the API', () => {
  test('list query: defaults, validation, cursors bound to their status and sort', () => {
    expect(parseErrorListQuery({})).toEqual({ status: 'unresolved', sort: 'lastSeen', limit: 25 });
    expect(parseErrorListQuery({ status: 'resolved', sort: 'count', limit: '5' })).toEqual({ status: 'resolved', sort: 'count', limit: 5 });
    for (const bad of [{ status: 'open' }, { sort: 'title' }, { limit: '0' }, { limit: '101' }, { limit: 'x' }, { page: '2' }]) {
      expect(() => parseErrorListQuery(bad)).toThrow(expect.objectContaining({ statusCode: 400 }));
    }
    const cursor = encodeErrorCursor({ pk: '0123456789abcdef', status: 'unresolved', count: 12 });
    expect(decodeErrorCursor(cursor, 'unresolved', 'count')).toEqual({ pk: '0123456789abcdef', status: 'unresolved', count: 12 });
    expect(() => decodeErrorCursor(cursor, 'resolved', 'count')).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
    expect(() => decodeErrorCursor(cursor, 'unresolved', 'lastSeen')).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
    expect(() => decodeErrorCursor(encodeErrorCursor({ pk: 'E#x', status: 'unresolved', count: 1 }), 'unresolved', 'count')).toThrow();
    expect(() => decodeErrorCursor(encodeErrorCursor({ pk: '0123456789abcdef', status: 'unresolved', count: 1, extra: 1 }), 'unresolved', 'count')).toThrow();
    expect(() => decodeErrorCursor('%%%', 'unresolved', 'count')).toThrow();
  });

  test('status changes: resolve, ignore or reopen with a note; nothing else', () => {
    expect(parseErrorGroupChange({ status: 'resolved', note: '  fixed in 1.4.2 ' })).toEqual({ status: 'resolved', note: 'fixed in 1.4.2' });
    expect(parseErrorGroupChange({ status: 'unresolved' })).toEqual({ status: 'unresolved' });
    expect(() => parseErrorGroupChange({ status: 'fixed' })).toThrow(expect.objectContaining({ code: 'invalid_status' }));
    expect(() => parseErrorGroupChange({ status: 'ignored', note: 'x'.repeat(2001) })).toThrow(expect.objectContaining({ code: 'invalid_note' }));
    expect(() => parseErrorGroupChange({ status: 'ignored', resolvedBy: 'me' })).toThrow(expect.objectContaining({ code: 'invalid_body' }));
    expect(() => parseErrorGroupChange([])).toThrow(expect.objectContaining({ code: 'invalid_body' }));
  });

  test('a status change is a registered admin event, valid even where unknown types are rejected', () => {
    const group = { ...created([occurrence(1)]), statusAt: '2026-11-23T12:31:00.000Z' };
    const action = errorGroupChanged(group, 'unresolved', { status: 'resolved', note: 'fixed' }, { userId: 'alice@example.com', groups: ['admin'] });
    const event = adminEvent(action, { principal: { userId: 'alice@example.com', groups: ['admin'] }, at: NOW }, ingestSettingsFromEnv({ UNKNOWN_EVENT_TYPES: 'reject' }));
    expect(event).toMatchObject({
      type: 'admin.error_group.changed',
      category: 'admin_activity',
      source: 'audit-trail',
      actor: { adminId: 'alice@example.com' },
      record: { type: 'error_group', id: group.id },
      details: { from: 'unresolved', to: 'resolved', note: 'fixed', app: 'checkout' },
    });
    // The same change, retried: the same event id (the create-only put makes it a no-op).
    expect(errorGroupChanged(group, 'unresolved', { status: 'resolved' }, { userId: 'alice@example.com', groups: ['admin'] }).id).toBe(action.id);
  });

  test('the full view hides the internals and fills the histogram', () => {
    const view = groupView(created([occurrence(1), occurrence(2)]), NOW);
    expect(view).not.toHaveProperty('users');
    expect(view).not.toHaveProperty('samples');
    expect(view).not.toHaveProperty('expiresAt');
    expect(view).toMatchObject({ count: 2, affectedUsersExact: true, sampleEventIds: expect.any(Array) });
    expect(view.histogram.buckets).toHaveLength(HISTOGRAM_HOURS);
  });
});

/**
 * The admin SPA's notification and error-group screens, the logic without React (frontend/src/triage.ts):
 * addresses ↔ views, what a row offers to whom, links, notes, the bulk runner, and the sparkline's numbers.
 */
import { ApiError } from '../../frontend/src/api';
import {
  NOTE_MAX,
  changeErrorMessage,
  deliveryDetails,
  errorActions,
  errorViewFromParams,
  histogramSummary,
  isRegressed,
  noteProblem,
  notificationActions,
  notificationFiltersFromParams,
  notificationLinks,
  notificationQuery,
  paramsFromErrorView,
  paramsFromNotificationFilters,
  ruleProblem,
  runLimited,
  sparklineLabel,
  sparklinePoints,
} from '../../frontend/src/triage';

describe('notifications', () => {
  test('the address: new by default (and left out), unknown values ignored, one order for equal views', () => {
    expect(notificationFiltersFromParams(new URLSearchParams(''))).toEqual({ view: 'new' });
    expect(notificationFiltersFromParams(new URLSearchParams('status=resolved&severity=error&rule=failed-payments'))).toEqual({ view: 'resolved', severity: 'error', rule: 'failed-payments' });
    expect(notificationFiltersFromParams(new URLSearchParams('status=open&severity=loud&rule=%20'))).toEqual({ view: 'new' });
    expect(paramsFromNotificationFilters({ view: 'new' }).toString()).toBe('');
    expect(paramsFromNotificationFilters({ rule: 'r', view: 'all', severity: 'warning' }).toString()).toBe('status=all&severity=warning&rule=r');
    const round = notificationFiltersFromParams(paramsFromNotificationFilters({ view: 'read', rule: 'failed-logins' }));
    expect(round).toEqual({ view: 'read', rule: 'failed-logins' });
  });

  test('the request: "all" asks without a status; the cursor goes back as `cursor`', () => {
    expect(notificationQuery({ view: 'all', severity: 'critical' }, 50, 'abc')).toEqual({ status: undefined, severity: 'critical', rule: undefined, limit: 50, cursor: 'abc' });
    expect(notificationQuery({ view: 'new' }, 50)).toMatchObject({ status: 'new', limit: 50 });
  });

  test('rule ids and notes are checked as the API checks them', () => {
    expect(ruleProblem(undefined)).toBeUndefined();
    expect(ruleProblem('failed-payments')).toBeUndefined();
    expect(ruleProblem('Failed Payments')).toMatch(/lower-case/);
    expect(noteProblem('')).toBeUndefined();
    expect(noteProblem('x'.repeat(NOTE_MAX))).toBeUndefined();
    expect(noteProblem('x'.repeat(NOTE_MAX + 1))).toMatch(/at most 2000/);
  });

  test('what a row offers: anyone marks a new one read; only admins resolve, never what is resolved', () => {
    expect(notificationActions({ status: 'new' }, false)).toEqual({ markRead: true, resolve: false });
    expect(notificationActions({ status: 'new' }, true)).toEqual({ markRead: true, resolve: true });
    expect(notificationActions({ status: 'read' }, true)).toEqual({ markRead: false, resolve: true });
    expect(notificationActions({ status: 'read' }, false)).toEqual({ markRead: false, resolve: false });
    expect(notificationActions({ status: 'resolved' }, true)).toEqual({ markRead: false, resolve: false });
  });

  test('links: the triggering event, or the error group for a group lifecycle notification (its event is never stored)', () => {
    expect(notificationLinks({ eventId: '01ABC', record: { type: 'invoice', id: 'INV-1' } })).toEqual([{ label: 'Open event', to: '/events/01ABC' }]);
    expect(notificationLinks({ eventId: 'derived', record: { type: 'error_group', id: '0123456789abcdef' } })).toEqual([{ label: 'Open error group', to: '/errors/0123456789abcdef' }]);
  });

  test('delivery details name each channel', () => {
    const text = deliveryDetails({
      channels: ['email', 'sms', 'webhook', 'inApp'],
      deliveries: { email: { status: 'sent', messageId: 'm', at: 't' }, sms: { status: 'failed', error: 'throttled', at: 't' } },
    });
    expect(text.split('\n')).toEqual(['email: sent', 'sms: failed (throttled)', 'webhook: pending', 'inApp: listed here']);
  });

  test('the bulk runner: every item once, at most `limit` at a time, failures reported, never a rejection', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    const failed = await runLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      seen.push(n);
      if (n % 3 === 0) throw new Error(`no ${n}`);
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
    expect(failed.map((f) => f.item).sort()).toEqual([3, 6]);
    expect(await runLimited([], 4, async () => undefined)).toEqual([]);
  });
});

describe('error groups', () => {
  test('the address: the API defaults when absent or unknown, and left out of the address', () => {
    expect(errorViewFromParams(new URLSearchParams(''))).toEqual({ status: 'unresolved', sort: 'lastSeen' });
    expect(errorViewFromParams(new URLSearchParams('status=ignored&sort=count'))).toEqual({ status: 'ignored', sort: 'count' });
    expect(errorViewFromParams(new URLSearchParams('status=open&sort=title'))).toEqual({ status: 'unresolved', sort: 'lastSeen' });
    expect(paramsFromErrorView({ status: 'unresolved', sort: 'lastSeen' }).toString()).toBe('');
    expect(paramsFromErrorView({ status: 'resolved', sort: 'count' }).toString()).toBe('status=resolved&sort=count');
  });

  test('regressed: reopened by the tracker (regressedAt is the status time), not once someone changed it since', () => {
    expect(isRegressed({ status: 'unresolved', regressedAt: 't1', statusAt: 't1' })).toBe(true);
    expect(isRegressed({ status: 'unresolved', regressedAt: 't1', statusAt: 't2' })).toBe(false);
    expect(isRegressed({ status: 'resolved', regressedAt: 't1', statusAt: 't1' })).toBe(false);
    expect(isRegressed({ status: 'unresolved', statusAt: 't1' })).toBe(false);
  });

  test('actions: the two other statuses', () => {
    expect(errorActions('unresolved').map((a) => a.label)).toEqual(['Resolve', 'Ignore']);
    expect(errorActions('resolved').map((a) => a.label)).toEqual(['Ignore', 'Reopen']);
    expect(errorActions('ignored').map((a) => a.status)).toEqual(['resolved', 'unresolved']);
  });

  test('a 409 says the group changed meanwhile; anything else is described as usual', () => {
    expect(changeErrorMessage(new ApiError(409, 'conflict', 'error group x changed meanwhile'), () => 'other')).toMatch(/^This group changed meanwhile/);
    expect(changeErrorMessage(new ApiError(400, 'invalid_note', 'bad'), (e) => (e as Error).message)).toBe('bad');
  });
});

describe('small charts', () => {
  test('sparkline points: evenly spaced, the peak at the top, zero at the bottom, inside the padding', () => {
    expect(sparklinePoints([0, 2, 1], 100, 20, 0)).toBe('0,20 50,0 100,10');
    const points = sparklinePoints([0, 5, 0, 0], 96, 24).split(' ').map((p) => p.split(',').map(Number));
    expect(points).toHaveLength(4);
    expect(points[0]).toEqual([1.5, 22.5]);
    expect(points[1]![1]).toBe(1.5);
    expect(points.at(-1)![0]).toBe(94.5);
    // All zeros: a flat line on the floor (no division by zero); one value: one point.
    expect(sparklinePoints([0, 0], 10, 10, 0)).toBe('0,10 10,10');
    expect(sparklinePoints([3], 10, 10, 0)).toBe('0,0');
    expect(sparklinePoints([], 10, 10)).toBe('');
  });

  test('in words', () => {
    expect(sparklineLabel(Array(24).fill(0))).toBe('None in the last 24 hours');
    expect(sparklineLabel([...Array(23).fill(0), 12])).toBe('12 in the last 24 hours');
    const buckets = Array.from({ length: 168 }, (_, i) => ({ start: `h${i}`, count: i === 100 ? 4 : i % 50 === 0 ? 1 : 0 }));
    expect(histogramSummary(buckets, (iso) => iso)).toBe('7 occurrences in the last 7 days, hourly; the busiest hour was h100 with 4.');
    expect(histogramSummary(buckets.map((b) => ({ ...b, count: 0 })), (iso) => iso)).toBe('No occurrences in the last 7 days.');
  });
});

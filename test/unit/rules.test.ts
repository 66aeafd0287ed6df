/**
 * The rules core: validation, matching, sliding windows, throttles and
 * notification ids, on a fake clock.
 */
import type { AuditEvent } from '../../lambdas/core/event';
import {
  DEFAULT_RULES,
  decide,
  dryRun,
  groupOf,
  matchesRule,
  notificationId,
  silenceFiring,
  typeMatches,
  validateRule,
  type Decision,
  type Rule,
  type RuleState,
} from '../../lambdas/core/rules';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
let seq = 0;

function event(overrides: Partial<AuditEvent> = {}, at = T0): AuditEvent {
  seq++;
  return {
    id: `01JEVENT${String(seq).padStart(18, '0')}`,
    occurredAt: new Date(at).toISOString(),
    receivedAt: new Date(at).toISOString(),
    type: 'user.login.failed',
    category: 'security',
    severity: 'warning',
    status: 'failure',
    source: 'web',
    actor: { userId: 'u-42', ip: '10.0.0.1' },
    ...overrides,
  };
}

const failedLogins = DEFAULT_RULES.find((rule) => rule.id === 'failed-logins')!;

/** Feeds events through one rule like the handler does (state per group), returning the decisions. */
function run(rule: Rule, events: AuditEvent[], clock: (e: AuditEvent) => number = (e) => Date.parse(e.occurredAt), states = new Map<string, RuleState>()) {
  const decisions: Decision[] = [];
  for (const e of events) {
    if (!matchesRule(rule, e)) continue;
    const group = groupOf(rule, e);
    const decision = decide(rule, e, group, states.get(group), clock(e));
    if ('state' in decision) states.set(group, decision.state);
    decisions.push(decision);
  }
  return { decisions, fires: decisions.filter((d) => d.kind === 'fire'), states };
}

describe('type wildcards', () => {
  test.each([
    ['user.login.failed', 'user.login.failed', true],
    ['user.login.failed', 'user.login.succeeded', false],
    ['user.*.failed', 'user.login.failed', true],
    ['user.*.failed', 'user.login.mfa.failed', false],
    ['payment.*', 'payment.charge.failed', true],
    ['payment.*', 'payment.refund', true],
    ['payment.*', 'payment', false],
    ['payment.*', 'payments.charge', false],
    ['*', 'anything.at.all', true],
    ['*.*.update_failed', 'content.page.update_failed', true],
    ['*.*.update_failed', 'user.profile.update_failed', true],
    ['*.*.update_failed', 'user.profile.updated', false],
    ['api.request.fail*', 'api.request.failed', true],
    ['api.request.fail*', 'api.request.failed.twice', false],
    ['user.login', 'user.login.failed', false],
  ])('%s ~ %s → %s', (pattern, type, expected) => {
    expect(typeMatches(pattern, type)).toBe(expected);
  });
});

describe('matching', () => {
  const rule = (match: Rule['match']): Rule => ({ id: 'r', name: 'r', enabled: true, match, channels: ['inApp'] });

  test('every condition must hold', () => {
    const e = event({ type: 'payment.charge.failed', category: 'payment', severity: 'error', record: { type: 'invoice', id: 'INV-1' }, details: { plan: 'pro', amount: 12, trial: false } });
    expect(matchesRule(rule({}), e)).toBe(true);
    expect(matchesRule(rule({ type: 'payment.*', category: 'payment', status: 'failure', source: 'web', recordType: 'invoice' }), e)).toBe(true);
    expect(matchesRule(rule({ category: 'security' }), e)).toBe(false);
    expect(matchesRule(rule({ status: 'success' }), e)).toBe(false);
    expect(matchesRule(rule({ source: 'billing' }), e)).toBe(false);
    expect(matchesRule(rule({ recordType: 'order' }), e)).toBe(false);
  });

  test('minimum severity is a rank, not equality', () => {
    expect(matchesRule(rule({ minSeverity: 'warning' }), event({ severity: 'error' }))).toBe(true);
    expect(matchesRule(rule({ minSeverity: 'warning' }), event({ severity: 'warning' }))).toBe(true);
    expect(matchesRule(rule({ minSeverity: 'error' }), event({ severity: 'warning' }))).toBe(false);
    expect(matchesRule(rule({ minSeverity: 'critical' }), event({ severity: 'error' }))).toBe(false);
  });

  test('fields compare dotted paths by strict equality, a list means any of', () => {
    const e = event({ details: { plan: 'pro', amount: 12, nested: { flag: true } } });
    expect(matchesRule(rule({ fields: { 'details.plan': 'pro' } }), e)).toBe(true);
    expect(matchesRule(rule({ fields: { 'details.plan': ['free', 'pro'] } }), e)).toBe(true);
    expect(matchesRule(rule({ fields: { 'details.plan': 'free' } }), e)).toBe(false);
    expect(matchesRule(rule({ fields: { 'details.amount': '12' } }), e)).toBe(false);
    expect(matchesRule(rule({ fields: { 'details.amount': 12, 'details.nested.flag': true, 'actor.userId': 'u-42' } }), e)).toBe(true);
    expect(matchesRule(rule({ fields: { 'details.missing': 'x' } }), e)).toBe(false);
  });

  test('groups by the threshold field; events without it share a group', () => {
    expect(groupOf(failedLogins, event())).toBe('u-42');
    expect(groupOf(failedLogins, event({ actor: { ip: '1.2.3.4' } }))).toBe('(none)');
    expect(groupOf({ threshold: { count: 2, windowSeconds: 60, groupBy: 'actor.ip' } }, event())).toBe('10.0.0.1');
    expect(groupOf({}, event())).toBe('*');
  });
});

describe('thresholds and throttles (fake clock)', () => {
  test('5 failed logins for one user within 10 minutes fire once; 4 do not', () => {
    const four = Array.from({ length: 4 }, (_, i) => event({}, T0 + i * 60_000));
    expect(run(failedLogins, four).fires).toHaveLength(0);

    const five = Array.from({ length: 5 }, (_, i) => event({}, T0 + i * 60_000));
    const { fires } = run(failedLogins, five);
    expect(fires).toHaveLength(1);
    const fire = fires[0] as Extract<Decision, { kind: 'fire' }>;
    expect(fire.firing).toMatchObject({ count: 5, group: 'u-42', eventId: five[4]!.id, windowStart: five[0]!.occurredAt, windowEnd: five[4]!.occurredAt });
    expect(fire.firing.eventIds).toEqual(five.map((e) => e.id));
  });

  test('the window slides: 5 spread over more than 10 minutes do not fire, the next close one does', () => {
    const spread = Array.from({ length: 5 }, (_, i) => event({}, T0 + i * 3 * 60_000)); // 0..12 min
    expect(run(failedLogins, spread).fires).toHaveLength(0);
    // One more at 13 min: the last five (3..13 min) are within 10 minutes.
    expect(run(failedLogins, [...spread, event({}, T0 + 13 * 60_000)]).fires).toHaveLength(1);
  });

  test('groups are independent: 4 for each of two users fire nothing', () => {
    const events = Array.from({ length: 8 }, (_, i) => event({ actor: { userId: i % 2 ? 'a' : 'b' } }, T0 + i * 1000));
    expect(run(failedLogins, events).fires).toHaveLength(0);
  });

  test('after firing, 10 more within the throttle send nothing; after 30 minutes the next burst fires again', () => {
    let now = T0;
    const clock = () => now;
    const states = new Map<string, RuleState>();
    const burst = (n: number, from: number) => Array.from({ length: n }, (_, i) => event({}, from + i * 1000));

    expect(run(failedLogins, burst(5, T0), clock, states).fires).toHaveLength(1);
    now = T0 + 60_000;
    const throttled = run(failedLogins, burst(10, now), clock, states);
    expect(throttled.fires).toHaveLength(0);
    expect(throttled.decisions.filter((d) => d.kind === 'throttled')).toHaveLength(6); // 4 to reach 5 again, then each one after
    now = T0 + 29 * 60_000;
    expect(run(failedLogins, burst(5, now), clock, states).fires).toHaveLength(0);

    now = T0 + 31 * 60_000;
    const after = run(failedLogins, burst(5, now), clock, states);
    expect(after.fires).toHaveLength(1);
    const firing = (after.fires[0] as Extract<Decision, { kind: 'fire' }>).firing;
    expect(firing.suppressed).toBeGreaterThan(0);
    expect(firing.count).toBe(5 + firing.suppressed);
  });

  test('without a throttle a threshold fires once per N events, not on every event past N', () => {
    const rule: Rule = { ...failedLogins, throttleSeconds: undefined };
    const events = Array.from({ length: 12 }, (_, i) => event({}, T0 + i * 1000));
    expect(run(rule, events).fires).toHaveLength(2);
  });

  test('a repeated event (retried batch) is not counted twice and re-delivers the notification it fired', () => {
    const five = Array.from({ length: 5 }, (_, i) => event({}, T0 + i * 1000));
    const states = new Map<string, RuleState>();
    run(failedLogins, five.slice(0, 4), undefined, states);
    // A retry of the first four: nothing changes.
    const retried = run(failedLogins, five.slice(0, 4), undefined, states);
    expect(retried.decisions.every((d) => d.kind === 'ignore')).toBe(true);
    const fired = run(failedLogins, [five[4]!], undefined, states);
    expect(fired.fires).toHaveLength(1);
    // A retry of the whole batch: the firing event asks for (re)delivery of the same notification, the rest are ignored.
    const again = run(failedLogins, five, undefined, states);
    expect(again.decisions.map((d) => d.kind)).toEqual(['ignore', 'ignore', 'ignore', 'ignore', 'redeliver']);
    const redeliver = again.decisions[4] as Extract<Decision, { kind: 'redeliver' }>;
    expect(redeliver.firing.notificationId).toBe((fired.fires[0] as Extract<Decision, { kind: 'fire' }>).firing.notificationId);
  });

  test('notification ids are deterministic per rule, group and window anchor', () => {
    expect(notificationId('r', 'u-1', 'a')).toBe(notificationId('r', 'u-1', 'a'));
    expect(new Set([notificationId('r', 'u-1', 'a'), notificationId('r', 'u-2', 'a'), notificationId('s', 'u-1', 'a'), notificationId('r', 'u-1', 'b')]).size).toBe(4);
    const five = Array.from({ length: 5 }, (_, i) => event({}, T0 + i * 1000));
    const first = run(failedLogins, five).fires[0] as Extract<Decision, { kind: 'fire' }>;
    const second = run(failedLogins, five).fires[0] as Extract<Decision, { kind: 'fire' }>;
    expect(first.firing.notificationId).toBe(second.firing.notificationId);
  });

  test('a rule without threshold or throttle fires on every match, with the event as anchor', () => {
    const rule: Rule = { id: 'all-critical', name: 'c', enabled: true, match: { minSeverity: 'critical' }, channels: ['inApp'] };
    const events = [event({ severity: 'critical' }), event({ severity: 'critical' }), event({ severity: 'error' })];
    const { fires } = run(rule, events);
    expect(fires).toHaveLength(2);
  });
});

describe('dry run', () => {
  test('counts the notifications a rule would have sent over past events, throttles included', () => {
    const events = [
      ...Array.from({ length: 5 }, (_, i) => event({}, T0 + i * 1000)), // fires
      ...Array.from({ length: 10 }, (_, i) => event({}, T0 + 60_000 + i * 1000)), // throttled
      ...Array.from({ length: 5 }, (_, i) => event({}, T0 + 40 * 60_000 + i * 1000)), // fires again
      ...Array.from({ length: 4 }, (_, i) => event({ actor: { userId: 'other' } }, T0 + i * 1000)), // below threshold
      event({ type: 'user.login.succeeded' }),
    ];
    const result = dryRun(failedLogins, events.reverse());
    expect(result).toMatchObject({ events: 25, matched: 24, notifications: 2 });
    expect(result.throttled).toBe(6);
    expect(result.samples[0]).toMatchObject({ group: 'u-42', count: 5 });
  });
});

describe('silence rules', () => {
  const quiet: Rule = { id: 'checkout-quiet', name: 'Checkout went quiet', enabled: true, match: { source: 'checkout' }, silence: { windowSeconds: 900 }, channels: ['email'] };
  const seen = { at: new Date(T0).toISOString(), eventId: 'e-1' };

  test('fire only after something was seen and the window passed, once per silence', () => {
    expect(silenceFiring(quiet, undefined, T0 + 3_600_000)).toBeUndefined();
    expect(silenceFiring(quiet, seen, T0 + 900_000)).toBeUndefined();
    const first = silenceFiring(quiet, seen, T0 + 901_000)!;
    expect(first).toMatchObject({ eventId: 'e-1', group: 'checkout', windowStart: seen.at, count: 0 });
    // Every later check during the same silence names the same notification (created once); a new silence, a new one.
    expect(silenceFiring(quiet, seen, T0 + 7_200_000)!.notificationId).toBe(first.notificationId);
    expect(silenceFiring(quiet, { at: new Date(T0 + 60_000).toISOString(), eventId: 'e-2' }, T0 + 7_200_000)!.notificationId).not.toBe(first.notificationId);
    expect(silenceFiring({ ...quiet, silence: undefined }, seen, T0 + 7_200_000)).toBeUndefined();
  });

  test('a dry run counts the gaps longer than the window', () => {
    const at = (minutes: number) => event({ source: 'checkout' }, T0 + minutes * 60_000);
    const result = dryRun(quiet, [at(0), at(10), at(30), at(31), at(60), event({ source: 'other' }, T0 + 45 * 60_000)]);
    expect(result).toMatchObject({ matched: 5, notifications: 2 });
  });

  test('validation: a window of at least 5 minutes, and no threshold with it', () => {
    expect(validateRule({ ...quiet, silence: { windowSeconds: 60 } }).ok).toBe(false);
    const both = validateRule({ ...quiet, threshold: { count: 2, windowSeconds: 60 } });
    expect(both.ok).toBe(false);
    if (!both.ok) expect(both.errors.map((e) => e.path)).toEqual(['silence']);
    expect(validateRule(quiet)).toEqual({ ok: true, rule: quiet });
  });
});

describe('validation', () => {
  const valid = { name: 'Big refunds', match: { type: 'payment.refund.*', minSeverity: 'warning', fields: { 'details.plan': 'pro' } }, threshold: { count: 3, windowSeconds: 60, groupBy: 'actor.userId' }, throttleSeconds: 600, channels: ['email', 'inApp'] };

  test('accepts a good rule and fills in defaults', () => {
    const result = validateRule({ match: {}, name: 'All' }, { id: 'all' });
    expect(result).toEqual({ ok: true, rule: { id: 'all', name: 'All', enabled: true, match: {}, channels: ['inApp'] } });
    expect(validateRule({ ...valid, id: 'big-refunds' })).toMatchObject({ ok: true, rule: { id: 'big-refunds', threshold: { count: 3 } } });
  });

  test('every default rule is valid', () => {
    for (const rule of DEFAULT_RULES) expect(validateRule(rule)).toEqual({ ok: true, rule });
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['a missing name', { name: undefined }, 'name'],
    ['a bad type pattern', { match: { type: 'User Login' } }, 'match.type'],
    ['an unknown severity', { match: { minSeverity: 'fatal' } }, 'match.minSeverity'],
    ['an unknown category', { match: { category: 'misc' } }, 'match.category'],
    ['a field path reaching a prototype', { match: { fields: { '__proto__.x': 1 } } }, 'match.fields.__proto__.x'],
    ['an object as field value', { match: { fields: { 'details.plan': { a: 1 } } } }, 'match.fields.details.plan'],
    ['a zero count', { threshold: { count: 0, windowSeconds: 60 } }, 'threshold.count'],
    ['a fractional window', { threshold: { count: 2, windowSeconds: 1.5 } }, 'threshold.windowSeconds'],
    ['a negative throttle', { throttleSeconds: -1 }, 'throttleSeconds'],
    ['an unknown channel', { channels: ['pigeon'] }, 'channels[0]'],
    ['a repeated channel', { channels: ['email', 'email'] }, 'channels'],
    ['an unknown field', { colour: 'red' }, 'colour'],
    ['an unknown match field', { match: { severity: 'error' } }, 'match.severity'],
    ['a bad id', { id: 'Not A Slug!' }, 'id'],
    ['enabled as a string', { enabled: 'yes' }, 'enabled'],
  ])('reports %s at its path', (_name, change, path) => {
    const result = validateRule({ id: 'x', ...valid, ...change });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.path)).toContain(path);
  });

  test('reports several problems at once, and an id that disagrees with the URL', () => {
    const result = validateRule({ id: 'other', name: '', match: { minSeverity: 'loud' }, channels: 'email' }, { id: 'mine' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.path).sort()).toEqual(['channels', 'id', 'match.minSeverity', 'name']);
  });

  test('a non-object is refused as a whole', () => {
    expect(validateRule([])).toEqual({ ok: false, errors: [{ path: '', message: 'a rule must be a JSON object' }] });
  });
});

/**
 * The admin SPA's rule form model (frontend/src/rule-form.ts): rule ↔ form values, the browser's checks
 * (held against the API's own validateRule, so the two agree), error paths → controls, and how rules read.
 */
import * as server from '../../lambdas/core/rules';
import {
  CHANNELS,
  arrangeErrors,
  asSentence,
  controlForPath,
  describeMatch,
  describeThrottle,
  describeTrigger,
  emptyRuleForm,
  formToRule,
  parseDays,
  parseMatchFields,
  ruleBody,
  ruleToForm,
  suggestRuleId,
  toDuration,
  toggledRule,
  type RuleForm,
} from '../../frontend/src/rule-form';
import type { Rule } from '../../frontend/src/types';

const form = (patch: Partial<RuleForm>): RuleForm => ({ ...emptyRuleForm(), name: 'Failed charges', id: 'failed-charges', ...patch });

function body(patch: Partial<RuleForm>, isNew = true) {
  const result = formToRule(form(patch), { isNew });
  if (!result.ok) throw new Error(`expected a body, got ${JSON.stringify(result.errors)}`);
  return result.body;
}

function errorPaths(patch: Partial<RuleForm>, isNew = true): string[] {
  const result = formToRule(form(patch), { isNew });
  return result.ok ? [] : result.errors.map((e) => e.path);
}

describe('form → rule', () => {
  test('the e2e rule: every payment.charge.failed, in-app', () => {
    expect(body({ type: 'payment.charge.failed' })).toEqual({
      id: 'failed-charges',
      name: 'Failed charges',
      enabled: true,
      match: { type: 'payment.charge.failed' },
      channels: ['inApp'],
    });
  });

  test('a threshold with a window in minutes and a group; a throttle in hours', () => {
    expect(
      body({ kind: 'threshold', count: '5', window: { value: '10', unit: 'min' }, groupBy: 'actor.userId', throttle: { value: '1', unit: 'h' }, minSeverity: 'warning', channels: ['email', 'inApp'] }),
    ).toMatchObject({ match: { minSeverity: 'warning' }, threshold: { count: 5, windowSeconds: 600, groupBy: 'actor.userId' }, throttleSeconds: 3600, channels: ['email', 'inApp'] });
  });

  test('a silence has no threshold and no throttle', () => {
    const rule = body({ kind: 'silence', source: 'checkout', silence: { value: '30', unit: 'min' }, throttle: { value: '5', unit: 'min' }, count: '3' });
    expect(rule.silence).toEqual({ windowSeconds: 1800 });
    expect(rule.threshold).toBeUndefined();
    expect(rule.throttleSeconds).toBeUndefined();
    expect(rule.match).toEqual({ source: 'checkout' });
  });

  test('every event ignores the threshold controls', () => {
    expect(body({ kind: 'every', count: 'x', groupBy: 'not a path' }).threshold).toBeUndefined();
  });

  test('match fields from JSON; whitespace trimmed; channels in the API order', () => {
    const rule = body({ fields: '{"details.plan": ["pro", "team"], "actor.userId": "u-1"}', type: '  user.*.failed ', channels: ['webhook', 'email'] });
    expect(rule.match).toEqual({ type: 'user.*.failed', fields: { 'details.plan': ['pro', 'team'], 'actor.userId': 'u-1' } });
    expect(rule.channels).toEqual(['email', 'webhook']);
  });

  test('every problem, by API path, and no body', () => {
    expect(
      errorPaths({ name: ' ', id: 'Bad Id', type: 'User.Login', kind: 'threshold', count: '0', window: { value: '8', unit: 'd' }, groupBy: 'a..b', throttle: { value: '1.5', unit: 'h' }, fields: '[1]', channels: [] }),
    ).toEqual(['name', 'id', 'match.type', 'match.fields', 'threshold.count', 'threshold.windowSeconds', 'threshold.groupBy', 'throttleSeconds', 'channels']);
    expect(errorPaths({ kind: 'silence', silence: { value: '4', unit: 'min' } })).toEqual(['silence.windowSeconds']);
    expect(errorPaths({ kind: 'silence', silence: { value: '', unit: 'min' } })).toEqual(['silence.windowSeconds']);
    expect(errorPaths({ name: 'x'.repeat(121), description: 'y'.repeat(1001), source: 's'.repeat(65), recordType: 'r'.repeat(129) })).toEqual(['name', 'description', 'match.source', 'match.recordType']);
  });

  test('on edit the id is not checked (it is the URL’s)', () => {
    expect(errorPaths({ id: '' }, false)).toEqual([]);
    expect(errorPaths({ id: '' }, true)).toEqual(['id']);
  });

  test('messages are readable, in the user’s unit', () => {
    const result = formToRule(form({ kind: 'threshold', window: { value: '8', unit: 'd' } }), { isNew: true });
    expect(result.ok ? [] : result.errors).toEqual([{ path: 'threshold.windowSeconds', message: 'Must be between 1 second and 7 days.' }]);
  });
});

describe('the browser’s checks agree with the API', () => {
  const cases: Array<[string, Partial<RuleForm>]> = [
    ['plain', {}],
    ['type wildcards', { type: 'user.*.failed' }],
    ['type final wildcard', { type: 'payment.*' }],
    ['type prefix', { type: 'api.request.fail*' }],
    ['type star', { type: '*' }],
    ['type upper case', { type: 'User.login' }],
    ['type dash', { type: 'user-login' }],
    ['type too deep', { type: 'a.b.c.d.e.f.g' }],
    ['type empty segment', { type: 'a..b' }],
    ['id dash first', { id: '-abc' }],
    ['id 64', { id: 'a'.repeat(64) }],
    ['id 65', { id: 'a'.repeat(65) }],
    ['id underscore', { id: 'a_b' }],
    ['count 1000', { kind: 'threshold', count: '1000' }],
    ['count 1001', { kind: 'threshold', count: '1001' }],
    ['window 7 d', { kind: 'threshold', window: { value: '7', unit: 'd' } }],
    ['window 7 d + 1 s', { kind: 'threshold', window: { value: String(7 * 86_400 + 1), unit: 's' } }],
    ['group by proto', { kind: 'threshold', groupBy: 'a.__proto__' }],
    ['group by deep', { kind: 'threshold', groupBy: 'a.b.c.d.e.f.g.h' }],
    ['group by too deep', { kind: 'threshold', groupBy: 'a.b.c.d.e.f.g.h.i' }],
    ['silence 5 min', { kind: 'silence', silence: { value: '5', unit: 'min' } }],
    ['silence 299 s', { kind: 'silence', silence: { value: '299', unit: 's' } }],
    ['silence 30 d', { kind: 'silence', silence: { value: '30', unit: 'd' } }],
    ['silence 31 d', { kind: 'silence', silence: { value: '31', unit: 'd' } }],
    ['throttle 7 d', { throttle: { value: '7', unit: 'd' } }],
    ['throttle 8 d', { throttle: { value: '8', unit: 'd' } }],
    ['fields list', { fields: '{"details.plan": ["a", 1, true]}' }],
    ['fields empty list', { fields: '{"details.plan": []}' }],
    ['fields object value', { fields: '{"details.plan": {"a": 1}}' }],
    ['fields long string', { fields: JSON.stringify({ 'details.x': 'z'.repeat(257) }) }],
    ['fields bad path', { fields: '{"details plan": 1}' }],
    ['fields constructor', { fields: '{"constructor.x": 1}' }],
  ];

  test.each(cases)('%s', (_name, patch) => {
    const result = formToRule(form(patch), { isNew: true });
    // The API also accepts a rule without channels; the form asks for one, so every case keeps in-app.
    const serverResult = server.validateRule(result.ok ? result.body : toServerInput(form(patch)), {});
    expect(result.ok).toBe(serverResult.ok);
    if (result.ok && serverResult.ok) expect(serverResult.rule).toEqual({ ...result.body, enabled: true });
  });

  /** What the form would have sent without its own check, to ask the server the same question. */
  function toServerInput(f: RuleForm): unknown {
    const unit = { s: 1, min: 60, h: 3600, d: 86_400 } as const;
    const seconds = (d: RuleForm['window']) => Number(d.value) * unit[d.unit];
    let fields: unknown;
    try {
      fields = f.fields ? JSON.parse(f.fields) : undefined;
    } catch {
      fields = 'not json';
    }
    return {
      id: f.id,
      name: f.name,
      match: { ...(f.type ? { type: f.type } : {}), ...(fields !== undefined ? { fields } : {}) },
      ...(f.kind === 'threshold' ? { threshold: { count: Number(f.count), windowSeconds: seconds(f.window), ...(f.groupBy ? { groupBy: f.groupBy } : {}) } } : {}),
      ...(f.kind === 'silence' ? { silence: { windowSeconds: seconds(f.silence) } } : {}),
      ...(f.kind !== 'silence' && f.throttle.value ? { throttleSeconds: seconds(f.throttle) } : {}),
      channels: f.channels,
    };
  }

  test('the same channels, ids and limits', () => {
    expect(CHANNELS).toEqual(server.CHANNELS);
  });
});

describe('rule → form → rule', () => {
  test.each(server.DEFAULT_RULES.map((rule) => [rule.id, rule] as const))('default rule %s round-trips', (_id, rule) => {
    const result = formToRule(ruleToForm(rule as Rule), { isNew: false });
    expect(result).toEqual({ ok: true, body: ruleBody(rule as Rule) });
  });

  test('a silence rule and match fields round-trip', () => {
    const rule: Rule = { id: 's', name: 'Checkout silent', enabled: false, match: { source: 'checkout', fields: { 'details.plan': ['pro', 2] } }, silence: { windowSeconds: 5400 }, channels: ['webhook'] };
    const f = ruleToForm(rule);
    expect(f).toMatchObject({ kind: 'silence', silence: { value: '90', unit: 'min' }, enabled: false });
    expect(formToRule(f, { isNew: false })).toEqual({ ok: true, body: rule });
  });

  test('audit fields stay out of a PUT; the toggle flips only enabled', () => {
    const rule = { ...(server.DEFAULT_RULES[0] as Rule), createdAt: '2026-01-01T00:00:00Z', updatedBy: 'a@b' };
    const toggled = toggledRule(rule, false);
    expect(toggled).not.toHaveProperty('createdAt');
    expect(toggled).not.toHaveProperty('updatedBy');
    expect(toggled.enabled).toBe(false);
    expect(server.validateRule(toggled, { id: rule.id })).toMatchObject({ ok: true, rule: { ...ruleBody(rule), enabled: false } });
  });
});

describe('durations, ids, days', () => {
  test('the largest unit that divides', () => {
    expect(toDuration(600)).toEqual({ value: '10', unit: 'min' });
    expect(toDuration(7200)).toEqual({ value: '2', unit: 'h' });
    expect(toDuration(172_800)).toEqual({ value: '2', unit: 'd' });
    expect(toDuration(90)).toEqual({ value: '90', unit: 's' });
    expect(toDuration(undefined, { value: '1', unit: 'h' })).toEqual({ value: '1', unit: 'h' });
  });

  test('an id from a name', () => {
    expect(suggestRuleId('Repeated failed logins!')).toBe('repeated-failed-logins');
    expect(suggestRuleId('  Café — résumé  ')).toBe('cafe-resume');
    expect(suggestRuleId('!!!')).toBe('');
    expect(suggestRuleId('x'.repeat(70))).toHaveLength(64);
    expect(server.RULE_ID_PATTERN.test(suggestRuleId('Payment charge failed (prod)'))).toBe(true);
  });

  test('dry-run days', () => {
    expect(parseDays('7')).toEqual({ ok: true, days: 7 });
    expect(parseDays(' 30 ')).toEqual({ ok: true, days: 30 });
    for (const bad of ['0', '31', '1.5', '', 'x']) expect(parseDays(bad).ok).toBe(false);
  });

  test('match fields text', () => {
    expect(parseMatchFields('')).toEqual({ ok: true });
    expect(parseMatchFields('{}')).toEqual({ ok: true });
    expect(parseMatchFields('{"a": 1')).toMatchObject({ ok: false, message: expect.stringContaining('Not valid JSON') });
    expect(parseMatchFields('"x"')).toMatchObject({ ok: false });
  });
});

describe('errors on the form', () => {
  test('API paths → controls', () => {
    expect(controlForPath('channels[0]')).toBe('channels');
    expect(controlForPath('match.minSeverity')).toBe('match.minSeverity');
    expect(controlForPath('threshold.count')).toBe('threshold.count');
    expect(controlForPath('threshold')).toBe('threshold.count');
    expect(controlForPath('silence')).toBe('silence.windowSeconds');
    expect(controlForPath('match.fields.details.plan')).toBe('match.fields');
    expect(controlForPath('match.nope')).toBeUndefined();
    expect(controlForPath('')).toBeUndefined();
  });

  test('the API’s 400, arranged: under each control and in form order in the summary', () => {
    const { byControl, summary } = arrangeErrors([
      { path: 'channels[0]', message: 'must be one of email, sms, inApp, webhook' },
      { path: 'threshold.count', message: 'must be at least 1' },
      { path: 'match.minSeverity', message: 'must be one of debug, info, warning, error, critical' },
      { path: 'match.other', message: 'is not a field of a rule' },
    ]);
    expect(byControl).toEqual({
      channels: ['Must be one of email, sms, inApp, webhook.'],
      'threshold.count': ['Must be at least 1.'],
      'match.minSeverity': ['Must be one of debug, info, warning, error, critical.'],
    });
    expect(summary.map((s) => s.label)).toEqual(['Minimum severity', 'Count', 'Channels', 'match.other']);
  });

  test('sentences', () => {
    expect(asSentence('must be at least 1')).toBe('Must be at least 1.');
    expect(asSentence('Enter a name.')).toBe('Enter a name.');
  });
});

describe('how a rule reads', () => {
  test('match', () => {
    expect(describeMatch({})).toEqual(['any event']);
    expect(describeMatch({ type: 'user.login.failed', minSeverity: 'warning', fields: { 'details.plan': ['pro', 'team'] } })).toEqual([
      'type user.login.failed',
      'severity ≥ warning',
      'details.plan = pro | team',
    ]);
  });

  test('trigger and throttle', () => {
    expect(describeTrigger({ threshold: { count: 5, windowSeconds: 600, groupBy: 'actor.userId' } })).toBe('5 in 10 min per actor.userId');
    expect(describeTrigger({ threshold: { count: 1, windowSeconds: 1, groupBy: 'type' } })).toBe('every event per type');
    expect(describeTrigger({})).toBe('every event');
    expect(describeTrigger({ silence: { windowSeconds: 3600 } })).toBe('silent for 1 h');
    expect(describeThrottle(1800)).toBe('at most 1 per 30 min');
    expect(describeThrottle(undefined)).toBe('none');
  });
});

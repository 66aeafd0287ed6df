/**
 * Notification texts (email, SMS in one GSM-7 segment) and the read →
 * resolved workflow rules.
 */
import type { AuditEvent } from '../../lambdas/core/event';
import {
  allowedFrom,
  channelsToSend,
  createNotification,
  emailBody,
  emailSubject,
  fitSms,
  gsm7Length,
  overallDelivery,
  parseNotificationChange,
  smsText,
} from '../../lambdas/core/notifications';
import { DEFAULT_RULES, type Firing } from '../../lambdas/core/rules';

const event: AuditEvent = {
  id: '01JABCDEFGHJKMNPQRSTVWXYZ0',
  occurredAt: '2026-11-23T10:04:00.000Z',
  receivedAt: '2026-11-23T10:04:00.100Z',
  type: 'user.login.failed',
  category: 'security',
  severity: 'warning',
  status: 'failure',
  source: 'web',
  actor: { userId: 'u-42', ip: '10.0.0.1' },
  record: { type: 'account', id: 'ACC-7' },
  message: 'wrong password',
};
const rule = DEFAULT_RULES.find((r) => r.id === 'failed-logins')!;
const firing: Firing = {
  notificationId: 'n1',
  eventId: event.id,
  count: 5,
  windowStart: '2026-11-23T10:00:00.000Z',
  windowEnd: event.occurredAt,
  eventIds: ['a', 'b', 'c', 'd', event.id],
  suppressed: 0,
  group: 'u-42',
};
const notification = createNotification(rule, event, firing, new Date('2026-11-23T10:04:01Z'));

describe('email', () => {
  test('the subject is short ASCII with severity and title', () => {
    expect(emailSubject(notification)).toBe('[WARNING] Repeated failed logins: 5 × user.login.failed (u-42)'.replace('×', '').replace('  ', ' '));
    const long = emailSubject({ ...notification, title: `Ünïcödé ${'x'.repeat(200)}\nsecond line` });
    expect(long.length).toBeLessThan(100);
    expect(long).toMatch(/^[\x20-\x7e]+$/);
  });

  test('the body says what, when, who, which record, how many, and links to the event', () => {
    const body = emailBody(notification, event, 'https://audit.example.com/');
    expect(body).toContain('What:      user.login.failed - wrong password');
    expect(body).toContain('When:      2026-11-23T10:04:00.000Z (first of the window: 2026-11-23T10:00:00.000Z)');
    expect(body).toContain('Who:       user u-42, IP 10.0.0.1');
    expect(body).toContain('Record:    account ACC-7');
    expect(body).toContain('How many:  5 matching events within 4 minutes for u-42');
    expect(body).toContain(`https://audit.example.com/#/events/${event.id}`);
    expect(emailBody(notification, event, undefined)).toContain(`Event id: ${event.id}`);
  });
});

describe('SMS', () => {
  test('the text is one GSM-7 segment', () => {
    const text = smsText(notification, event);
    expect(gsm7Length(text)).toBeDefined();
    expect(gsm7Length(text)!).toBeLessThanOrEqual(160);
    expect(text).toContain('5x user.login.failed');
  });

  test('long or non-GSM text is transliterated and cut to 160 septets', () => {
    const long = smsText({ ...notification, ruleName: `Überwachung ‘quoted’ — 日本 ${'long name '.repeat(30)}` }, { ...event, actor: { userId: 'ü'.repeat(50) } });
    expect(gsm7Length(long)).toBeDefined();
    expect(gsm7Length(long)!).toBeLessThanOrEqual(160);
    expect(long.endsWith('...')).toBe(true);
  });

  test('extension characters count twice', () => {
    expect(gsm7Length('{}')).toBe(4);
    expect(gsm7Length('abc')).toBe(3);
    expect(gsm7Length('日')).toBeUndefined();
    const braces = fitSms('{'.repeat(100));
    expect(gsm7Length(braces)).toBeLessThanOrEqual(160);
    expect(fitSms('a'.repeat(160))).toBe('a'.repeat(160));
    expect(fitSms('a'.repeat(161))).toBe(`${'a'.repeat(157)}...`);
    expect(fitSms('café ñ ç')).toBe('café ñ c');
  });
});

describe('delivery bookkeeping', () => {
  test('in-app needs no send; a channel already sent is not sent again', () => {
    expect(channelsToSend(notification)).toEqual(['email', 'sms']);
    const partly = { ...notification, deliveries: { email: { status: 'sent' as const, messageId: 'm', at: 'x' }, sms: { status: 'failed' as const, error: 'boom', at: 'x' } } };
    expect(channelsToSend(partly)).toEqual(['sms']);
    expect(overallDelivery(partly)).toBe('failed');
    expect(overallDelivery(notification)).toBe('pending');
    expect(overallDelivery({ ...partly, deliveries: { ...partly.deliveries, sms: { status: 'sent', messageId: 'n', at: 'x' } } })).toBe('sent');
  });
});

describe('workflow', () => {
  const viewer = { userId: 'v@x', groups: ['viewer' as const] };
  const admin = { userId: 'a@x', groups: ['admin' as const] };

  test('parses read and resolved-with-note; refuses anything else', () => {
    expect(parseNotificationChange({ status: 'read' })).toEqual({ status: 'read' });
    expect(parseNotificationChange({ status: 'resolved', note: ' reset the password ' })).toEqual({ status: 'resolved', note: 'reset the password' });
    expect(() => parseNotificationChange({ status: 'new' })).toThrow('status must be');
    expect(() => parseNotificationChange({ status: 'read', note: 'x' })).toThrow('a note goes with');
    expect(() => parseNotificationChange({ status: 'read', extra: 1 })).toThrow('unexpected');
    expect(() => parseNotificationChange('read')).toThrow();
  });

  test('a viewer may mark read; only an admin resolves', () => {
    expect(allowedFrom({ status: 'read' }, viewer)).toEqual(['new']);
    expect(allowedFrom({ status: 'resolved' }, admin)).toEqual(['new', 'read']);
    expect(() => allowedFrom({ status: 'resolved' }, viewer)).toThrow('admin');
  });
});

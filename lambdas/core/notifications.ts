/**
 * Notifications: the record a fired rule leaves (the in-app channel, and the
 * outbox the other channels are sent from), the texts each channel gets, and
 * the read → resolved workflow. Pure domain code.
 */
import type { AuditEvent, Category, RecordRef, Severity } from './event';
import { ClientError } from './errors';
import type { Principal } from './access';
import type { Channel, Firing, Rule } from './rules';
import { ERROR_GROUP_RECORD_TYPE } from './error-groups';
import { ERROR_GROUP_EVENT_PREFIX } from './fingerprint';

export const NOTIFICATION_STATUSES = ['new', 'read', 'resolved'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** One channel's outcome: the SNS message id (or the local outbox's), or why it failed. */
export type Delivery =
  | { status: 'sent'; messageId: string; at: string }
  | { status: 'failed'; error: string; at: string }
  | { status: 'skipped'; reason: string; at: string };

export interface Notification {
  id: string;
  ruleId: string;
  ruleName: string;
  /** The group the rule counted in (`u-42` for a per-user threshold), `*` without grouping. */
  group: string;
  severity: Severity;
  category: Category;
  type: string;
  source: string;
  title: string;
  /** The triggering event (the one that completed the threshold) and the window's events. */
  eventId: string;
  eventIds: string[];
  record?: RecordRef;
  count: number;
  windowStart: string;
  windowEnd: string;
  createdAt: string;
  status: NotificationStatus;
  channels: Channel[];
  /** `pending` until every channel was tried; `sent` when all went out; `failed` when one could not. */
  delivery: 'pending' | 'sent' | 'failed';
  deliveries: Partial<Record<Channel, Delivery>>;
  readAt?: string;
  readBy?: string;
  resolvedAt?: string;
  resolvedBy?: string;
  note?: string;
}

/** A new notification from a rule firing on an event, before any delivery. */
export function createNotification(rule: Rule, event: AuditEvent, firing: Firing, now: Date): Notification {
  const who = event.actor?.userId ?? event.actor?.adminId ?? event.actor?.ip;
  const title = firing.count > 1 ? `${rule.name}: ${firing.count} × ${event.type}${who ? ` (${who})` : ''}` : `${rule.name}: ${event.type}${who ? ` (${who})` : ''}`;
  return {
    id: firing.notificationId,
    ruleId: rule.id,
    ruleName: rule.name,
    group: firing.group,
    severity: event.severity,
    category: event.category,
    type: event.type,
    source: event.source,
    title: title.slice(0, 200),
    eventId: event.id,
    eventIds: firing.eventIds,
    ...(event.record ? { record: event.record } : {}),
    count: firing.count,
    windowStart: firing.windowStart,
    windowEnd: firing.windowEnd,
    createdAt: now.toISOString(),
    status: 'new',
    channels: rule.channels,
    delivery: 'pending',
    deliveries: {},
  };
}

/** The channels that still need a send: not yet sent (a retry after a crash or a failed publish). */
export function channelsToSend(notification: Pick<Notification, 'channels' | 'deliveries'>): Channel[] {
  return notification.channels.filter((channel) => channel !== 'inApp' && notification.deliveries[channel]?.status !== 'sent');
}

export function overallDelivery(notification: Pick<Notification, 'channels' | 'deliveries'>): Notification['delivery'] {
  const outcomes = notification.channels.filter((c) => c !== 'inApp').map((channel) => notification.deliveries[channel]?.status);
  if (outcomes.some((status) => status === undefined)) return 'pending';
  return outcomes.some((status) => status === 'failed') ? 'failed' : 'sent';
}

export function eventLink(adminUrl: string | undefined, eventId: string): string | undefined {
  if (!adminUrl) return undefined;
  return `${adminUrl.replace(/\/+$/, '')}/#/events/${encodeURIComponent(eventId)}`;
}

/**
 * Where a notification sends its reader: the triggering event; for an error
 * group's lifecycle event (new, regressed: derived by the error tracker and
 * not stored, see core/error-groups.ts) the group itself.
 */
export function notificationLink(adminUrl: string | undefined, event: Pick<AuditEvent, 'id' | 'type' | 'record'>): string | undefined {
  if (adminUrl && event.type.startsWith(ERROR_GROUP_EVENT_PREFIX) && event.record?.type === ERROR_GROUP_RECORD_TYPE) {
    return `${adminUrl.replace(/\/+$/, '')}/#/errors/${encodeURIComponent(event.record.id)}`;
  }
  return eventLink(adminUrl, event.id);
}

function describeWho(event: AuditEvent): string {
  const parts = [
    event.actor?.userId && `user ${event.actor.userId}`,
    event.actor?.adminId && `admin ${event.actor.adminId}`,
    event.actor?.ip && `IP ${event.actor.ip}`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'unknown';
}

function describeWindow(notification: Notification): string {
  if (notification.count <= 1) return '1 event';
  const seconds = Math.max(0, Math.round((Date.parse(notification.windowEnd) - Date.parse(notification.windowStart)) / 1000));
  const span = seconds >= 120 ? `${Math.round(seconds / 60)} minutes` : `${seconds} seconds`;
  return `${notification.count} matching events within ${span}`;
}

/** SNS email subjects: ASCII, no line breaks, under 100 characters. */
export function emailSubject(notification: Notification): string {
  const subject = `[${notification.severity.toUpperCase()}] ${notification.title}`
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return subject.length <= 99 ? subject : `${subject.slice(0, 96)}...`;
}

/** The email body: what, when, who, which record, how many, and where to look. */
export function emailBody(notification: Notification, event: AuditEvent, adminUrl: string | undefined): string {
  const link = notificationLink(adminUrl, event);
  const lines = [
    notification.title,
    '',
    `What:      ${event.type}${event.message ? ` - ${event.message}` : event.error?.message ? ` - ${event.error.message}` : ''}`,
    `When:      ${event.occurredAt}${notification.count > 1 ? ` (first of the window: ${notification.windowStart})` : ''}`,
    `Who:       ${describeWho(event)}`,
    `Record:    ${event.record ? `${event.record.type} ${event.record.id}` : 'none'}`,
    `How many:  ${describeWindow(notification)}${notification.group !== '*' ? ` for ${notification.group}` : ''}`,
    `Severity:  ${event.severity} (${event.category}), status ${event.status}, from ${event.source}`,
    `Rule:      ${notification.ruleName} (${notification.ruleId})`,
    '',
    link ? `Open the event: ${link}` : `Event id: ${event.id}`,
    `Notification: ${notification.id}`,
  ];
  return lines.join('\n');
}

/** The SMS text: one segment of GSM-7. */
export function smsText(notification: Notification, event: AuditEvent): string {
  const who = event.actor?.userId ?? event.actor?.adminId ?? event.actor?.ip;
  const parts = [
    `${notification.severity.toUpperCase()}: ${notification.ruleName}`,
    notification.count > 1 ? `${notification.count}x ${event.type}` : event.type,
    who ? `by ${who}` : undefined,
    event.record ? `${event.record.type} ${event.record.id}` : undefined,
    `event ${event.id}`,
  ].filter((part): part is string => part !== undefined);
  return fitSms(parts.join(' - '));
}

// ---------------------------------------------------------------- GSM-7

/** The GSM 03.38 default alphabet (one septet each)... */
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
/** ...and its extension table (an escape plus a septet: two each). */
const GSM7_EXTENDED = new Set('^{}\\[~]|€\f');

export const SMS_SEGMENT = 160;

/** Septets the text takes in GSM-7, or undefined when it has a character outside GSM-7 (it would go as UCS-2, 70 a segment). */
export function gsm7Length(text: string): number | undefined {
  let length = 0;
  for (const char of text) {
    if (GSM7_BASIC.has(char)) length += 1;
    else if (GSM7_EXTENDED.has(char)) length += 2;
    else return undefined;
  }
  return length;
}

/** Makes text GSM-7 (accents dropped, anything else `?`) and cuts it to one 160-septet segment. */
export function fitSms(text: string): string {
  let out = '';
  let length = 0;
  const chars = [...text.replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"').replace(/[\u2013\u2014]/g, '-').replace(/\u2026/g, '...')];
  for (let i = 0; i < chars.length; i++) {
    let char = chars[i]!;
    if (!GSM7_BASIC.has(char) && !GSM7_EXTENDED.has(char)) {
      const plain = char.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
      char = plain.length === 1 && (GSM7_BASIC.has(plain) || GSM7_EXTENDED.has(plain)) ? plain : '?';
    }
    const cost = GSM7_EXTENDED.has(char) ? 2 : 1;
    if (length + cost > SMS_SEGMENT) {
      // Cut, leaving room for "...".
      while (length > SMS_SEGMENT - 3) {
        const last = [...out].at(-1)!;
        out = out.slice(0, out.length - last.length);
        length -= GSM7_EXTENDED.has(last) ? 2 : 1;
      }
      return `${out}...`;
    }
    out += char;
    length += cost;
  }
  return out;
}

// ---------------------------------------------------------------- workflow

export interface NotificationChange {
  status: 'read' | 'resolved';
  note?: string;
}

/** Parses a PATCH body: `{ "status": "read" }` or `{ "status": "resolved", "note": "..." }`. */
export function parseNotificationChange(body: unknown): NotificationChange {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ClientError(400, 'invalid_body', 'send { "status": "read" } or { "status": "resolved", "note": "..." }');
  const { status, note, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new ClientError(400, 'invalid_body', `unexpected field(s): ${unknown.join(', ')}`);
  if (status !== 'read' && status !== 'resolved') throw new ClientError(400, 'invalid_status', 'status must be "read" or "resolved"');
  if (note !== undefined && (typeof note !== 'string' || note.length > 2000)) throw new ClientError(400, 'invalid_note', 'note must be text of at most 2000 characters');
  if (note !== undefined && status !== 'resolved') throw new ClientError(400, 'invalid_note', 'a note goes with status "resolved"');
  return { status, ...(typeof note === 'string' && note.trim() !== '' ? { note: note.trim() } : {}) };
}

/**
 * Which current statuses a change may start from: anyone who may read may
 * mark read (new → read); resolving (new or read → resolved) needs an admin.
 * A change to the status a notification already has is a no-op, not an error.
 */
export function allowedFrom(change: NotificationChange, principal: Principal): NotificationStatus[] {
  if (change.status === 'read') return ['new'];
  if (!principal.groups.includes('admin')) throw new ClientError(403, 'forbidden', 'resolving a notification needs the admin role');
  return ['new', 'read'];
}

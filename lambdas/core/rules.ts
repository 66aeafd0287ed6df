/**
 * Alert rules: what they look like, how they are checked, which events they
 * match, and when a match becomes a notification (thresholds over a sliding
 * window, throttles per rule and group). Pure domain code: the state a rule
 * keeps between events is passed in and handed back, and time comes from the
 * caller, so tests run on a fake clock and the store decides how to persist.
 */
import { createHash } from 'node:crypto';
import * as z from './zod';
import { CATEGORIES, SEVERITIES, STATUSES, severityRank, type AuditEvent, type Category, type FieldError, type Severity, type Status } from './event';
import { joinPath } from './validate';

export const CHANNELS = ['email', 'sms', 'inApp', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];

export type FieldValue = string | number | boolean;

export interface RuleMatch {
  /** Dotted type; a `*` segment matches one segment, a final `*` one or more, `fail*` a segment prefix. */
  type?: string;
  category?: Category;
  minSeverity?: Severity;
  status?: Status;
  source?: string;
  recordType?: string;
  /** Equality on dotted paths into the event (`details.plan`, `actor.userId`); a list means any of. */
  fields?: Record<string, FieldValue | FieldValue[]>;
}

export interface RuleThreshold {
  /** Matching events needed (within the window, in one group) before the rule fires. */
  count: number;
  windowSeconds: number;
  /** Dotted path the events are grouped by (`actor.userId`, `actor.ip`); events without it form the group `(none)`. */
  groupBy?: string;
}

export interface Rule {
  id: string;
  name: string;
  description?: string;
  enabled: boolean;
  match: RuleMatch;
  threshold?: RuleThreshold;
  /** After a notification, no other for the same rule and group for this long. */
  throttleSeconds?: number;
  /**
   * A silence rule: notify when no matching event (e.g. none from `match.source`) arrived for this long,
   * after at least one did. Checked on a schedule; one notification per silence.
   */
  silence?: { windowSeconds: number };
  channels: Channel[];
  createdAt?: string;
  createdBy?: string;
  updatedAt?: string;
  updatedBy?: string;
}

/** Rule ids: lower-case slugs, so they read well in URLs, SNS attributes and subscription filter policies. */
export const RULE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const MAX_THRESHOLD_COUNT = 1000;
export const MAX_WINDOW_SECONDS = 7 * 86_400;
export const MAX_THROTTLE_SECONDS = 7 * 86_400;
/** Silence is checked every few minutes; shorter windows would only be noise. */
export const MIN_SILENCE_SECONDS = 300;
export const MAX_SILENCE_SECONDS = 30 * 86_400;
/** Dotted field paths a rule may read: plain identifiers only, nothing that could reach a prototype. */
const FIELD_PATH = /^(?!.*(^|\.)(__proto__|constructor|prototype)(\.|$))[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+){0,7}$/;
const TYPE_PATTERN = /^(\*|[a-z0-9_]+\*?)(\.(\*|[a-z0-9_]+\*?)){0,5}$/;

const fieldPath = z.string().regex(FIELD_PATH, 'must be a dotted field path such as details.plan or actor.userId');
const scalar = z.union([z.string().max(256), z.number(), z.boolean()], { error: () => 'must be a string, a number or a boolean' });
const wholeNumber = (min: number, max: number) =>
  z.number({ error: () => 'must be a number' }).int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

const ruleSchema = z.strictObject({
  id: z.string().regex(RULE_ID_PATTERN, 'must be 1-64 lower-case letters, digits or dashes, starting with a letter or digit').optional(),
  name: z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }).trim().min(1, 'must not be empty').max(120, 'must be at most 120 characters'),
  description: z.string().max(1000, 'must be at most 1000 characters').optional(),
  enabled: z.boolean({ error: () => 'must be true or false' }).default(true),
  match: z.strictObject(
    {
      type: z.string().regex(TYPE_PATTERN, 'must be a dotted type such as user.login.failed; * stands for one segment, or any rest at the end').optional(),
      category: z.enum(CATEGORIES, { error: () => `must be one of ${CATEGORIES.join(', ')}` }).optional(),
      minSeverity: z.enum(SEVERITIES, { error: () => `must be one of ${SEVERITIES.join(', ')}` }).optional(),
      status: z.enum(STATUSES, { error: () => `must be one of ${STATUSES.join(', ')}` }).optional(),
      source: z.string().min(1).max(64).optional(),
      recordType: z.string().min(1).max(128).optional(),
      fields: z.record(fieldPath, z.union([scalar, z.array(scalar).min(1, 'must list at least one value').max(50)]), { error: () => 'must be an object of field path → value' }).optional(),
    },
    { error: (issue) => (issue.input === undefined ? 'is required (use {} to match every event)' : 'must be an object') },
  ),
  threshold: z
    .strictObject({
      count: wholeNumber(1, MAX_THRESHOLD_COUNT),
      windowSeconds: wholeNumber(1, MAX_WINDOW_SECONDS),
      groupBy: fieldPath.optional(),
    })
    .optional(),
  throttleSeconds: wholeNumber(0, MAX_THROTTLE_SECONDS).optional(),
  silence: z.strictObject({ windowSeconds: wholeNumber(MIN_SILENCE_SECONDS, MAX_SILENCE_SECONDS) }).optional(),
  channels: z
    .array(z.enum(CHANNELS, { error: () => `must be one of ${CHANNELS.join(', ')}` }), { error: () => 'must be a list of channels' })
    .max(CHANNELS.length)
    .refine((list) => new Set(list).size === list.length, 'must not repeat a channel')
    .default(['inApp']),
});

export type RuleValidation = { ok: true; rule: Rule } | { ok: false; errors: FieldError[] };

/**
 * Checks a rule as an admin sent it and returns it in its stored shape
 * (defaults filled in, audit fields dropped). Every problem is reported with
 * its field path. `id` (from the URL) wins over an id in the body, which
 * must then agree.
 */
export function validateRule(input: unknown, options: { id?: string } = {}): RuleValidation {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ path: '', message: 'a rule must be a JSON object' }] };
  }
  const { createdAt: _c, createdBy: _cb, updatedAt: _u, updatedBy: _ub, ...body } = input as Record<string, unknown>;
  const errors: FieldError[] = [];
  if (options.id !== undefined && body.id !== undefined && body.id !== options.id) {
    errors.push({ path: 'id', message: `must match the id in the URL (${options.id}) or be left out` });
  }
  const parsed = ruleSchema.safeParse(body);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) errors.push({ path: joinPath([...issue.path, key]), message: 'is not a field of a rule' });
      } else {
        errors.push({ path: joinPath(issue.path), message: issue.message });
      }
    }
  }
  if (parsed.success && parsed.data.silence && parsed.data.threshold) {
    errors.push({ path: 'silence', message: 'a silence rule has no threshold: it fires when nothing matches' });
  }
  if (!parsed.success || errors.length > 0) return { ok: false, errors: errors.filter((e, i) => errors.findIndex((o) => o.path === e.path) === i) };
  const value = parsed.data;
  const id = options.id ?? value.id;
  if (id === undefined) return { ok: false, errors: [{ path: 'id', message: 'is required' }] };
  if (!RULE_ID_PATTERN.test(id)) return { ok: false, errors: [{ path: 'id', message: 'must be 1-64 lower-case letters, digits or dashes' }] };
  const rule: Rule = {
    id,
    name: value.name,
    ...(value.description !== undefined ? { description: value.description } : {}),
    enabled: value.enabled,
    match: stripUndefined(value.match),
    ...(value.threshold ? { threshold: stripUndefined(value.threshold) } : {}),
    ...(value.throttleSeconds ? { throttleSeconds: value.throttleSeconds } : {}),
    ...(value.silence ? { silence: value.silence } : {}),
    channels: value.channels,
  };
  return { ok: true, rule };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

// ---------------------------------------------------------------- matching

const typePatterns = new Map<string, RegExp>();

/** `user.*.failed`, `payment.*` (one or more trailing segments), `api.request.fail*`, `*`. */
export function typeMatches(pattern: string, type: string): boolean {
  let regex = typePatterns.get(pattern);
  if (!regex) {
    const segments = pattern.split('.');
    const source = segments
      .map((segment, i) => {
        if (segment === '*') return i === segments.length - 1 ? '[^.]+(\\.[^.]+)*' : '[^.]+';
        if (segment.endsWith('*')) return `${escape(segment.slice(0, -1))}[^.]*`;
        return escape(segment);
      })
      .join('\\.');
    regex = new RegExp(`^${source}$`);
    if (typePatterns.size > 1000) typePatterns.clear();
    typePatterns.set(pattern, regex);
  }
  return regex.test(type);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The value at a dotted path of the event (`details.plan`), or undefined. Own properties only. */
export function valueAt(event: AuditEvent, path: string): unknown {
  let current: unknown = event;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export function matchesRule(rule: Pick<Rule, 'match'>, event: AuditEvent): boolean {
  const m = rule.match;
  if (m.type !== undefined && !typeMatches(m.type, event.type)) return false;
  if (m.category !== undefined && event.category !== m.category) return false;
  if (m.minSeverity !== undefined && severityRank(event.severity) < severityRank(m.minSeverity)) return false;
  if (m.status !== undefined && event.status !== m.status) return false;
  if (m.source !== undefined && event.source !== m.source) return false;
  if (m.recordType !== undefined && event.record?.type !== m.recordType) return false;
  for (const [path, expected] of Object.entries(m.fields ?? {})) {
    const actual = valueAt(event, path);
    const allowed = Array.isArray(expected) ? expected : [expected];
    if (!allowed.some((value) => value === actual)) return false;
  }
  return true;
}

/**
 * The group an event counts in: the value at the threshold's groupBy path, or
 * `*` for rules without one. Events that lack the field share the group
 * `(none)`: they still count (a burst of anonymous failures matters too),
 * just not together with any identified group.
 */
export const NO_GROUP = '(none)';

export function groupOf(rule: Pick<Rule, 'threshold'>, event: AuditEvent): string {
  const path = rule.threshold?.groupBy;
  if (!path) return '*';
  const value = valueAt(event, path);
  if (typeof value === 'string' && value !== '') return value.slice(0, 256);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return NO_GROUP;
}

/** Whether the rule needs state between events (a count above one, or a throttle); if not, every match fires. */
export function isStateful(rule: Pick<Rule, 'threshold' | 'throttleSeconds'>): boolean {
  return (rule.threshold?.count ?? 1) > 1 || (rule.throttleSeconds ?? 0) > 0;
}

// ---------------------------------------------------------------- windows and throttles

/**
 * What a rule remembers about one group. `entries` are the most recent
 * matching events (at most the threshold's count) as `<occurredAt>#<id>`,
 * sorted, which makes "N within W" exact (a sliding window: only the last N
 * matter) and makes a repeated event (a retried stream batch) a no-op.
 */
export interface RuleState {
  entries: string[];
  /** Events at or before this key were part of a notification already and never count again. */
  floor?: string;
  /** Epoch ms until which the rule stays quiet for this group. */
  throttledUntil?: number;
  /** Matches that reached the threshold while throttled, since the last notification. */
  suppressed?: number;
  /** The last notification, so that a retry of its triggering event can finish delivering it. */
  lastFired?: Firing;
}

export interface Firing {
  notificationId: string;
  /** The event that completed the threshold. */
  eventId: string;
  /** How many matching events the notification stands for (the window, plus any suppressed before it). */
  count: number;
  /** occurredAt of the first and last event in the window. */
  windowStart: string;
  windowEnd: string;
  /** The window's event ids, oldest first (at most MAX_LISTED_EVENTS). */
  eventIds: string[];
  suppressed: number;
  group: string;
}

export const MAX_LISTED_EVENTS = 20;

export type Decision =
  /** Not counted: a repeat of an event already counted, or one too old to matter. */
  | { kind: 'ignore'; reason: string }
  /** Counted, below the threshold: store the new state. */
  | { kind: 'count'; state: RuleState }
  /** At the threshold but throttled: store the new state, send nothing. */
  | { kind: 'throttled'; state: RuleState }
  /** Fire: store the new state first (it names the notification), then deliver. */
  | { kind: 'fire'; state: RuleState; firing: Firing }
  /** A retry of the event that fired: deliver that notification (again, if it never went out). */
  | { kind: 'redeliver'; firing: Firing };

export function entryKey(event: Pick<AuditEvent, 'occurredAt' | 'id'>): string {
  return `${event.occurredAt}#${event.id}`;
}

function entryTime(key: string): number {
  return Date.parse(key.slice(0, key.indexOf('#')));
}

function entryId(key: string): string {
  return key.slice(key.indexOf('#') + 1);
}

/**
 * Deterministic notification id: the same rule, group and window anchor (the
 * first event of the window; for a rule without threshold, the event itself)
 * always give the same id, so a retried batch cannot create a second one.
 */
export function notificationId(ruleId: string, group: string, anchor: string): string {
  return createHash('sha256').update(`${ruleId}\n${group}\n${anchor}`).digest('hex').slice(0, 32);
}

/**
 * The heart of the engine: given a matching event, the rule's state for the
 * event's group and the time, decide whether to notify. `now` is the clock
 * for throttles (when notifications go out); windows use the events' own
 * occurredAt.
 */
export function decide(rule: Rule, event: AuditEvent, group: string, state: RuleState | undefined, now: number): Decision {
  const current: RuleState = state ?? { entries: [] };
  if (current.lastFired?.eventId === event.id) return { kind: 'redeliver', firing: current.lastFired };
  const key = entryKey(event);
  if (current.floor !== undefined && key <= current.floor) return { kind: 'ignore', reason: 'already part of an earlier notification' };
  if (current.entries.includes(key)) return { kind: 'ignore', reason: 'already counted' };

  const count = rule.threshold?.count ?? 1;
  const windowMs = (rule.threshold?.windowSeconds ?? 0) * 1000;
  const entries = [...current.entries, key].sort().slice(-count);
  if (!entries.includes(key)) return { kind: 'ignore', reason: 'older than the events already counted' };

  const first = entries[0]!;
  const last = entries[entries.length - 1]!;
  const reached = entries.length >= count && entryTime(last) - entryTime(first) <= windowMs;
  if (!reached) return { kind: 'count', state: { ...current, entries } };

  if (current.throttledUntil !== undefined && now < current.throttledUntil) {
    return { kind: 'throttled', state: { ...current, entries, suppressed: (current.suppressed ?? 0) + 1 } };
  }

  const suppressed = current.suppressed ?? 0;
  const firing: Firing = {
    notificationId: notificationId(rule.id, group, first),
    eventId: event.id,
    count: entries.length + suppressed,
    windowStart: first.slice(0, first.indexOf('#')),
    windowEnd: last.slice(0, last.indexOf('#')),
    eventIds: entries.slice(-MAX_LISTED_EVENTS).map(entryId),
    suppressed,
    group,
  };
  const throttle = rule.throttleSeconds ?? 0;
  const next: RuleState = {
    entries: [],
    floor: last,
    ...(throttle > 0 ? { throttledUntil: now + throttle * 1000 } : {}),
    suppressed: 0,
    lastFired: firing,
  };
  return { kind: 'fire', state: next, firing };
}

/** When a rule's state for a group can be forgotten (TTL), in epoch seconds: nothing in it matters after that. */
export function stateExpiry(rule: Rule, state: RuleState, now: number): number {
  const windowMs = (rule.threshold?.windowSeconds ?? 0) * 1000;
  const newest = state.entries.length > 0 ? entryTime(state.entries[state.entries.length - 1]!) : 0;
  const until = Math.max(now, newest + windowMs, state.throttledUntil ?? 0);
  // A day's margin: late retries of the firing event still find lastFired.
  return Math.ceil(until / 1000) + 86_400;
}

// ---------------------------------------------------------------- silence

/** The last matching event a silence rule saw (receivedAt: the server's clock, which a client cannot skew). */
export interface LastSeen {
  at: string;
  eventId: string;
}

/**
 * Whether a silence rule fires at `now`: only after something was seen, once
 * the window passed. The id is keyed on the last event seen, so every check
 * during one silence names the same notification (created once), and the
 * next silence (after new events) a new one.
 */
export function silenceFiring(rule: Rule, lastSeen: LastSeen | undefined, now: number): Firing | undefined {
  if (!rule.silence || !lastSeen) return undefined;
  if (now - Date.parse(lastSeen.at) <= rule.silence.windowSeconds * 1000) return undefined;
  const group = rule.match.source ?? '*';
  return {
    notificationId: notificationId(rule.id, `silence:${group}`, `${lastSeen.at}#${lastSeen.eventId}`),
    eventId: lastSeen.eventId,
    count: 0,
    windowStart: lastSeen.at,
    windowEnd: new Date(now).toISOString(),
    eventIds: [lastSeen.eventId],
    suppressed: 0,
    group,
  };
}

// ---------------------------------------------------------------- dry run

export interface DryRunResult {
  /** Events read. */
  events: number;
  /** Events that matched the rule's filters. */
  matched: number;
  /** Notifications the rule would have sent. */
  notifications: number;
  /** Times the threshold was reached while throttled. */
  throttled: number;
  /** A few of the notifications, oldest first. */
  samples: Array<{ group: string; count: number; windowStart: string; windowEnd: string; eventId: string }>;
}

/** Replays events (any order; sorted here by time) through the rule with fresh state, at each event's own time. */
export function dryRun(rule: Rule, events: readonly AuditEvent[]): DryRunResult {
  const sorted = [...events].sort((a, b) => entryKey(a).localeCompare(entryKey(b)));
  const states = new Map<string, RuleState>();
  const result: DryRunResult = { events: events.length, matched: 0, notifications: 0, throttled: 0, samples: [] };
  if (rule.silence) return dryRunSilence(rule, sorted, result);
  for (const event of sorted) {
    if (!matchesRule(rule, event)) continue;
    const group = groupOf(rule, event);
    result.matched++;
    const decision = decide(rule, event, group, states.get(group), Date.parse(event.occurredAt));
    if (decision.kind === 'count' || decision.kind === 'throttled' || decision.kind === 'fire') states.set(group, decision.state);
    if (decision.kind === 'throttled') result.throttled++;
    if (decision.kind === 'fire') {
      result.notifications++;
      const { group: g, count, windowStart, windowEnd, eventId } = decision.firing;
      if (result.samples.length < 10) result.samples.push({ group: g, count, windowStart, windowEnd, eventId });
    }
  }
  return result;
}

/** A silence rule over past events: every gap between matching events longer than the window is one notification. */
function dryRunSilence(rule: Rule, sorted: AuditEvent[], result: DryRunResult): DryRunResult {
  let previous: AuditEvent | undefined;
  for (const event of sorted) {
    if (!matchesRule(rule, event)) continue;
    result.matched++;
    if (previous && Date.parse(event.receivedAt) - Date.parse(previous.receivedAt) > rule.silence!.windowSeconds * 1000) {
      result.notifications++;
      if (result.samples.length < 10) {
        result.samples.push({ group: rule.match.source ?? '*', count: 0, windowStart: previous.receivedAt, windowEnd: event.receivedAt, eventId: previous.id });
      }
    }
    previous = event;
  }
  return result;
}

// ---------------------------------------------------------------- defaults

/**
 * The rules a new installation starts with (issue 4); admins edit or delete
 * them like any other. Created once, on first local start and on the first
 * run after a deploy (see the README).
 */
export const DEFAULT_RULES: readonly Rule[] = [
  {
    id: 'failed-logins',
    name: 'Repeated failed logins',
    description: '5 failed logins for one user within 10 minutes; then quiet for 30 minutes for that user.',
    enabled: true,
    match: { type: 'user.login.failed' },
    threshold: { count: 5, windowSeconds: 600, groupBy: 'actor.userId' },
    throttleSeconds: 1800,
    channels: ['email', 'sms', 'inApp'],
  },
  {
    id: 'failed-payment',
    name: 'Failed payment',
    description: 'A payment failed (one notification per payment record per hour).',
    enabled: true,
    match: { category: 'payment', status: 'failure' },
    threshold: { count: 1, windowSeconds: 1, groupBy: 'record.id' },
    throttleSeconds: 3600,
    channels: ['email', 'inApp'],
  },
  {
    id: 'critical-events',
    name: 'Critical event',
    description: 'Any critical event; at most one notification per event type every 5 minutes.',
    enabled: true,
    match: { minSeverity: 'critical' },
    threshold: { count: 1, windowSeconds: 1, groupBy: 'type' },
    throttleSeconds: 300,
    channels: ['email', 'sms', 'inApp'],
  },
  {
    id: 'signup-failures',
    name: 'Sign-up failures',
    description: '3 failed sign-ups within 15 minutes, from any source; then quiet for 30 minutes.',
    enabled: true,
    match: { type: 'user.signup.failed' },
    threshold: { count: 3, windowSeconds: 900 },
    throttleSeconds: 1800,
    channels: ['email', 'inApp'],
  },
  {
    id: 'update-failures',
    name: 'Profile or page update failure',
    description: 'A profile or page update failed; at most one notification per type every 15 minutes.',
    enabled: true,
    match: { type: '*.*.update_failed' },
    threshold: { count: 1, windowSeconds: 1, groupBy: 'type' },
    throttleSeconds: 900,
    channels: ['email', 'inApp'],
  },
  {
    id: 'api-failure-burst',
    name: 'API failure burst',
    description: '20 failed API requests from one app within 5 minutes; then quiet for 15 minutes.',
    enabled: true,
    match: { type: 'api.request.failed' },
    threshold: { count: 20, windowSeconds: 300, groupBy: 'source' },
    throttleSeconds: 900,
    channels: ['email', 'sms', 'inApp'],
  },
  {
    id: 'security-events',
    name: 'Access denied or security event',
    description: 'Access denied or another failed security event; at most one per IP address every 10 minutes.',
    enabled: true,
    match: { category: 'security', status: 'failure', type: 'security.*' },
    threshold: { count: 1, windowSeconds: 1, groupBy: 'actor.ip' },
    throttleSeconds: 600,
    channels: ['email', 'inApp'],
  },
  // Error tracking (issue 5): the error tracker hands these two lifecycle events of an error group to the rule
  // engine; `source` is the system's own, so no app can post one that matches (lambdas/core/error-groups.ts).
  {
    id: 'error-group-new',
    name: 'New error',
    description: 'An error not seen before (a new error group); at most one notification per app every 5 minutes, the rest counted in the next.',
    enabled: true,
    match: { type: 'error.group.new', source: 'audit-trail' },
    threshold: { count: 1, windowSeconds: 1, groupBy: 'details.app' },
    throttleSeconds: 300,
    channels: ['email', 'inApp'],
  },
  {
    id: 'error-group-regressed',
    name: 'Error regressed',
    description: 'A resolved error happened again (the group is reopened); at most one notification per group an hour.',
    enabled: true,
    match: { type: 'error.group.regressed', source: 'audit-trail' },
    threshold: { count: 1, windowSeconds: 1, groupBy: 'record.id' },
    throttleSeconds: 3600,
    channels: ['email', 'inApp'],
  },
];

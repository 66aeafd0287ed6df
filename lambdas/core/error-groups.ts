/**
 * Error groups: one item per fingerprint (lambdas/core/fingerprint.ts) that
 * says how often a failure happened, since when, to how many users, where,
 * and what someone decided about it (unresolved / resolved / ignored).
 * Pure domain code: the tracker (core/error-tracker.ts) reads a group, this
 * module plans the write, the adapter (adapters/error-group-store.ts) turns
 * the plan into one DynamoDB transaction.
 *
 * Every write is **atomic and additive**: the count is `ADD`ed, histogram
 * hours are `SET h = if_not_exists(h, 0) + n`, sample ids, user hashes and
 * endpoints are `ADD`ed to sets. So any number of workers updating one group
 * at once never lose an occurrence; what depends on the group read before
 * the write (lastSeen as a maximum, the trimming of bounded sets, the
 * affected-users estimate) is the only part a concurrent writer can make
 * slightly stale, never the count. Status transitions made by the tracker
 * (resolved → unresolved on a regression) are conditional on the status
 * read, so exactly one worker reopens a group.
 *
 * Exactly once under stream redelivery: each write carries a create-only
 * marker per event (`E#<eventId>`) in the same transaction, so a retried
 * batch finds its markers, the transaction is cancelled, and only the events
 * not yet counted are written again.
 */
import { createHash } from 'node:crypto';
import type { Principal } from './access';
import type { AdminAction } from './admin-audit';
import { ClientError, badRequest } from './errors';
import type { AuditEvent } from './event';
import { endpointOf, ERROR_GROUP_EVENT_PREFIX, GROUP_ID_PATTERN, type Fingerprint } from './fingerprint';

export const ERROR_GROUP_STATUSES = ['unresolved', 'resolved', 'ignored'] as const;
export type ErrorGroupStatus = (typeof ERROR_GROUP_STATUSES)[number];

/** The record type lifecycle events and admin changes name (`GET /v1/records/error_group/<id>/history`). */
export const ERROR_GROUP_RECORD_TYPE = 'error_group';
export const ERROR_GROUP_EVENT_TYPES = { new: `${ERROR_GROUP_EVENT_PREFIX}new`, regressed: `${ERROR_GROUP_EVENT_PREFIX}regressed` } as const;

/** Sample event ids kept (the newest); the set may grow to SAMPLE_CAP between trims. */
export const SAMPLE_EVENTS = 10;
export const SAMPLE_CAP = 20;
/** Affected users: a K-minimum-values sketch of hashed user ids (exact below K, about ±13% above). */
export const USER_SKETCH_K = 64;
export const USER_SKETCH_CAP = 96;
/** Distinct endpoints or pages listed (the first ones seen). */
export const MAX_ENDPOINTS = 20;
/** The hourly histogram covers this many hours back from now (7 days); older hours are pruned. */
export const HISTOGRAM_HOURS = 7 * 24;
/** The list's sparkline covers this many hours back from now (a tail of the histogram). */
export const SPARKLINE_HOURS = 24;
/** A group nobody saw for this long expires (TTL); if the failure comes back it is a new group. */
export const GROUP_RETENTION_DAYS = 400;
/** The stream keeps records 24 hours, so no redelivery comes later than that; markers outlive it with margin. */
export const MARKER_RETENTION_SECONDS = 2 * 86_400;
/** DynamoDB's 100 actions per transaction: the group item and up to 99 markers. */
export const MAX_OCCURRENCES_PER_WRITE = 99;
/** Histogram hours one write adds to (keeps the update expression well under DynamoDB's 4 KB). */
export const MAX_HOURS_PER_WRITE = 24;
/** Stale histogram hours one write removes (the rest go with the next writes). */
export const MAX_HOURS_PRUNED_PER_WRITE = 24;
/** Who reopens a regressed group. */
export const SYSTEM_ACTOR = 'audit-trail';

const USER_HASH_HEX = 12;
const HOUR_MS = 3_600_000;

/** What the tracker takes from one error event. */
export interface Occurrence {
  eventId: string;
  occurredAt: string;
  receivedAt: string;
  /** A hash of the app and the user id (or session id): no user id is stored in the group. */
  userHash?: string;
  endpoint?: string;
}

/** An error group as stored (sets as sorted arrays). */
export interface ErrorGroup {
  id: string;
  source: string;
  type: string;
  errorName?: string;
  title: string;
  culprit?: string;
  frame?: { file?: string; function?: string; module?: string };
  /** The normalised message. */
  message: string;
  basis: Fingerprint['basis'];
  count: number;
  firstSeen: string;
  lastSeen: string;
  lastEventId: string;
  status: ErrorGroupStatus;
  statusAt: string;
  statusBy?: string;
  note?: string;
  resolvedAt?: string;
  resolvedBy?: string;
  regressedAt?: string;
  regressions?: number;
  /** The occurrence that reopened the group last (a redelivery of it announces again; the rule engine dedupes). */
  regressionEventId?: string;
  createdAt: string;
  /** The occurrence that created the group (likewise, for the "new" announcement). */
  createdEventId: string;
  /** `<occurredAt>#<eventId>`. */
  samples: string[];
  /** The user sketch: 12-hex-digit hashes. */
  users: string[];
  affectedUsers: number;
  endpoints: string[];
  /** Hour (`YYYYMMDDHH`, UTC) → occurrences. */
  hist: Record<string, number>;
  expiresAt: number;
}

export type GroupTransition = 'new' | 'regressed';

/** What one write changes on an existing group. Empty parts are left out of the expression. */
export interface GroupDelta {
  count: number;
  lastSeen?: { at: string; eventId: string };
  firstSeen?: string;
  histAdd: Record<string, number>;
  histRemove: string[];
  samples: { add: string[] } | { replace: string[] };
  users: { add: string[] } | { replace: string[] };
  affectedUsers: number;
  endpointsAdd: string[];
  /** A regression: resolved → unresolved, conditional on the status read. */
  reopen?: { at: string; eventId: string };
  expiresAt: number;
}

export type GroupWrite =
  | { kind: 'create'; group: ErrorGroup; transition: 'new'; triggerEventId: string }
  | { kind: 'update'; id: string; delta: GroupDelta; expectStatusAt?: string; transition?: 'regressed'; triggerEventId?: string };

// ---------------------------------------------------------------- occurrences

export function occurrenceOf(event: Pick<AuditEvent, 'id' | 'occurredAt' | 'receivedAt' | 'source' | 'actor' | 'sessionId' | 'page' | 'details'>): Occurrence {
  const who = event.actor?.userId ? `u:${event.actor.userId}` : event.sessionId ? `s:${event.sessionId}` : undefined;
  const endpoint = endpointOf(event);
  return {
    eventId: event.id,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    ...(who ? { userHash: createHash('sha256').update(`${event.source}\n${who}`).digest('hex').slice(0, USER_HASH_HEX) } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
}

/**
 * One group's occurrences in write-sized pieces: at most 99 events (the
 * transaction limit with the group item) and 24 distinct histogram hours.
 * Oldest first, so a group is created by its earliest occurrence.
 */
export function chunkOccurrences(occurrences: readonly Occurrence[]): Occurrence[][] {
  const sorted = dedupe(occurrences).sort((a, b) => a.occurredAt.localeCompare(b.occurredAt) || a.eventId.localeCompare(b.eventId));
  const chunks: Occurrence[][] = [];
  let chunk: Occurrence[] = [];
  let hours = new Set<string>();
  for (const occurrence of sorted) {
    const hour = hourKey(occurrence.occurredAt);
    if (chunk.length >= MAX_OCCURRENCES_PER_WRITE || (!hours.has(hour) && hours.size >= MAX_HOURS_PER_WRITE)) {
      chunks.push(chunk);
      chunk = [];
      hours = new Set();
    }
    chunk.push(occurrence);
    hours.add(hour);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function dedupe(occurrences: readonly Occurrence[]): Occurrence[] {
  const seen = new Map<string, Occurrence>();
  for (const occurrence of occurrences) if (!seen.has(occurrence.eventId)) seen.set(occurrence.eventId, occurrence);
  return [...seen.values()];
}

// ---------------------------------------------------------------- the plan

export interface GroupIdentity {
  fingerprint: Fingerprint;
  source: string;
  type: string;
}

/**
 * The write that adds `occurrences` to the group as read (`current`;
 * undefined when it does not exist yet). `now` decides the histogram window
 * and stamps transitions.
 */
export function planGroupWrite(current: ErrorGroup | undefined, identity: GroupIdentity, occurrences: readonly Occurrence[], now: Date): GroupWrite {
  if (occurrences.length === 0) throw new Error('planGroupWrite needs at least one occurrence');
  const byTime = [...occurrences].sort((a, b) => a.occurredAt.localeCompare(b.occurredAt) || a.eventId.localeCompare(b.eventId));
  const first = byTime[0]!;
  const last = byTime[byTime.length - 1]!;
  const window = histogramWindow(now);
  const histAdd: Record<string, number> = {};
  for (const occurrence of occurrences) {
    const hour = hourKey(occurrence.occurredAt);
    if (hour >= window.from && hour <= window.to) histAdd[hour] = (histAdd[hour] ?? 0) + 1;
  }
  const entries = occurrences.map(sampleEntry);
  const hashes = [...new Set(occurrences.map((o) => o.userHash).filter((h): h is string => h !== undefined))];
  const endpoints = [...new Set(occurrences.map((o) => o.endpoint).filter((e): e is string => e !== undefined))].sort();

  if (!current) {
    const { fingerprint: fp } = identity;
    const users = smallest(hashes, USER_SKETCH_K);
    const group: ErrorGroup = {
      id: fp.id,
      source: identity.source,
      type: identity.type,
      ...(fp.errorName ? { errorName: fp.errorName } : {}),
      title: fp.title,
      ...(fp.culprit ? { culprit: fp.culprit } : {}),
      ...(fp.frame ? { frame: fp.frame } : {}),
      message: fp.message,
      basis: fp.basis,
      count: occurrences.length,
      firstSeen: first.occurredAt,
      lastSeen: last.occurredAt,
      lastEventId: last.eventId,
      status: 'unresolved',
      statusAt: now.toISOString(),
      createdAt: now.toISOString(),
      createdEventId: first.eventId,
      samples: newest(entries, SAMPLE_EVENTS),
      users,
      affectedUsers: estimateDistinct(users),
      endpoints: endpoints.slice(0, MAX_ENDPOINTS),
      hist: histAdd,
      expiresAt: expiryFor(last.occurredAt, now),
    };
    return { kind: 'create', group, transition: 'new', triggerEventId: first.eventId };
  }

  // Samples: add, or when the set would pass its cap, replace it with the newest SAMPLE_EVENTS.
  const sampleUnion = new Set([...current.samples, ...entries]);
  const samples = sampleUnion.size > SAMPLE_CAP ? { replace: newest([...sampleUnion], SAMPLE_EVENTS) } : { add: entries.filter((e) => !current.samples.includes(e)) };

  // Users: a hash above the sketch's K-th smallest can never enter it; trim to K when the set passes its cap.
  const known = [...current.users].sort();
  const threshold = known.length >= USER_SKETCH_K ? known[USER_SKETCH_K - 1]! : undefined;
  const candidates = hashes.filter((h) => !current.users.includes(h) && (threshold === undefined || h < threshold));
  const userUnion = [...known, ...candidates];
  const users = userUnion.length > USER_SKETCH_CAP ? { replace: smallest(userUnion, USER_SKETCH_K) } : { add: candidates };

  const room = Math.max(0, MAX_ENDPOINTS - current.endpoints.length);
  const endpointsAdd = endpoints.filter((e) => !current.endpoints.includes(e)).slice(0, room);

  const histRemove = Object.keys(current.hist)
    .filter((hour) => hour < window.from)
    .sort()
    .slice(0, MAX_HOURS_PRUNED_PER_WRITE);

  const newestSeen = last.occurredAt > current.lastSeen ? last : undefined;
  const delta: GroupDelta = {
    count: occurrences.length,
    ...(newestSeen ? { lastSeen: { at: newestSeen.occurredAt, eventId: newestSeen.eventId } } : {}),
    ...(first.occurredAt < current.firstSeen ? { firstSeen: first.occurredAt } : {}),
    histAdd,
    histRemove,
    samples,
    users,
    affectedUsers: estimateDistinct(userUnion.length > USER_SKETCH_CAP ? smallest(userUnion, USER_SKETCH_K) : userUnion),
    endpointsAdd,
    expiresAt: expiryFor(newestSeen ? newestSeen.occurredAt : current.lastSeen, now),
  };

  const trigger = regressionTrigger(current, occurrences);
  if (trigger) {
    return {
      kind: 'update',
      id: current.id,
      delta: { ...delta, reopen: { at: now.toISOString(), eventId: trigger.eventId } },
      expectStatusAt: current.statusAt,
      transition: 'regressed',
      triggerEventId: trigger.eventId,
    };
  }
  return { kind: 'update', id: current.id, delta };
}

/**
 * A resolved group regresses on an occurrence received after it was resolved
 * (the server's clock on both sides; an event that was already on its way
 * when someone pressed "resolve" is not a regression). Ignored groups never do.
 */
export function regressionTrigger(group: Pick<ErrorGroup, 'status' | 'resolvedAt' | 'statusAt'>, occurrences: readonly Occurrence[]): Occurrence | undefined {
  if (group.status !== 'resolved') return undefined;
  const since = group.resolvedAt ?? group.statusAt;
  return [...occurrences].filter((o) => o.receivedAt > since).sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.eventId.localeCompare(b.eventId))[0];
}

/** The group as it is after a write (for the lifecycle announcement): the read state plus the delta. */
export function applyDelta(current: ErrorGroup, delta: GroupDelta): ErrorGroup {
  const next: ErrorGroup = {
    ...current,
    count: current.count + delta.count,
    ...(delta.lastSeen ? { lastSeen: delta.lastSeen.at, lastEventId: delta.lastSeen.eventId } : {}),
    ...(delta.firstSeen ? { firstSeen: delta.firstSeen } : {}),
    affectedUsers: delta.affectedUsers,
    endpoints: [...current.endpoints, ...delta.endpointsAdd].sort(),
  };
  if (delta.reopen) {
    Object.assign(next, {
      status: 'unresolved',
      statusAt: delta.reopen.at,
      statusBy: SYSTEM_ACTOR,
      regressedAt: delta.reopen.at,
      regressionEventId: delta.reopen.eventId,
      regressions: (current.regressions ?? 0) + 1,
    });
  }
  return next;
}

// ---------------------------------------------------------------- bounded structures

export function sampleEntry(occurrence: Pick<Occurrence, 'occurredAt' | 'eventId'>): string {
  return `${occurrence.occurredAt}#${occurrence.eventId}`;
}

/** Sample event ids, newest first. */
export function sampleEventIds(samples: readonly string[]): string[] {
  return newest([...samples], SAMPLE_EVENTS).map((entry) => entry.slice(entry.indexOf('#') + 1));
}

function newest(entries: string[], n: number): string[] {
  return [...new Set(entries)].sort().reverse().slice(0, n);
}

function smallest(hashes: string[], n: number): string[] {
  return [...new Set(hashes)].sort().slice(0, n);
}

/**
 * K minimum values: with H the K-th smallest of the hashes (uniform on
 * [0, 1) as a fraction of 2^48), the number of distinct users is about
 * (K - 1) / H; below K hashes the count is exact. Standard error about
 * 1/√(K-2) ≈ 13% for K = 64.
 */
export function estimateDistinct(hashes: readonly string[]): number {
  const sorted = [...new Set(hashes)].sort();
  if (sorted.length < USER_SKETCH_K) return sorted.length;
  const kth = parseInt(sorted[USER_SKETCH_K - 1]!, 16);
  const fraction = (kth + 1) / 2 ** (USER_HASH_HEX * 4);
  return Math.max(USER_SKETCH_K, Math.round((USER_SKETCH_K - 1) / fraction));
}

/** `YYYYMMDDHH` (UTC) of an ISO time. */
export function hourKey(isoTime: string): string {
  return `${isoTime.slice(0, 4)}${isoTime.slice(5, 7)}${isoTime.slice(8, 10)}${isoTime.slice(11, 13)}`;
}

function hourKeyOf(ms: number): string {
  return hourKey(new Date(ms).toISOString());
}

/** The hours the histogram keeps at `now`: HISTOGRAM_HOURS up to this hour, and the next (occurredAt may be up to 5 minutes ahead). */
export function histogramWindow(now: Date): { from: string; to: string } {
  const hour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  return { from: hourKeyOf(hour - (HISTOGRAM_HOURS - 1) * HOUR_MS), to: hourKeyOf(hour + HOUR_MS) };
}

/** The histogram as the API shows it: one entry per hour of the window, oldest first, zeros included. */
export function denseHistogram(hist: Record<string, number>, now: Date): { start: string; count: number }[] {
  const hour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const out: { start: string; count: number }[] = [];
  for (let i = HISTOGRAM_HOURS - 1; i >= 0; i--) {
    const start = hour - i * HOUR_MS;
    out.push({ start: new Date(start).toISOString(), count: hist[hourKeyOf(start)] ?? 0 });
  }
  return out;
}

/**
 * The list's sparkline: the last `hours` hourly counts up to this hour,
 * oldest first, zeros included (the tail of denseHistogram, as bare numbers:
 * a list row needs the shape, not the times).
 */
export function sparkline(hist: Record<string, number>, now: Date, hours: number = SPARKLINE_HOURS): number[] {
  const hour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  return Array.from({ length: hours }, (_, i) => hist[hourKeyOf(hour - (hours - 1 - i) * HOUR_MS)] ?? 0);
}

function expiryFor(lastSeen: string, now: Date): number {
  const base = Math.max(Date.parse(lastSeen) || 0, now.getTime());
  return Math.floor(base / 1000) + GROUP_RETENTION_DAYS * 86_400;
}

// ---------------------------------------------------------------- lifecycle announcements

/**
 * A UUID (version nibble 8, "custom") derived from the parts: the same
 * transition of the same group always gets the same id, so a redelivered
 * batch announces nothing new (the rule engine's notification ids derive
 * from it).
 */
export function derivedEventId(...parts: string[]): string {
  const hex = createHash('sha256').update(JSON.stringify(['error-group', ...parts])).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The event the rule engine sees when a group is new or regressed:
 * `error.group.new` (warning) or `error.group.regressed` (error), from the
 * system itself (`source` is the system's, so no app can post one that
 * matches the default rules), about the record `error_group/<id>`. It is
 * handed to the rule engine directly and not stored as an event: the
 * group, its occurrences and the admin actions on it are the record.
 */
export function lifecycleEvent(
  transition: GroupTransition,
  group: ErrorGroup,
  trigger: Pick<Occurrence, 'eventId' | 'occurredAt' | 'receivedAt' | 'endpoint'>,
  systemSource: string,
): AuditEvent {
  const where = group.culprit ? ` at ${group.culprit}` : '';
  const message =
    transition === 'new'
      ? `New error in ${group.source}: ${group.title}${where} (${group.type}, first seen ${group.firstSeen})`
      : `Error regressed in ${group.source}: ${group.title}${where} (resolved ${group.resolvedAt ?? 'earlier'}${group.resolvedBy ? ` by ${group.resolvedBy}` : ''}, seen again ${trigger.occurredAt}; ${group.count} occurrences in all)`;
  return {
    id: derivedEventId(transition, group.id, trigger.eventId),
    occurredAt: trigger.occurredAt,
    receivedAt: trigger.receivedAt,
    type: ERROR_GROUP_EVENT_TYPES[transition],
    category: 'system_error',
    severity: transition === 'new' ? 'warning' : 'error',
    status: 'failure',
    source: systemSource,
    record: { type: ERROR_GROUP_RECORD_TYPE, id: group.id },
    ...(trigger.endpoint ? { page: trigger.endpoint } : {}),
    message: message.slice(0, 1000),
    details: {
      app: group.source,
      eventType: group.type,
      groupId: group.id,
      title: group.title,
      ...(group.culprit ? { culprit: group.culprit } : {}),
      count: group.count,
      firstSeen: group.firstSeen,
      triggerEventId: trigger.eventId,
      ...(transition === 'regressed'
        ? { resolvedAt: group.resolvedAt, ...(group.resolvedBy ? { resolvedBy: group.resolvedBy } : {}), regressions: group.regressions ?? 1 }
        : {}),
    },
  };
}

// ---------------------------------------------------------------- the API

export const ERROR_LIST_SORTS = ['lastSeen', 'count'] as const;
export type ErrorListSort = (typeof ERROR_LIST_SORTS)[number];
export const DEFAULT_ERROR_LIST_LIMIT = 25;
export const MAX_ERROR_LIST_LIMIT = 100;

export interface ErrorListRequest {
  status: ErrorGroupStatus;
  sort: ErrorListSort;
  limit: number;
  /** The index position to continue after (DynamoDB's LastEvaluatedKey). */
  after?: Record<string, string | number>;
}

/** `GET /v1/errors?status=&sort=&limit=&cursor=`: unresolved by last seen unless asked otherwise. */
export function parseErrorListQuery(query: Record<string, string | undefined>): ErrorListRequest {
  const unknown = Object.keys(query).filter((name) => !['status', 'sort', 'limit', 'cursor'].includes(name));
  if (unknown.length > 0) throw badRequest('invalid_query', `unknown parameter(s): ${unknown.join(', ')}; use status, sort, limit, cursor`);
  const status = (query.status ?? 'unresolved') as ErrorGroupStatus;
  if (!ERROR_GROUP_STATUSES.includes(status)) throw badRequest('invalid_query', `status must be one of ${ERROR_GROUP_STATUSES.join(', ')}`);
  const sort = (query.sort ?? 'lastSeen') as ErrorListSort;
  if (!ERROR_LIST_SORTS.includes(sort)) throw badRequest('invalid_query', `sort must be one of ${ERROR_LIST_SORTS.join(', ')}`);
  const limit = query.limit === undefined ? DEFAULT_ERROR_LIST_LIMIT : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ERROR_LIST_LIMIT) throw badRequest('invalid_query', `limit must be a whole number from 1 to ${MAX_ERROR_LIST_LIMIT}`);
  return { status, sort, limit, ...(query.cursor !== undefined ? { after: decodeErrorCursor(query.cursor, status, sort) } : {}) };
}

/** Cursors are the index position, base64url JSON; nothing secret in them, so checked for shape rather than signed. */
export function encodeErrorCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeErrorCursor(cursor: string, status: ErrorGroupStatus, sort: ErrorListSort): Record<string, string | number> {
  const invalid = () => badRequest('invalid_cursor', 'cursor is not one this API gave out for this status and sort');
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw invalid();
  const entries = key as Record<string, unknown>;
  const sortKey = sort === 'lastSeen' ? 'lastSeen' : 'count';
  if (Object.keys(entries).sort().join(',') !== ['pk', 'status', sortKey].sort().join(',')) throw invalid();
  if (typeof entries.pk !== 'string' || !GROUP_ID_PATTERN.test(entries.pk) || entries.status !== status) throw invalid();
  if (sort === 'lastSeen' && (typeof entries.lastSeen !== 'string' || !/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(entries.lastSeen))) throw invalid();
  if (sort === 'count' && (typeof entries.count !== 'number' || !Number.isInteger(entries.count) || entries.count < 0)) throw invalid();
  return entries as Record<string, string | number>;
}

export interface ErrorGroupChange {
  status: ErrorGroupStatus;
  note?: string;
}

/** `PATCH /v1/errors/{id}`: `{ "status": "resolved" | "ignored" | "unresolved", "note": "…" }`. */
export function parseErrorGroupChange(body: unknown): ErrorGroupChange {
  const usage = 'send { "status": "resolved" | "ignored" | "unresolved", "note": "…" }';
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('invalid_body', usage);
  const { status, note, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw badRequest('invalid_body', `unexpected field(s): ${unknown.join(', ')}; ${usage}`);
  if (typeof status !== 'string' || !(ERROR_GROUP_STATUSES as readonly string[]).includes(status)) throw badRequest('invalid_status', `status must be one of ${ERROR_GROUP_STATUSES.join(', ')}`);
  if (note !== undefined && (typeof note !== 'string' || note.length > 2000)) throw badRequest('invalid_note', 'note must be text of at most 2000 characters');
  const trimmed = typeof note === 'string' ? note.trim() : '';
  return { status: status as ErrorGroupStatus, ...(trimmed ? { note: trimmed } : {}) };
}

export function parseGroupId(id: string | undefined): string {
  if (!id || !GROUP_ID_PATTERN.test(id)) throw new ClientError(404, 'not_found', `no error group has id ${id ?? ''}`);
  return id;
}

/** What the API shows of a group (the full view; lists show the indexed attributes). */
export function groupView(group: ErrorGroup, now: Date) {
  const { samples, users, hist, expiresAt: _expiresAt, createdEventId: _created, regressionEventId: _regression, ...rest } = group;
  return {
    ...rest,
    affectedUsersExact: users.length < USER_SKETCH_K,
    endpoints: [...group.endpoints].sort(),
    sampleEventIds: sampleEventIds(samples),
    histogram: { interval: 'hour' as const, hours: HISTOGRAM_HOURS, buckets: denseHistogram(hist, now) },
  };
}

/**
 * The admin event a status change is recorded as: one per change, keyed by
 * the group and the change's time, so a retried request records nothing new.
 */
export function errorGroupChanged(group: Pick<ErrorGroup, 'id' | 'title' | 'source' | 'statusAt'>, from: ErrorGroupStatus, change: ErrorGroupChange, by: Principal): AdminAction {
  const verb = change.status === 'resolved' ? 'resolved' : change.status === 'ignored' ? 'ignored' : 'reopened';
  return {
    type: 'admin.error_group.changed',
    id: derivedEventId('admin.error_group.changed', group.id, group.statusAt),
    record: { type: ERROR_GROUP_RECORD_TYPE, id: group.id },
    message: `${by.userId} ${verb} error group ${group.id} (${group.source}: ${group.title})`.slice(0, 1000),
    details: { from, to: change.status, app: group.source, title: group.title, ...(change.note ? { note: change.note } : {}) },
  };
}

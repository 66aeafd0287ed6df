import * as z from './zod';
import { APP_NAME_PATTERN } from './app-keys';
import { badRequest } from './errors';
import { CATEGORIES, SEVERITIES, STATUSES, type Category, type Severity, type Status } from './event';
import { EVENT_TYPE_PATTERN } from './registry';
import { MAX_FUTURE_SKEW_MS } from './validate';

/**
 * The query string of the read routes, checked and normalized. Everything
 * here is pure: the planner (query-plan.ts) decides how to read, this only
 * decides what was asked and refuses what cannot be meant.
 */

export const DEFAULT_EVENTS_PAGE = 50;
export const DEFAULT_HISTORY_PAGE = 200;
export const MAX_PAGE = 200;
export const DEFAULT_WINDOW_DAYS = 7;
/** Longer than any retention anyone configures; bounds the number of month partitions a date plan can name. */
export const MAX_WINDOW_DAYS = 3660;
const DAY_MS = 86_400_000;

/** Query parameters as API Gateway hands them on: every value of every name. */
export type QueryParameters = Readonly<Record<string, readonly string[] | undefined>>;

/** What `GET /v1/events` filters on. Values are exact matches (`minSeverity` excepted). */
export interface EventFilters {
  /** ISO-8601 UTC (`toISOString`); absent means the default window. */
  from?: string;
  to?: string;
  userId?: string;
  type?: string;
  category?: Category;
  severity?: Severity;
  minSeverity?: Severity;
  status?: Status;
  source?: string;
  recordType?: string;
  recordId?: string;
  traceId?: string;
}

/** The filters with the time window settled: what the planner gets. */
export type ResolvedFilters = EventFilters & { from: string; to: string };

export interface PageRequest {
  limit: number;
  cursor?: string;
}

export interface EventListRequest extends PageRequest {
  filters: EventFilters;
}

const invalid = (name: string, why: string) => badRequest('invalid_filter', `${name} ${why}`);

const isoDateTime = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();

/**
 * `2026-11-22T10:00:00Z`, with an offset, or a plain date: a plain `from`
 * is the start of that day (UTC), a plain `to` its last millisecond, so
 * `from=2026-11-22&to=2026-11-22` is that whole day.
 */
export function parseTime(name: 'from' | 'to', raw: string): string {
  if (isoDate.safeParse(raw).success) return `${raw}${name === 'from' ? 'T00:00:00.000Z' : 'T23:59:59.999Z'}`;
  const time = isoDateTime.safeParse(raw).success ? new Date(raw) : undefined;
  if (!time || Number.isNaN(time.getTime())) throw invalid(name, 'must be an ISO-8601 date-time with a zone, such as 2026-11-23T10:15:00Z, or a date such as 2026-11-23');
  const iso = time.toISOString();
  // Sort keys hold toISOString() times, which have four-digit years only in 0000-9999.
  if (!/^\d{4}-/.test(iso)) throw invalid(name, 'is out of range');
  return iso;
}

function parseText(name: string, raw: string, max: number, pattern?: { test: RegExp; why: string }): string {
  const value = raw.trim();
  if (value === '') throw invalid(name, 'must not be empty');
  if (value.length > max) throw invalid(name, `must be at most ${max} characters`);
  if (pattern && !pattern.test.test(value)) throw invalid(name, pattern.why);
  return value;
}

function parseEnum<T extends string>(name: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) throw invalid(name, `must be one of ${allowed.join(', ')}`);
  return raw as T;
}

export function parseLimit(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE) throw invalid('limit', `must be a whole number from 1 to ${MAX_PAGE}`);
  return Number(raw);
}

/** One value per name: unknown names and repeated ones are refused rather than guessed at. */
export function singleValues(params: QueryParameters, allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(params)) {
    if (values === undefined) continue;
    if (!allowed.includes(name)) {
      throw badRequest('unknown_parameter', `${name} is not a parameter of this route; it takes ${allowed.join(', ')}`);
    }
    if (values.length !== 1) throw invalid(name, 'is given more than once');
    out[name] = values[0];
  }
  return out;
}

const EVENT_LIST_PARAMETERS = [
  'from', 'to', 'userId', 'type', 'category', 'severity', 'minSeverity', 'status', 'source',
  'recordType', 'recordId', 'traceId', 'limit', 'cursor',
] as const;

/** `GET /v1/events`: throws a 400 naming the first parameter that is wrong and why. */
export function parseEventListQuery(params: QueryParameters): EventListRequest {
  const q = singleValues(params, EVENT_LIST_PARAMETERS);
  const filters: EventFilters = {};
  if (q.from !== undefined) filters.from = parseTime('from', q.from);
  if (q.to !== undefined) filters.to = parseTime('to', q.to);
  if (filters.from && filters.to) checkWindow(filters.from, filters.to);
  // Lengths and patterns as ingestion validates them: a value no event can have is a mistake, not an empty result.
  if (q.userId !== undefined) filters.userId = parseText('userId', q.userId, 256);
  if (q.type !== undefined) {
    filters.type = parseText('type', q.type, 256, { test: EVENT_TYPE_PATTERN, why: 'must be lower-case dotted segments such as user.login.failed' });
  }
  if (q.category !== undefined) filters.category = parseEnum('category', q.category, CATEGORIES);
  if (q.severity !== undefined) filters.severity = parseEnum('severity', q.severity, SEVERITIES);
  if (q.minSeverity !== undefined) filters.minSeverity = parseEnum('minSeverity', q.minSeverity, SEVERITIES);
  if (filters.severity && filters.minSeverity) throw invalid('minSeverity', 'cannot be combined with severity; give one of them');
  if (q.status !== undefined) filters.status = parseEnum('status', q.status, STATUSES);
  if (q.source !== undefined) {
    filters.source = parseText('source', q.source, 63, { test: APP_NAME_PATTERN, why: 'must be an app name: lower-case letters, digits, dots, dashes or underscores' });
  }
  if ((q.recordType === undefined) !== (q.recordId === undefined)) {
    throw invalid(q.recordType === undefined ? 'recordId' : 'recordType', 'needs recordType and recordId together');
  }
  if (q.recordType !== undefined && q.recordId !== undefined) {
    filters.recordType = parseText('recordType', q.recordType, 128);
    filters.recordId = parseText('recordId', q.recordId, 256);
  }
  if (q.traceId !== undefined) filters.traceId = parseText('traceId', q.traceId, 128);
  return { filters, limit: parseLimit(q.limit, DEFAULT_EVENTS_PAGE), ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) };
}

/** `GET /v1/records/{type}/{id}/history` and `GET /v1/traces/{traceId}`: only paging parameters. */
export function parsePageQuery(params: QueryParameters): PageRequest {
  const q = singleValues(params, ['limit', 'cursor']);
  return { limit: parseLimit(q.limit, DEFAULT_HISTORY_PAGE), ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) };
}

export function parseRecordRef(type: string | undefined, id: string | undefined): { recordType: string; recordId: string } {
  return { recordType: parseText('record type', type ?? '', 128), recordId: parseText('record id', id ?? '', 256) };
}

export function parseTraceId(traceId: string | undefined): string {
  return parseText('traceId', traceId ?? '', 128);
}

function checkWindow(from: string, to: string): void {
  if (from > to) throw invalid('from', `(${from}) is after to (${to})`);
  if (Date.parse(to) - Date.parse(from) > MAX_WINDOW_DAYS * DAY_MS) throw invalid('from', `and to may be at most ${MAX_WINDOW_DAYS} days apart`);
}

/**
 * The window a first page reads: `to` defaults to now (plus the clock skew
 * ingestion tolerates, so nothing accepted is invisible), `from` to
 * DEFAULT_WINDOW_DAYS before `to`. Later pages reuse the first page's
 * window from the cursor, so "now" does not move under a paging client.
 */
export function resolveWindow(filters: EventFilters, now: Date): { from: string; to: string } {
  const to = filters.to ?? new Date(now.getTime() + MAX_FUTURE_SKEW_MS).toISOString();
  const from = filters.from ?? new Date(Date.parse(to) - DEFAULT_WINDOW_DAYS * DAY_MS).toISOString();
  checkWindow(from, to);
  return { from, to };
}

import { createHash } from 'node:crypto';
import { badRequest } from './errors';
import { SEVERITIES, STATUSES, type Severity, type Status } from './event';
import { parseTime, singleValues, type QueryParameters } from './query-filters';

/**
 * Event statistics from counters kept as events arrive (the stats stream
 * consumer), never from scanning events. Pure: the DynamoDB adapter
 * (adapters/stats-store.ts) writes and reads what this module lays out.
 *
 * Layout in the Stats table (pk, sk):
 *
 *     H#2026-11-23T10   sum#<shard>             count, failures, debug, info, warning, error, critical
 *     H#2026-11-23T10   type#<shard>#<type>     count, failures, value
 *     H#2026-11-23T10   page#<shard>#<page>     count, failures, value
 *     D#2026-11-23      (the same, per day)
 *     E#<eventId>       E                       the event was counted (expires after 2 days)
 *
 * One small item per bucket and dimension value, not one item per bucket
 * holding every type and page: an item per hour would grow with the number
 * of distinct types and pages towards DynamoDB's 400 KB limit, and an
 * update is billed by the item's size (a 40 KB item costs 40 write units
 * per ADD). Small items cost 1 unit per update, whatever the cardinality.
 *
 * Hot keys: every event of an hour lands in that hour's partition. The
 * consumer aggregates a batch before writing (a batch of 500 events in one
 * hour is a few dozen ADDs, not 3,000), and counter items are spread over
 * STATS_SHARDS sort-key shards so that consumers of different stream shards
 * rarely update the same item at once (which would make their transactions
 * conflict). The shard is in the sort key, not the partition key, so a
 * bucket is still one Query; one partition takes about 1,000 write units a
 * second, which with aggregation is well over a thousand events a second.
 * Beyond that, move the shard into the partition key (reads then cost one
 * Query per shard and bucket).
 *
 * Day counters are written alongside hour counters (the same ADDs on the
 * day's partition), so a 30-day view reads 30 partitions, not 720.
 */

export const STATS_SHARDS = 4;
/** DynamoDB's limit of actions in one TransactWriteItems. */
export const MAX_TRANSACTION_ITEMS = 100;
/** At most this many buckets per request: a year of days, or about 15 days of hours. */
export const MAX_BUCKETS = 366;
export const DEFAULT_TOP = 10;
export const MAX_TOP = 50;
export const HOUR_COUNTERS_RETENTION_DAYS = 400;
export const DAY_COUNTERS_RETENTION_DAYS = 1100;
/** The stream keeps records 24 hours, so no retry can come later than that; markers outlive it with margin. */
export const MARKER_RETENTION_SECONDS = 2 * 86_400;
/** Longer type or page values are keyed by a hash (a sort key holds at most 1 KB); the value itself is kept in `value`. */
const MAX_KEY_VALUE_BYTES = 400;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export const INTERVALS = ['hour', 'day'] as const;
export type Interval = (typeof INTERVALS)[number];

/** What the counters need of an event: list attributes every event item carries. */
export interface CountedEvent {
  id: string;
  occurredAt: string;
  severity: Severity;
  status: Status;
  type: string;
  page?: string;
}

export type CounterKind = 'sum' | 'type' | 'page';

/** One counter item's increments. */
export interface CounterDelta {
  pk: string;
  sk: string;
  kind: CounterKind;
  /** The type or page (type and page counters). */
  value?: string;
  count: number;
  failures: number;
  /** Per severity (sum counters only). */
  severities: Partial<Record<Severity, number>>;
  /** Epoch seconds: TTL. */
  expiresAt: number;
}

export const MARKER_SK = 'E';
export const markerKey = (eventId: string) => ({ pk: `E#${eventId}`, sk: MARKER_SK });

export function bucketPartition(interval: Interval, isoTime: string): string {
  return interval === 'hour' ? `H#${isoTime.slice(0, 13)}` : `D#${isoTime.slice(0, 10)}`;
}

/** The start of the bucket holding a time. */
export function bucketStart(interval: Interval, isoTime: string): string {
  return interval === 'hour' ? `${isoTime.slice(0, 13)}:00:00.000Z` : `${isoTime.slice(0, 10)}T00:00:00.000Z`;
}

const bucketMs = (interval: Interval) => (interval === 'hour' ? HOUR_MS : DAY_MS);

function dimensionSk(kind: 'type' | 'page', shard: number, value: string): string {
  const keyed = Buffer.byteLength(value, 'utf8') > MAX_KEY_VALUE_BYTES ? `h:${createHash('sha256').update(value).digest('hex').slice(0, 32)}` : value;
  return `${kind}#${shard}#${keyed}`;
}

/** The sort-key shard a group of events adds into: spread by a hash of its first event's id. */
export function counterShard(events: readonly CountedEvent[]): number {
  return events.length === 0 ? 0 : createHash('sha1').update(events[0].id).digest()[0] % STATS_SHARDS;
}

/** The increments a group of events makes, aggregated: one delta per counter item. */
export function countersFor(events: readonly CountedEvent[], shard: number = counterShard(events)): CounterDelta[] {
  const deltas = new Map<string, CounterDelta>();
  const add = (pk: string, sk: string, kind: CounterKind, value: string | undefined, expiresAt: number, event: CountedEvent) => {
    const key = `${pk}\u0000${sk}`;
    let delta = deltas.get(key);
    if (!delta) {
      delta = { pk, sk, kind, ...(value !== undefined ? { value } : {}), count: 0, failures: 0, severities: {}, expiresAt };
      deltas.set(key, delta);
    }
    delta.count += 1;
    if (event.status === 'failure') delta.failures += 1;
    if (kind === 'sum') delta.severities[event.severity] = (delta.severities[event.severity] ?? 0) + 1;
  };
  for (const event of events) {
    for (const interval of INTERVALS) {
      const pk = bucketPartition(interval, event.occurredAt);
      const retention = interval === 'hour' ? HOUR_COUNTERS_RETENTION_DAYS : DAY_COUNTERS_RETENTION_DAYS;
      const expiresAt = Math.floor((Date.parse(bucketStart(interval, event.occurredAt)) + retention * DAY_MS) / 1000);
      add(pk, `sum#${shard}`, 'sum', undefined, expiresAt, event);
      add(pk, dimensionSk('type', shard, event.type), 'type', event.type, expiresAt, event);
      if (event.page) add(pk, dimensionSk('page', shard, event.page), 'page', event.page, expiresAt, event);
    }
  }
  return [...deltas.values()];
}

/** Shard-independent identity of the counter items an event touches (for sizing transactions). */
function counterIdentities(event: CountedEvent): string[] {
  return INTERVALS.flatMap((interval) => {
    const pk = bucketPartition(interval, event.occurredAt);
    return [`${pk}|sum`, `${pk}|type|${event.type}`, ...(event.page ? [`${pk}|page|${event.page}`] : [])];
  });
}

/**
 * Splits events (in stream order) into groups that fit one transaction:
 * one marker per event plus the group's aggregated counters, at most
 * `maxItems` actions. Consecutive events of one hour share most counters,
 * so a group typically holds 30-60 events.
 */
export function chunkForTransactions(events: readonly CountedEvent[], maxItems: number = MAX_TRANSACTION_ITEMS): CountedEvent[][] {
  const chunks: CountedEvent[][] = [];
  let current: CountedEvent[] = [];
  let counters = new Set<string>();
  for (const event of events) {
    const identities = counterIdentities(event);
    const fresh = identities.filter((identity) => !counters.has(identity));
    if (current.length > 0 && current.length + 1 + counters.size + fresh.length > maxItems) {
      chunks.push(current);
      current = [];
      counters = new Set();
    }
    current.push(event);
    for (const identity of identities) counters.add(identity);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Events in the order that shares the most counters between neighbours (by
 * hour, then page, then type), so that the groups chunkForTransactions
 * makes need fewer counter items. Order does not matter to correctness: the
 * markers make each event count once whichever group it lands in.
 */
export function orderForAggregation(events: readonly CountedEvent[]): CountedEvent[] {
  const key = (e: CountedEvent) => `${e.occurredAt.slice(0, 13)}\u0000${e.page ?? ''}\u0000${e.type}`;
  return [...events].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The event as the counters see it, from an events-table item; undefined when it lacks what counting needs. */
export function countedEventOf(item: Record<string, unknown>): CountedEvent | undefined {
  const { id, occurredAt, severity, status, type, page } = item;
  if (typeof id !== 'string' || typeof type !== 'string' || typeof occurredAt !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}/.test(occurredAt)) return undefined;
  if (!(SEVERITIES as readonly unknown[]).includes(severity) || !(STATUSES as readonly unknown[]).includes(status)) return undefined;
  return { id, occurredAt, severity: severity as Severity, status: status as Status, type, ...(typeof page === 'string' && page !== '' ? { page } : {}) };
}

// ---------------------------------------------------------------- reading

export interface StatsRequest {
  interval: Interval;
  /** Start of the first bucket and start of the last one (ISO). */
  firstBucket: string;
  lastBucket: string;
  top: number;
}

/** `GET /v1/stats?from&to&interval&top`; a 400 naming the parameter otherwise. */
export function parseStatsQuery(params: QueryParameters, now: Date): StatsRequest {
  const q = singleValues(params, ['from', 'to', 'interval', 'top']);
  const interval = (q.interval ?? 'hour') as Interval;
  if (!INTERVALS.includes(interval)) throw badRequest('invalid_filter', `interval must be one of ${INTERVALS.join(', ')}`);
  let top = DEFAULT_TOP;
  if (q.top !== undefined) {
    if (!/^\d{1,3}$/.test(q.top) || Number(q.top) < 1 || Number(q.top) > MAX_TOP) throw badRequest('invalid_filter', `top must be a whole number from 1 to ${MAX_TOP}`);
    top = Number(q.top);
  }
  const size = bucketMs(interval);
  const to = q.to !== undefined ? parseTime('to', q.to) : now.toISOString();
  const lastBucket = bucketStart(interval, to);
  // Default: the last 24 hours, or the last 30 days, ending with the bucket that holds `to`.
  const from = q.from !== undefined ? parseTime('from', q.from) : new Date(Date.parse(lastBucket) - (interval === 'hour' ? 23 : 29) * size).toISOString();
  if (from > to) throw badRequest('invalid_filter', `from (${from}) is after to (${to})`);
  const firstBucket = bucketStart(interval, from);
  const buckets = (Date.parse(lastBucket) - Date.parse(firstBucket)) / size + 1;
  if (buckets > MAX_BUCKETS) {
    throw badRequest('invalid_filter', `from and to span ${buckets} ${interval}s; at most ${MAX_BUCKETS} buckets${interval === 'hour' ? ' (use interval=day)' : ''}`);
  }
  return { interval, firstBucket, lastBucket, top };
}

/** Every bucket's start, oldest first. */
export function bucketStarts(request: Pick<StatsRequest, 'interval' | 'firstBucket' | 'lastBucket'>): string[] {
  const size = bucketMs(request.interval);
  const out: string[] = [];
  for (let t = Date.parse(request.firstBucket); t <= Date.parse(request.lastBucket); t += size) out.push(new Date(t).toISOString());
  return out;
}

/** A counter item as read back. */
export interface CounterItem {
  pk: string;
  sk: string;
  kind?: string;
  value?: string;
  count?: number;
  failures?: number;
  debug?: number;
  info?: number;
  warning?: number;
  error?: number;
  critical?: number;
}

export interface StatsReader {
  /** Every item of each partition (all shards), by partition key. */
  readPartitions(partitions: readonly string[]): Promise<Map<string, CounterItem[]>>;
}

type SeverityCounts = Record<Severity, number>;

export interface StatsBucket {
  start: string;
  total: number;
  failures: number;
  bySeverity: SeverityCounts;
}

export interface StatsAnswer {
  interval: Interval;
  /** The first bucket's start and the last bucket's end (inclusive, to the millisecond). */
  from: string;
  to: string;
  total: number;
  failures: number;
  /** failures ÷ total, 0 without events; four decimals. */
  failureRate: number;
  bySeverity: SeverityCounts;
  buckets: StatsBucket[];
  topTypes: { type: string; count: number; failures: number }[];
  topFailingPages: { page: string; failures: number; count: number; failureRate: number }[];
}

const zeroSeverities = (): SeverityCounts => Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as SeverityCounts;
const rate = (failures: number, total: number) => (total === 0 ? 0 : Math.round((failures / total) * 10_000) / 10_000);

export async function readStats(request: StatsRequest, reader: StatsReader): Promise<StatsAnswer> {
  const starts = bucketStarts(request);
  const partitions = starts.map((start) => bucketPartition(request.interval, start));
  return summarizeStats(request, starts, await reader.readPartitions(partitions));
}

/** Adds up the shards and buckets: the answer of GET /v1/stats. */
export function summarizeStats(request: StatsRequest, starts: readonly string[], items: ReadonlyMap<string, CounterItem[]>): StatsAnswer {
  const types = new Map<string, { count: number; failures: number }>();
  const pages = new Map<string, { count: number; failures: number }>();
  const bySeverity = zeroSeverities();
  let total = 0;
  let failures = 0;
  const buckets = starts.map((start): StatsBucket => {
    const bucket: StatsBucket = { start, total: 0, failures: 0, bySeverity: zeroSeverities() };
    for (const item of items.get(bucketPartition(request.interval, start)) ?? []) {
      const count = item.count ?? 0;
      const failed = item.failures ?? 0;
      if (item.sk.startsWith('sum#')) {
        bucket.total += count;
        bucket.failures += failed;
        for (const severity of SEVERITIES) bucket.bySeverity[severity] += item[severity] ?? 0;
      } else if (item.value !== undefined && (item.sk.startsWith('type#') || item.sk.startsWith('page#'))) {
        const into = item.sk.startsWith('type#') ? types : pages;
        const sum = into.get(item.value) ?? { count: 0, failures: 0 };
        sum.count += count;
        sum.failures += failed;
        into.set(item.value, sum);
      }
    }
    total += bucket.total;
    failures += bucket.failures;
    for (const severity of SEVERITIES) bySeverity[severity] += bucket.bySeverity[severity];
    return bucket;
  });
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const topTypes = [...types]
    .sort(([a, x], [b, y]) => y.count - x.count || byName(a, b))
    .slice(0, request.top)
    .map(([type, sum]) => ({ type, count: sum.count, failures: sum.failures }));
  const topFailingPages = [...pages]
    .filter(([, sum]) => sum.failures > 0)
    .sort(([a, x], [b, y]) => y.failures - x.failures || rate(y.failures, y.count) - rate(x.failures, x.count) || byName(a, b))
    .slice(0, request.top)
    .map(([page, sum]) => ({ page, failures: sum.failures, count: sum.count, failureRate: rate(sum.failures, sum.count) }));
  return {
    interval: request.interval,
    from: request.firstBucket,
    to: new Date(Date.parse(request.lastBucket) + bucketMs(request.interval) - 1).toISOString(),
    total,
    failures,
    failureRate: rate(failures, total),
    bySeverity,
    buckets,
    topTypes,
    topFailingPages,
  };
}

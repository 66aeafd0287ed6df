/**
 * The DynamoDB tables, declared once as plain data. The CDK event store and
 * the local runtime (which creates the same tables in DynamoDB Local) both
 * read these declarations, so local cannot drift from cloud.
 */

export type KeyType = 'S' | 'N';

export interface KeyAttribute {
  name: string;
  type: KeyType;
}

export interface IndexDeclaration {
  name: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  /** Non-key attributes copied into the index; `'ALL'` copies the whole item. */
  projection: readonly string[] | 'ALL' | 'KEYS_ONLY';
}

export interface TableDeclaration {
  /** Logical id in the stack and the name prefix locally. */
  id: string;
  /** Environment variable through which a function learns the physical name. */
  envVar: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  indexes: readonly IndexDeclaration[];
  timeToLiveAttribute?: string;
  stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES';
}

/**
 * What the list view needs from an event, and what the query planner filters
 * on: projected into every events index so that a page of results needs no
 * read of the base table. The full event (`doc`) is read by id.
 */
export const EVENT_LIST_ATTRIBUTES = [
  'id',
  'occurredAt',
  'receivedAt',
  'type',
  'category',
  'severity',
  'status',
  'source',
  'userId',
  'recordType',
  'recordId',
  'page',
  'summary',
  'traceId',
] as const;

const s = (name: string): KeyAttribute => ({ name, type: 'S' });

/** Events newest first within one partition: the sort key is `<occurredAt>#<id>`. */
const byTime = s('sk');

export const EVENTS_TABLE = {
  id: 'Events',
  envVar: 'EVENTS_TABLE',
  partitionKey: s('pk'),
  indexes: [
    // D#<yyyy-mm>#<shard>: a month of events spread over SHARDS partitions.
    { name: 'byDate', partitionKey: s('datePk'), sortKey: byTime, projection: EVENT_LIST_ATTRIBUTES },
    // U#<userId>: sparse, only events with actor.userId.
    { name: 'byUser', partitionKey: s('userPk'), sortKey: byTime, projection: EVENT_LIST_ATTRIBUTES },
    // T#<type>#<shard>
    { name: 'byType', partitionKey: s('typePk'), sortKey: byTime, projection: EVENT_LIST_ATTRIBUTES },
    // V#<severity>#<shard>
    { name: 'bySeverity', partitionKey: s('severityPk'), sortKey: byTime, projection: EVENT_LIST_ATTRIBUTES },
    // R#<recordType>#<recordId>: sparse, the history of one record.
    { name: 'byRecord', partitionKey: s('recordPk'), sortKey: byTime, projection: EVENT_LIST_ATTRIBUTES },
    // X#<traceId>: sparse, every event of one trace (request), for GET /v1/traces/{traceId}.
    { name: 'byTrace', partitionKey: s('tracePk'), sortKey: byTime, projection: EVENT_LIST_ATTRIBUTES },
  ],
  timeToLiveAttribute: 'expiresAt',
  stream: 'NEW_IMAGE',
} as const satisfies TableDeclaration;

/** App credentials: one item per key, addressed by key id; only a hash of the secret is kept. */
export const APP_KEYS_TABLE = {
  id: 'AppKeys',
  envVar: 'APP_KEYS_TABLE',
  partitionKey: s('keyId'),
  indexes: [],
} as const satisfies TableDeclaration;

/** Short-lived counters (per-app rate windows); items expire through TTL. */
export const COUNTERS_TABLE = {
  id: 'Counters',
  envVar: 'COUNTERS_TABLE',
  partitionKey: s('pk'),
  indexes: [],
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDeclaration;

/**
 * Alert rules, one item per rule, addressed by rule id (plus the marker item
 * `_defaults` once the default rules were created). A few dozen items: read
 * whole (Scan) and cached by the rule function.
 */
export const RULES_TABLE = {
  id: 'Rules',
  envVar: 'RULES_TABLE',
  partitionKey: s('id'),
  indexes: [],
} as const satisfies TableDeclaration;

/**
 * Notifications: what fired rules produced (the in-app channel, and the
 * outbox email/SMS are sent from). Addressed by their deterministic id.
 * `byStatus` lists one workflow status newest first: partition
 * `N#<status>` (new, read, resolved), sort `<createdAt>#<id>`; a status
 * change moves the item between partitions. The unread count is a COUNT
 * query on `N#new`. Notifications are few (throttles see to that), so the
 * index projects everything and a list needs no second read.
 */
export const NOTIFICATIONS_TABLE = {
  id: 'Notifications',
  envVar: 'NOTIFICATIONS_TABLE',
  partitionKey: s('id'),
  indexes: [{ name: 'byStatus', partitionKey: s('statusPk'), sortKey: s('sk'), projection: 'ALL' }],
} as const satisfies TableDeclaration;

/**
 * The archive's state (lambdas/core/archive-writer.ts): the head of the
 * digest hash chain (`chain#head`, moved only by a write conditional on its
 * sequence, so concurrent archive invocations make ONE linear chain), one
 * marker per archived stream batch (`batch#<first record id>`, so a
 * re-delivered batch is not archived twice; expires after the stream's 24
 * hours), and the count of events archived since the last table export
 * (`export#state`). A few items, each long-lived except the markers.
 */
export const ARCHIVE_STATE_TABLE = {
  id: 'ArchiveState',
  envVar: 'ARCHIVE_STATE_TABLE',
  partitionKey: s('pk'),
  indexes: [],
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDeclaration;

/**
 * Event statistics (issue 3), kept as events arrive by the stats stream
 * consumer: one small counter item per bucket (hour or day), dimension
 * (sum, type, page) and sort-key shard, plus a short-lived marker per
 * counted event that makes counting exactly-once. Layout and trade-offs:
 * lambdas/core/stats.ts. Read by partition (one Query per bucket), never scanned.
 */
export const STATS_TABLE = {
  id: 'Stats',
  envVar: 'STATS_TABLE',
  partitionKey: s('pk'),
  sortKey: s('sk'),
  indexes: [],
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDeclaration;

/**
 * Export jobs (issue 3): one item per export, addressed by its id (a ULID):
 * status, filters, row count, object key. Read by id only. Items expire
 * (TTL) with their file in the exports bucket.
 */
export const EXPORTS_TABLE = {
  id: 'Exports',
  envVar: 'EXPORTS_TABLE',
  partitionKey: s('id'),
  indexes: [],
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDeclaration;

/**
 * What the error list (GET /v1/errors) shows of a group: projected into both
 * error-group indexes, so a page is one Query. The full group is read by id.
 */
export const ERROR_GROUP_LIST_ATTRIBUTES = ['title', 'culprit', 'errorName', 'source', 'type', 'firstSeen', 'affectedUsers', 'regressedAt', 'statusAt', 'statusBy'] as const;

/**
 * Error groups (issue 5), kept by the error tracker on the events stream:
 * one item per fingerprint, addressed by the group id (16 hex digits), plus
 * a short-lived create-only marker per counted event (`E#<eventId>`, TTL two
 * days) that makes counting exactly-once. Two sparse indexes list one status
 * (partition `status`: unresolved, resolved, ignored) newest first
 * (`byLastSeen`) or most frequent first (`byCount`, a number sort key); the
 * markers have no `status`, so they are in neither. Groups expire 400 days
 * after they were last seen. Layout and costs: docs/errors.md.
 */
export const ERROR_GROUPS_TABLE = {
  id: 'ErrorGroups',
  envVar: 'ERROR_GROUPS_TABLE',
  partitionKey: s('pk'),
  indexes: [
    { name: 'byLastSeen', partitionKey: s('status'), sortKey: s('lastSeen'), projection: [...ERROR_GROUP_LIST_ATTRIBUTES, 'count'] },
    { name: 'byCount', partitionKey: s('status'), sortKey: { name: 'count', type: 'N' }, projection: [...ERROR_GROUP_LIST_ATTRIBUTES, 'lastSeen'] },
  ],
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDeclaration;

export const TABLES: readonly TableDeclaration[] = [EVENTS_TABLE, APP_KEYS_TABLE, COUNTERS_TABLE, RULES_TABLE, NOTIFICATIONS_TABLE, ARCHIVE_STATE_TABLE, STATS_TABLE, EXPORTS_TABLE, ERROR_GROUPS_TABLE];

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

export const TABLES: readonly TableDeclaration[] = [EVENTS_TABLE, APP_KEYS_TABLE, COUNTERS_TABLE, RULES_TABLE, NOTIFICATIONS_TABLE];

import { ARCHIVE_BUCKET, ARCHIVE_PREFIXES, BACKUP_BUCKET, BACKUP_OBJECT_PREFIX, EXPORTS_BUCKET, EXPORTS_OBJECT_PREFIX, type BucketAccess } from './buckets';
import { APP_KEYS_TABLE, ARCHIVE_STATE_TABLE, COUNTERS_TABLE, ERROR_GROUPS_TABLE, EVENTS_TABLE, EXPORTS_TABLE, NOTIFICATIONS_TABLE, RULES_TABLE, STATS_TABLE, type TableDeclaration } from './tables';

/** What a function may do to a table: exact DynamoDB actions, nothing broader. */
export interface TableAccess {
  table: TableDeclaration;
  actions: readonly string[];
  /** Also grant on the table's indexes (for Query on a GSI). */
  indexes?: boolean;
}

/**
 * A secret a function reads at cold start. On AWS it is generated in Secrets
 * Manager and the function gets its ARN (and GetSecretValue on it alone);
 * the local stack generates the value once under its data folder and passes
 * it directly.
 */
export interface SecretDeclaration {
  /** Logical id in the stack; locally the key file's name. */
  id: string;
  description: string;
  /** Environment variable with the secret's ARN (AWS). */
  arnEnvVar: string;
  /** Environment variable with the value itself, base64 (the local stack). */
  valueEnvVar: string;
}

/** Signs the query API's pagination cursors (HMAC-SHA256), so a forged or altered cursor is refused. */
export const CURSOR_SIGNING_SECRET = {
  id: 'CursorSigningKey',
  description: 'HMAC key that signs the query API pagination cursors',
  arnEnvVar: 'CURSOR_SECRET_ARN',
  valueEnvVar: 'CURSOR_SIGNING_KEY',
} as const satisfies SecretDeclaration;

export interface FunctionDeclaration {
  /** Logical id in the stack, and the name the local runtime uses. */
  id: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  access: readonly TableAccess[];
  /** Secrets the function reads (none when absent). */
  secrets?: readonly SecretDeclaration[];
  /** Objects the function reads or writes, by bucket and key prefix (none when absent). */
  buckets?: readonly BucketAccess[];
}

const READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;

export const INGEST_FUNCTION = {
  id: 'Ingest',
  entry: 'lambdas/ingest/handler.ts',
  description: 'POST /v1/events: validates, redacts and stores events (create-only)',
  memoryMb: 1024,
  timeoutSeconds: 15,
  access: [
    // PutItem only: ingestion can create events but never change or delete one.
    { table: EVENTS_TABLE, actions: ['dynamodb:PutItem'] },
    { table: COUNTERS_TABLE, actions: ['dynamodb:UpdateItem'] },
  ],
} as const satisfies FunctionDeclaration;

/**
 * OTLP/HTTP logs (`POST /v1/logs`): maps each log record to an event and
 * stores it through the same create-only pipeline as Ingest, hence the same
 * grants. A function of its own so that the protobuf decoder stays out of
 * the hot `/v1/events` bundle and OTLP traffic has its own metrics and alarms.
 */
export const OTLP_LOGS_FUNCTION = {
  id: 'OtlpLogs',
  entry: 'lambdas/otlp/handler.ts',
  description: 'POST /v1/logs: OpenTelemetry logs (OTLP/HTTP JSON or protobuf) stored as events (create-only)',
  memoryMb: 1024,
  timeoutSeconds: 15,
  access: [
    { table: EVENTS_TABLE, actions: ['dynamodb:PutItem'] },
    { table: COUNTERS_TABLE, actions: ['dynamodb:UpdateItem'] },
  ],
} as const satisfies FunctionDeclaration;

export const APP_KEY_AUTHORIZER_FUNCTION = {
  id: 'AppKeyAuthorizer',
  entry: 'lambdas/authorizer/handler.ts',
  description: 'Checks an app key (x-api-key) against its stored hash and names the app',
  memoryMb: 256,
  timeoutSeconds: 5,
  access: [{ table: APP_KEYS_TABLE, actions: ['dynamodb:GetItem'] }],
} as const satisfies FunctionDeclaration;

export const QUERY_FUNCTION = {
  id: 'Query',
  entry: 'lambdas/query/handler.ts',
  description: 'Read API for signed-in admins and viewers',
  memoryMb: 1024,
  timeoutSeconds: 29,
  access: [
    { table: EVENTS_TABLE, actions: READ, indexes: true },
    // GET /v1/stats (issue 3): one Query per bucket partition of the counters; nothing else there.
    { table: STATS_TABLE, actions: ['dynamodb:Query'] },
  ],
  secrets: [CURSOR_SIGNING_SECRET],
} as const satisfies FunctionDeclaration;

/**
 * What running the rule engine takes (the rule function, and the error
 * tracker, which notifies through the same engine): read the rules and
 * create the defaults once, keep windows and throttles, write notifications.
 */
const RULE_ENGINE_ACCESS = [
  { table: RULES_TABLE, actions: ['dynamodb:Scan', 'dynamodb:PutItem'] },
  // Windows and throttles: conditional PutItem on a version; silence rules' "last seen": conditional UpdateItem.
  { table: COUNTERS_TABLE, actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] },
  { table: NOTIFICATIONS_TABLE, actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] },
] as const satisfies readonly TableAccess[];

/**
 * The rule engine, on the events stream (lib/declarations/streams.ts). It
 * reads the rules (and creates the defaults once: conditional PutItem),
 * keeps per-rule windows and throttles in Counters (conditional writes on a
 * version), and writes notifications create-only before updating their
 * delivery status. SNS publish rights come from the rules-engine construct.
 */
export const RULES_FUNCTION = {
  id: 'Rules',
  entry: 'lambdas/rules/handler.ts',
  description: 'Events stream: evaluates alert rules and sends notifications (SNS email/SMS)',
  memoryMb: 512,
  timeoutSeconds: 60,
  access: RULE_ENGINE_ACCESS,
} as const satisfies FunctionDeclaration;

/**
 * The silent-source check (lib/declarations/schedules.ts): reads the silence
 * rules and their "last seen", and notifies like the rule function (same
 * outbox, same topics).
 */
export const SILENCE_FUNCTION = {
  id: 'SilenceCheck',
  entry: 'lambdas/silence/handler.ts',
  description: 'Schedule: notifies when a source that sends events has gone quiet (silence rules)',
  memoryMb: 256,
  timeoutSeconds: 60,
  access: [
    { table: RULES_TABLE, actions: ['dynamodb:Scan', 'dynamodb:PutItem'] },
    { table: COUNTERS_TABLE, actions: ['dynamodb:GetItem'] },
    { table: NOTIFICATIONS_TABLE, actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] },
  ],
} as const satisfies FunctionDeclaration;

/**
 * Notifications and rules API: lists and updates notifications, manages
 * rules, and dry-runs a rule over recent events (Query on the events'
 * indexes and BatchGetItem for the full documents; never Scan on events).
 */
export const NOTIFICATIONS_FUNCTION = {
  id: 'Notifications',
  entry: 'lambdas/notifications/handler.ts',
  description: 'Notifications and alert rules API for signed-in admins and viewers',
  memoryMb: 1024,
  timeoutSeconds: 29,
  access: [
    { table: NOTIFICATIONS_TABLE, actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], indexes: true },
    { table: RULES_TABLE, actions: ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'] },
    { table: EVENTS_TABLE, actions: ['dynamodb:Query', 'dynamodb:BatchGetItem'], indexes: true },
    // Rule changes and resolutions are recorded as admin.* events (issue 3): create-only, like ingestion.
    { table: EVENTS_TABLE, actions: ['dynamodb:PutItem'] },
  ],
} as const satisfies FunctionDeclaration;

/**
 * The admin API (issue 3): app keys (issue, list, revoke) and exports. Every
 * action is recorded as an admin.* event through the ingestion pipeline,
 * hence PutItem (create-only) on the events table and nothing else there.
 * App keys: PutItem (conditional create), UpdateItem (revoke), Scan (list:
 * one item per key, a few dozen).
 */
export const ADMIN_FUNCTION = {
  id: 'Admin',
  entry: 'lambdas/admin/handler.ts',
  description: 'Admin API: app keys and exports; every action recorded as an admin.* event',
  memoryMb: 512,
  timeoutSeconds: 29,
  access: [
    { table: APP_KEYS_TABLE, actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan'] },
    { table: EVENTS_TABLE, actions: ['dynamodb:PutItem'] },
    // Export jobs: create (conditional), read, mark failed when it cannot be recorded or started.
    { table: EXPORTS_TABLE, actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'] },
  ],
  // Download links are presigned with this function's credentials: GetObject on export objects, nothing else.
  // (lambda:InvokeFunction on the export function alone comes from lib/constructs/exports.ts.)
  buckets: [{ bucket: EXPORTS_BUCKET, actions: ['s3:GetObject'], prefixes: [EXPORTS_OBJECT_PREFIX] }],
} as const satisfies FunctionDeclaration;

/**
 * The export worker (issue 3), invoked asynchronously by the Admin function:
 * reads matching events through the query planner (Query on the events
 * table's indexes, like the Query function) and streams them into a
 * multipart upload under `exports/` (PutObject covers Create/UploadPart/
 * Complete; AbortMultipartUpload cleans up a failure). It updates its job's
 * status. The longest Lambda allows: a large export takes minutes.
 */
export const EXPORT_FUNCTION = {
  id: 'Export',
  entry: 'lambdas/export/handler.ts',
  description: 'Writes an export of events (CSV, NDJSON or JSON) to S3 by streaming; invoked asynchronously by the Admin API',
  memoryMb: 1024,
  timeoutSeconds: 900,
  access: [
    { table: EVENTS_TABLE, actions: ['dynamodb:Query'], indexes: true },
    { table: EXPORTS_TABLE, actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] },
  ],
  buckets: [{ bucket: EXPORTS_BUCKET, actions: ['s3:PutObject', 's3:AbortMultipartUpload'], prefixes: [EXPORTS_OBJECT_PREFIX] }],
} as const satisfies FunctionDeclaration;

/**
 * The archive, on the events stream (lib/declarations/streams.ts): writes
 * each batch to S3 as gzipped NDJSON and appends a signed digest to the one
 * hash chain (lambdas/core/archive-writer.ts). It may only put objects
 * under the archive's two prefixes, never read, overwrite-protect or delete
 * (Object Lock keeps every version); the chain head, batch markers and the
 * export counter are conditional writes in ArchiveState. kms:Sign on the
 * digest signing key and the bucket key's GenerateDataKey come from the
 * archive construct (lib/constructs/archive.ts).
 */
export const ARCHIVE_FUNCTION = {
  id: 'Archive',
  entry: 'lambdas/archive/handler.ts',
  description: 'Events stream: archives every event to S3 (gzipped NDJSON) under one signed digest hash chain',
  memoryMb: 512,
  timeoutSeconds: 60,
  access: [{ table: ARCHIVE_STATE_TABLE, actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] }],
  buckets: [{ bucket: ARCHIVE_BUCKET, actions: ['s3:PutObject'], prefixes: [ARCHIVE_PREFIXES.events, ARCHIVE_PREFIXES.digests] }],
} as const satisfies FunctionDeclaration;

/**
 * The stats counter (issue 3), on the events stream: adds each new event
 * into hourly and daily counters. A transaction per group of events puts a
 * create-only marker per event and ADDs the group's counts (PutItem and
 * UpdateItem are the IAM actions TransactWriteItems needs for them), so a
 * retried batch counts nothing twice. Reads no event: the stream record
 * carries what it counts.
 */
export const STATS_FUNCTION = {
  id: 'StatsCounter',
  entry: 'lambdas/stats/handler.ts',
  description: 'Events stream: keeps hourly and daily event counters (severity, type, page, failures) exactly once',
  memoryMb: 512,
  timeoutSeconds: 60,
  access: [{ table: STATS_TABLE, actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] }],
} as const satisfies FunctionDeclaration;

/**
 * Table exports (lib/declarations/schedules.ts, every 15 minutes): reads the
 * count of events archived since the last export and records each export it
 * starts (conditional on the last one). DynamoDB's export writes to the
 * backup bucket with the caller's rights, hence the S3 actions AWS documents
 * for it; dynamodb:ExportTableToPointInTime on the events table and the
 * backup key's use come from lib/constructs/backups.ts.
 */
export const BACKUP_FUNCTION = {
  id: 'TableExport',
  entry: 'lambdas/backup/handler.ts',
  description: 'Schedule: exports the events table to S3 (incremental where possible) after enough new events',
  memoryMb: 256,
  timeoutSeconds: 60,
  access: [{ table: ARCHIVE_STATE_TABLE, actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] }],
  buckets: [{ bucket: BACKUP_BUCKET, actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:PutObjectAcl'], prefixes: [BACKUP_OBJECT_PREFIX] }],
} as const satisfies FunctionDeclaration;

/**
 * The error tracker (issue 5), on the events stream: fingerprints error
 * events and keeps their groups (lambdas/core/error-tracker.ts). One
 * transaction per group and batch: a create-only marker per event (PutItem)
 * and the group's create (PutItem) or atomic additions (UpdateItem), after a
 * strongly consistent read (GetItem). A group that is new or regressed is
 * handed to the rule engine in-process, so it notifies like the rule
 * function: reads the rules (and creates the defaults once), keeps rule
 * state in Counters, writes notifications create-only; SNS publish and KMS
 * on the two topics come from RulesEngine.grantNotify.
 */
export const ERROR_TRACKER_FUNCTION = {
  id: 'ErrorTracker',
  entry: 'lambdas/error-tracker/handler.ts',
  description: 'Events stream: groups errors by fingerprint (counts, users, histogram) and notifies on new and regressed groups',
  memoryMb: 512,
  timeoutSeconds: 60,
  access: [{ table: ERROR_GROUPS_TABLE, actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] }, ...RULE_ENGINE_ACCESS],
} as const satisfies FunctionDeclaration;

/**
 * The errors API (issue 5): lists groups (Query on the two status indexes,
 * plus one BatchGetItem of the page's histograms for the sparklines), reads
 * one (GetItem) with its sample events (BatchGetItem on the events
 * table, never its indexes), and changes a group's status (conditional
 * UpdateItem), recorded as an admin.error_group.changed event (create-only
 * PutItem on events, like every admin action).
 */
export const ERRORS_FUNCTION = {
  id: 'Errors',
  entry: 'lambdas/errors/handler.ts',
  description: 'Error groups API: list, read with recent events, resolve / ignore / reopen (recorded as admin events)',
  memoryMb: 512,
  timeoutSeconds: 29,
  access: [
    { table: ERROR_GROUPS_TABLE, actions: ['dynamodb:Query'], indexes: true },
    { table: ERROR_GROUPS_TABLE, actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'] },
    { table: EVENTS_TABLE, actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'] },
  ],
} as const satisfies FunctionDeclaration;

export const FUNCTIONS: readonly FunctionDeclaration[] = [
  INGEST_FUNCTION,
  OTLP_LOGS_FUNCTION,
  APP_KEY_AUTHORIZER_FUNCTION,
  QUERY_FUNCTION,
  RULES_FUNCTION,
  NOTIFICATIONS_FUNCTION,
  SILENCE_FUNCTION,
  ADMIN_FUNCTION,
  ARCHIVE_FUNCTION,
  BACKUP_FUNCTION,
  STATS_FUNCTION,
  EXPORT_FUNCTION,
  ERROR_TRACKER_FUNCTION,
  ERRORS_FUNCTION,
];

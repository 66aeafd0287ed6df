import { APP_KEYS_TABLE, COUNTERS_TABLE, EVENTS_TABLE, NOTIFICATIONS_TABLE, RULES_TABLE, type TableDeclaration } from './tables';

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
  access: [{ table: EVENTS_TABLE, actions: READ, indexes: true }],
  secrets: [CURSOR_SIGNING_SECRET],
} as const satisfies FunctionDeclaration;

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
  access: [
    { table: RULES_TABLE, actions: ['dynamodb:Scan', 'dynamodb:PutItem'] },
    // Windows and throttles: conditional PutItem on a version; silence rules' "last seen": conditional UpdateItem.
    { table: COUNTERS_TABLE, actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] },
    { table: NOTIFICATIONS_TABLE, actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] },
  ],
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
];

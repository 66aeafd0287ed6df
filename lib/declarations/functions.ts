import { APP_KEYS_TABLE, COUNTERS_TABLE, EVENTS_TABLE, type TableDeclaration } from './tables';

/** What a function may do to a table: exact DynamoDB actions, nothing broader. */
export interface TableAccess {
  table: TableDeclaration;
  actions: readonly string[];
  /** Also grant on the table's indexes (for Query on a GSI). */
  indexes?: boolean;
}

export interface FunctionDeclaration {
  /** Logical id in the stack, and the name the local runtime uses. */
  id: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  access: readonly TableAccess[];
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
} as const satisfies FunctionDeclaration;

export const FUNCTIONS: readonly FunctionDeclaration[] = [INGEST_FUNCTION, APP_KEY_AUTHORIZER_FUNCTION, QUERY_FUNCTION];

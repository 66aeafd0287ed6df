import { RULES_FUNCTION, type FunctionDeclaration } from './functions';
import { EVENTS_TABLE, type TableDeclaration } from './tables';

/**
 * A function fed by a table's DynamoDB stream, declared once: the CDK event
 * source mapping (lib/constructs/rules-engine.ts) and the local poller
 * (local/stack.ts → local/streams.ts) are both built from it, so the batch
 * size, window, filter and failure handling cannot differ between them.
 */
export interface StreamConsumerDeclaration {
  id: string;
  function: FunctionDeclaration;
  table: TableDeclaration;
  /** Event source filter criteria: only these stream event names reach the function. */
  eventNames: readonly ('INSERT' | 'MODIFY' | 'REMOVE')[];
  batchSize: number;
  maxBatchingWindowSeconds: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** Retries of a failed batch (or of what a partial batch response names) before the on-failure destination. */
  retryAttempts: number;
  bisectOnError: boolean;
  /** Records older than this go to the on-failure destination unprocessed (AWS only; the local poller has no record age). */
  maxRecordAgeSeconds: number;
  /** The function answers `batchItemFailures` (Powertools batch): only failed records are retried. */
  reportBatchItemFailures: true;
}

/**
 * The rule engine reads new events. Small batches and a short window keep an
 * alert within seconds of its event; ten retries with bisection isolate a
 * poison record without holding the shard for long; after an hour an event
 * is too stale to alert on and goes to the on-failure queue instead.
 */
export const RULES_STREAM = {
  id: 'RulesStream',
  function: RULES_FUNCTION,
  table: EVENTS_TABLE,
  eventNames: ['INSERT'],
  batchSize: 50,
  maxBatchingWindowSeconds: 1,
  startingPosition: 'LATEST',
  retryAttempts: 10,
  bisectOnError: true,
  maxRecordAgeSeconds: 3600,
  reportBatchItemFailures: true,
} as const satisfies StreamConsumerDeclaration;

export const STREAM_CONSUMERS: readonly StreamConsumerDeclaration[] = [RULES_STREAM];

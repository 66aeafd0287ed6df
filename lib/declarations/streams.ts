import { ERROR_TRACKER_FUNCTION, ARCHIVE_FUNCTION, RULES_FUNCTION, STATS_FUNCTION, type FunctionDeclaration } from './functions';
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
  /** Retries of a failed batch (or of what a partial batch response names) before the on-failure destination; -1: no limit. */
  retryAttempts: number;
  bisectOnError: boolean;
  /** Records older than this go to the on-failure destination unprocessed (AWS only; the local poller has no record age); -1: no limit. */
  maxRecordAgeSeconds: number;
  /** The function answers `batchItemFailures` (Powertools batch): only failed records are retried. */
  reportBatchItemFailures: true;
  /**
   * AWS only: the consumer's lag alarm fires when the oldest record of a batch it processed is this old (Lambda's
   * IteratorAge, Maximum over 5 minutes). Chosen per consumer from how late its work may be.
   */
  iteratorAgeAlarmSeconds: number;
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
  // Alerts are meant to arrive within seconds; five minutes late is already late for whoever is on call, and it
  // leaves most of the hour before records are given up on to find out why.
  iteratorAgeAlarmSeconds: 300,
} as const satisfies StreamConsumerDeclaration;

/**
 * The archive reads every new event. It must never skip one, so it retries
 * until the batch goes through (-1: no retry limit and no record age limit;
 * the stream's 24 hours bound it, and the function's error and iterator-age
 * alarms call someone long before). It does not bisect: a retry brings the
 * same batch back (same first record, so the same object keys), which is
 * what makes a retry overwrite rather than duplicate; and an archive has no
 * poison record to isolate, only outages to wait out. Big batches and a 5 s
 * window make few, larger objects; an event reaches S3 within about the
 * window plus a second (locally the same, under 10 s). TRIM_HORIZON: a new
 * deployment archives whatever the stream still holds.
 */
export const ARCHIVE_STREAM = {
  id: 'ArchiveStream',
  function: ARCHIVE_FUNCTION,
  table: EVENTS_TABLE,
  eventNames: ['INSERT'],
  batchSize: 1000,
  maxBatchingWindowSeconds: 5,
  startingPosition: 'TRIM_HORIZON',
  retryAttempts: -1,
  bisectOnError: false,
  maxRecordAgeSeconds: -1,
  reportBatchItemFailures: true,
  // Nothing reads the archive in real time; a quarter of an hour behind means it keeps failing or is throttled,
  // with the stream's 24 hours still ahead to fix it.
  iteratorAgeAlarmSeconds: 900,
} as const satisfies StreamConsumerDeclaration;

/**
 * The stats counter (issue 3) reads every new event. Counting is
 * exactly-once whatever the retries (per-event markers, see
 * lambdas/adapters/stats-store.ts), so it may retry without limit and never
 * needs bisection (a malformed record is skipped, not failed: there is no
 * poison record); like the archive, only the stream's 24 hours bound it, and
 * the function's error alarm calls someone long before. Large batches and a
 * 5 s window make large groups to aggregate: fewer, bigger ADDs.
 * TRIM_HORIZON: a new deployment counts what the stream still holds.
 */
export const STATS_STREAM = {
  id: 'StatsStream',
  function: STATS_FUNCTION,
  table: EVENTS_TABLE,
  eventNames: ['INSERT'],
  batchSize: 500,
  maxBatchingWindowSeconds: 5,
  startingPosition: 'TRIM_HORIZON',
  retryAttempts: -1,
  bisectOnError: false,
  maxRecordAgeSeconds: -1,
  reportBatchItemFailures: true,
  // Late counts only make the dashboard's charts lag; an hour behind is a stuck counter, still far from the
  // stream's 24 hours.
  iteratorAgeAlarmSeconds: 3600,
} as const satisfies StreamConsumerDeclaration;

/**
 * The error tracker (issue 5) reads new events and groups the errors.
 * Larger batches than the rule engine's and a 2 s window: a burst of one
 * failure becomes one transaction per group and batch rather than one per
 * event, while a new or regressed group still notifies within seconds.
 * Counting is exactly-once (per-event markers), so retries never double
 * count; like the rule engine it bisects, retries 10 times and gives up
 * after an hour (an announcement that late is no use), sending the records
 * to the on-failure queue, whose alarm calls someone. A group's counts are
 * committed before its announcement, so a failing notification channel
 * retries the announcement only. LATEST, like the rule engine: a new
 * deployment does not announce the previous day's errors as new.
 */
export const ERRORS_STREAM = {
  id: 'ErrorsStream',
  function: ERROR_TRACKER_FUNCTION,
  table: EVENTS_TABLE,
  eventNames: ['INSERT'],
  batchSize: 200,
  maxBatchingWindowSeconds: 2,
  startingPosition: 'LATEST',
  retryAttempts: 10,
  bisectOnError: true,
  maxRecordAgeSeconds: 3600,
  reportBatchItemFailures: true,
  // A new or regressed group is announced within seconds normally; ten minutes late is a stuck tracker, with
  // most of the hour left before its records are given up on.
  iteratorAgeAlarmSeconds: 600,
} as const satisfies StreamConsumerDeclaration;

export const STREAM_CONSUMERS: readonly StreamConsumerDeclaration[] = [RULES_STREAM, ARCHIVE_STREAM, STATS_STREAM, ERRORS_STREAM];

/**
 * Items `npm run restore` re-imports from the archive carry this attribute.
 * They are history, not news: no stream consumer acts on them again (no
 * second alert, no second count, no second archive copy).
 */
export const RESTORED_ATTRIBUTE = 'restoredAt';

/**
 * The event source filter criteria of a consumer, as Lambda patterns: one of
 * its event names, and not a restored item. The CDK mappings use these
 * patterns; the local poller applies `passesStreamFilter`, the same rule.
 */
export function streamFilterPatterns(consumer: Pick<StreamConsumerDeclaration, 'eventNames'>): Array<{ pattern: string }> {
  return consumer.eventNames.map((eventName) => ({
    pattern: JSON.stringify({ eventName: [eventName], dynamodb: { NewImage: { [RESTORED_ATTRIBUTE]: { S: [{ exists: false }] } } } }),
  }));
}

export function passesStreamFilter(
  consumer: Pick<StreamConsumerDeclaration, 'eventNames'>,
  record: { eventName?: string; dynamodb?: { NewImage?: Record<string, unknown> } },
): boolean {
  return (consumer.eventNames as readonly string[]).includes(record.eventName ?? '') && record.dynamodb?.NewImage?.[RESTORED_ATTRIBUTE] === undefined;
}

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoErrorGroupStore } from '../adapters/error-group-store';
import { ADMIN_EVENT_SOURCE } from '../core/admin-audit';
import type { AuditEvent } from '../core/event';
import { ErrorTracker, groupErrors } from '../core/error-tracker';
import { createRuleEngine } from '../rules/engine';
import { logger } from '../shared/http';
import { flushMetrics } from '../shared/metrics';

/** Groups of one batch written at once: different groups never contend, so a few in parallel shorten a burst. */
const GROUP_CONCURRENCY = 4;

const engine = createRuleEngine();
const tracker = new ErrorTracker({
  store: new DynamoErrorGroupStore(),
  // New and regressed groups go to the rule engine in-process: the same rules, outbox, throttles and channels.
  announce: (event) => engine.processEvent(event),
  systemSource: ADMIN_EVENT_SOURCE,
  log: (level, message, details) => logger[level](message, details ?? {}),
});

/**
 * Groups a batch of new events' errors by fingerprint and adds each group's
 * occurrences in one transaction (see lambdas/core/error-tracker.ts).
 *
 * Not Powertools' BatchProcessor, which handles records one at a time: the
 * point is to aggregate a batch per group (a burst of one failure is one
 * write, not one per event). A group that fails reports its records in
 * `batchItemFailures`; Lambda retries from the lowest of them, and the
 * per-event markers make whatever was counted meanwhile count once.
 */
export async function trackBatch(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const sequenceOf = new Map<string, string>();
  const events: AuditEvent[] = [];
  let skipped = 0;
  for (const record of event.Records) {
    const stored = eventOf(record);
    // Not an event insert or not readable: nothing to group, and nothing a retry would change.
    if (!stored) {
      skipped += 1;
      continue;
    }
    if (sequenceOf.has(stored.id)) continue;
    sequenceOf.set(stored.id, record.dynamodb?.SequenceNumber ?? '');
    events.push(stored);
  }

  const groups = [...groupErrors(events, ADMIN_EVENT_SOURCE).values()];
  const failed: string[] = [];
  const totals = { groups: groups.length, counted: 0, duplicates: 0, writes: 0, writeUnits: 0, transitions: 0 };
  let next = 0;
  const worker = async () => {
    while (next < groups.length) {
      const group = groups[next++]!;
      try {
        const outcome = await tracker.track(group);
        totals.counted += outcome.counted;
        totals.duplicates += outcome.duplicates;
        totals.writes += outcome.writes;
        totals.writeUnits += outcome.writeUnits;
        totals.transitions += outcome.transitions.length;
      } catch (error) {
        logger.error('error group could not be updated; its events are retried', { groupId: group.identity.fingerprint.id, error: String((error as Error)?.message ?? error) });
        failed.push(...group.eventIds);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(GROUP_CONCURRENCY, groups.length) }, worker));
  logger.info('errors tracked', { records: event.Records.length, skipped, errors: groups.reduce((n, g) => n + g.eventIds.length, 0), ...totals, failed: failed.length });
  return { batchItemFailures: failed.map((id) => ({ itemIdentifier: sequenceOf.get(id)! })) };
}

/** The stored event a stream record carries (the item's `doc`). */
function eventOf(record: DynamoDBRecord): AuditEvent | undefined {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return undefined;
  try {
    const item = unmarshall(image as Record<string, AttributeValue>);
    return typeof item.doc === 'string' ? (JSON.parse(item.doc) as AuditEvent) : undefined;
  } catch {
    return undefined;
  }
}

export const handler = middy(trackBatch).use(injectLambdaContext(logger, { resetKeys: true })).use(flushMetrics());

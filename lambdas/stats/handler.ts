import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoStatsStore } from '../adapters/stats-store';
import { chunkForTransactions, countedEventOf, orderForAggregation, type CountedEvent } from '../core/stats';
import { logger } from '../shared/http';

const store = new DynamoStatsStore();

/**
 * Counts a batch of new events into the stats counters.
 *
 * Not Powertools' BatchProcessor, which handles records one at a time: the
 * point here is to aggregate the batch (a few dozen ADDs for hundreds of
 * events), so records are grouped into transactions (orderForAggregation,
 * chunkForTransactions) and the groups written one after the other. When a
 * group fails, the records of it and of every later group are reported in
 * `batchItemFailures` (Lambda resumes from the lowest of them), and what was
 * already counted stays counted: the markers make the retry skip it.
 */
export async function countBatch(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const sequenceOf = new Map<string, string>();
  const events: CountedEvent[] = [];
  let skipped = 0;
  for (const record of event.Records) {
    const counted = countedEventOf(imageOf(record));
    // Not an event insert, or one that lacks what counting needs: nothing to count, and nothing to retry.
    if (!counted) {
      skipped += 1;
      continue;
    }
    if (sequenceOf.has(counted.id)) continue;
    sequenceOf.set(counted.id, record.dynamodb?.SequenceNumber ?? '');
    events.push(counted);
  }

  const chunks = chunkForTransactions(orderForAggregation(events));
  const totals = { counted: 0, duplicates: 0, transactions: 0, writeUnits: 0 };
  for (let i = 0; i < chunks.length; i++) {
    try {
      const outcome = await store.count(chunks[i]);
      totals.counted += outcome.counted;
      totals.duplicates += outcome.duplicates;
      totals.transactions += outcome.transactions;
      totals.writeUnits += outcome.writeUnits;
    } catch (error) {
      logger.error('stats counting failed; the rest of the batch is retried', error as Error);
      const failed = chunks.slice(i).flat().map((counted) => ({ itemIdentifier: sequenceOf.get(counted.id)! }));
      logger.info('stats counted', { records: event.Records.length, skipped, ...totals, failed: failed.length });
      return { batchItemFailures: failed };
    }
  }
  logger.info('stats counted', { records: event.Records.length, skipped, ...totals });
  return { batchItemFailures: [] };
}

function imageOf(record: DynamoDBRecord): Record<string, unknown> {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return {};
  return unmarshall(image as Record<string, AttributeValue>);
}

export const handler = middy(countBatch).use(injectLambdaContext(logger, { resetKeys: true }));

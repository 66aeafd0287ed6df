import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { AuditEvent } from '../core/event';
import { logger } from '../shared/http';
import { flushMetrics } from '../shared/metrics';
import { createRuleEngine } from './engine';

const engine = createRuleEngine();

/** The stored event a stream record carries (the item's `doc`). */
export function eventOf(record: DynamoDBRecord): AuditEvent | undefined {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return undefined;
  const item = unmarshall(image as Record<string, AttributeValue>);
  return typeof item.doc === 'string' ? (JSON.parse(item.doc) as AuditEvent) : undefined;
}

async function processRecord(record: DynamoDBRecord): Promise<void> {
  const event = eventOf(record);
  if (!event) return; // the mapping's filter passes INSERTs only; anything else is not ours
  const outcome = await engine.processEvent(event);
  if (outcome.fired.length > 0) logger.info('rules fired', { eventId: event.id, type: event.type, fired: outcome.fired });
}

/**
 * The events stream (INSERT only, by the mapping's filter criteria): each
 * event goes past the rules, one record at a time and in order (events of
 * one group then rarely contend for its state); a record whose rules could
 * not finish is reported in `batchItemFailures`, and Lambda retries from it.
 * A processor per invocation: under Lambda's multi-concurrency mode (and the
 * local stack) Powertools keeps its batch state in the invocation's context,
 * which does not exist yet at module load.
 */
export const handler = middy(async (event: DynamoDBStreamEvent, context: Context) =>
  processPartialResponse(event, processRecord, new BatchProcessor(EventType.DynamoDBStreams), { context, processInParallel: false }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(flushMetrics());

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { S3ArchiveBucket } from '../adapters/archive-bucket';
import { DynamoArchiveChainStore } from '../adapters/archive-chain-store';
import { digestSignerFromEnv } from '../adapters/digest-signer';
import type { ArchiveRecord } from '../core/archive';
import { ArchiveWriter, type ArchiveWriterHooks } from '../core/archive-writer';
import { logger } from '../shared/http';

/**
 * Fault injection for tests that run the handler in-process (the local
 * stack does): a hook that throws simulates a crash at that point. Never set
 * on AWS; nothing outside this process can reach it.
 */
export const archiveHooks: ArchiveWriterHooks = {};

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

let writer: ArchiveWriter | undefined;
function archiveWriter(): ArchiveWriter {
  writer ??= new ArchiveWriter({
    objects: new S3ArchiveBucket(),
    chain: new DynamoArchiveChainStore(),
    signer: digestSignerFromEnv(),
    hooks: {
      beforeCommit: (objects) => archiveHooks.beforeCommit?.(objects),
      afterCommit: (digest) => archiveHooks.afterCommit?.(digest),
    },
  });
  return writer;
}

/**
 * The stream record as an archive record, or why it is not one. Items
 * written by `npm run restore` carry `restoredAt`: they came from the
 * archive and are not archived again.
 */
export function archiveRecordOf(record: DynamoDBRecord): ArchiveRecord | { skip: string } {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return { skip: 'not an insert' };
  if (image.restoredAt) return { skip: 'restored from the archive' };
  const doc = image.doc?.S;
  const sequenceNumber = record.dynamodb?.SequenceNumber;
  if (!doc || !sequenceNumber || !record.eventID) return { skip: 'no event document' };
  // The item's receivedAt (the server's ISO time). An item without a usable one (none should exist) is filed by the
  // stream's own clock rather than failing its batch forever: the archive retries without limit.
  const stamped = image.receivedAt?.S;
  const receivedAt =
    stamped && ISO_UTC.test(stamped) ? stamped : new Date((record.dynamodb?.ApproximateCreationDateTime ?? Math.floor(Date.now() / 1000)) * 1000).toISOString();
  return { eventId: record.eventID, sequenceNumber, receivedAt, doc };
}

/**
 * The events stream (INSERT only): the whole batch is archived, or the
 * invocation fails and the mapping delivers the same batch again (no
 * bisection, no partial responses: the batch is the unit of idempotency, see
 * lambdas/core/archive-writer.ts). Powertools' batch processor works per
 * record, which is the wrong unit here.
 */
export const handler = middy(async (event: DynamoDBStreamEvent, _context: Context) => {
  const records: ArchiveRecord[] = [];
  const skipped: Record<string, number> = {};
  for (const record of event.Records) {
    const archived = archiveRecordOf(record);
    if ('skip' in archived) skipped[archived.skip] = (skipped[archived.skip] ?? 0) + 1;
    else records.push(archived);
  }
  const outcome = await archiveWriter().archive(records);
  logger.info('archived stream batch', { records: event.Records.length, ...outcome, ...(Object.keys(skipped).length > 0 ? { skipped } : {}) });
  return { batchItemFailures: [] };
}).use(injectLambdaContext(logger, { resetKeys: true }));

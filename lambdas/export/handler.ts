import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { DynamoEventIndex } from '../adapters/event-index';
import { DynamoExportJobs } from '../adapters/export-jobs';
import { openExportUpload } from '../adapters/export-upload';
import { ExportTooLarge, runExport } from '../core/exports';
import { logger } from '../shared/http';

const jobs = new DynamoExportJobs();
const reader = new DynamoEventIndex();

/**
 * The export worker: `{ "exportId" }` from the Admin function's
 * asynchronous invocation. Whatever goes wrong is recorded on the job and
 * logged here with its cause. An export that ran out of time ends normally
 * (the job says why); any other failure is thrown after that, so it counts
 * as a function error and the error alarm sees it (the invocation is
 * configured without retries, and a retry would find the job failed).
 */
export async function exportEvents(event: { exportId?: unknown }, context: Context): Promise<void> {
  if (typeof event?.exportId !== 'string') {
    logger.error('export invoked without an exportId');
    return;
  }
  const started = Date.now();
  const outcome = await runExport(event.exportId, {
    jobs,
    reader,
    openSink: (objectKey, contentType) => openExportUpload(objectKey, contentType),
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
  const memory = process.memoryUsage();
  const measures = { exportId: event.exportId, ms: Date.now() - started, rssMb: Math.round(memory.rss / 1048576), heapUsedMb: Math.round(memory.heapUsed / 1048576) };
  if (outcome.status !== 'failed') {
    logger.info(`export ${outcome.status}`, { ...measures, ...outcome });
    return;
  }
  logger.error('export failed', { ...measures, error: outcome.error, cause: outcome.cause instanceof Error ? outcome.cause : String(outcome.cause) });
  if (!(outcome.cause instanceof ExportTooLarge)) throw outcome.cause instanceof Error ? outcome.cause : new Error(outcome.error);
}

export const handler = middy(exportEvents).use(injectLambdaContext(logger, { resetKeys: true }));

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { DynamoExportStateStore, DynamoTableExporter } from '../adapters/table-exporter';
import { BACKUP_ENV, runTableExport, type ExportOutcome, type ExportPolicy } from '../core/table-export';
import { logger } from '../shared/http';

export { BACKUP_ENV };

export function exportPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): ExportPolicy {
  const exportAfterEvents = Number(env[BACKUP_ENV.exportAfterEvents] ?? 100_000);
  const fullExportEveryDays = Number(env[BACKUP_ENV.fullExportEveryDays] ?? 7);
  if (!Number.isInteger(exportAfterEvents) || exportAfterEvents < 1) throw new Error(`${BACKUP_ENV.exportAfterEvents} must be a whole number ≥ 1`);
  if (!Number.isInteger(fullExportEveryDays) || fullExportEveryDays < 1) throw new Error(`${BACKUP_ENV.fullExportEveryDays} must be a whole number ≥ 1`);
  return { exportAfterEvents, fullExportEveryDays };
}

/** One check: export the events table if enough new events arrived (or `force`). */
export async function checkTableExport(options: { force?: boolean; env?: NodeJS.ProcessEnv; now?: Date } = {}): Promise<ExportOutcome> {
  const env = options.env ?? process.env;
  const tableArn = env[BACKUP_ENV.tableArn];
  const bucket = env[BACKUP_ENV.bucket];
  const kmsKeyArn = env[BACKUP_ENV.kmsKeyArn];
  if (!tableArn || !bucket || !kmsKeyArn) {
    // The local stack: DynamoDB Local has no exports (and PITR is AWS's).
    return { started: false, reason: 'no backup bucket configured: table exports run on AWS only' };
  }
  return runTableExport({
    tableArn,
    exporter: new DynamoTableExporter({ tableArn, bucket, kmsKeyArn }),
    state: new DynamoExportStateStore(),
    policy: exportPolicyFromEnv(env),
    ...(options.now ? { now: options.now } : {}),
    force: options.force ?? false,
  });
}

/** The schedule (every 15 minutes, the shortest incremental export): exports when the count says so. */
export const handler = middy(async (_event: ScheduledEvent, _context: Context) => {
  const outcome = await checkTableExport();
  logger.info(outcome.started ? 'table export started' : 'no table export needed', { ...outcome });
  return outcome;
}).use(injectLambdaContext(logger, { resetKeys: true }));

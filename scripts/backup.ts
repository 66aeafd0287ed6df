import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoExportStateStore } from '../lambdas/adapters/table-exporter';
import { checkTableExport } from '../lambdas/backup/handler';
import { BACKUP_ENV } from '../lambdas/core/table-export';
import { ARCHIVE_STATE_TABLE } from '../lib/declarations/tables';
import { localAwsClientConfig } from '../local/dynamodb-local';
import { localStackStateFile } from '../local/stack';

/**
 * `npm run backup -- [--force] [--status]`
 *
 * On AWS (EVENTS_TABLE_ARN, BACKUP_BUCKET, BACKUP_KEY_ARN and
 * ARCHIVE_STATE_TABLE set, from the stack's outputs; credentials that may
 * export the table): the same check the 15-minute schedule runs, and with
 * `--force` an export now, whatever the count. `--status` only shows the
 * count of events since the last export and that export. Locally there is
 * nothing to export to (DynamoDB Local has no exports): it shows the count.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { force: { type: 'boolean', default: false }, status: { type: 'boolean', default: false } } });
  const onAws = Boolean(process.env[BACKUP_ENV.bucket]);
  let client: DynamoDBClient;
  let table: string;
  if (onAws) {
    client = new DynamoDBClient({});
    table = required(ARCHIVE_STATE_TABLE.envVar);
  } else {
    const stateFile = localStackStateFile(resolve(process.env.LOCAL_DATA_DIR ?? '.local'));
    if (!existsSync(stateFile)) throw new Error('the local stack is not running (npm start), and BACKUP_BUCKET is not set for AWS');
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { dynamoDbEndpoint: string; tableNames: Record<string, string> };
    client = new DynamoDBClient(localAwsClientConfig(state.dynamoDbEndpoint));
    table = state.tableNames[ARCHIVE_STATE_TABLE.envVar]!;
  }
  try {
    const store = new DynamoExportStateStore(DynamoDBDocumentClient.from(client), table);
    const state = await store.read();
    console.log(`${state.eventsSinceExport} events archived since the last export${state.lastExportTime ? ` (${state.lastExportType} up to ${state.lastExportTime}: ${state.lastExportArn})` : ' (none yet)'}`);
    if (values.status) return;
    if (!onAws) {
      console.log('DynamoDB Local has no table exports: on AWS, set BACKUP_BUCKET, BACKUP_KEY_ARN, EVENTS_TABLE_ARN and ARCHIVE_STATE_TABLE (stack outputs).');
      return;
    }
    process.env[ARCHIVE_STATE_TABLE.envVar] = table;
    const outcome = await checkTableExport({ force: values.force });
    console.log(outcome.started ? `Started ${outcome.type} ${outcome.arn} (up to ${outcome.coveredUntil}): ${outcome.reason}` : `No export: ${outcome.reason}`);
  } finally {
    client.destroy();
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

import { ConditionalCheckFailedException, DynamoDBClient, ExportTableToPointInTimeCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BACKUP_OBJECT_PREFIX } from '../../lib/declarations/buckets';
import { ARCHIVE_STATE_TABLE } from '../../lib/declarations/tables';
import type { ExportState, ExportStateStore, StartExport, TableExporter } from '../core/table-export';
import { EXPORT_STATE_KEY } from './archive-chain-store';
import { documentClient, tableName } from './dynamodb';

/** Where exports go: the backup bucket, under this prefix, encrypted with the backup key. */
export const EXPORT_PREFIX = `${BACKUP_OBJECT_PREFIX}events/`;

/** DynamoDB's export to S3, in DynamoDB JSON, encrypted with the backup bucket's KMS key. */
export class DynamoTableExporter implements TableExporter {
  constructor(
    private readonly target: { tableArn: string; bucket: string; kmsKeyArn: string },
    private readonly client: DynamoDBClient = new DynamoDBClient({}),
  ) {}

  async start(request: StartExport): Promise<string> {
    const { ExportDescription } = await this.client.send(
      new ExportTableToPointInTimeCommand({
        TableArn: this.target.tableArn,
        S3Bucket: this.target.bucket,
        S3Prefix: EXPORT_PREFIX,
        S3SseAlgorithm: 'KMS',
        S3SseKmsKeyId: this.target.kmsKeyArn,
        ExportFormat: 'DYNAMODB_JSON',
        ExportType: request.type,
        ClientToken: request.clientToken,
        ...(request.type === 'FULL_EXPORT'
          ? { ExportTime: request.exportTime }
          : { IncrementalExportSpecification: { ExportFromTime: request.from, ExportToTime: request.to, ExportViewType: 'NEW_AND_OLD_IMAGES' } }),
      }),
    );
    if (!ExportDescription?.ExportArn) throw new Error('DynamoDB answered ExportTableToPointInTime without an export ARN');
    return ExportDescription.ExportArn;
  }
}

/** The export state: one item in ArchiveState, next to the counter the archive adds to. */
export class DynamoExportStateStore implements ExportStateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(ARCHIVE_STATE_TABLE.envVar),
  ) {}

  async read(): Promise<ExportState> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.table, Key: { pk: EXPORT_STATE_KEY }, ConsistentRead: true }));
    return {
      eventsSinceExport: Number(Item?.eventsSinceExport ?? 0),
      ...(Item?.lastExportTime ? { lastExportTime: String(Item.lastExportTime) } : {}),
      ...(Item?.lastFullExportTime ? { lastFullExportTime: String(Item.lastFullExportTime) } : {}),
      ...(Item?.lastExportArn ? { lastExportArn: String(Item.lastExportArn) } : {}),
      ...(Item?.lastExportType ? { lastExportType: Item.lastExportType as ExportState['lastExportType'] } : {}),
    };
  }

  async record(previous: ExportState, exported: { arn: string; type: StartExport['type']; coveredUntil: Date; eventsCounted: number }): Promise<boolean> {
    const full = exported.type === 'FULL_EXPORT';
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: EXPORT_STATE_KEY },
          UpdateExpression: `SET lastExportTime = :to, lastExportArn = :arn, lastExportType = :type${full ? ', lastFullExportTime = :to' : ''} ADD eventsSinceExport :counted`,
          ConditionExpression: previous.lastExportTime ? 'lastExportTime = :previous' : 'attribute_not_exists(lastExportTime)',
          ExpressionAttributeValues: {
            ':to': exported.coveredUntil.toISOString(),
            ':arn': exported.arn,
            ':type': exported.type,
            ':counted': -exported.eventsCounted,
            ...(previous.lastExportTime ? { ':previous': previous.lastExportTime } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      // Another run recorded an export first (the same one, by its client token, or a later one).
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EXPORTS_TABLE } from '../../lib/declarations/tables';
import type { ExportJob, ExportJobs } from '../core/exports';
import { documentClient, tableName } from './dynamodb';

/** Export jobs in the Exports table, one item per job; status changes are conditional on the status before. */
export class DynamoExportJobs implements ExportJobs {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(EXPORTS_TABLE.envVar),
  ) {}

  async create(job: ExportJob): Promise<boolean> {
    try {
      await this.client.send(new PutCommand({ TableName: this.table, Item: job, ConditionExpression: 'attribute_not_exists(id)' }));
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async get(id: string): Promise<ExportJob | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }));
    return Item as ExportJob | undefined;
  }

  async markRunning(id: string, at: Date): Promise<boolean> {
    return this.update(id, 'SET #status = :running, startedAt = :at', { ':running': 'running', ':at': at.toISOString(), ':queued': 'queued' }, '#status = :queued');
  }

  async finish(id: string, result: { rowCount: number; bytes: number; finishedAt: Date }): Promise<void> {
    await this.update(
      id,
      'SET #status = :succeeded, rowCount = :rows, #bytes = :bytes, finishedAt = :at',
      { ':succeeded': 'succeeded', ':rows': result.rowCount, ':bytes': result.bytes, ':at': result.finishedAt.toISOString(), ':running': 'running' },
      '#status = :running',
    );
  }

  async fail(id: string, error: string, at: Date): Promise<void> {
    await this.update(id, 'SET #status = :failed, #error = :error, finishedAt = :at', { ':failed': 'failed', ':error': error, ':at': at.toISOString() }, 'attribute_exists(id)');
  }

  private async update(id: string, expression: string, values: Record<string, unknown>, condition: string): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status' };
    if (expression.includes('#bytes')) names['#bytes'] = 'bytes';
    if (expression.includes('#error')) names['#error'] = 'error';
    try {
      await this.client.send(
        new UpdateCommand({ TableName: this.table, Key: { id }, UpdateExpression: expression, ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}

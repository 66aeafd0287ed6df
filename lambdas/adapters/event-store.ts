import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EVENTS_TABLE } from '../../lib/declarations/tables';
import type { AuditEvent } from '../core/event';
import type { EventItem } from '../core/event-keys';
import type { EventStore } from '../core/ingest';
import { documentClient, tableName } from './dynamodb';

/** The events table in DynamoDB: create-only writes, reads by id. */
export class DynamoEventStore implements EventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(EVENTS_TABLE.envVar),
  ) {}

  async putNew(item: EventItem): Promise<{ created: true } | { created: false; existingSource: string }> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          // Accepted events are immutable: a repeated id never overwrites.
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return { created: false, existingSource: String(error.Item?.source?.S ?? '') };
      }
      throw error;
    }
  }

  async getById(id: string): Promise<AuditEvent | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.table, Key: { pk: id }, ProjectionExpression: 'doc' }));
    return Item ? (JSON.parse(Item.doc as string) as AuditEvent) : undefined;
  }
}

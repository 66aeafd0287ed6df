import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { APP_KEYS_TABLE } from '../../lib/declarations/tables';
import type { AppKeyRecord } from '../core/app-keys';
import { documentClient, tableName } from './dynamodb';

export class DynamoAppKeyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(APP_KEYS_TABLE.envVar),
  ) {}

  async get(keyId: string): Promise<AppKeyRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.table, Key: { keyId } }));
    return Item as AppKeyRecord | undefined;
  }

  async create(record: AppKeyRecord): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.table, Item: record, ConditionExpression: 'attribute_not_exists(keyId)' }));
  }

  /** Marks the key revoked; returns false when there is no such key. */
  async revoke(keyId: string, at: Date = new Date()): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { keyId },
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
          ConditionExpression: 'attribute_exists(keyId)',
          ExpressionAttributeValues: { ':at': at.toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /**
   * Marks the key revoked (the first revocation's time stays) and returns it
   * without its hash; undefined when there is no such key.
   */
  async revokeKey(keyId: string, at: Date = new Date()): Promise<Omit<AppKeyRecord, 'secretHash'> | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { keyId },
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
          ConditionExpression: 'attribute_exists(keyId)',
          ExpressionAttributeValues: { ':at': at.toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const { secretHash: _hidden, ...visible } = Attributes as AppKeyRecord;
      return visible;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }

  /** Every key, without secrets' hashes. The table holds one item per key: a scan is the right read. */
  async list(): Promise<Omit<AppKeyRecord, 'secretHash'>[]> {
    const out: Omit<AppKeyRecord, 'secretHash'>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey }));
      for (const item of page.Items ?? []) {
        const { secretHash: _hidden, ...visible } = item as AppKeyRecord;
        out.push(visible);
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
}

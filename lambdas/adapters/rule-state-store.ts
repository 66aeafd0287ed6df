import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { COUNTERS_TABLE } from '../../lib/declarations/tables';
import type { LastSeen, RuleState } from '../core/rules';
import type { RuleStateStore, VersionedState } from '../core/rule-engine';
import { documentClient, tableName } from './dynamodb';

/**
 * A rule's memory per group (sliding window, throttle, last notification) in
 * the Counters table, next to the per-app rate windows: the same short-lived,
 * TTL-expired kind of item, under its own key prefix `rule#`. Each write is
 * conditional on the version read, so two batches (two stream shards) that
 * count events of the same user at once never both fire: the loser re-reads
 * and decides again.
 */
export class DynamoRuleStateStore implements RuleStateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(COUNTERS_TABLE.envVar),
  ) {}

  static key(ruleId: string, group: string): string {
    return `rule#${ruleId}#${group}`;
  }

  async get(ruleId: string, group: string): Promise<VersionedState> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: DynamoRuleStateStore.key(ruleId, group) }, ConsistentRead: true }),
    );
    if (!Item) return { version: 0 };
    return { version: Number(Item.version), state: JSON.parse(String(Item.state)) as RuleState };
  }

  /** Keeps the newest: a late or repeated event never moves "last seen" back. */
  async recordSeen(ruleId: string, seen: LastSeen, expiresAt: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `rule#${ruleId}#seen` },
          UpdateExpression: 'SET lastSeen = :at, lastEventId = :id, expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(lastSeen) OR lastSeen < :at',
          ExpressionAttributeValues: { ':at': seen.at, ':id': seen.eventId, ':exp': expiresAt },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async lastSeen(ruleId: string): Promise<LastSeen | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.table, Key: { pk: `rule#${ruleId}#seen` }, ConsistentRead: true }));
    return Item?.lastSeen ? { at: String(Item.lastSeen), eventId: String(Item.lastEventId) } : undefined;
  }

  async save(ruleId: string, group: string, state: RuleState, expectedVersion: number, expiresAt: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: DynamoRuleStateStore.key(ruleId, group), version: expectedVersion + 1, state: JSON.stringify(state), expiresAt },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
          ...(expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

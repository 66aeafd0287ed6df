import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { COUNTERS_TABLE } from '../../lib/declarations/tables';
import { documentClient, tableName } from './dynamodb';

/**
 * A per-app limit on events per second, shared by every concurrent Lambda:
 * one atomic counter item per app and second (fixed window), which expires
 * by TTL. It costs one write per request, not per event.
 */
export class DynamoRateLimiter {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(COUNTERS_TABLE.envVar),
  ) {}

  /** Counts `events` against the app's window; false when the window was already full. */
  async tryConsume(app: string, events: number, limit: number, now: Date = new Date()): Promise<boolean> {
    const second = Math.floor(now.getTime() / 1000);
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `rate#${app}#${second}` },
        UpdateExpression: 'ADD used :n SET expiresAt = if_not_exists(expiresAt, :expires)',
        ExpressionAttributeValues: { ':n': events, ':expires': second + 120 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    // Admit a request if the window had room before it, so one batch larger than the limit is not refused forever.
    return Number(Attributes?.used ?? events) - events < limit;
  }
}

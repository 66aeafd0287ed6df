import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ARCHIVE_STATE_TABLE } from '../../lib/declarations/tables';
import type { ArchiveChainStore, BatchMarker, ChainCommit, ChainHead } from '../core/archive-writer';
import { documentClient, tableName } from './dynamodb';

export const CHAIN_HEAD_KEY = 'chain#head';
export const EXPORT_STATE_KEY = 'export#state';
const markerKey = (firstEventId: string) => `batch#${firstEventId}`;

/**
 * A batch marker outlives any re-delivery of its batch: stream records live
 * 24 hours, so two days is plenty; TTL then removes it.
 */
const MARKER_TTL_SECONDS = 2 * 86_400;

/** The chain head as read by verification and the backup trigger (the fields a reader needs). */
export interface StoredChainHead extends ChainHead {
  committedAt?: string;
}

/**
 * The digest chain's state in the ArchiveState table. The head moves only
 * by a transaction conditional on its sequence number, which is what keeps
 * ONE linear chain under concurrent writers (lambdas/core/archive-writer.ts).
 */
export class DynamoArchiveChainStore implements ArchiveChainStore {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(ARCHIVE_STATE_TABLE.envVar),
    private readonly now: () => Date = () => new Date(),
  ) {}

  async read(firstEventId: string): Promise<{ head?: ChainHead; marker?: BatchMarker }> {
    const [head, marker] = await Promise.all([
      this.readHead(),
      this.client.send(new GetCommand({ TableName: this.table, Key: { pk: markerKey(firstEventId) }, ConsistentRead: true })),
    ]);
    return {
      ...(head ? { head } : {}),
      ...(marker.Item ? { marker: { firstEventId, lastSequenceNumber: String(marker.Item.lastSequenceNumber) } } : {}),
    };
  }

  async readHead(): Promise<StoredChainHead | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.table, Key: { pk: CHAIN_HEAD_KEY }, ConsistentRead: true }));
    if (!Item) return undefined;
    return {
      sequence: Number(Item.sequence),
      digestKey: String(Item.digestKey),
      digestSha256: String(Item.digestSha256),
      digestText: String(Item.digestText),
      materialized: Item.materialized === true,
      ...(Item.committedAt ? { committedAt: String(Item.committedAt) } : {}),
    };
  }

  async commit(commit: ChainCommit): Promise<boolean> {
    const now = this.now();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { pk: CHAIN_HEAD_KEY, ...commit.next, committedAt: now.toISOString() },
                ...(commit.previous
                  ? { ConditionExpression: '#sequence = :previous', ExpressionAttributeNames: { '#sequence': 'sequence' }, ExpressionAttributeValues: { ':previous': commit.previous.sequence } }
                  : { ConditionExpression: 'attribute_not_exists(pk)' }),
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: {
                  pk: markerKey(commit.firstEventId),
                  lastSequenceNumber: commit.lastSequenceNumber,
                  digestSequence: commit.next.sequence,
                  expiresAt: nowSeconds + MARKER_TTL_SECONDS,
                },
                ...(commit.previousMarker
                  ? { ConditionExpression: 'lastSequenceNumber = :last', ExpressionAttributeValues: { ':last': commit.previousMarker.lastSequenceNumber } }
                  : { ConditionExpression: 'attribute_not_exists(pk)' }),
              },
            },
            {
              // Counted in the same transaction as the commit: exactly the events archived, for the export trigger.
              Update: {
                TableName: this.table,
                Key: { pk: EXPORT_STATE_KEY },
                UpdateExpression: 'ADD eventsSinceExport :n, eventsArchived :n',
                ExpressionAttributeValues: { ':n': commit.events },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      // A condition failed (another writer moved the head or archived this batch) or a concurrent transaction
      // touched the same items: either way, read again and retry.
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')) {
        return false;
      }
      throw error;
    }
  }

  async markMaterialized(sequence: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: CHAIN_HEAD_KEY },
          UpdateExpression: 'SET #materialized = :yes',
          ConditionExpression: '#sequence = :sequence',
          ExpressionAttributeNames: { '#sequence': 'sequence', '#materialized': 'materialized' },
          ExpressionAttributeValues: { ':yes': true, ':sequence': sequence },
        }),
      );
    } catch (error) {
      // The head moved on: whoever moved it uploaded this digest first.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

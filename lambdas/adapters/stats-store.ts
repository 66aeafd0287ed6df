import { QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { STATS_TABLE } from '../../lib/declarations/tables';
import { SEVERITIES } from '../core/event';
import {
  MARKER_RETENTION_SECONDS,
  countersFor,
  markerKey,
  type CountedEvent,
  type CounterDelta,
  type CounterItem,
  type StatsReader,
} from '../core/stats';
import { documentClient, tableName } from './dynamodb';

export interface CountOutcome {
  /** Events added to the counters by this call. */
  counted: number;
  /** Events found already counted (a retried batch): not added again. */
  duplicates: number;
  transactions: number;
  /** Write units the transactions consumed, as DynamoDB reported them. */
  writeUnits: number;
}

/** Transaction conflicts (two consumers adding into one counter at once) are retried this many times. */
const MAX_CONFLICT_RETRIES = 8;
const READ_CONCURRENCY = 16;

/**
 * The Stats table: counters added to exactly once per event, and read back
 * by bucket.
 *
 * Exactly once under at-least-once delivery: one transaction holds a
 * create-only marker per event (`E#<id>`, condition attribute_not_exists)
 * and the ADDs of those events' aggregated counts. Either all of it is
 * written or none. When a retried batch brings events that were already
 * counted, their markers fail the condition, DynamoDB cancels the
 * transaction and names them (CancellationReasons), and the transaction is
 * sent again without them. So a batch retried whole, in part, bisected or
 * re-ordered counts each event once.
 */
export class DynamoStatsStore implements StatsReader {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(STATS_TABLE.envVar),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** Counts one group of events (see chunkForTransactions: at most one transaction's worth). */
  async count(events: readonly CountedEvent[], now: Date = new Date()): Promise<CountOutcome> {
    const outcome: CountOutcome = { counted: 0, duplicates: 0, transactions: 0, writeUnits: 0 };
    let pending = [...events];
    let conflicts = 0;
    while (pending.length > 0) {
      const counters = countersFor(pending);
      outcome.transactions += 1;
      try {
        const result = await this.client.send(
          new TransactWriteCommand({
            TransactItems: [...pending.map((event) => this.marker(event, now)), ...counters.map((delta) => this.add(delta))],
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        outcome.writeUnits += (result.ConsumedCapacity ?? []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
        outcome.counted += pending.length;
        return outcome;
      } catch (error) {
        if ((error as Error).name !== 'TransactionCanceledException') throw error;
        const reasons = ((error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
        // Markers come first in the transaction, in the order of `pending`.
        const counted = new Set(pending.filter((_, i) => reasons[i] === 'ConditionalCheckFailed').map((event) => event.id));
        if (counted.size > 0) {
          outcome.duplicates += counted.size;
          pending = pending.filter((event) => !counted.has(event.id));
          continue;
        }
        if (reasons.some((code) => code === 'TransactionConflict' || code === 'ThrottlingError' || code === 'ProvisionedThroughputExceeded') && conflicts < MAX_CONFLICT_RETRIES) {
          conflicts += 1;
          await this.sleep(Math.min(2_000, 25 * 2 ** conflicts) * (0.5 + Math.random()));
          continue;
        }
        throw error;
      }
    }
    return outcome;
  }

  private marker(event: CountedEvent, now: Date) {
    return {
      Put: {
        TableName: this.table,
        Item: { ...markerKey(event.id), expiresAt: Math.floor(now.getTime() / 1000) + MARKER_RETENTION_SECONDS },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  private add(delta: CounterDelta) {
    const names: Record<string, string> = { '#count': 'count', '#failures': 'failures', '#kind': 'kind', '#expiresAt': 'expiresAt' };
    const values: Record<string, unknown> = { ':count': delta.count, ':failures': delta.failures, ':kind': delta.kind, ':expiresAt': delta.expiresAt };
    const adds = ['#count :count', '#failures :failures'];
    const sets = ['#kind = :kind', '#expiresAt = :expiresAt'];
    for (const severity of SEVERITIES) {
      const n = delta.severities[severity];
      if (!n) continue;
      names[`#${severity}`] = severity;
      values[`:${severity}`] = n;
      adds.push(`#${severity} :${severity}`);
    }
    if (delta.value !== undefined) {
      names['#value'] = 'value';
      values[':value'] = delta.value;
      sets.push('#value = :value');
    }
    return {
      Update: {
        TableName: this.table,
        Key: { pk: delta.pk, sk: delta.sk },
        UpdateExpression: `ADD ${adds.join(', ')} SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  }

  /** Every counter item of the partitions (one Query each, paged; a few in parallel). */
  async readPartitions(partitions: readonly string[]): Promise<Map<string, CounterItem[]>> {
    const out = new Map<string, CounterItem[]>();
    let next = 0;
    const worker = async () => {
      while (next < partitions.length) {
        const pk = partitions[next++];
        const items: CounterItem[] = [];
        let ExclusiveStartKey: Record<string, unknown> | undefined;
        do {
          const page = await this.client.send(
            new QueryCommand({
              TableName: this.table,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': pk },
              ExclusiveStartKey,
            }),
          );
          items.push(...((page.Items ?? []) as CounterItem[]));
          ExclusiveStartKey = page.LastEvaluatedKey;
        } while (ExclusiveStartKey);
        out.set(pk, items);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, partitions.length) }, worker));
    return out;
  }
}

import { BatchGetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EVENTS_TABLE } from '../../lib/declarations/tables';
import type { AuditEvent, Category, Severity, Status } from '../core/event';
import { SHARDS, partitionKeys } from '../core/event-keys';
import { matchesRule, type Rule } from '../core/rules';
import { documentClient, tableName } from './dynamodb';

/** At most this many index entries are read for one dry run, and this many full events fetched. */
export const DRY_RUN_MAX_SCANNED = 50_000;
export const DRY_RUN_MAX_FETCHED = 10_000;

/**
 * The events a rule could have matched in a time range, for a dry run: read
 * with Query on the events' indexes (never Scan): the type index when the
 * rule names one exact type, else the date index, all shards. The projected
 * list attributes rule out most events before the full documents (needed for
 * field conditions and grouping) are fetched with BatchGetItem.
 */
export class RecentEvents {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(EVENTS_TABLE.envVar),
  ) {}

  async forRule(rule: Rule, from: Date, to: Date): Promise<{ events: AuditEvent[]; scanned: number; truncated: boolean }> {
    const exactType = rule.match.type && !rule.match.type.includes('*') ? rule.match.type : undefined;
    const partitions = exactType
      ? Array.from({ length: SHARDS }, (_, shard) => ({ index: 'byType', key: 'typePk', value: partitionKeys.type(exactType, shard) }))
      : months(from, to).flatMap((month) =>
          Array.from({ length: SHARDS }, (_, shard) => ({ index: 'byDate', key: 'datePk', value: partitionKeys.month(`${month}-01T00:00:00Z`, shard) })),
        );
    // Everything but the field conditions can be checked on the index's projection.
    const coarse: Pick<Rule, 'match'> = { match: { ...rule.match, fields: undefined } };
    const ids: string[] = [];
    let scanned = 0;
    let truncated = false;
    for (const partition of partitions) {
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: partition.index,
            KeyConditionExpression: '#pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#pk': partition.key, '#type': 'type', '#status': 'status', '#source': 'source' },
            ExpressionAttributeValues: { ':pk': partition.value, ':from': from.toISOString(), ':to': `${to.toISOString()}~` },
            ProjectionExpression: 'pk, occurredAt, #type, category, severity, #status, #source, recordType',
            ExclusiveStartKey,
          }),
        );
        for (const item of page.Items ?? []) {
          scanned++;
          const listed = {
            id: String(item.pk),
            occurredAt: String(item.occurredAt),
            receivedAt: String(item.occurredAt),
            type: String(item.type),
            category: item.category as Category,
            severity: item.severity as Severity,
            status: item.status as Status,
            source: String(item.source),
            ...(item.recordType ? { record: { type: String(item.recordType), id: '' } } : {}),
          } satisfies AuditEvent;
          if (matchesRule(coarse, listed)) ids.push(listed.id);
        }
        ExclusiveStartKey = page.LastEvaluatedKey;
        if (scanned >= DRY_RUN_MAX_SCANNED || ids.length >= DRY_RUN_MAX_FETCHED) {
          truncated = true;
          break;
        }
      } while (ExclusiveStartKey);
      if (truncated) break;
    }
    return { events: await this.fetch(ids.slice(0, DRY_RUN_MAX_FETCHED)), scanned, truncated };
  }

  private async fetch(ids: string[]): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = ids.slice(i, i + 100).map((pk) => ({ pk }));
      for (let attempt = 0; keys && keys.length > 0 && attempt < 8; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const result = await this.client.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ProjectionExpression: 'doc' } } }));
        for (const item of result.Responses?.[this.table] ?? []) events.push(JSON.parse(String(item.doc)) as AuditEvent);
        keys = result.UnprocessedKeys?.[this.table]?.Keys as Record<string, unknown>[] | undefined;
      }
    }
    return events;
  }
}

/** `yyyy-mm` of every month the range touches. */
function months(from: Date, to: Date): string[] {
  const out: string[] = [];
  const cursor = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1));
  while (cursor <= to) {
    out.push(cursor.toISOString().slice(0, 7));
    cursor.setUTCMonth(cursor.getUTCMonth() + 1);
  }
  return out;
}

import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EVENTS_TABLE } from '../../lib/declarations/tables';
import type { IndexItem, PartitionPage, PartitionReader } from '../core/query-merge';
import { exclusiveStartKey, PARTITION_VALUE, type QueryPlan } from '../core/query-plan';
import { documentClient, tableName } from './dynamodb';

/**
 * The events table's indexes as the query planner reads them: one Query of
 * one partition per call, exactly as the plan says (key condition, filter,
 * order). Values travel only as expression attribute values.
 */
export class DynamoEventIndex implements PartitionReader {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(EVENTS_TABLE.envVar),
  ) {}

  async readPartition(plan: QueryPlan, partition: string, options: { after?: string; limit: number }): Promise<PartitionPage> {
    const output = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: plan.index,
        KeyConditionExpression: plan.keyCondition,
        ...(plan.filterExpression ? { FilterExpression: plan.filterExpression } : {}),
        ExpressionAttributeNames: plan.names,
        ExpressionAttributeValues: { ...plan.values, [PARTITION_VALUE]: partition },
        ScanIndexForward: !plan.descending,
        Limit: options.limit,
        ...(options.after ? { ExclusiveStartKey: exclusiveStartKey(plan, partition, options.after) } : {}),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    const lastEvaluated = output.LastEvaluatedKey?.sk;
    return {
      items: (output.Items ?? []) as IndexItem[],
      ...(typeof lastEvaluated === 'string' ? { lastEvaluated } : {}),
      scanned: output.ScannedCount ?? output.Items?.length ?? 0,
      readUnits: output.ConsumedCapacity?.CapacityUnits ?? 0,
    };
  }
}

import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import type { TableDeclaration } from '../lib/declarations/tables';

/** Physical table names locally: the declaration id under a fixed prefix. */
export function localTableName(table: TableDeclaration): string {
  return `audit-trail-${table.id}`;
}

/**
 * Creates a declared table in DynamoDB Local exactly as the CDK event store
 * declares it (keys, indexes, projections, stream, TTL). An existing table is
 * left as it is, so a restart keeps the data.
 */
export async function ensureTable(client: DynamoDBClient, table: TableDeclaration): Promise<string> {
  const TableName = localTableName(table);
  const attributes = new Map<string, 'S' | 'N'>();
  const note = (attribute: { name: string; type: 'S' | 'N' }) => attributes.set(attribute.name, attribute.type);
  note(table.partitionKey);
  if (table.sortKey) note(table.sortKey);
  const indexes: GlobalSecondaryIndex[] = table.indexes.map((index) => {
    note(index.partitionKey);
    if (index.sortKey) note(index.sortKey);
    return {
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' as const }] : []),
      ],
      Projection:
        index.projection === 'ALL' || index.projection === 'KEYS_ONLY'
          ? { ProjectionType: index.projection }
          : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection] },
    };
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
        KeySchema: [
          { AttributeName: table.partitionKey.name, KeyType: 'HASH' },
          ...(table.sortKey ? [{ AttributeName: table.sortKey.name, KeyType: 'RANGE' as const }] : []),
        ],
        ...(indexes.length > 0 ? { GlobalSecondaryIndexes: indexes } : {}),
        ...(table.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream } } : {}),
      }),
    );
    if (table.timeToLiveAttribute) {
      await client.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { Enabled: true, AttributeName: table.timeToLiveAttribute } }));
    }
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    await assertSameIndexes(client, TableName, table);
  }
  return TableName;
}

/** A table kept from an older version with other indexes would fail queries later, confusingly: say so now. */
async function assertSameIndexes(client: DynamoDBClient, TableName: string, table: TableDeclaration): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName }));
  const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const missing = table.indexes.filter((index) => !existing.has(index.name)).map((index) => index.name);
  if (missing.length > 0) {
    throw new Error(`local table ${TableName} lacks the indexes ${missing.join(', ')}: it was made by an older version. Delete the local data folder to start afresh.`);
  }
}

import { RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { TableAccess } from '../declarations/functions';
import { EVENTS_TABLE, TABLES, type IndexDeclaration, type KeyAttribute, type TableDeclaration } from '../declarations/tables';

export interface EventStoreProps {
  /** `retain` keeps every table (and its data) when the stack is deleted. */
  readonly removalPolicy: 'retain' | 'destroy';
  /** The declarations to build; the project's TABLES unless a test says otherwise. */
  readonly declarations?: readonly TableDeclaration[];
}

/**
 * The DynamoDB tables of lib/declarations/tables.ts, one per declaration, and
 * the only place that turns a declared `TableAccess` into IAM: functions get
 * exactly the declared actions on exactly the declared table (and its
 * indexes when asked), never a grantReadWriteData.
 */
export class EventStore extends Construct {
  /** Every table by declaration id (`Events`, `AppKeys`, `Counters`). */
  readonly tables: ReadonlyMap<string, dynamodb.TableV2>;

  constructor(scope: Construct, id: string, props: EventStoreProps) {
    super(scope, id);
    const tables = new Map<string, dynamodb.TableV2>();
    for (const declaration of props.declarations ?? TABLES) {
      tables.set(declaration.id, buildTable(this, declaration, props.removalPolicy));
    }
    this.tables = tables;
  }

  /** The table built from a declaration (by object or id); throws if there is none. */
  table(declaration: TableDeclaration | string): dynamodb.TableV2 {
    const id = typeof declaration === 'string' ? declaration : declaration.id;
    const table = this.tables.get(id);
    if (!table) throw new Error(`EventStore has no table ${id}`);
    return table;
  }

  /** The events table (the one with the stream the rules and archive functions read). */
  get events(): dynamodb.TableV2 {
    return this.table(EVENTS_TABLE);
  }

  /** Adds one statement per declared access to the role: the listed actions, on that table (and `/index/*` when declared). */
  grantAccess(role: iam.IRole, access: readonly TableAccess[]): void {
    for (const { table: declaration, actions, indexes } of access) {
      const table = this.table(declaration);
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [...actions],
          resources: indexes ? [table.tableArn, `${table.tableArn}/index/*`] : [table.tableArn],
        }),
      );
      const policy = role.node.tryFindChild('DefaultPolicy');
      if (indexes && policy) {
        const logicalId = Stack.of(table).getLogicalId(table.node.defaultChild as CfnElement);
        // On the policy's CloudFormation resource only, like every acknowledgement in lib/.
        Validations.of(policy.node.defaultChild ?? policy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
          reason: `Query needs the same declared actions on the ${declaration.id} table's indexes; the wildcard covers only that table's GSIs.`,
        });
      }
    }
  }

  /** The environment through which a function learns the physical names of the tables it accesses. */
  environmentFor(access: readonly TableAccess[]): Record<string, string> {
    return Object.fromEntries(access.map(({ table }) => [table.envVar, this.table(table).tableName]));
  }
}

function buildTable(scope: Construct, declaration: TableDeclaration, removal: 'retain' | 'destroy'): dynamodb.TableV2 {
  const tableKeys = [declaration.partitionKey.name, declaration.sortKey?.name];
  return new dynamodb.TableV2(scope, declaration.id, {
    partitionKey: attribute(declaration.partitionKey),
    ...(declaration.sortKey ? { sortKey: attribute(declaration.sortKey) } : {}),
    globalSecondaryIndexes: declaration.indexes.map((declared) => index(declared, tableKeys)),
    billing: dynamodb.Billing.onDemand(),
    // The AWS-managed key (aws/dynamodb) rather than the DynamoDB-owned one: key use shows in CloudTrail, at no key fee.
    encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    // Protected whenever the data is to outlive the stack; `destroy` (dev stacks) must be able to delete it.
    deletionProtection: removal === 'retain',
    removalPolicy: removal === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    ...(declaration.timeToLiveAttribute ? { timeToLiveAttribute: declaration.timeToLiveAttribute } : {}),
    ...(declaration.stream ? { dynamoStream: dynamodb.StreamViewType[declaration.stream] } : {}),
  });
}

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return { name: key.name, type: key.type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING };
}

function index(declaration: IndexDeclaration, tableKeys: readonly (string | undefined)[]): dynamodb.GlobalSecondaryIndexPropsV2 {
  const keys = {
    indexName: declaration.name,
    partitionKey: attribute(declaration.partitionKey),
    ...(declaration.sortKey ? { sortKey: attribute(declaration.sortKey) } : {}),
  };
  if (declaration.projection === 'ALL') return { ...keys, projectionType: dynamodb.ProjectionType.ALL };
  if (declaration.projection === 'KEYS_ONLY') return { ...keys, projectionType: dynamodb.ProjectionType.KEYS_ONLY };
  // Table and index keys are always projected, and DynamoDB rejects them in NonKeyAttributes.
  const keyNames = new Set([...tableKeys, declaration.partitionKey.name, declaration.sortKey?.name]);
  return {
    ...keys,
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: declaration.projection.filter((name) => !keyNames.has(name)),
  };
}

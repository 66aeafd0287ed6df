import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { APP_KEY_AUTHORIZER_FUNCTION, FUNCTIONS, type FunctionDeclaration } from '../declarations/functions';
import type { EventStore } from './event-store';

export interface MonitoringProps {
  /** The functions to watch, by declaration id. */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  readonly api: apigateway.RestApi;
  readonly eventStore: EventStore;
  /** Which table operations to watch come from these declarations' access lists; FUNCTIONS unless a test says otherwise. */
  readonly functionDeclarations?: readonly FunctionDeclaration[];
}

const PERIOD = Duration.minutes(5);

/**
 * Errors per 5 minutes before a function's alarm fires. The app-key authorizer
 * answers a malformed key by throwing "Unauthorized" (that is how a REQUEST
 * authorizer produces a 401), which Lambda counts as an error; one
 * misconfigured client must not page anyone, a flood still does.
 */
const ERRORS_THRESHOLD: Record<string, number> = { [APP_KEY_AUTHORIZER_FUNCTION.id]: 20 };

/**
 * Alarms for what needs a person: functions failing or throttled, the API
 * answering 5xx, DynamoDB throttling or failing. They all notify the ops
 * alarms topic (subscribe an address or a chat integration to it), and a
 * dashboard shows the same signals side by side.
 */
export class Monitoring extends Construct {
  /** The topic every alarm notifies (KMS-encrypted, TLS-only). */
  readonly alarmTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    // A customer-managed key because CloudWatch cannot publish to a topic encrypted with aws/sns (its key
    // policy does not let CloudWatch use it). The key only protects messages in flight, so it goes with the stack.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the audit trail ops alarms topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'OpsAlarms', {
      displayName: 'Audit trail ops alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one, so CloudWatch's right to publish (this account's alarms only) is spelled out.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
        },
      }),
    );

    const functionWidgets: cloudwatch.IWidget[] = [];
    for (const [fnId, fn] of props.functions) {
      this.alarm(`${fnId}Errors`, {
        metric: fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
        threshold: ERRORS_THRESHOLD[fnId] ?? 1,
        alarmDescription: `The ${fnId} function failed (crashed, timed out or threw past its error handler).`,
      });
      this.alarm(`${fnId}Throttles`, {
        metric: fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }),
        threshold: 1,
        alarmDescription: `The ${fnId} function was throttled: the account's concurrency is exhausted.`,
      });
      functionWidgets.push(
        new cloudwatch.GraphWidget({
          title: `${fnId} function`,
          left: [fn.metricInvocations({ period: PERIOD }), fn.metricErrors({ period: PERIOD }), fn.metricThrottles({ period: PERIOD })],
          right: [fn.metricDuration({ period: PERIOD, statistic: 'p99' })],
          width: 8,
        }),
      );
    }

    // The 5XXError metric's average is the share of requests answered 5xx.
    this.alarm('Api5xxRate', {
      metric: props.api.metricServerError({ period: PERIOD, statistic: 'Average' }),
      threshold: 0.01,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      alarmDescription: 'More than 1% of API requests were answered 5xx in two of the last three 5-minute periods.',
    });

    const tableWidgets: cloudwatch.IWidget[] = [];
    for (const [tableId, operations] of watchedOperations(props.functionDeclarations ?? FUNCTIONS)) {
      const table = props.eventStore.table(tableId);
      const throttled = table.metricThrottledRequestsForOperations({ operations, period: PERIOD });
      const systemErrors = table.metricSystemErrorsForOperations({ operations, period: PERIOD });
      this.alarm(`${tableId}Throttled`, {
        metric: throttled,
        threshold: 1,
        alarmDescription: `Requests to the ${tableId} table were throttled (on demand: a hot partition or the account's table limits).`,
      });
      this.alarm(`${tableId}SystemErrors`, {
        metric: systemErrors,
        threshold: 1,
        alarmDescription: `DynamoDB answered requests to the ${tableId} table with 500s.`,
      });
      // Two graphs: both expressions name their per-operation metrics alike, which one graph cannot hold.
      tableWidgets.push(
        new cloudwatch.GraphWidget({ title: `${tableId} table: throttled requests`, left: [throttled], width: 6 }),
        new cloudwatch.GraphWidget({ title: `${tableId} table: system errors`, left: [systemErrors], width: 6 }),
      );
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'API requests',
            left: [props.api.metricCount({ period: PERIOD }), props.api.metricClientError({ period: PERIOD }), props.api.metricServerError({ period: PERIOD })],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'API latency (p50, p99)',
            left: [props.api.metricLatency({ period: PERIOD, statistic: 'p50' }), props.api.metricLatency({ period: PERIOD, statistic: 'p99' })],
            width: 12,
          }),
        ],
        functionWidgets,
        tableWidgets,
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })],
      ],
    });
  }

  private alarm(id: string, props: Omit<cloudwatch.AlarmProps, 'evaluationPeriods'> & { evaluationPeriods?: number }): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    alarm.addOkAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
  }
}

/** Each table some function accesses, with the DynamoDB operations the declarations allow on it. */
function watchedOperations(declarations: readonly FunctionDeclaration[]): Map<string, dynamodb.Operation[]> {
  const byTable = new Map<string, Set<dynamodb.Operation>>();
  for (const { access } of declarations) {
    for (const { table, actions: allowed } of access) {
      const operations = byTable.get(table.id) ?? new Set<dynamodb.Operation>();
      for (const action of allowed) operations.add(operationOf(action));
      byTable.set(table.id, operations);
    }
  }
  return new Map([...byTable].map(([tableId, operations]) => [tableId, [...operations]]));
}

function operationOf(action: string): dynamodb.Operation {
  const name = action.replace(/^dynamodb:/, '');
  const operation = Object.values(dynamodb.Operation).find((candidate) => candidate === name);
  if (!operation) throw new Error(`no DynamoDB metric operation for ${action}`);
  return operation;
}

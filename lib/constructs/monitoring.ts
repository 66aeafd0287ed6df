import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { APP_KEY_AUTHORIZER_FUNCTION, FUNCTIONS, INGEST_FUNCTION, type FunctionDeclaration } from '../declarations/functions';
import { BUSINESS_METRICS, CHANNEL_DIMENSION, SERVICE_NAME } from '../declarations/metrics';
import { ROUTES } from '../declarations/routes';
import type { EventStore } from './event-store';

/** What a stream consumer construct (lib/constructs/stream-consumer.ts, the rules engine) hands monitoring. */
export interface WatchedStreamConsumer {
  /** Its on-failure queue (the stream records it gave up on). */
  readonly failures: sqs.IQueue;
  /** Built with the consumer, which knows what a failure means for it; monitoring routes it to the ops topic. */
  readonly failuresAlarm: cloudwatch.Alarm;
  /** Its IteratorAge alarm (addLagAlarm), threshold from its declaration. */
  readonly lagAlarm: cloudwatch.Alarm;
}

export interface MonitoringProps {
  /** The functions to watch, by declaration id. */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  readonly api: apigateway.RestApi;
  readonly eventStore: EventStore;
  /** Which table operations to watch come from these declarations' access lists; FUNCTIONS unless a test says otherwise. */
  readonly functionDeclarations?: readonly FunctionDeclaration[];
  /** The stream consumers, by stream declaration id: their alarms go to the ops topic, their lag and failures on the dashboard. */
  readonly streamConsumers?: ReadonlyMap<string, WatchedStreamConsumer>;
  /** The functions' business metrics namespace (AuditApi.metricsNamespace). */
  readonly metricsNamespace: string;
}

const PERIOD = Duration.minutes(5);

/**
 * The on-failure queues keep a record 14 days. Their depth alarm notifies once, when the first record arrives, and
 * then stays in alarm; this one calls again when a record has waited a week, with a week left to replay its range.
 */
export const FAILURES_AGE_ALARM_DAYS = 7;

/**
 * p99 latency alarms, each only over periods with enough requests to mean something: on a quiet API one cold start
 * (function init plus the authorizer's, over a second) is the p99 of its period. Three periods in a row, so a
 * deployment's cold starts pass.
 *
 * - The whole API, 5 s: the admin SPA's lists and histories (Query pages of 1 MB at most) answer in well under a
 *   second; five for a quarter of an hour is DynamoDB throttling or latency, or a function starved of memory.
 * - POST /v1/events, 1 s: a batch of at most 100 events is four rounds of parallel conditional puts (tens of ms
 *   each) and one counter update; a second means writes are being retried, and the client SDK sends one request at a
 *   time, so ingestion throughput per client drops with it.
 */
export const API_LATENCY_ALARMS = {
  api: { p99Ms: 5000, minRequests: 20 },
  ingest: { p99Ms: 1000, minRequests: 50 },
} as const;
const LATENCY_EVALUATION_PERIODS = 3;

/**
 * Errors per 5 minutes before a function's alarm fires. The app-key authorizer
 * answers a malformed key by throwing "Unauthorized" (that is how a REQUEST
 * authorizer produces a 401), which Lambda counts as an error; one
 * misconfigured client must not page anyone, a flood still does.
 */
const ERRORS_THRESHOLD: Record<string, number> = { [APP_KEY_AUTHORIZER_FUNCTION.id]: 20 };

/**
 * Alarms for what needs a person: functions failing or throttled, the API
 * answering 5xx or slowly, DynamoDB throttling or failing, stream consumers
 * falling behind or giving up on records (and those records waiting
 * unhandled), notifications that could not be sent. They all notify the ops
 * alarms topic (subscribe an address or a chat integration to it), and a
 * dashboard shows the same signals side by side, with the business metrics
 * the functions emit (lib/declarations/metrics.ts).
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

    const { api } = props;
    this.alarm('ApiLatencyP99', {
      metric: enoughRequests(api.metricLatency({ period: PERIOD, statistic: 'p99' }), api.metricCount({ period: PERIOD, statistic: 'Sum' }), API_LATENCY_ALARMS.api.minRequests),
      threshold: API_LATENCY_ALARMS.api.p99Ms,
      evaluationPeriods: LATENCY_EVALUATION_PERIODS,
      alarmDescription:
        `The API's p99 latency was over ${API_LATENCY_ALARMS.api.p99Ms} ms for ${LATENCY_EVALUATION_PERIODS * 5} minutes ` +
        `(periods of at least ${API_LATENCY_ALARMS.api.minRequests} requests). Compare IntegrationLatency and the functions' duration on the dashboard.`,
    });
    const ingestRoute = ROUTES.find((route) => route.function?.id === INGEST_FUNCTION.id);
    if (!ingestRoute) throw new Error('no route is served by the ingest function');
    const ingestMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        // Per-method metrics: the stage has detailed metrics on (lib/constructs/api.ts).
        dimensionsMap: { ApiName: api.restApiName, Method: ingestRoute.method, Resource: ingestRoute.path, Stage: api.deploymentStage.stageName },
        period: PERIOD,
        statistic,
      });
    const ingestLatency = ingestMetric('Latency', 'p99');
    this.alarm('IngestLatencyP99', {
      metric: enoughRequests(ingestLatency, ingestMetric('Count', 'Sum'), API_LATENCY_ALARMS.ingest.minRequests),
      threshold: API_LATENCY_ALARMS.ingest.p99Ms,
      evaluationPeriods: LATENCY_EVALUATION_PERIODS,
      alarmDescription:
        `${ingestRoute.method} ${ingestRoute.path} answered slower than ${API_LATENCY_ALARMS.ingest.p99Ms} ms at p99 for ${LATENCY_EVALUATION_PERIODS * 5} minutes ` +
        `(periods of at least ${API_LATENCY_ALARMS.ingest.minRequests} requests): event writes are slow or retried. Check the Events and Counters tables' throttling.`,
    });

    // Stream consumers: their own alarms (built with them) to the ops topic, and one on records left waiting.
    const consumerWidgets: cloudwatch.IWidget[] = [];
    for (const [streamId, consumer] of props.streamConsumers ?? new Map<string, WatchedStreamConsumer>()) {
      this.watch(consumer.failuresAlarm);
      this.watch(consumer.lagAlarm);
      const waiting = consumer.failures.metricApproximateAgeOfOldestMessage({ period: Duration.hours(1), statistic: 'Maximum' });
      this.alarm(`${streamId}FailuresAge`, {
        metric: waiting,
        threshold: Duration.days(FAILURES_AGE_ALARM_DAYS).toSeconds(),
        alarmDescription:
          `A record the ${streamId} consumer gave up on has waited ${FAILURES_AGE_ALARM_DAYS} days in its StreamFailures queue, which keeps records 14 days: ` +
          'replay its range from the events table, then purge the queue.',
      });
      consumerWidgets.push(
        new cloudwatch.GraphWidget({
          title: `${streamId}: lag behind the stream, records given up on`,
          left: [consumer.lagAlarm.metric],
          leftAnnotations: [consumer.lagAlarm.toAnnotation()],
          right: [consumer.failures.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' })],
          width: 6,
        }),
      );
    }

    // Business metrics (Powertools Metrics, EMF): totals carry the service dimension only.
    const business = (name: string) =>
      new cloudwatch.Metric({ namespace: props.metricsNamespace, metricName: name, dimensionsMap: { service: SERVICE_NAME }, period: PERIOD, statistic: 'Sum' });
    const notificationsFailed = business(BUSINESS_METRICS.notificationsFailed);
    this.alarm('NotificationsFailed', {
      metric: notificationsFailed,
      threshold: 1,
      alarmDescription:
        'A notification could not be sent on a channel (email, SMS or webhook). The rule and error tracker functions report such events as batch ' +
        'failures, not errors, so their error alarms stay quiet: see the notification\'s deliveries in the admin SPA and the functions\' logs.',
    });
    const byChannel = (name: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{"${props.metricsNamespace}",${CHANNEL_DIMENSION},service} MetricName="${name}"', 'Sum', ${PERIOD.toSeconds()})`,
        usingMetrics: {},
        label: `${name} by channel`,
        period: PERIOD,
      });
    const businessWidgets: cloudwatch.IWidget[] = [
      new cloudwatch.GraphWidget({
        title: 'Events ingested (POST /v1/events and /v1/logs)',
        left: [
          business(BUSINESS_METRICS.eventsAccepted),
          business(BUSINESS_METRICS.eventsDuplicate),
          business(BUSINESS_METRICS.eventsRejected),
          business(BUSINESS_METRICS.eventsFailed),
          business(BUSINESS_METRICS.eventsRateLimited),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Redaction',
        left: [business(BUSINESS_METRICS.eventsRedacted), business(BUSINESS_METRICS.redactionsApplied)],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Notifications',
        left: [business(BUSINESS_METRICS.notificationsSent), notificationsFailed],
        right: [byChannel(BUSINESS_METRICS.notificationsFailed)],
        width: 8,
      }),
    ];

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
            title: 'API latency (p50, p99; integration p99: the function part)',
            left: [
              props.api.metricLatency({ period: PERIOD, statistic: 'p50' }),
              props.api.metricLatency({ period: PERIOD, statistic: 'p99' }),
              props.api.metricIntegrationLatency({ period: PERIOD, statistic: 'p99' }),
              ingestLatency.with({ label: `${ingestRoute.method} ${ingestRoute.path} p99` }),
            ],
            leftAnnotations: [
              { value: API_LATENCY_ALARMS.api.p99Ms, label: 'API p99 alarm' },
              { value: API_LATENCY_ALARMS.ingest.p99Ms, label: 'ingest p99 alarm' },
            ],
            width: 12,
          }),
        ],
        businessWidgets,
        consumerWidgets,
        functionWidgets,
        tableWidgets,
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })],
      ],
    });
  }

  private alarm(id: string, props: Omit<cloudwatch.AlarmProps, 'evaluationPeriods'> & { evaluationPeriods?: number }): void {
    this.watch(
      new cloudwatch.Alarm(this, id, {
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...props,
      }),
    );
  }

  /** The alarm notifies the ops topic (alarm and OK) and shows in the dashboard's alarm status. */
  private watch(alarm: cloudwatch.Alarm): void {
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    alarm.addOkAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
  }
}

/** The latency where the period had at least `minRequests` requests, 0 otherwise (no data without traffic). */
function enoughRequests(latency: cloudwatch.IMetric, count: cloudwatch.IMetric, minRequests: number): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `IF(requests >= ${minRequests}, latency, 0)`,
    usingMetrics: { latency, requests: count },
    label: 'p99 latency (ms) over periods with enough requests',
    period: PERIOD,
  });
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

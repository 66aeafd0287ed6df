import { Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
import { streamFilterPatterns, type StreamConsumerDeclaration } from '../declarations/streams';

export interface StreamConsumerProps {
  readonly declaration: StreamConsumerDeclaration;
  /** The consumer's function (built by AuditApi.functionFor, with its own role). */
  readonly fn: lambda.IFunction;
  /** The table whose stream it reads. */
  readonly table: dynamodb.ITableV2;
  /** The alarm's description: what it means for this consumer that records went to the on-failure queue. */
  readonly failureDescription: string;
  /** The lag alarm's description: what it means for this consumer to fall behind (a generic one otherwise). */
  readonly lagDescription?: string;
}

export interface StreamConsumerResources {
  readonly mapping: lambda.EventSourceMapping;
  /** Stream records whose retries ran out (or that grew too old): the on-failure destination. */
  readonly failures: sqs.Queue;
  /** In alarm while the on-failure queue holds a message; Monitoring sends it to the ops topic. */
  readonly failuresAlarm: cloudwatch.Alarm;
  /** In alarm while the consumer is further behind the stream than its declaration allows (addLagAlarm). */
  readonly lagAlarm: cloudwatch.Alarm;
}

/**
 * A declared stream consumer on AWS (lib/declarations/streams.ts), the same
 * way for every consumer: the function's role may read that table's stream
 * and nothing else of it; the event source mapping carries the declaration's
 * filter (event names), batch size and window, retries, bisection, record
 * age and partial batch responses; records given up on go to an encrypted,
 * TLS-only SQS queue, and an alarm watches it. A retry or age limit of -1
 * means none (Lambda's "infinite").
 *
 * The constructs are created in `scope` with the ids `StreamFailures`,
 * `Mapping`, `StreamFailuresAlarm` and `LagAlarm`.
 */
export function addStreamConsumer(scope: Construct, props: StreamConsumerProps): StreamConsumerResources {
  const { declaration, fn, table } = props;

  const failures = new sqs.Queue(scope, 'StreamFailures', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // Lambda's on-failure record names the shard and sequence numbers; the events stay in the table to replay.
    retentionPeriod: Duration.days(14),
  });
  Validations.of(cfn(failures)).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      `This queue is itself the dead-letter destination: the ${declaration.id} event source mapping sends it the stream records ` +
      'it gave up on, and an alarm watches it. Nothing consumes it automatically, so it needs no DLQ of its own.',
  });

  // Read the stream (what the mapping polls with the function's role), nothing else of the table.
  const role = fn.role!;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
      resources: [`${table.tableArn}/stream/*`],
    }),
  );
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (policy) {
    Validations.of(cfn(policy)).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(table).getLogicalId(table.node.defaultChild as CfnElement)}.Arn>/stream/*]`,
      reason: `The event source mapping reads the ${declaration.table.id} table's stream, whose ARN ends in a creation timestamp; the wildcard covers only that table's streams.`,
    });
  }

  const mapping = new lambda.EventSourceMapping(scope, 'Mapping', {
    target: fn,
    eventSourceArn: table.tableStreamArn!,
    startingPosition: lambda.StartingPosition[declaration.startingPosition],
    batchSize: declaration.batchSize,
    maxBatchingWindow: Duration.seconds(declaration.maxBatchingWindowSeconds),
    retryAttempts: declaration.retryAttempts < 0 ? -1 : declaration.retryAttempts,
    bisectBatchOnError: declaration.bisectOnError,
    ...(declaration.maxRecordAgeSeconds >= 0 ? { maxRecordAge: Duration.seconds(declaration.maxRecordAgeSeconds) } : {}),
    reportBatchItemFailures: declaration.reportBatchItemFailures,
    filters: streamFilterPatterns(declaration),
    onFailure: new SqsDlq(failures),
  });
  // The L2 has no "no limit" for the record age; CloudFormation's -1 says it explicitly.
  if (declaration.maxRecordAgeSeconds < 0) (mapping.node.defaultChild as lambda.CfnEventSourceMapping).maximumRecordAgeInSeconds = -1;

  const failuresAlarm = new cloudwatch.Alarm(scope, 'StreamFailuresAlarm', {
    metric: failures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: props.failureDescription,
  });
  const lagAlarm = addLagAlarm(scope, declaration, fn, props.lagDescription);
  return { mapping, failures, failuresAlarm, lagAlarm };
}

/**
 * The consumer's lag behind the stream: Lambda's IteratorAge (the age of the last record of each batch when the
 * function got it), Maximum over 5 minutes, against the declaration's `iteratorAgeAlarmSeconds`. It rises while the
 * consumer fails and retries, is throttled, or is too slow for the traffic; the error and on-failure alarms miss the
 * last two. Created in `scope` as `LagAlarm`.
 */
export function addLagAlarm(scope: Construct, declaration: StreamConsumerDeclaration, fn: lambda.IFunction, description?: string): cloudwatch.Alarm {
  const minutes = declaration.iteratorAgeAlarmSeconds / 60;
  return new cloudwatch.Alarm(scope, 'LagAlarm', {
    metric: fn.metric('IteratorAge', { period: Duration.minutes(5), statistic: 'Maximum' }),
    threshold: declaration.iteratorAgeAlarmSeconds * 1000,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription:
      description ??
      `The ${declaration.id} consumer (${declaration.function.id}) is more than ${minutes} minutes behind the ${declaration.table.id} stream: ` +
        'it keeps failing, is throttled, or is too slow for the traffic. See its errors and duration on the dashboard.',
  });
}

function cfn(construct: IConstruct): IConstruct {
  return construct.node.defaultChild ?? construct;
}

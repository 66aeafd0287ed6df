import { Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import type { NotificationsConfig } from '../config';
import { SILENCE_CHECK_SCHEDULE, type ScheduleDeclaration } from '../declarations/schedules';
import { RULES_STREAM, streamFilterPatterns, type StreamConsumerDeclaration } from '../declarations/streams';
import type { AuditApi } from './api';
import type { EventStore } from './event-store';
import { addLagAlarm } from './stream-consumer';

export interface RulesEngineProps {
  readonly notifications: NotificationsConfig;
  readonly eventStore: EventStore;
  /** Builds the rule function like every other (own role, log group, declared table access). */
  readonly api: AuditApi;
  /** The stream consumer to build; the project's RULES_STREAM unless a test says otherwise. */
  readonly stream?: StreamConsumerDeclaration;
  /** The silent-source check's schedule; SILENCE_CHECK_SCHEDULE unless a test says otherwise. */
  readonly silenceSchedule?: ScheduleDeclaration;
}

/**
 * Alerting: the rule function on the events stream (the mapping of
 * lib/declarations/streams.ts: INSERT only, partial batch responses,
 * bisection, bounded retries and record age, an SQS on-failure queue), and
 * the email and SMS topics it publishes to, with subscriptions from
 * cdk.json's `auditTrail.notifications`.
 */
export class RulesEngine extends Construct {
  readonly function: lambda.IFunction;
  /** The silent-source check, on its schedule. */
  readonly silenceFunction: lambda.IFunction;
  readonly silenceSchedule: events.Rule;
  readonly emailTopic: sns.Topic;
  readonly smsTopic: sns.Topic;
  /** Stream records whose retries ran out (or that grew too old): they were never evaluated. */
  readonly failures: sqs.Queue;
  /** In alarm while the on-failure queue holds a message; Monitoring sends it to the ops topic. */
  readonly failuresAlarm: cloudwatch.Alarm;
  /** The rule engine is behind the stream: alerts are late (RULES_STREAM.iteratorAgeAlarmSeconds). */
  readonly lagAlarm: cloudwatch.Alarm;
  readonly mapping: lambda.EventSourceMapping;
  /** The key webhook posts are signed with; only when webhooks are configured. */
  readonly webhookSigningKey?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: RulesEngineProps) {
    super(scope, id);
    const declaration = props.stream ?? RULES_STREAM;
    const fn = props.api.functionFor(declaration.function);
    this.function = fn;
    const schedule = props.silenceSchedule ?? SILENCE_CHECK_SCHEDULE;
    const silenceFn = props.api.functionFor(schedule.function);
    this.silenceFunction = silenceFn;
    /** Both notify: the same topics, key and webhooks. */
    const notifiers = [fn, silenceFn];

    // A customer-managed key: publishers need kms:GenerateDataKey on it, which aws/sns's key policy cannot grant.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the audit trail notification topics (email, SMS)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.emailTopic = new sns.Topic(this, 'EmailTopic', { displayName: 'Audit trail alerts', masterKey: key, enforceSSL: true });
    this.smsTopic = new sns.Topic(this, 'SmsTopic', { displayName: 'Audit', masterKey: key, enforceSSL: true });
    for (const email of props.notifications.emails) this.emailTopic.addSubscription(new subscriptions.EmailSubscription(email));
    for (const phone of props.notifications.phones) this.smsTopic.addSubscription(new subscriptions.SmsSubscription(phone));
    for (const notifier of notifiers) {
      // Publish on these two topics only, and use their key for that alone (exact actions: what SNS calls for an
      // encrypted topic on the publisher's behalf; grantPublish would add the kms:GenerateDataKey* wildcard).
      notifier.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.emailTopic.topicArn, this.smsTopic.topicArn] }));
      notifier.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }));
      notifier.addEnvironment('EMAIL_TOPIC_ARN', this.emailTopic.topicArn);
      notifier.addEnvironment('SMS_TOPIC_ARN', this.smsTopic.topicArn);
    }

    if (props.notifications.webhooks.length > 0) {
      // Receivers verify posts with this key (HMAC-SHA256); read it with `aws secretsmanager get-secret-value`.
      const secret = new secretsmanager.Secret(this, 'WebhookSigningKey', {
        description: 'HMAC-SHA256 key that signs the audit trail alert webhooks',
        generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      });
      Validations.of(cfn(secret)).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The webhook signing key is shared with the webhook receivers, which must be given a new key by hand when it changes; ' +
          'automatic rotation would break their signature checks. Replace it (and tell receivers) if exposed.',
      });
      for (const notifier of notifiers) {
        notifier.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
        notifier.addEnvironment('WEBHOOK_SECRET_ARN', secret.secretArn);
        notifier.addEnvironment('WEBHOOK_URLS', JSON.stringify(props.notifications.webhooks));
      }
      this.webhookSigningKey = secret;
    }

    this.failures = new sqs.Queue(this, 'StreamFailures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Lambda's on-failure record names the shard and sequence numbers; the events stay in the table to replay.
      retentionPeriod: Duration.days(14),
    });
    Validations.of(cfn(this.failures)).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter destination: the rule engine event source mapping sends it the stream records ' +
        'it gave up on, and an alarm watches it. Nothing consumes it automatically, so it needs no DLQ of its own.',
    });

    const table = props.eventStore.table(declaration.table);
    // Read the events stream (what the mapping polls with the function's role), nothing else of the table.
    const streamArns = `${table.tableArn}/stream/*`;
    const role = fn.role!;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
        resources: [streamArns],
      }),
    );
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(cfn(policy)).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(table).getLogicalId(table.node.defaultChild as CfnElement)}.Arn>/stream/*]`,
        reason: `The event source mapping reads the ${declaration.table.id} table's stream, whose ARN ends in a creation timestamp; the wildcard covers only that table's streams.`,
      });
    }

    this.mapping = new lambda.EventSourceMapping(this, 'Mapping', {
      target: fn,
      eventSourceArn: table.tableStreamArn!,
      startingPosition: lambda.StartingPosition[declaration.startingPosition],
      batchSize: declaration.batchSize,
      maxBatchingWindow: Duration.seconds(declaration.maxBatchingWindowSeconds),
      retryAttempts: declaration.retryAttempts,
      bisectBatchOnError: declaration.bisectOnError,
      maxRecordAge: Duration.seconds(declaration.maxRecordAgeSeconds),
      reportBatchItemFailures: declaration.reportBatchItemFailures,
      filters: streamFilterPatterns(declaration),
      onFailure: new SqsDlq(this.failures),
    });

    this.silenceSchedule = new events.Rule(this, schedule.id, {
      description: 'Runs the silent-source check (silence rules)',
      schedule: events.Schedule.rate(Duration.minutes(schedule.rateMinutes)),
      // A missed run is covered by the next one; two retries ride out a throttle.
      targets: [new targets.LambdaFunction(silenceFn, { retryAttempts: 2, maxEventAge: Duration.minutes(schedule.rateMinutes) })],
    });

    this.failuresAlarm = new cloudwatch.Alarm(this, 'StreamFailuresAlarm', {
      metric: this.failures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'The rule engine gave up on events (retries or record age ran out): they raised no alerts. See the StreamFailures queue.',
    });
    this.lagAlarm = addLagAlarm(
      this,
      declaration,
      fn,
      `The rule engine is more than ${declaration.iteratorAgeAlarmSeconds / 60} minutes behind the events stream: alerts arrive late. ` +
        `It gives up on records after ${declaration.maxRecordAgeSeconds / 60} minutes (then the StreamFailures alarm fires).`,
    );
  }

  /**
   * Lets another function notify exactly as the rule function does (issue 5:
   * the error tracker runs the rule engine in-process for new and regressed
   * error groups): publish on the two topics only, their key for that alone,
   * and the webhook signing key and URLs when webhooks are configured.
   */
  grantNotify(fn: lambda.Function, notifications: NotificationsConfig): void {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.emailTopic.topicArn, this.smsTopic.topicArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [this.emailTopic.masterKey!.keyArn] }));
    fn.addEnvironment('EMAIL_TOPIC_ARN', this.emailTopic.topicArn);
    fn.addEnvironment('SMS_TOPIC_ARN', this.smsTopic.topicArn);
    if (this.webhookSigningKey) {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.webhookSigningKey.secretArn] }));
      fn.addEnvironment('WEBHOOK_SECRET_ARN', this.webhookSigningKey.secretArn);
      fn.addEnvironment('WEBHOOK_URLS', JSON.stringify(notifications.webhooks));
    }
  }
}

function cfn(construct: IConstruct): IConstruct {
  return construct.node.defaultChild ?? construct;
}

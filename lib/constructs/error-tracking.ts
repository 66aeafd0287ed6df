import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { NotificationsConfig } from '../config';
import { ERRORS_STREAM, type StreamConsumerDeclaration } from '../declarations/streams';
import type { AuditApi } from './api';
import type { EventStore } from './event-store';
import type { RulesEngine } from './rules-engine';
import { addStreamConsumer } from './stream-consumer';

export interface ErrorTrackingProps {
  readonly eventStore: EventStore;
  /** Builds the tracker function like every other (own role, log group, declared table access). */
  readonly api: AuditApi;
  /** Whose topics, key and webhooks the tracker notifies through (new and regressed groups). */
  readonly rulesEngine: RulesEngine;
  readonly notifications: NotificationsConfig;
  /** The stream consumer to build; ERRORS_STREAM unless a test says otherwise. */
  readonly stream?: StreamConsumerDeclaration;
}

/**
 * Error tracking (issue 5): the error tracker on the events stream, grouping
 * errors by fingerprint into the ErrorGroups table exactly once, and
 * notifying through the rule engine's channels when a group is new or
 * regressed. The errors API (GET/PATCH /v1/errors) is an ordinary route
 * function of AuditApi; its access is declared with it.
 */
export class ErrorTracking extends Construct {
  readonly function: lambda.IFunction;
  readonly mapping: lambda.EventSourceMapping;
  readonly failures: sqs.Queue;
  readonly failuresAlarm: cloudwatch.Alarm;
  /** The tracker is behind the stream (its stream declaration's iteratorAgeAlarmSeconds). */
  readonly lagAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ErrorTrackingProps) {
    super(scope, id);
    const declaration = props.stream ?? ERRORS_STREAM;
    const fn = props.api.functionFor(declaration.function);
    this.function = fn;
    props.rulesEngine.grantNotify(fn, props.notifications);
    const consumer = addStreamConsumer(this, {
      declaration,
      fn,
      table: props.eventStore.table(declaration.table),
      failureDescription:
        'The error tracker gave up on stream records (retries or record age ran out): those errors may be missing from their groups, ' +
        'or a new or regressed group was not announced. The events are still in the events table; see the StreamFailures queue for the range.',
    });
    this.mapping = consumer.mapping;
    this.failures = consumer.failures;
    this.failuresAlarm = consumer.failuresAlarm;
    this.lagAlarm = consumer.lagAlarm;
  }
}

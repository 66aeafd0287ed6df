import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { STATS_STREAM, type StreamConsumerDeclaration } from '../declarations/streams';
import type { AuditApi } from './api';
import type { EventStore } from './event-store';
import { addStreamConsumer } from './stream-consumer';

export interface EventStatsProps {
  readonly eventStore: EventStore;
  /** Builds the stats function like every other (own role, log group, declared table access). */
  readonly api: AuditApi;
  /** The stream consumer to build; STATS_STREAM unless a test says otherwise. */
  readonly stream?: StreamConsumerDeclaration;
}

/**
 * Event statistics (GET /v1/stats): the stats counter on the events stream,
 * adding every new event into the Stats table's hourly and daily counters
 * exactly once (lambdas/core/stats.ts, lambdas/adapters/stats-store.ts). The
 * Query function reads the counters; its access is declared with it.
 */
export class EventStats extends Construct {
  readonly function: lambda.IFunction;
  readonly mapping: lambda.EventSourceMapping;
  readonly failures: sqs.Queue;
  readonly failuresAlarm: cloudwatch.Alarm;
  /** The counter is behind the stream (its stream declaration's iteratorAgeAlarmSeconds). */
  readonly lagAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: EventStatsProps) {
    super(scope, id);
    const declaration = props.stream ?? STATS_STREAM;
    this.function = props.api.functionFor(declaration.function);
    const consumer = addStreamConsumer(this, {
      declaration,
      fn: this.function,
      table: props.eventStore.table(declaration.table),
      failureDescription:
        'The stats counter gave up on stream records: those events are missing from GET /v1/stats (they are still in the events table). ' +
        'See the StreamFailures queue for the range.',
    });
    this.mapping = consumer.mapping;
    this.failures = consumer.failures;
    this.failuresAlarm = consumer.failuresAlarm;
    this.lagAlarm = consumer.lagAlarm;
  }
}

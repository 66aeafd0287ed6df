/**
 * Monitoring (lib/constructs/monitoring.ts) beyond the per-function and table alarms (stack.test.ts): every stream
 * consumer's lag and on-failure queue, the API's latency, failed notifications, the business metrics' namespace
 * in every function, and the dashboard showing all of it.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { AuditTrailApp } from '../../lib/app';
import { API_LATENCY_ALARMS, FAILURES_AGE_ALARM_DAYS } from '../../lib/constructs/monitoring';
import { EXPORT_FUNCTION, FUNCTIONS } from '../../lib/declarations/functions';
import { BUSINESS_METRICS, METRICS_NAMESPACE_ENV, SERVICE_NAME } from '../../lib/declarations/metrics';
import { STREAM_CONSUMERS } from '../../lib/declarations/streams';
import { buildTestApp } from '../helpers/test-app';

const cdkJson = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

type Json = Record<string, any>;

let built: AuditTrailApp;
let template: Template;
let resources: Record<string, Json>;

beforeAll(() => {
  built = buildTestApp({ context: cdkJson.context });
  template = Template.fromStack(built.stack);
  resources = template.toJSON().Resources;
});

const logicalId = (construct: IConstruct): string => Stack.of(construct).getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
const alarms = () => Object.entries(template.findResources('AWS::CloudWatch::Alarm')) as [string, Json][];
const opsTopic = () => ({ Ref: logicalId(built.stack.monitoring.alarmTopic) });
const functionId = (declarationId: string) => logicalId(built.stack.api.functions.get(declarationId)!);
/** The dashboard's body with its tokens as JSON text: enough to find metric names and resource references. */
const dashboardBody = () => {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Json[];
  return JSON.stringify(dashboard.Properties.DashboardBody);
};

describe('stream consumers', () => {
  test.each(STREAM_CONSUMERS.map((consumer) => [consumer.id, consumer] as const))(
    '%s: one IteratorAge alarm on its function, at its declared threshold, to the ops topic, on the dashboard',
    (_id, consumer) => {
      const lag = alarms().filter(
        ([, alarm]) => alarm.Properties.MetricName === 'IteratorAge' && alarm.Properties.Dimensions[0].Value.Ref === functionId(consumer.function.id),
      );
      expect(lag).toHaveLength(1);
      expect(lag[0][1].Properties).toMatchObject({
        Namespace: 'AWS/Lambda',
        Statistic: 'Maximum',
        Period: 300,
        Threshold: consumer.iteratorAgeAlarmSeconds * 1000,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [opsTopic()],
        OKActions: [opsTopic()],
      });
      const body = dashboardBody();
      expect(body).toContain(`${consumer.id}: lag behind the stream`);
      // The alarm status widget lists it.
      expect(body).toContain(lag[0][0]);
    },
  );

  test('the lag thresholds follow the consumers: alerts soonest, the archive and the counters later', () => {
    const seconds = Object.fromEntries(STREAM_CONSUMERS.map((consumer) => [consumer.id, consumer.iteratorAgeAlarmSeconds]));
    expect(seconds).toEqual({ RulesStream: 300, ErrorsStream: 600, ArchiveStream: 900, StatsStream: 3600 });
    // Each fires well before the consumer gives up on records (where it does) and before the stream's 24 hours.
    for (const consumer of STREAM_CONSUMERS) {
      if (consumer.maxRecordAgeSeconds > 0) expect(consumer.iteratorAgeAlarmSeconds).toBeLessThanOrEqual(consumer.maxRecordAgeSeconds / 4);
      expect(consumer.iteratorAgeAlarmSeconds).toBeLessThan(86_400 / 4);
    }
  });

  test('every queue that collects failures has a depth and an age alarm to the ops topic, and is on the dashboard', () => {
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    // The stream consumers' on-failure queues are all the queues there are. The export function (async, no
    // retries) has no dead-letter queue: it records failures on the job, and its errors alarm covers crashes.
    expect(queues).toHaveLength(STREAM_CONSUMERS.length);
    expect(resources[functionId(EXPORT_FUNCTION.id)].Properties.DeadLetterConfig).toBeUndefined();
    const onQueue = (queueId: string, metricName: string) =>
      alarms().filter(([, alarm]) => alarm.Properties.MetricName === metricName && alarm.Properties.Dimensions[0].Value['Fn::GetAtt']?.[0] === queueId);
    const body = dashboardBody();
    for (const queueId of queues) {
      const [depth] = onQueue(queueId, 'ApproximateNumberOfMessagesVisible');
      expect(depth[1].Properties).toMatchObject({ Namespace: 'AWS/SQS', Threshold: 1, AlarmActions: [opsTopic()], OKActions: [opsTopic()] });
      const [age] = onQueue(queueId, 'ApproximateAgeOfOldestMessage');
      expect(age[1].Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        Statistic: 'Maximum',
        Threshold: FAILURES_AGE_ALARM_DAYS * 86_400,
        AlarmActions: [opsTopic()],
        OKActions: [opsTopic()],
      });
      // Under the queues' 14-day retention, with time left to replay.
      expect(FAILURES_AGE_ALARM_DAYS).toBeLessThan(14);
      expect(resources[queueId].Properties.MessageRetentionPeriod).toBe(14 * 86_400);
      expect(body).toContain(queueId);
    }
  });
});

describe('API latency', () => {
  const latencyAlarm = (id: string) => {
    const found = alarms().filter(([logical]) => logical.startsWith(`Monitoring${id}`));
    expect(found).toHaveLength(1);
    return found[0][1].Properties as Json;
  };
  const metricOf = (alarm: Json, id: string) => alarm.Metrics.find((m: Json) => m.Id === id).MetricStat;

  test('the whole API: p99 over 5 s for three periods of enough requests', () => {
    const alarm = latencyAlarm('ApiLatencyP99');
    expect(alarm).toMatchObject({ Threshold: API_LATENCY_ALARMS.api.p99Ms, EvaluationPeriods: 3, AlarmActions: [opsTopic()] });
    expect(alarm.Metrics.find((m: Json) => m.ReturnData !== false).Expression).toBe(`IF(requests >= ${API_LATENCY_ALARMS.api.minRequests}, latency, 0)`);
    expect(metricOf(alarm, 'latency')).toMatchObject({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: 'Latency' }, Stat: 'p99', Period: 300 });
    expect(metricOf(alarm, 'requests')).toMatchObject({ Metric: { MetricName: 'Count' }, Stat: 'Sum' });
  });

  test('POST /v1/events: p99 over 1 s, from the per-method metrics of the prod stage', () => {
    const alarm = latencyAlarm('IngestLatencyP99');
    expect(alarm).toMatchObject({ Threshold: API_LATENCY_ALARMS.ingest.p99Ms, EvaluationPeriods: 3, AlarmActions: [opsTopic()] });
    const latency = metricOf(alarm, 'latency');
    expect(latency).toMatchObject({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: 'Latency' }, Stat: 'p99' });
    const dimensions = Object.fromEntries(latency.Metric.Dimensions.map((d: Json) => [d.Name, d.Value]));
    expect(dimensions).toEqual({ ApiName: 'AuditTrail-api', Method: 'POST', Resource: '/v1/events', Stage: { Ref: logicalId(built.stack.api.api.deploymentStage) } });
    expect(resources[logicalId(built.stack.api.api.deploymentStage)].Properties.StageName).toBe('prod');
  });

  test('the dashboard shows latency and integration latency', () => {
    const body = dashboardBody();
    expect(body).toContain('\\"Latency\\"');
    expect(body).toContain('\\"IntegrationLatency\\"');
  });
});

describe('business metrics', () => {
  test("every function emits to the stack's namespace with the service dimension", () => {
    for (const declaration of FUNCTIONS) {
      expect(resources[functionId(declaration.id)].Properties.Environment.Variables).toMatchObject({
        [METRICS_NAMESPACE_ENV]: built.stack.stackName,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      });
    }
    // Never disabled on AWS (the local stack alone silences them).
    for (const declaration of FUNCTIONS) expect(resources[functionId(declaration.id)].Properties.Environment.Variables.POWERTOOLS_METRICS_DISABLED).toBeUndefined();
  });

  test('a failed notification alarms at once, to the ops topic', () => {
    const found = alarms().filter(([, alarm]) => alarm.Properties.MetricName === BUSINESS_METRICS.notificationsFailed);
    expect(found).toHaveLength(1);
    expect(found[0][1].Properties).toMatchObject({
      Namespace: built.stack.stackName,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [opsTopic()],
    });
  });

  test('the dashboard has a row of them, notifications by channel too', () => {
    const body = dashboardBody();
    for (const name of Object.values(BUSINESS_METRICS)) expect(body).toContain(`\\"${name}\\"`);
    expect(body).toContain('SEARCH(');
    expect(body).toContain('channel');
  });
});

test('every alarm of the stack notifies the ops topic and is on the dashboard', () => {
  const body = dashboardBody();
  for (const [id, alarm] of alarms()) {
    expect(alarm.Properties.AlarmActions).toEqual([opsTopic()]);
    expect(alarm.Properties.OKActions).toEqual([opsTopic()]);
    expect(body).toContain(id);
  }
});

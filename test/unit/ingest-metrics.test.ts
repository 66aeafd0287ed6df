/**
 * The business metrics of POST /v1/events: one CloudWatch EMF line per invocation, read back from stdout as
 * CloudWatch would, with DynamoDB mocked. And LOCAL_METRICS_ENV, which the local stack sets, silences them.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { BUSINESS_METRICS } from '../../lib/declarations/metrics';

Object.assign(process.env, {
  EVENTS_TABLE: 'events-test',
  COUNTERS_TABLE: 'counters-test',
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_SERVICE_NAME: 'audit-trail',
  POWERTOOLS_METRICS_NAMESPACE: 'AuditTrailTest',
  // Explicitly on, whatever the environment the tests run in says.
  POWERTOOLS_METRICS_DISABLED: 'false',
});

const dynamo = mockClient(DynamoDBDocumentClient);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/ingest/handler') as { handler: (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult> };

const context = { functionName: 'ingest', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

function request(body: unknown): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    path: '/v1/events',
    resource: '/v1/events',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { requestId: 'api-req-1', requestTimeEpoch: Date.parse('2026-11-23T10:00:00Z'), authorizer: { app: 'checkout', rateLimit: '100' }, identity: {} },
  } as unknown as APIGatewayProxyEvent;
}

type Emf = Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } };

/** Invokes the handler and returns its answer and the EMF lines it wrote to stdout. */
async function invoke(body: unknown): Promise<{ statusCode: number; emf: Emf[] }> {
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  try {
    const result = await handler(request(body), context);
    return { statusCode: result.statusCode, emf: lines.map((line) => JSON.parse(line) as Emf).filter((entry) => entry._aws) };
  } finally {
    write.mockRestore();
  }
}

const values = (entry: Emf) => Object.fromEntries(entry._aws.CloudWatchMetrics[0].Metrics.map(({ Name }) => [Name, entry[Name]]));

beforeEach(() => {
  dynamo.reset();
  dynamo.on(UpdateCommand).resolves({ Attributes: { used: 1 } });
});

it('writes one EMF line per request: the namespace, the service dimension, and each outcome counted', async () => {
  const id = '01JD7X8Y9ZABCDEFGHJKMNPQRS';
  const duplicateId = '01JD7X8Y9ZABCDEFGHJKMNPQRT';
  dynamo.on(PutCommand).resolves({});
  dynamo.on(PutCommand, { Item: { pk: duplicateId } }).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: { source: { S: 'checkout' } } }));
  const { statusCode, emf } = await invoke({
    events: [
      { id, type: 'user.login.failed', message: 'login with password=hunter2hunter2', details: { password: 'hunter2', apiKey: 'sk_live_abcdef' } },
      { type: 'user.logout' },
      { type: 'user.logout', severity: 'loud' },
      { id: duplicateId, type: 'user.logout' },
    ],
  });
  expect(statusCode).toBe(207);
  expect(emf).toHaveLength(1);
  const [line] = emf;
  expect(line._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'AuditTrailTest', Dimensions: [['service']] });
  expect(line.service).toBe('audit-trail');
  expect(line._aws.CloudWatchMetrics[0].Metrics.every((metric) => metric.Unit === 'Count')).toBe(true);
  expect(values(line)).toEqual({
    [BUSINESS_METRICS.eventsAccepted]: 2,
    [BUSINESS_METRICS.eventsDuplicate]: 1,
    [BUSINESS_METRICS.eventsRejected]: 1,
    [BUSINESS_METRICS.eventsFailed]: 0,
    // One stored event had secrets; three values replaced in it (the text's pair and two sensitive keys).
    [BUSINESS_METRICS.eventsRedacted]: 1,
    [BUSINESS_METRICS.redactionsApplied]: 3,
  });
});

it('counts events whose write failed', async () => {
  dynamo.on(PutCommand).rejects(new Error('ProvisionedThroughputExceededException'));
  const { statusCode, emf } = await invoke({ type: 'user.logout' });
  expect(statusCode).toBe(503);
  expect(values(emf[0])).toMatchObject({ [BUSINESS_METRICS.eventsAccepted]: 0, [BUSINESS_METRICS.eventsFailed]: 1 });
});

it('counts the events of a request refused for the rate limit, and nothing else', async () => {
  dynamo.on(UpdateCommand).resolves({ Attributes: { used: 150 } });
  const { statusCode, emf } = await invoke({ events: [{ type: 'user.logout' }, { type: 'user.logout' }, { type: 'user.logout' }] });
  expect(statusCode).toBe(429);
  expect(emf).toHaveLength(1);
  expect(values(emf[0])).toEqual({ [BUSINESS_METRICS.eventsRateLimited]: 3 });
});

it('writes nothing for a request refused before any event was read', async () => {
  const { statusCode, emf } = await invoke('not an object');
  expect(statusCode).toBe(400);
  expect(emf).toEqual([]);
});

it('LOCAL_METRICS_ENV silences the metrics (the local stack sets it before the first invocation)', () => {
  const saved = process.env.POWERTOOLS_METRICS_DISABLED;
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require('../../lambdas/shared/metrics') as typeof import('../../lambdas/shared/metrics');
      Object.assign(process.env, fresh.LOCAL_METRICS_ENV);
      fresh.recordIngest({ accepted: 1, duplicates: 0, rejected: 0, failed: 0, redactedEvents: 0, redactions: 0 });
      expect(fresh.metrics().hasStoredMetrics()).toBe(true);
      fresh.metrics().publishStoredMetrics();
    });
    expect(write).not.toHaveBeenCalled();
  } finally {
    write.mockRestore();
    process.env.POWERTOOLS_METRICS_DISABLED = saved;
  }
});

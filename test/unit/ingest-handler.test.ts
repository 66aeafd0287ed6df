/**
 * The ingest Lambda with DynamoDB mocked: what it writes, how it answers
 * when DynamoDB refuses or fails. The real path runs in test/integration.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';

process.env.EVENTS_TABLE = 'events-test';
process.env.COUNTERS_TABLE = 'counters-test';
process.env.AWS_REGION = 'eu-west-1';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const dynamo = mockClient(DynamoDBDocumentClient);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/ingest/handler') as { handler: (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult> };

const context = { functionName: 'ingest', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

function request(body: unknown, authorizer: Record<string, string> = { app: 'checkout', rateLimit: '100' }): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    path: '/v1/events',
    resource: '/v1/events',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { requestId: 'api-req-1', requestTimeEpoch: Date.parse('2026-11-23T10:00:00Z'), authorizer, identity: { sourceIp: '198.51.100.7' } },
  } as unknown as APIGatewayProxyEvent;
}

async function invoke(body: unknown, authorizer?: Record<string, string>) {
  const result = await handler(request(body, authorizer), context);
  return { ...result, json: JSON.parse(result.body) };
}

beforeEach(() => {
  dynamo.reset();
  dynamo.on(UpdateCommand).resolves({ Attributes: { used: 1 } });
});

it('writes each event create-only, with index keys, list attributes and the full document', async () => {
  dynamo.on(PutCommand).resolves({});
  const result = await invoke({ id: '01JD7X8Y9ZABCDEFGHJKMNPQRS', type: 'payment.charge.failed', actor: { userId: 'u-1' }, record: { type: 'invoice', id: 'INV-1001' }, message: 'declined' });
  expect(result.statusCode).toBe(200);
  expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
    TableName: 'events-test',
    ConditionExpression: 'attribute_not_exists(pk)',
    Item: expect.objectContaining({
      pk: '01JD7X8Y9ZABCDEFGHJKMNPQRS',
      sk: '2026-11-23T10:00:00.000Z#01JD7X8Y9ZABCDEFGHJKMNPQRS',
      datePk: expect.stringMatching(/^D#2026-11#[0-7]$/),
      typePk: expect.stringMatching(/^T#payment\.charge\.failed#[0-7]$/),
      severityPk: expect.stringMatching(/^V#error#[0-7]$/),
      userPk: 'U#u-1',
      recordPk: 'R#invoice#INV-1001',
      source: 'checkout',
      summary: 'declined',
      expiresAt: Math.floor(Date.parse('2026-11-23T10:00:00Z') / 1000) + 365 * 86_400,
    }),
  });
  const item = dynamo.commandCalls(PutCommand)[0].args[0].input.Item!;
  expect(JSON.parse(item.doc as string)).toMatchObject({ id: '01JD7X8Y9ZABCDEFGHJKMNPQRS', source: 'checkout', severity: 'error' });
});

it('does not let the client IP in unless the app key allows it', async () => {
  dynamo.on(PutCommand).resolves({});
  await invoke({ type: 'user.logout' });
  expect(JSON.parse(dynamo.commandCalls(PutCommand)[0].args[0].input.Item!.doc as string).actor).toBeUndefined();
  dynamo.resetHistory();
  await invoke({ type: 'user.logout' }, { app: 'web', captureClientIp: 'true' });
  expect(JSON.parse(dynamo.commandCalls(PutCommand)[0].args[0].input.Item!.doc as string).actor).toEqual({ ip: '198.51.100.7' });
});

it('reports an existing id as duplicate for the same app and refuses it for another', async () => {
  dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: { source: { S: 'checkout' } } }));
  expect((await invoke({ id: '01JD7X8Y9ZABCDEFGHJKMNPQRS', type: 'user.logout' })).json.results[0].status).toBe('duplicate');
  const other = await invoke({ id: '01JD7X8Y9ZABCDEFGHJKMNPQRS', type: 'user.logout' }, { app: 'intruder' });
  expect(other.statusCode).toBe(400);
  expect(other.json.results[0]).toMatchObject({ status: 'rejected', errors: [{ path: 'id', message: 'is already used by an event of another app' }] });
});

it('answers 503 with per-event results when a write fails, so the client retries only those', async () => {
  dynamo.on(PutCommand).resolvesOnce({}).rejects(new Error('ProvisionedThroughputExceeded'));
  const result = await invoke({ events: [{ type: 'user.logout' }, { type: 'user.logout' }] });
  expect(result.statusCode).toBe(503);
  expect(result.headers?.['retry-after']).toBe('1');
  expect(result.json.results.map((r: { status: string }) => r.status).sort()).toEqual(['accepted', 'failed']);
  expect(result.body).not.toMatch(/ProvisionedThroughput/);
});

it('answers 429 with Retry-After when the app is over its rate, writing nothing', async () => {
  dynamo.on(UpdateCommand).resolves({ Attributes: { used: 150 } });
  const result = await invoke({ events: [{ type: 'user.logout' }, { type: 'user.logout' }] });
  expect(result.statusCode).toBe(429);
  expect(result.headers?.['retry-after']).toBe('1');
  expect(result.json.error.code).toBe('rate_limited');
  expect(dynamo).not.toHaveReceivedCommand(PutCommand);
});

it('hides internal failures behind a 500 that names the request', async () => {
  dynamo.on(UpdateCommand).rejects(new Error('socket hang up at internal.js:12'));
  const result = await invoke({ type: 'user.logout' });
  expect(result.statusCode).toBe(500);
  expect(result.json).toEqual({ error: { code: 'internal_error', message: expect.stringContaining('api-req-1') } });
});

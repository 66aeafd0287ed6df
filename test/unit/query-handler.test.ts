/**
 * The query Lambda as deployed on AWS, with DynamoDB and Secrets Manager
 * mocked: the key comes from the secret named by CURSOR_SECRET_ARN, reads
 * are Queries exactly as planned (never a Scan), values travel only as
 * expression values. The real path runs in test/integration/query.test.ts.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { loadCursorKey } from '../../lambdas/adapters/cursor-key';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:CursorSigningKey-AbCdEf';
process.env.EVENTS_TABLE = 'events-test';
process.env.AWS_REGION = 'eu-west-1';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.CURSOR_SECRET_ARN = SECRET_ARN;
delete process.env.CURSOR_SIGNING_KEY;

const dynamo = mockClient(DynamoDBDocumentClient);
const secrets = mockClient(SecretsManagerClient);
secrets.on(GetSecretValueCommand).resolves({ SecretString: 'k'.repeat(64) });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/query/handler') as { handler: (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult> };

const context = { functionName: 'query', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const viewer = { claims: { sub: 'abc', email: 'viewer@example.com', 'cognito:groups': 'viewer' } };

function request(resource: string, query: Record<string, string> = {}, pathParameters: Record<string, string> | null = null, authorizer: unknown = viewer): APIGatewayProxyEvent {
  const hasQuery = Object.keys(query).length > 0;
  return {
    httpMethod: 'GET',
    resource,
    path: resource,
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
    pathParameters,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'api-req-1', authorizer },
  } as unknown as APIGatewayProxyEvent;
}

async function invoke(event: APIGatewayProxyEvent) {
  const result = await handler(event, context);
  return { ...result, json: JSON.parse(result.body) };
}

const item = (minute: number, id: string, extra: Record<string, string> = {}) => ({
  pk: id,
  sk: `2026-11-20T10:${String(minute).padStart(2, '0')}:00.000Z#${id}`,
  userPk: 'U#u-1',
  id,
  occurredAt: `2026-11-20T10:${String(minute).padStart(2, '0')}:00.000Z`,
  type: 'user.login.failed',
  severity: 'warning',
  userId: 'u-1',
  ...extra,
});

beforeEach(() => dynamo.reset());

it('reads the user index with a Query (never a Scan), the value only in ExpressionAttributeValues, and answers list attributes', async () => {
  const odd = "' OR 1=1 --";
  dynamo.on(QueryCommand).resolves({ Items: [item(5, '01JD7X8Y9ZABCDEFGHJKMNPQR2', { userId: odd }), item(4, '01JD7X8Y9ZABCDEFGHJKMNPQR1', { userId: odd })] });
  const result = await invoke(request('/v1/events', { userId: odd, severity: 'warning', from: '2026-11-01', to: '2026-11-23' }));
  expect(result.statusCode).toBe(200);
  expect(dynamo).not.toHaveReceivedCommand(ScanCommand);
  expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 1);
  const input = dynamo.commandCalls(QueryCommand)[0].args[0].input;
  expect(input).toMatchObject({
    TableName: 'events-test',
    IndexName: 'byUser',
    KeyConditionExpression: '#partition = :partition AND #sk BETWEEN :from AND :to',
    FilterExpression: '#severity = :severity',
    ExpressionAttributeNames: { '#partition': 'userPk', '#sk': 'sk', '#severity': 'severity' },
    ExpressionAttributeValues: { ':partition': `U#${odd}`, ':from': '2026-11-01T00:00:00.000Z#', ':to': '2026-11-23T23:59:59.999Z#~', ':severity': 'warning' },
    ScanIndexForward: false,
  });
  expect(JSON.stringify([input.KeyConditionExpression, input.FilterExpression])).not.toContain(odd);
  expect(result.json.cursor).toBeUndefined();
  expect(result.json.items).toEqual([
    { id: '01JD7X8Y9ZABCDEFGHJKMNPQR2', occurredAt: '2026-11-20T10:05:00.000Z', type: 'user.login.failed', severity: 'warning', userId: odd },
    { id: '01JD7X8Y9ZABCDEFGHJKMNPQR1', occurredAt: '2026-11-20T10:04:00.000Z', type: 'user.login.failed', severity: 'warning', userId: odd },
  ]);
});

it('signs a cursor with the secret from Secrets Manager (fetched once) and resumes after the last item handed out', async () => {
  dynamo.on(QueryCommand).resolvesOnce({ Items: [item(9, 'ID9'), item(8, 'ID8'), item(7, 'ID7')], LastEvaluatedKey: { pk: 'ID7', userPk: 'U#u-1', sk: item(7, 'ID7').sk } });
  const first = await invoke(request('/v1/events', { userId: 'u-1', limit: '2', from: '2026-11-01' }));
  expect(first.json.items.map((i: { id: string }) => i.id)).toEqual(['ID9', 'ID8']);
  expect(first.json.cursor).toEqual(expect.any(String));
  expect(dynamo.commandCalls(QueryCommand)[0].args[0].input.Limit).toBe(3);

  dynamo.reset();
  dynamo.on(QueryCommand).resolves({ Items: [item(7, 'ID7')] });
  const second = await invoke(request('/v1/events', { userId: 'u-1', limit: '2', from: '2026-11-01', cursor: first.json.cursor }));
  expect(second.statusCode).toBe(200);
  expect(dynamo.commandCalls(QueryCommand)[0].args[0].input.ExclusiveStartKey).toEqual({ pk: 'ID8', userPk: 'U#u-1', sk: item(8, 'ID8').sk });
  expect(second.json).toEqual({ items: [expect.objectContaining({ id: 'ID7' })] });

  expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });

  const otherFilters = await invoke(request('/v1/events', { userId: 'u-2', limit: '2', from: '2026-11-01', cursor: first.json.cursor }));
  expect(otherFilters.statusCode).toBe(400);
  expect(otherFilters.json.error.code).toBe('invalid_cursor');
});

it('reads a sharded index in parallel, one Query per shard', async () => {
  dynamo.on(QueryCommand).resolves({ Items: [] });
  const result = await invoke(request('/v1/events', { type: 'payment.charge.failed', status: 'failure' }));
  expect(result.json).toEqual({ items: [] });
  const calls = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
  expect(calls.map((input) => input.ExpressionAttributeValues?.[':partition']).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `T#payment.charge.failed#${i}`));
  for (const input of calls) expect(input).toMatchObject({ IndexName: 'byType', FilterExpression: '#status = :status', ScanIndexForward: false });
});

it('serves record history and traces oldest first', async () => {
  dynamo.on(QueryCommand).resolves({ Items: [item(1, 'A')] });
  const history = await invoke(request('/v1/records/{type}/{id}/history', {}, { type: 'invoice', id: 'INV-1001' }));
  expect(history.statusCode).toBe(200);
  expect(dynamo.commandCalls(QueryCommand)[0].args[0].input).toMatchObject({
    IndexName: 'byRecord',
    KeyConditionExpression: '#partition = :partition',
    ExpressionAttributeValues: { ':partition': 'R#invoice#INV-1001' },
    ScanIndexForward: true,
    Limit: 201,
  });
  dynamo.resetHistory();
  await invoke(request('/v1/traces/{traceId}', { limit: '10' }, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736' }));
  expect(dynamo.commandCalls(QueryCommand)[0].args[0].input).toMatchObject({
    IndexName: 'byTrace',
    ExpressionAttributeValues: { ':partition': 'X#4bf92f3577b34da6a3ce929d0e0e4736' },
    ScanIndexForward: true,
    Limit: 11,
  });
});

it.each([
  ['no principal', 401, 'unauthorized', request('/v1/events', {}, null, null)],
  ['an unknown parameter', 400, 'unknown_parameter', request('/v1/events', { sort: 'asc' })],
  ['a bad severity', 400, 'invalid_filter', request('/v1/events', { severity: 'fatal' })],
  ['a garbage cursor', 400, 'invalid_cursor', request('/v1/events', { cursor: 'abc' })],
  ['a record type without id', 400, 'invalid_filter', request('/v1/events', { recordType: 'invoice' })],
  ['an unknown resource', 404, 'not_found', request('/v1/unknown')],
])('answers %s with %i %s', async (_name, status, code, event) => {
  const result = await invoke(event);
  expect(result.statusCode).toBe(status);
  expect(result.json.error.code).toBe(code);
  expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
});

it('hides a DynamoDB failure behind a 500 naming the request', async () => {
  dynamo.on(QueryCommand).rejects(new Error('ValidationException: at internal.js:12'));
  const result = await invoke(request('/v1/events', { userId: 'u-1' }));
  expect(result.statusCode).toBe(500);
  expect(result.json).toEqual({ error: { code: 'internal_error', message: expect.stringContaining('api-req-1') } });
});

describe('the cursor key', () => {
  it('is the local base64 value when given, the secret otherwise, and an error without either', async () => {
    const local = Buffer.alloc(32, 7);
    expect(await loadCursorKey({ CURSOR_SIGNING_KEY: local.toString('base64'), CURSOR_SECRET_ARN: SECRET_ARN })).toEqual(local);
    expect(await loadCursorKey({ CURSOR_SECRET_ARN: SECRET_ARN })).toEqual(Buffer.from('k'.repeat(64)));
    await expect(loadCursorKey({})).rejects.toThrow(/CURSOR_SIGNING_KEY nor CURSOR_SECRET_ARN/);
    await expect(loadCursorKey({ CURSOR_SIGNING_KEY: 'c2hvcnQ=' })).rejects.toThrow(/at least 32 bytes/);
  });
});

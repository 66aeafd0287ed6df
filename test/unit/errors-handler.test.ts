/**
 * The errors Lambda's list route with DynamoDB mocked: a page is one Query of
 * a status index plus ONE BatchGetItem of the page's histograms (the key and
 * `hist` only), each group answered with its 24-hour sparkline. The real
 * path runs in test/integration/errors.test.ts.
 */
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SPARKLINE_HOURS, hourKey } from '../../lambdas/core/error-groups';

Object.assign(process.env, { ERROR_GROUPS_TABLE: 'error-groups-test', EVENTS_TABLE: 'events-test', AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: 'SILENT' });

const dynamo = mockClient(DynamoDBDocumentClient);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/errors/handler') as { handler: (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult> };
const context = { functionName: 'errors', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const viewer = { claims: { sub: 'abc', email: 'viewer@example.com', 'cognito:groups': 'viewer' } };

const NOW = new Date('2026-11-23T12:30:00.000Z');
const HOUR = 3_600_000;
const hoursAgo = (n: number) => hourKey(new Date(NOW.getTime() - n * HOUR).toISOString());

function list(query: Record<string, string> = {}): Promise<APIGatewayProxyResult & { json: { items: Array<Record<string, unknown>>; cursor?: string } }> {
  const hasQuery = Object.keys(query).length > 0;
  const event = {
    httpMethod: 'GET',
    resource: '/v1/errors',
    path: '/v1/errors',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'api-req-1', authorizer: viewer },
  } as unknown as APIGatewayProxyEvent;
  return handler(event, context).then((result) => ({ ...result, json: JSON.parse(result.body) }));
}

const groupId = (n: number) => n.toString(16).padStart(16, '0');
const indexItem = (n: number) => ({ pk: groupId(n), status: 'unresolved', title: `Error ${n}`, source: 'checkout', type: 'server.error', count: 10 + n, lastSeen: '2026-11-23T12:00:00.000Z', firstSeen: '2026-11-20T08:00:00.000Z' });

beforeAll(() => {
  // Only the clock: the SDK mock and the retry backoff keep real timers.
  jest.useFakeTimers({ now: NOW, doNotFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask'] });
});
afterAll(() => jest.useRealTimers());
beforeEach(() => dynamo.reset());

test('a page is one Query and ONE BatchGetItem of the groups’ key and histogram; each item gets the last 24 hourly counts, oldest first', async () => {
  dynamo.on(QueryCommand).resolves({ Items: [indexItem(1), indexItem(2), indexItem(3)] });
  dynamo.on(BatchGetCommand).resolves({
    Responses: {
      'error-groups-test': [
        { pk: groupId(1), hist: { [hoursAgo(0)]: 4, [hoursAgo(23)]: 2, [hoursAgo(24)]: 99, [hoursAgo(100)]: 7 } },
        { pk: groupId(2) }, // no hour in the window kept: all zeros
      ],
    },
  });
  const result = await list();
  expect(result.statusCode).toBe(200);
  expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 1);
  expect(dynamo).toHaveReceivedCommandTimes(BatchGetCommand, 1);
  expect(dynamo.commandCalls(BatchGetCommand)[0]!.args[0].input).toEqual({
    RequestItems: {
      'error-groups-test': {
        Keys: [{ pk: groupId(1) }, { pk: groupId(2) }, { pk: groupId(3) }],
        ProjectionExpression: '#pk, #hist',
        ExpressionAttributeNames: { '#pk': 'pk', '#hist': 'hist' },
      },
    },
  });
  const [first, second, third] = result.json.items;
  const expected = Array<number>(SPARKLINE_HOURS).fill(0);
  expected[0] = 2; // 23 hours ago: the oldest hour shown
  expected[SPARKLINE_HOURS - 1] = 4; // this hour
  expect(first).toMatchObject({ id: groupId(1), title: 'Error 1', count: 11, sparkline: expected });
  expect(second).toMatchObject({ id: groupId(2), sparkline: Array(SPARKLINE_HOURS).fill(0) });
  // Not in the answer (expired meanwhile): listed without a sparkline rather than with a false flat one.
  expect(third).toMatchObject({ id: groupId(3) });
  expect(third).not.toHaveProperty('sparkline');
  expect(first).not.toHaveProperty('hist');
});

test('an empty page reads no histograms', async () => {
  dynamo.on(QueryCommand).resolves({ Items: [] });
  const result = await list({ status: 'ignored' });
  expect(result.json).toEqual({ items: [] });
  expect(dynamo).not.toHaveReceivedCommand(BatchGetCommand);
});

test('a full page of 100 is still one BatchGetItem; keys left unprocessed are asked again, and dropped (no sparkline) if they stay so', async () => {
  const items = Array.from({ length: 100 }, (_, i) => indexItem(i + 1));
  dynamo.on(QueryCommand).resolves({ Items: items, LastEvaluatedKey: { pk: groupId(100), status: 'unresolved', lastSeen: '2026-11-23T12:00:00.000Z' } });
  dynamo
    .on(BatchGetCommand)
    .resolvesOnce({
      Responses: { 'error-groups-test': items.slice(0, 98).map((item) => ({ pk: item.pk, hist: { [hoursAgo(1)]: 1 } })) },
      UnprocessedKeys: { 'error-groups-test': { Keys: [{ pk: groupId(99) }, { pk: groupId(100) }] } },
    })
    .resolvesOnce({ Responses: { 'error-groups-test': [{ pk: groupId(99), hist: { [hoursAgo(1)]: 5 } }] }, UnprocessedKeys: { 'error-groups-test': { Keys: [{ pk: groupId(100) }] } } })
    .resolves({ UnprocessedKeys: { 'error-groups-test': { Keys: [{ pk: groupId(100) }] } } });
  const result = await list({ limit: '100' });
  expect(result.statusCode).toBe(200);
  const calls = dynamo.commandCalls(BatchGetCommand);
  expect(calls[0]!.args[0].input.RequestItems!['error-groups-test']!.Keys).toHaveLength(100);
  expect(calls.slice(1).every((call) => call.args[0].input.RequestItems!['error-groups-test']!.Keys!.length <= 2)).toBe(true);
  expect(calls.length).toBeLessThanOrEqual(4);
  expect(result.json.items).toHaveLength(100);
  expect(result.json.items[0]!.sparkline).toHaveLength(SPARKLINE_HOURS);
  expect((result.json.items[98]!.sparkline as number[]).at(-2)).toBe(5);
  expect(result.json.items[99]).not.toHaveProperty('sparkline');
  expect(result.json.cursor).toEqual(expect.any(String));
});

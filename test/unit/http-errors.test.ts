/**
 * How a route answers when its handler throws: client errors keep their
 * status, a throttled or unreachable dependency makes a 503 with
 * Retry-After, anything else a 500 that leaks nothing.
 */
import { ProvisionedThroughputExceededException, InternalServerError } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ClientError } from '../../lambdas/core/errors';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
// Required after the log level is set: the logger reads it when the module loads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { httpHandler, isServiceUnavailable } = require('../../lambdas/shared/http') as typeof import('../../lambdas/shared/http');

const context = { functionName: 'test', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const event = { httpMethod: 'GET', path: '/v1/x', headers: {}, requestContext: { requestId: 'api-req-7' } } as unknown as APIGatewayProxyEvent;

async function answerWhenThrowing(error: unknown): Promise<APIGatewayProxyResult & { json: { error: { code: string; message: string } } }> {
  const handler = httpHandler(async () => {
    throw error;
  });
  const result = (await handler(event, context)) as APIGatewayProxyResult;
  return { ...result, json: JSON.parse(result.body) };
}

const connectionRefused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' });
const sdkTimeout = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });

test.each([
  ['DynamoDB throttling (after the SDK’s retries)', new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } })],
  ['a DynamoDB 500', new InternalServerError({ message: 'Internal', $metadata: { httpStatusCode: 500 } })],
  ['DynamoDB unreachable', connectionRefused],
  ['a timed-out connection', sdkTimeout],
])('%s → 503 service_unavailable with Retry-After, no internals in the body', async (_, error) => {
  const answer = await answerWhenThrowing(error);
  expect(answer.statusCode).toBe(503);
  expect(answer.headers?.['retry-after']).toBe('1');
  expect(answer.json.error.code).toBe('service_unavailable');
  expect(answer.json.error.message).toContain('api-req-7');
  expect(answer.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|Rate exceeded|Internal/);
});

test('a programming error stays a 500 naming only the request id', async () => {
  const answer = await answerWhenThrowing(new TypeError("Cannot read properties of undefined (reading 'x')"));
  expect(answer.statusCode).toBe(500);
  expect(answer.json.error).toEqual({ code: 'internal_error', message: 'something went wrong on our side; quote request id api-req-7' });
  expect(answer.headers?.['retry-after']).toBeUndefined();
});

test('a client error keeps its status and headers', async () => {
  const answer = await answerWhenThrowing(new ClientError(429, 'rate_limited', 'slow down', { 'retry-after': '1' }));
  expect(answer.statusCode).toBe(429);
  expect(answer.json.error.code).toBe('rate_limited');
});

test.each([null, undefined, 'boom', 42, new Error('plain')])('%p is not a dependency being unavailable', (value) => {
  expect(isServiceUnavailable(value)).toBe(false);
});

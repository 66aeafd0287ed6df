import { Logger } from '@aws-lambda-powertools/logger';
import { search } from '@aws-lambda-powertools/logger/correlationId';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ClientError } from '../core/errors';

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export const logger = new Logger({ correlationIdSearchFn: search });

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(statusCode: number, code: string, message: string, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return json(statusCode, { error: { code, message } }, headers);
}

/** Seconds a client is asked to wait after a 503 (the client SDK adds its own backoff on repeats). */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/**
 * An AWS call failed in a way a later attempt can succeed: throttled, the
 * service answered 5xx, or it could not be reached. The SDK has already
 * retried it with backoff, so the caller is told to come back later.
 * The classification is the SDK's own (@smithy/core/retry).
 */
export function isServiceUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const sdkError = error as Parameters<typeof isTransientError>[0];
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError);
}

/**
 * Client errors become `{ "error": { code, message } }` with their status;
 * a dependency that is throttled or unavailable (DynamoDB, S3) makes a 503
 * with Retry-After; anything else is logged with its stack and answered with
 * a bare 500 that names the request id, never the stack.
 */
const jsonErrors = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: async (request) => {
    const { error } = request;
    if (error instanceof ClientError) {
      request.response = errorResponse(error.statusCode, error.code, error.message, error.headers);
      return;
    }
    const requestId = request.event?.requestContext?.requestId ?? 'unknown';
    if (isServiceUnavailable(error)) {
      logger.error('a dependency is unavailable', error as Error);
      request.response = errorResponse(503, 'service_unavailable', `the service is briefly unavailable; retry shortly (request id ${requestId})`, {
        'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS),
      });
      return;
    }
    logger.error('unhandled error', error as Error);
    request.response = errorResponse(500, 'internal_error', `something went wrong on our side; quote request id ${requestId}`);
  },
});

/** Lets a browser page of another origin read the answer (success or error alike). */
const allowOrigin = (origin: string): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => {
  const add = async (request: { response?: APIGatewayProxyResult | null }) => {
    if (request.response) request.response.headers = { ...request.response.headers, 'access-control-allow-origin': origin };
  };
  return { after: add, onError: add };
};

/**
 * Wraps a route handler: Lambda context and API Gateway request id on every
 * log line, JSON errors, and for browser-callable routes the CORS header.
 */
export function httpHandler(handler: ApiHandler, options: { corsAllowOrigin?: string } = {}) {
  const wrapped = middy(handler).use(injectLambdaContext(logger, { correlationIdPath: 'requestContext.requestId', resetKeys: true }));
  // Registered before jsonErrors so that its onError runs after the error response exists.
  if (options.corsAllowOrigin) wrapped.use(allowOrigin(options.corsAllowOrigin));
  return wrapped.use(jsonErrors());
}

/** Header lookup that ignores case, as HTTP does (API Gateway keeps the client's casing). */
export function header(event: { headers?: Record<string, string | undefined> | null }, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === wanted) return value ?? undefined;
  return undefined;
}

/** The request body as text, whether or not API Gateway base64-encoded it. */
export function bodyText(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): string | null {
  if (event.body == null) return null;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

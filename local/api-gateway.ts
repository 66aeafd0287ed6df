import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { APP_KEY_AUTHORIZER_FUNCTION, type FunctionDeclaration } from '../lib/declarations/functions';
import { APP_ROUTE_CORS, BINARY_MEDIA_TYPES, type RouteDeclaration } from '../lib/declarations/routes';
import { invokeHandler } from './invocations';

/**
 * The local stand-in for API Gateway (REST): matches the declared routes,
 * runs the app-key authorizer or checks the bearer token the way the
 * Cognito authorizer would, and hands the handlers the same proxy event
 * AWS does. Binds 127.0.0.1 only.
 */

export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;

export interface LocalApiOptions {
  routes: readonly RouteDeclaration[];
  /** Handler per function declaration id. */
  handlers: Record<string, LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>>;
  appKeyAuthorizer: LambdaHandler<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>;
  /** Claims for a valid bearer token, undefined otherwise (the Cognito authorizer's job). */
  verifyBearer: (token: string) => Promise<Record<string, string> | undefined>;
  /** Seconds an authorizer answer is reused for the same key, like the deployed authorizer's cache. */
  authorizerCacheSeconds?: number;
  /** Whether the stack is ready (answers /v1/health). */
  isReady?: () => boolean;
  /** Extra requests the local stack serves itself (the SPA, export downloads); return false to fall through. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** Content types handed to functions base64-encoded (the RestApi's binaryMediaTypes); the declared ones by default. */
  binaryMediaTypes?: readonly string[];
  log?: (line: string) => void;
}

/** API Gateway REST refuses larger payloads before any Lambda runs. */
const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;
const REGION = 'local';
const ACCOUNT = '000000000000';
const API_ID = 'local';
const STAGE = 'prod';

interface CompiledRoute {
  declaration: RouteDeclaration;
  pattern: RegExp;
  parameterNames: string[];
}

function compile(route: RouteDeclaration): CompiledRoute {
  const parameterNames: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const parameter = /^\{(\w+)\+?\}$/.exec(segment);
      if (!parameter) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      parameterNames.push(parameter[1]);
      return '([^/]+)';
    })
    .join('/');
  return { declaration: route, pattern: new RegExp(`^${source}/?$`), parameterNames };
}

/** The JSON body API Gateway's gateway responses use in this project (see lib/constructs/api.ts). */
function gatewayError(res: ServerResponse, statusCode: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(statusCode, { 'content-type': 'application/json; charset=utf-8', 'access-control-allow-origin': APP_ROUTE_CORS.allowOrigin, ...headers });
  res.end(JSON.stringify({ error: { code, message } }));
}

function lambdaContext(fn: FunctionDeclaration): Context {
  const deadline = Date.now() + fn.timeoutSeconds * 1000;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `audit-trail-${fn.id}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:audit-trail-${fn.id}`,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/audit-trail-${fn.id}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return 'too_large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function gunzipBody(body: Buffer): Buffer | 'invalid' {
  try {
    return gunzipSync(body, { maxOutputLength: API_GATEWAY_MAX_BODY });
  } catch {
    return 'invalid';
  }
}

function singleAndMultiValue(entries: Iterable<[string, string]>) {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of entries) {
    single[name] = value;
    (multi[name] ??= []).push(value);
  }
  return { single, multi };
}

export function createLocalApi(options: LocalApiOptions): Server {
  const routes = options.routes.map(compile);
  const cacheMs = (options.authorizerCacheSeconds ?? 300) * 1000;
  const authorizerCache = new Map<string, { result: APIGatewayAuthorizerResult; until: number }>();
  const log = options.log ?? (() => undefined);
  const binaryMediaTypes = options.binaryMediaTypes ?? BINARY_MEDIA_TYPES;

  /** 'failed': the authorizer threw something else than "Unauthorized" (its key lookup failed), API Gateway's AUTHORIZER_FAILURE. */
  async function authorizeAppKey(event: APIGatewayRequestAuthorizerEvent, apiKey: string): Promise<APIGatewayAuthorizerResult | 'unauthorized' | 'failed'> {
    const cached = authorizerCache.get(apiKey);
    if (cached && cached.until > Date.now()) return cached.result;
    try {
      const result = await invokeHandler(options.appKeyAuthorizer, event, lambdaContext(APP_KEY_AUTHORIZER_FUNCTION));
      authorizerCache.set(apiKey, { result, until: Date.now() + cacheMs });
      return result;
    } catch (error) {
      if ((error as Error).message === 'Unauthorized') return 'unauthorized';
      log(`app-key authorizer failed: ${String((error as Error)?.message ?? error)}`);
      return 'failed';
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const matches = routes
      .map((route) => ({ route, match: route.pattern.exec(url.pathname) }))
      .filter((candidate): candidate is { route: CompiledRoute; match: RegExpExecArray } => candidate.match !== null);
    const found = matches.find((candidate) => candidate.route.declaration.method === method);

    if (!found) {
      // The CORS preflight of an app route: answered by API Gateway itself (a mock), no authorizer, no function.
      const appRoute = matches.find((candidate) => candidate.route.declaration.auth === 'appKey');
      if (method === 'OPTIONS' && appRoute) {
        res.writeHead(204, {
          'access-control-allow-origin': APP_ROUTE_CORS.allowOrigin,
          'access-control-allow-methods': appRoute.route.declaration.method,
          'access-control-allow-headers': APP_ROUTE_CORS.allowHeaders.join(','),
          'access-control-max-age': String(APP_ROUTE_CORS.maxAgeSeconds),
        });
        res.end();
        return;
      }
      if (options.fallback && (await options.fallback(req, res))) return;
      if (matches.length > 0) return gatewayError(res, 405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}`);
      return gatewayError(res, 404, 'not_found', `no route ${method} ${url.pathname}`);
    }
    const { route, match } = found;
    const declaration = route.declaration;

    if (!declaration.function) {
      const ready = options.isReady?.() ?? true;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ status: ready ? 'ok' : 'starting' }));
      return;
    }

    const received = await readBody(req, API_GATEWAY_MAX_BODY);
    if (received === 'too_large') return gatewayError(res, 413, 'payload_too_large', 'Request Too Long');
    // API Gateway decompresses a gzip request body before the integration sees it.
    const body = /^\s*gzip\s*$/i.test(String(req.headers['content-encoding'] ?? '')) ? gunzipBody(received) : received;
    if (body === 'invalid') return gatewayError(res, 400, 'bad_request', 'the body is not valid gzip');

    const rawHeaders: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) rawHeaders.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    const headers = singleAndMultiValue(rawHeaders);
    const query = singleAndMultiValue(url.searchParams.entries());
    const pathParameters = Object.fromEntries(route.parameterNames.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
    const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const userAgent = headers.single[Object.keys(headers.single).find((name) => name.toLowerCase() === 'user-agent') ?? ''] ?? null;
    const requestId = randomUUID();
    const now = Date.now();
    const methodArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/${STAGE}/${method}${declaration.path}`;
    const headerValue = (name: string) => Object.entries(headers.single).find(([key]) => key.toLowerCase() === name)?.[1];

    let authorizer: APIGatewayProxyEvent['requestContext']['authorizer'] = null;
    if (declaration.auth === 'appKey') {
      const apiKey = headerValue('x-api-key');
      if (!apiKey) return gatewayError(res, 401, 'unauthorized', 'Unauthorized');
      const outcome = await authorizeAppKey(
        {
          type: 'REQUEST',
          methodArn,
          resource: declaration.path,
          path: url.pathname,
          httpMethod: method,
          headers: headers.single,
          multiValueHeaders: headers.multi,
          pathParameters,
          queryStringParameters: query.single,
          multiValueQueryStringParameters: query.multi,
          stageVariables: null,
          requestContext: requestContextFor(null),
        } as unknown as APIGatewayRequestAuthorizerEvent,
        apiKey,
      );
      if (outcome === 'unauthorized') return gatewayError(res, 401, 'unauthorized', 'Unauthorized');
      // As the deployed API's AUTHORIZER_FAILURE gateway response: the key could not be checked right now.
      if (outcome === 'failed') return gatewayError(res, 503, 'service_unavailable', 'the service is briefly unavailable; retry shortly', { 'retry-after': '1' });
      const allowed = outcome.policyDocument.Statement.some((statement) => 'Effect' in statement && statement.Effect === 'Allow');
      if (!allowed) return gatewayError(res, 403, 'forbidden', 'User is not authorized to access this resource with an explicit deny');
      // API Gateway stringifies the authorizer's context values on the way to the integration.
      authorizer = { principalId: outcome.principalId, ...Object.fromEntries(Object.entries(outcome.context ?? {}).map(([k, v]) => [k, String(v)])) };
    } else if (declaration.auth === 'viewer' || declaration.auth === 'admin') {
      const bearer = /^Bearer\s+(\S+)$/i.exec(headerValue('authorization') ?? '');
      const claims = bearer ? await options.verifyBearer(bearer[1]) : undefined;
      if (!claims) return gatewayError(res, 401, 'unauthorized', 'Unauthorized');
      authorizer = { claims };
    }

    function requestContextFor(auth: typeof authorizer): APIGatewayProxyEvent['requestContext'] {
      return {
        accountId: ACCOUNT,
        apiId: API_ID,
        authorizer: auth,
        domainName: req.headers.host ?? 'localhost',
        domainPrefix: 'localhost',
        httpMethod: method,
        path: `/${STAGE}${url.pathname}`,
        protocol: `HTTP/${req.httpVersion}`,
        requestId,
        requestTimeEpoch: now,
        resourceId: 'local',
        resourcePath: declaration.path,
        stage: STAGE,
        identity: {
          sourceIp,
          userAgent,
          accessKey: null,
          accountId: null,
          apiKey: null,
          apiKeyId: null,
          caller: null,
          clientCert: null,
          cognitoAuthenticationProvider: null,
          cognitoAuthenticationType: null,
          cognitoIdentityId: null,
          cognitoIdentityPoolId: null,
          principalOrgId: null,
          user: null,
          userArn: null,
        },
      };
    }

    const event: APIGatewayProxyEvent = {
      resource: declaration.path,
      path: url.pathname,
      httpMethod: method,
      headers: headers.single,
      multiValueHeaders: headers.multi,
      queryStringParameters: url.search ? query.single : null,
      multiValueQueryStringParameters: url.search ? query.multi : null,
      pathParameters: route.parameterNames.length > 0 ? pathParameters : null,
      stageVariables: null,
      requestContext: requestContextFor(authorizer),
      // Like API Gateway: a body whose content type is a binary media type arrives base64-encoded, others as UTF-8 text.
      body: body.length > 0 ? body.toString(isBinaryMediaType(headerValue('content-type'), binaryMediaTypes) ? 'base64' : 'utf8') : null,
      isBase64Encoded: body.length > 0 && isBinaryMediaType(headerValue('content-type'), binaryMediaTypes),
    };

    const fn = declaration.function;
    const handler = options.handlers[fn.id];
    if (!handler) throw new Error(`no local handler for function ${fn.id}`);
    const started = Date.now();
    const result = await withTimeout(invokeHandler(handler, event, lambdaContext(fn)), fn.timeoutSeconds * 1000);
    if (result === 'timeout') return gatewayError(res, 504, 'timeout', 'Endpoint request timed out');
    const responseHeaders: Record<string, string | string[]> = { ...result.headers } as Record<string, string>;
    for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) responseHeaders[name] = values.map(String);
    res.writeHead(result.statusCode, responseHeaders);
    // API Gateway decodes a base64 answer only for a client whose first Accept type is a binary media type
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html);
    // without binary media types configured nothing is binary, and answers pass as they are, as before.
    const decode = result.isBase64Encoded && (binaryMediaTypes.length === 0 || isBinaryMediaType(headerValue('accept')?.split(',')[0], binaryMediaTypes));
    res.end(result.body ? Buffer.from(result.body, decode ? 'base64' : 'utf8') : undefined);
    log(`${method} ${url.pathname} ${result.statusCode} ${Date.now() - started}ms`);
  }

  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // Like API Gateway when an integration fails: a 502 without internals; the cause goes to the console.
      console.error('local API: handler failed', error);
      if (!res.headersSent) gatewayError(res, 502, 'bad_gateway', 'Internal server error');
      else res.end();
    });
  });
}

/** Whether a Content-Type (or Accept) value matches one of the binary media types (exact, `type/` wildcard, or any). */
export function isBinaryMediaType(value: string | undefined, binaryMediaTypes: readonly string[]): boolean {
  const mediaType = (value ?? '').split(';')[0].trim().toLowerCase();
  if (!mediaType) return false;
  const [type] = mediaType.split('/');
  return binaryMediaTypes.some((candidate) => {
    const c = candidate.toLowerCase();
    return c === mediaType || c === '*/*' || c === `${type}/*`;
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

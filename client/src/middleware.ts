/**
 * Request recording for servers (`@audit-trail/client/middleware`): an
 * Express-style middleware pair and a middy middleware. Each request becomes
 * one event (method, route, status, duration, user) and each thrown error
 * another, both with the request's W3C trace context: the incoming
 * `traceparent` is continued (a child span), or a trace is started.
 * Structural types only: neither express nor middy is a dependency.
 */
import type { AuditClient } from './client';
import { childContext, formatTraceparent, parseTraceparent, type TraceContext } from './trace';
import type { AuditEventInput, EventType } from './types';

/** What a handler can read about its request's trace (to pass `traceparent` on to the services it calls). */
export interface RequestTrace extends TraceContext {
  traceparent: string;
  requestId?: string;
}

export interface RecorderOptions<Req> {
  /** The signed-in user, if any (default: `req.user.id`/`sub`, or the authorizer's `sub` for middy). */
  user?: (req: Req) => string | undefined;
  /** The route pattern, not the raw path, so events of one route group together. */
  route?: (req: Req) => string | undefined;
  /** Requests not worth an event (health checks). */
  skip?: (req: Req) => boolean;
  /** The per-request event's type; 5xx answers get `failureType`. Defaults: `api.request.completed`, `api.request.failed`. */
  successType?: EventType;
  failureType?: EventType;
  /** The type of a thrown error's event. Default `server.error`. */
  errorType?: EventType;
}

const traces = new WeakMap<object, RequestTrace & { started: number }>();

/** The trace context the middleware gave this request (Express `req`, or middy's `request`). */
export function requestTrace(req: object): RequestTrace | undefined {
  const trace = traces.get(req);
  return trace && { traceId: trace.traceId, spanId: trace.spanId, flags: trace.flags, traceparent: trace.traceparent, requestId: trace.requestId };
}

function headerOf(headers: Record<string, unknown> | null | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

function startTrace(key: object, headers: Record<string, unknown> | null | undefined, requestId?: string): RequestTrace & { started: number } {
  const context = childContext(parseTraceparent(headerOf(headers, 'traceparent')));
  const trace = { ...context, traceparent: formatTraceparent(context), requestId: requestId ?? headerOf(headers, 'x-request-id'), started: now() };
  traces.set(key, trace);
  return trace;
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function requestEvent(
  options: RecorderOptions<never>,
  trace: RequestTrace & { started: number },
  facts: { method?: string; route?: string; status: number; user?: string },
): AuditEventInput {
  const failed = facts.status >= 500;
  return {
    type: (failed ? (options.failureType ?? 'api.request.failed') : (options.successType ?? 'api.request.completed')) as EventType,
    status: facts.status >= 400 ? 'failure' : 'success',
    ...(facts.route ? { page: facts.route } : {}),
    ...(facts.user ? { actor: { userId: facts.user } } : {}),
    traceId: trace.traceId,
    spanId: trace.spanId,
    ...(trace.requestId ? { requestId: trace.requestId } : {}),
    details: { method: facts.method, route: facts.route, status: facts.status, durationMs: Math.round((now() - trace.started) * 10) / 10 },
  } as AuditEventInput;
}

function errorContext(options: RecorderOptions<never>, trace: RequestTrace, facts: { method?: string; route?: string; user?: string }): Partial<AuditEventInput> {
  return {
    type: (options.errorType ?? 'server.error') as EventType,
    ...(facts.route ? { page: facts.route } : {}),
    ...(facts.user ? { actor: { userId: facts.user } } : {}),
    traceId: trace.traceId,
    spanId: trace.spanId,
    ...(trace.requestId ? { requestId: trace.requestId } : {}),
    details: { method: facts.method, route: facts.route },
  } as Partial<AuditEventInput>;
}

// ------------------------------------------------------------------ Express

/** The parts of an Express (or plain Node) request the recorder reads. */
export interface HttpRequestLike {
  method?: string;
  url?: string;
  originalUrl?: string;
  baseUrl?: string;
  route?: { path?: unknown };
  headers: Record<string, string | string[] | undefined>;
  user?: unknown;
}
export interface HttpResponseLike {
  statusCode: number;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}
type Next = (error?: unknown) => void;

function defaultUser(req: HttpRequestLike): string | undefined {
  const user = req.user as { id?: unknown; sub?: unknown } | undefined;
  const id = user?.id ?? user?.sub;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/** The matched route (`/invoices/:id`) once Express has routed; the path without its query otherwise. */
function defaultRoute(req: HttpRequestLike): string | undefined {
  if (typeof req.route?.path === 'string') return `${req.baseUrl ?? ''}${req.route.path}`;
  return (req.originalUrl ?? req.url ?? '').split('?')[0] || undefined;
}

/** `app.use(auditRequests(client))`, first: one event per request, when its answer is sent. */
export function auditRequests<Req extends HttpRequestLike>(client: AuditClient, options: RecorderOptions<Req> = {}) {
  return (req: Req, res: HttpResponseLike, next: Next): void => {
    if (options.skip?.(req)) return next();
    const trace = startTrace(req, req.headers);
    let done = false;
    const record = () => {
      if (done) return;
      done = true;
      client.log(
        requestEvent(options as RecorderOptions<never>, trace, {
          method: req.method,
          route: (options.route ?? defaultRoute)(req),
          // A connection closed before an answer was sent counts as a server-side failure to answer.
          status: res.statusCode || 500,
          user: (options.user ?? defaultUser)(req),
        }),
      );
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}

/** `app.use(auditErrors(client))`, after the routes: records a thrown error, then passes it on to the next error handler. */
export function auditErrors<Req extends HttpRequestLike>(client: AuditClient, options: RecorderOptions<Req> = {}) {
  return (error: unknown, req: Req, _res: HttpResponseLike, next: Next): void => {
    const trace = traces.get(req) ?? startTrace(req, req.headers);
    client.error(error, errorContext(options as RecorderOptions<never>, trace, { method: req.method, route: (options.route ?? defaultRoute)(req), user: (options.user ?? defaultUser)(req) }));
    next(error);
  };
}

// ------------------------------------------------------------------ middy

/** The parts of a middy request the middleware reads (API Gateway REST or HTTP API events). */
export interface MiddyRequestLike {
  event: unknown;
  context?: { awsRequestId?: string } | unknown;
  response?: unknown;
  error?: unknown;
}

interface GatewayEventLike {
  httpMethod?: string;
  resource?: string;
  routeKey?: string;
  path?: string;
  rawPath?: string;
  headers?: Record<string, string | undefined> | null;
  requestContext?: {
    requestId?: string;
    http?: { method?: string };
    authorizer?: { principalId?: string; claims?: { sub?: string }; jwt?: { claims?: { sub?: string } } } | null;
  };
}

export interface MiddyRecorderOptions extends RecorderOptions<GatewayEventLike> {
  /**
   * Wait for the events to be sent before the invocation ends (default
   * true): Lambda may freeze the process right after, and a frozen
   * process sends nothing. At most this long (default 2000 ms).
   */
  flushTimeoutMs?: number | false;
}

/** `middy(handler).use(auditMiddleware(client))`: one event per invocation, one per thrown error, with trace ids. */
export function auditMiddleware(client: AuditClient, options: MiddyRecorderOptions = {}) {
  const facts = (event: GatewayEventLike) => ({
    method: event.httpMethod ?? event.requestContext?.http?.method,
    route: options.route?.(event) ?? event.resource ?? event.routeKey ?? event.rawPath ?? event.path,
    user:
      options.user?.(event) ??
      event.requestContext?.authorizer?.claims?.sub ??
      event.requestContext?.authorizer?.jwt?.claims?.sub ??
      event.requestContext?.authorizer?.principalId,
  });
  const statusOf = (response: unknown, fallback: number) => {
    const status = (response as { statusCode?: unknown } | undefined)?.statusCode;
    return typeof status === 'number' ? status : fallback;
  };
  const finish = async (request: MiddyRequestLike, status: number) => {
    const trace = traces.get(request);
    const event = (request.event ?? {}) as GatewayEventLike;
    if (!trace || options.skip?.(event)) return;
    client.log(requestEvent(options as RecorderOptions<never>, trace, { ...facts(event), status }));
    if (options.flushTimeoutMs !== false) await client.flush({ timeoutMs: options.flushTimeoutMs ?? 2000 });
  };
  return {
    before: async (request: MiddyRequestLike) => {
      const event = (request.event ?? {}) as GatewayEventLike;
      startTrace(request, event.headers, event.requestContext?.requestId ?? (request.context as { awsRequestId?: string } | undefined)?.awsRequestId);
    },
    after: async (request: MiddyRequestLike) => finish(request, statusOf(request.response, 200)),
    onError: async (request: MiddyRequestLike) => {
      const event = (request.event ?? {}) as GatewayEventLike;
      const trace = traces.get(request) ?? startTrace(request, event.headers);
      // Another middleware may already have turned the error into an answer (a 4xx): that status is the request's.
      const status = statusOf(request.response, 500);
      if (status >= 500 && !options.skip?.(event)) client.error(request.error, errorContext(options as RecorderOptions<never>, trace, facts(event)));
      await finish(request, status);
    },
  };
}

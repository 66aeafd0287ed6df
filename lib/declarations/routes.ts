import { ERRORS_FUNCTION, ADMIN_FUNCTION, INGEST_FUNCTION, NOTIFICATIONS_FUNCTION, OTLP_LOGS_FUNCTION, QUERY_FUNCTION, type FunctionDeclaration } from './functions';

/**
 * Who may call a route:
 * - `appKey`: an app posting events, with its key in `x-api-key` (the app-key authorizer);
 * - `viewer`: a signed-in user in the `viewer` or `admin` group (Cognito; locally a local token);
 * - `admin`: a signed-in user in the `admin` group;
 * - `none`: anyone (health only).
 */
export type RouteAuth = 'appKey' | 'viewer' | 'admin' | 'none';

export interface RouteDeclaration {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway path syntax: `{name}` is a path parameter. */
  path: string;
  auth: RouteAuth;
  /** The function behind it; none means a fixed `{ "status": "ok" }` answer (health). */
  function?: FunctionDeclaration;
}

export const ROUTES: readonly RouteDeclaration[] = [
  { method: 'GET', path: '/v1/health', auth: 'none' },
  { method: 'POST', path: '/v1/events', auth: 'appKey', function: INGEST_FUNCTION },
  // OpenTelemetry logs (OTLP/HTTP), with the same app keys as /v1/events.
  { method: 'POST', path: '/v1/logs', auth: 'appKey', function: OTLP_LOGS_FUNCTION },
  { method: 'GET', path: '/v1/events/{id}', auth: 'viewer', function: QUERY_FUNCTION },
  { method: 'GET', path: '/v1/events', auth: 'viewer', function: QUERY_FUNCTION },
  { method: 'GET', path: '/v1/records/{type}/{id}/history', auth: 'viewer', function: QUERY_FUNCTION },
  { method: 'GET', path: '/v1/traces/{traceId}', auth: 'viewer', function: QUERY_FUNCTION },
  // Event statistics from the counters kept as events arrive (issue 3).
  { method: 'GET', path: '/v1/stats', auth: 'viewer', function: QUERY_FUNCTION },
  // Notifications: viewers list them and mark them read; resolving needs an admin (checked in the function).
  { method: 'GET', path: '/v1/notifications', auth: 'viewer', function: NOTIFICATIONS_FUNCTION },
  { method: 'PATCH', path: '/v1/notifications/{id}', auth: 'viewer', function: NOTIFICATIONS_FUNCTION },
  { method: 'GET', path: '/v1/rules', auth: 'admin', function: NOTIFICATIONS_FUNCTION },
  { method: 'POST', path: '/v1/rules', auth: 'admin', function: NOTIFICATIONS_FUNCTION },
  { method: 'GET', path: '/v1/rules/{id}', auth: 'admin', function: NOTIFICATIONS_FUNCTION },
  { method: 'PUT', path: '/v1/rules/{id}', auth: 'admin', function: NOTIFICATIONS_FUNCTION },
  { method: 'DELETE', path: '/v1/rules/{id}', auth: 'admin', function: NOTIFICATIONS_FUNCTION },
  { method: 'POST', path: '/v1/rules/{id}/test', auth: 'admin', function: NOTIFICATIONS_FUNCTION },
  // Admin API (issue 3): app keys; each change is recorded as an admin.* event.
  { method: 'POST', path: '/v1/app-keys', auth: 'admin', function: ADMIN_FUNCTION },
  { method: 'GET', path: '/v1/app-keys', auth: 'admin', function: ADMIN_FUNCTION },
  { method: 'DELETE', path: '/v1/app-keys/{keyId}', auth: 'admin', function: ADMIN_FUNCTION },
  // Exports (issue 3): queued here, written by the export function asynchronously; each is an admin.export.created event.
  { method: 'POST', path: '/v1/exports', auth: 'admin', function: ADMIN_FUNCTION },
  { method: 'GET', path: '/v1/exports/{id}', auth: 'admin', function: ADMIN_FUNCTION },
  // Error tracking (issue 5): groups of repeated failures; viewers read them, admins resolve, ignore or reopen.
  { method: 'GET', path: '/v1/errors', auth: 'viewer', function: ERRORS_FUNCTION },
  { method: 'GET', path: '/v1/errors/{id}', auth: 'viewer', function: ERRORS_FUNCTION },
  { method: 'PATCH', path: '/v1/errors/{id}', auth: 'admin', function: ERRORS_FUNCTION },
];

/**
 * Request content types API Gateway passes to functions base64-encoded
 * instead of as UTF-8 text (the RestApi's binaryMediaTypes): OTLP protobuf.
 * The local API Gateway encodes the same ones.
 */
export const BINARY_MEDIA_TYPES: readonly string[] = ['application/x-protobuf', 'application/protobuf'];

/**
 * Cross-origin access to the app routes, so browser apps can post from their
 * own origin. Any origin: an app key in a browser app is public by nature
 * (what limits it is its rate limit and revocation), and no cookies or other
 * ambient credentials are involved. The admin routes get the SPA's origin only.
 */
export const APP_ROUTE_CORS = {
  allowOrigin: '*',
  allowHeaders: ['content-type', 'content-encoding', 'x-api-key', 'traceparent'],
  /** Browsers cache the preflight answer this long (Chromium caps it at 2 hours). */
  maxAgeSeconds: 7200,
} as const;

/** The Cognito groups, in increasing power. */
export const USER_GROUPS = ['viewer', 'admin'] as const;
export type UserGroup = (typeof USER_GROUPS)[number];

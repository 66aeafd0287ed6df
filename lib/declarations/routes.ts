import { INGEST_FUNCTION, NOTIFICATIONS_FUNCTION, OTLP_LOGS_FUNCTION, QUERY_FUNCTION, type FunctionDeclaration } from './functions';

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
  // Notifications: viewers list them and mark them read; resolving needs an admin (checked in the function).
  { method: 'GET', path: '/v1/notifications', auth: 'viewer', function: NOTIFICATIONS_FUNCTION },
  { method: 'PATCH', path: '/v1/notifications/{id}', auth: 'viewer', function: NOTIFICATIONS_FUNCTION },
  { method: 'GET', path: '/v1/rules', auth: 'admin', function: NOTIFICATIONS_FUNCTION },
  { method: 'POST', path: '/v1/rules', auth: 'admin', function: NOTIFICATIONS_FUNCTION },
  { method: 'GET', path: '/v1/rules/{id}', auth: 'admin', function: NOTIFICATIONS_FUNCTION },
  { method: 'PUT', path: '/v1/rules/{id}', auth: 'admin', function: NOTIFICATIONS_FUNCTION },
  { method: 'DELETE', path: '/v1/rules/{id}', auth: 'admin', function: NOTIFICATIONS_FUNCTION },
  { method: 'POST', path: '/v1/rules/{id}/test', auth: 'admin', function: NOTIFICATIONS_FUNCTION },
];

/**
 * Request content types API Gateway passes to functions base64-encoded
 * instead of as UTF-8 text (the RestApi's binaryMediaTypes): OTLP protobuf.
 * The local API Gateway encodes the same ones.
 */
export const BINARY_MEDIA_TYPES: readonly string[] = ['application/x-protobuf', 'application/protobuf'];

/** The Cognito groups, in increasing power. */
export const USER_GROUPS = ['viewer', 'admin'] as const;
export type UserGroup = (typeof USER_GROUPS)[number];

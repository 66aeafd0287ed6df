import { INGEST_FUNCTION, QUERY_FUNCTION, type FunctionDeclaration } from './functions';

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
  { method: 'GET', path: '/v1/events/{id}', auth: 'viewer', function: QUERY_FUNCTION },
];

/** The Cognito groups, in increasing power. */
export const USER_GROUPS = ['viewer', 'admin'] as const;
export type UserGroup = (typeof USER_GROUPS)[number];

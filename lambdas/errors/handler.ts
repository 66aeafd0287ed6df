import type { APIGatewayProxyEvent } from 'aws-lambda';
import { adminAuditLog } from '../adapters/admin-audit-log';
import { DynamoErrorGroupStore } from '../adapters/error-group-store';
import { EventsById } from '../adapters/events-by-id';
import { principalFromClaims, requireRole, type Principal } from '../core/access';
import { ClientError, badRequest } from '../core/errors';
import {
  encodeErrorCursor,
  errorGroupChanged,
  groupView,
  parseErrorGroupChange,
  parseErrorListQuery,
  parseGroupId,
  sampleEventIds,
  sparkline,
} from '../core/error-groups';
import { adminRequestOf } from '../shared/admin-request';
import { bodyText, httpHandler, json, logger } from '../shared/http';

const groups = new DynamoErrorGroupStore();
/** Built on first use: only GET /v1/errors/{id} reads events. */
let events: EventsById | undefined;

type Route = (event: APIGatewayProxyEvent, principal: Principal) => Promise<ReturnType<typeof json>>;

/** The routes this function serves (lib/declarations/routes.ts), by `METHOD resource`. */
const ROUTES: Record<string, { role: 'viewer' | 'admin'; run: Route }> = {
  'GET /v1/errors': { role: 'viewer', run: listGroups },
  'GET /v1/errors/{id}': { role: 'viewer', run: getGroup },
  'PATCH /v1/errors/{id}': { role: 'admin', run: changeGroup },
};

/** Error groups: viewers list and read them, admins resolve, ignore or reopen them. */
export const handler = httpHandler(async (event) => {
  const route = ROUTES[`${event.httpMethod} ${event.resource}`];
  if (!route) throw new ClientError(404, 'not_found', `no route ${event.httpMethod} ${event.path}`);
  // API Gateway already checked sign-in; the role is checked here so the function is safe on its own.
  const principal = requireRole(principalFromClaims(event.requestContext.authorizer?.claims), route.role);
  return route.run(event, principal);
});

/**
 * `GET /v1/errors?status=unresolved&sort=lastSeen|count&limit=25&cursor=`: a
 * page of one status index, each group with its `sparkline` (the last 24
 * hourly counts) from one BatchGetItem of the page's histograms.
 */
async function listGroups(event: APIGatewayProxyEvent) {
  const request = parseErrorListQuery(event.queryStringParameters ?? {});
  const page = await groups.list(request);
  const histograms = page.items.length > 0 ? await groups.histograms(page.items.map((item) => item.id)) : new Map<string, Record<string, number>>();
  const now = new Date();
  // A group whose histogram could not be read (still throttled) has no sparkline rather than a false flat one.
  const items = page.items.map((item) => {
    const hist = histograms.get(item.id);
    return hist ? { ...item, sparkline: sparkline(hist, now) } : item;
  });
  logger.info('error groups listed', { status: request.status, sort: request.sort, returned: items.length, more: page.next !== undefined });
  return json(200, { items, ...(page.next ? { cursor: encodeErrorCursor(page.next) } : {}) });
}

/** `GET /v1/errors/{id}`: the group, and its sample occurrences newest first (read by id). */
async function getGroup(event: APIGatewayProxyEvent) {
  const id = parseGroupId(event.pathParameters?.id);
  const group = await groups.get(id);
  if (!group) throw new ClientError(404, 'not_found', `no error group has id ${id}`);
  const recentEvents = await (events ??= new EventsById()).get(sampleEventIds(group.samples));
  return json(200, { ...groupView(group, new Date()), recentEvents });
}

/**
 * `PATCH /v1/errors/{id}` `{ "status": "resolved" | "ignored" | "unresolved", "note" }`:
 * who and when are recorded on the group, and the change as an
 * admin.error_group.changed event. Asking for the status the group has is a
 * no-op; a group that changed meanwhile (a regression reopened it) is a 409.
 */
async function changeGroup(event: APIGatewayProxyEvent, principal: Principal) {
  const id = parseGroupId(event.pathParameters?.id);
  const change = parseErrorGroupChange(parseJsonBody(event));
  const group = await groups.get(id);
  if (!group) throw new ClientError(404, 'not_found', `no error group has id ${id}`);
  if (group.status === change.status && change.note === undefined) return json(200, groupView(group, new Date()));
  const request = adminRequestOf(event, principal);
  const at = (request.at ?? new Date()).toISOString();
  const updated = await groups.changeStatus(id, { ...change, by: principal.userId, at }, group);
  if (!updated) throw new ClientError(409, 'conflict', `error group ${id} changed meanwhile (it is no longer ${group.status}); reload it and decide again`);
  logger.info('error group changed', { id, from: group.status, to: updated.status, by: principal.userId });
  await adminAuditLog().record(errorGroupChanged(updated, group.status, change, principal), request);
  return json(200, groupView(updated, new Date()));
}

function parseJsonBody(event: APIGatewayProxyEvent): unknown {
  const text = bodyText(event);
  if (!text || text.trim() === '') throw badRequest('empty_body', 'the request body is empty');
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('invalid_json', 'the body is not valid JSON');
  }
}

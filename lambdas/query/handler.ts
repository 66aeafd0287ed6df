import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { loadCursorKey } from '../adapters/cursor-key';
import { DynamoEventIndex } from '../adapters/event-index';
import { DynamoEventStore } from '../adapters/event-store';
import { DynamoStatsStore } from '../adapters/stats-store';
import { principalFromClaims, requireRole } from '../core/access';
import { ClientError } from '../core/errors';
import { listEvents, recordHistory, traceEvents, type QueryContext, type QueryOutcome } from '../core/event-queries';
import { canonicalEventId } from '../core/ids';
import { parseEventListQuery, parsePageQuery, parseRecordRef, parseTraceId, type QueryParameters } from '../core/query-filters';
import { parseStatsQuery, readStats } from '../core/stats';
import { httpHandler, json, logger } from '../shared/http';

const store = new DynamoEventStore();
const index = new DynamoEventIndex();
/** Built on first use: only GET /v1/stats needs the Stats table. */
let stats: DynamoStatsStore | undefined;

/** The cursor key, fetched once per cold start; a failed fetch is retried by the next request. */
let cursorKey: Promise<Buffer> | undefined;
function signingKey(): Promise<Buffer> {
  cursorKey ??= loadCursorKey().catch((error: unknown) => {
    cursorKey = undefined;
    throw error;
  });
  return cursorKey;
}
// Started during init (which Lambda runs at full CPU), not on the first request; errors surface there.
signingKey().catch(() => undefined);

async function context(): Promise<QueryContext> {
  return { reader: index, cursorKey: await signingKey() };
}

type Route = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** The Query function's routes, by API Gateway resource (lib/declarations/routes.ts). */
const ROUTES: Record<string, Route> = {
  /** The full stored event. */
  '/v1/events/{id}': async (event) => {
    const id = canonicalEventId(event.pathParameters?.id ?? '');
    if (!id) throw new ClientError(400, 'invalid_id', 'an event id is a ULID or a UUID');
    const found = await store.getById(id);
    if (!found) throw new ClientError(404, 'not_found', `no event has id ${id}`);
    return json(200, found);
  },
  /** Filtered list, newest first. */
  '/v1/events': async (event) => page(event, await listEvents(parseEventListQuery(queryParameters(event)), await context())),
  /** Every event of one record, oldest first. */
  '/v1/records/{type}/{id}/history': async (event) => {
    const { recordType, recordId } = parseRecordRef(event.pathParameters?.type, event.pathParameters?.id);
    return page(event, await recordHistory(recordType, recordId, parsePageQuery(queryParameters(event)), await context()));
  },
  /** Every event of one trace, oldest first. */
  '/v1/traces/{traceId}': async (event) =>
    page(event, await traceEvents(parseTraceId(event.pathParameters?.traceId), parsePageQuery(queryParameters(event)), await context())),
  /** Counts per bucket, top types and failing pages, from the counters the stats consumer keeps. */
  '/v1/stats': async (event) => json(200, await readStats(parseStatsQuery(queryParameters(event), new Date()), (stats ??= new DynamoStatsStore()))),
};

/** Read routes for signed-in admins and viewers. */
export const handler = httpHandler(async (event) => {
  requireRole(principalFromClaims(event.requestContext.authorizer?.claims), 'viewer');
  const route = ROUTES[event.resource];
  if (!route) throw new ClientError(404, 'not_found', `no route ${event.httpMethod} ${event.path}`);
  return route(event);
});

function page(event: APIGatewayProxyEvent, { page, plan, stats }: QueryOutcome): APIGatewayProxyResult {
  logger.info('events read', {
    route: event.resource,
    index: plan.index,
    partitions: plan.groups.reduce((sum, group) => sum + group.length, 0),
    filtered: plan.filterExpression !== undefined,
    returned: page.items.length,
    more: page.cursor !== undefined,
    ...stats,
  });
  return json(200, page);
}

/** Every value of every query parameter (API Gateway fills the multi-value form whenever there is a query string). */
function queryParameters(event: APIGatewayProxyEvent): QueryParameters {
  if (event.multiValueQueryStringParameters) return event.multiValueQueryStringParameters;
  return Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).map(([name, value]) => [name, value === undefined ? undefined : [value]]));
}

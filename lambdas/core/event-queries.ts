import { EVENT_LIST_ATTRIBUTES } from '../../lib/declarations/tables';
import { cursorBinding, openCursor, positionOf, sealCursor, type CursorState } from './query-cursor';
import { resolveWindow, type EventListRequest, type PageRequest } from './query-filters';
import { readMerged, startOf, type IndexItem, type PartitionReader, type ReadStats } from './query-merge';
import { planEventQuery, planRecordHistory, planTrace, type QueryPlan } from './query-plan';

/**
 * The read routes as the domain sees them: filters in, one page out.
 * parse (query-filters) → plan (query-plan) → read and merge (query-merge)
 * → seal the cursor (query-cursor).
 */

export type ListItem = Partial<Record<(typeof EVENT_LIST_ATTRIBUTES)[number], string>>;

export interface EventPage {
  items: ListItem[];
  /** Absent on the last page. */
  cursor?: string;
}

export interface QueryContext {
  reader: PartitionReader;
  cursorKey: Buffer;
  now?: Date;
}

/** The page and how it was read (for the log line and the cost figures). */
export interface QueryOutcome {
  page: EventPage;
  plan: QueryPlan;
  stats: ReadStats;
}

/** `GET /v1/events`. */
export async function listEvents(request: EventListRequest, context: QueryContext): Promise<QueryOutcome> {
  const binding = cursorBinding('events', { ...request.filters });
  const state = request.cursor === undefined ? undefined : openCursor(request.cursor, context.cursorKey, binding);
  const window = state?.w ? { from: state.w[0], to: state.w[1] } : resolveWindow(request.filters, context.now ?? new Date());
  const plan = planEventQuery({ ...request.filters, ...window });
  return readPage(plan, request, context, binding, state, [window.from, window.to]);
}

/** `GET /v1/records/{type}/{id}/history`. */
export async function recordHistory(recordType: string, recordId: string, request: PageRequest, context: QueryContext): Promise<QueryOutcome> {
  const binding = cursorBinding('record-history', { recordType, recordId });
  const state = request.cursor === undefined ? undefined : openCursor(request.cursor, context.cursorKey, binding);
  return readPage(planRecordHistory(recordType, recordId), request, context, binding, state);
}

/** `GET /v1/traces/{traceId}`. */
export async function traceEvents(traceId: string, request: PageRequest, context: QueryContext): Promise<QueryOutcome> {
  const binding = cursorBinding('trace', { traceId });
  const state = request.cursor === undefined ? undefined : openCursor(request.cursor, context.cursorKey, binding);
  return readPage(planTrace(traceId), request, context, binding, state);
}

async function readPage(
  plan: QueryPlan,
  request: PageRequest,
  context: QueryContext,
  binding: string,
  state: CursorState | undefined,
  window?: [string, string],
): Promise<QueryOutcome> {
  const position = state ? positionOf(state, plan) : startOf(plan);
  const { items, next, stats } = await readMerged(plan, context.reader, position, { limit: request.limit });
  const cursor = next
    ? sealCursor({ v: 1, b: binding, ...(window ? { w: window } : {}), g: next.group, p: next.partitions }, context.cursorKey)
    : undefined;
  return { page: { items: items.map(toListItem), ...(cursor ? { cursor } : {}) }, plan, stats };
}

/** What a list shows of an event: the attributes every index projects, without the index keys. */
export function toListItem(item: IndexItem): ListItem {
  const out: ListItem = {};
  for (const name of EVENT_LIST_ATTRIBUTES) {
    const value = item[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

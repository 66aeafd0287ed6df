import type { QueryPlan } from './query-plan';

/**
 * Reads one page of a plan: the partitions of the current group side by
 * side, merged in sort-key order (a k-way merge), `limit` items at most.
 * Pure: the reader (the DynamoDB adapter in production, an array in tests)
 * is injected.
 *
 * The position a page ends at is per partition, and it is the position
 * after the last item *handed out* from that partition, not after the last
 * item read: a partition may have been read further than the merge used,
 * and those items must come back on the next page. (When everything read
 * from a partition was handed out or filtered away, the position is
 * DynamoDB's LastEvaluatedKey, so filtered-out stretches are not re-read.)
 */

/** An item of an events index; `sk` is `<occurredAt>#<id>`. */
export interface IndexItem {
  sk: string;
  [attribute: string]: unknown;
}

export interface PartitionPage {
  /** In the plan's order; already filtered by the server. */
  items: IndexItem[];
  /** The sort key of DynamoDB's LastEvaluatedKey: absent when the partition is exhausted. */
  lastEvaluated?: string;
  /** Items DynamoDB evaluated (before the filter). */
  scanned?: number;
  readUnits?: number;
}

export interface PartitionReader {
  /** One Query of one partition, after `after` (exclusive) or from the start of the range, at most `limit` items evaluated. */
  readPartition(plan: QueryPlan, partition: string, options: { after?: string; limit: number }): Promise<PartitionPage>;
}

export const DONE = 1;
/** Where a partition stands: not started (null), resume after a sort key, or exhausted. */
export type PartitionPosition = null | string | typeof DONE;

export interface MergePosition {
  /** Index into plan.groups: earlier groups are exhausted, later ones not started. */
  group: number;
  /** One position per partition of that group. */
  partitions: PartitionPosition[];
}

export interface ReadStats {
  queries: number;
  itemsRead: number;
  itemsScanned: number;
  readUnits: number;
  /** The page stopped at the work bound before it was full. */
  stoppedEarly: boolean;
}

export interface MergeOptions {
  limit: number;
  /** Queries one page may send; the first round of a group is always sent, so a page always makes progress. */
  maxQueries?: number;
}

export const MAX_QUERIES_PER_PAGE = 64;
/** DynamoDB's Limit per Query at most (a page is capped at 1 MB anyway). */
export const MAX_ITEMS_PER_QUERY = 1000;

export function startOf(plan: QueryPlan): MergePosition {
  return { group: 0, partitions: plan.groups[0].map(() => null) };
}

/** `-1`, `0` or `1` in reading order: newest first when descending. */
export function compareInOrder(a: string, b: string, descending: boolean): number {
  if (a === b) return 0;
  return (a < b) === descending ? 1 : -1;
}

/** The index of the head that comes next in reading order, or -1 when every list is empty. */
export function pickNext(heads: readonly (IndexItem | undefined)[], descending: boolean): number {
  let best = -1;
  for (let i = 0; i < heads.length; i++) {
    const head = heads[i];
    if (head && (best === -1 || compareInOrder(head.sk, heads[best]!.sk, descending) < 0)) best = i;
  }
  return best;
}

/** The k-way merge of sorted lists, first `limit` items (the merge step the paged reader repeats). */
export function mergeSorted(lists: readonly IndexItem[][], descending: boolean, limit = Infinity): IndexItem[] {
  const offsets = lists.map(() => 0);
  const out: IndexItem[] = [];
  while (out.length < limit) {
    const next = pickNext(lists.map((list, i) => list[offsets[i]]), descending);
    if (next === -1) break;
    out.push(lists[next][offsets[next]++]);
  }
  return out;
}

interface PartitionCursor {
  partition: string;
  /** Where the next Query starts (exclusive), or DONE. */
  readFrom: PartitionPosition;
  /** Read but not yet handed out, in order. */
  buffer: IndexItem[];
  /** Where the next page resumes: after the last item handed out (see the module comment). */
  resume: PartitionPosition;
  /** Items returned and evaluated so far this page: the filter's observed match ratio for this partition. */
  returned: number;
  scanned: number;
}

/** Reads one page; `next` is absent when the plan is exhausted. */
export async function readMerged(
  plan: QueryPlan,
  reader: PartitionReader,
  position: MergePosition,
  options: MergeOptions,
): Promise<{ items: IndexItem[]; next?: MergePosition; stats: ReadStats }> {
  const { limit } = options;
  const maxQueries = options.maxQueries ?? MAX_QUERIES_PER_PAGE;
  const stats: ReadStats = { queries: 0, itemsRead: 0, itemsScanned: 0, readUnits: 0, stoppedEarly: false };
  const items: IndexItem[] = [];
  // Before any read, assume a filter keeps half of what it sees; after one, use what it did keep.
  const assumedRatio = plan.filterExpression !== undefined ? 0.5 : 1;

  let group = position.group;
  let cursors = open(plan.groups[group], position.partitions);

  const fetch = async (cursor: PartitionCursor) => {
    const remaining = limit - items.length;
    const ratio = cursor.scanned > 0 ? cursor.returned / cursor.scanned : assumedRatio;
    const requested = pageSize(remaining, cursors.length, ratio);
    const page = await reader.readPartition(plan, cursor.partition, {
      ...(typeof cursor.readFrom === 'string' ? { after: cursor.readFrom } : {}),
      limit: requested,
    });
    stats.queries += 1;
    stats.itemsRead += page.items.length;
    stats.itemsScanned += page.scanned ?? page.items.length;
    cursor.returned += page.items.length;
    cursor.scanned += page.scanned ?? page.items.length;
    stats.readUnits += page.readUnits ?? 0;
    cursor.buffer.push(...page.items);
    cursor.readFrom = page.lastEvaluated ?? DONE;
    if (cursor.buffer.length === 0) cursor.resume = cursor.readFrom;
  };

  while (items.length < limit && group < plan.groups.length) {
    // A partition is merged only once its next item is known: a partition not yet read may hold the newest one.
    const starving = cursors.filter((cursor) => cursor.buffer.length === 0 && cursor.readFrom !== DONE);
    if (starving.length > 0) {
      if (stats.queries > 0 && stats.queries + starving.length > maxQueries) {
        stats.stoppedEarly = true;
        break;
      }
      await Promise.all(starving.map(fetch));
      continue;
    }
    const next = pickNext(cursors.map((cursor) => cursor.buffer[0]), plan.descending);
    if (next === -1) {
      group += 1;
      if (group < plan.groups.length) cursors = open(plan.groups[group], plan.groups[group].map(() => null));
      continue;
    }
    const cursor = cursors[next];
    const item = cursor.buffer.shift()!;
    cursor.resume = cursor.buffer.length > 0 ? item.sk : cursor.readFrom;
    items.push(item);
  }

  if (group >= plan.groups.length) return { items, stats };
  const partitions = cursors.map((cursor) => cursor.resume);
  if (partitions.every((p) => p === DONE)) {
    const following = group + 1;
    return following < plan.groups.length ? { items, next: { group: following, partitions: plan.groups[following].map(() => null) }, stats } : { items, stats };
  }
  return { items, next: { group, partitions }, stats };
}

function open(partitions: readonly string[], positions: readonly PartitionPosition[]): PartitionCursor[] {
  return partitions.map((partition, i) => ({ partition, readFrom: positions[i], buffer: [], resume: positions[i], returned: 0, scanned: 0 }));
}

/** The smallest match ratio sizing assumes: a filter that matches less costs more round trips, not bigger reads. */
const MIN_MATCH_RATIO = 1 / 32;

/**
 * DynamoDB's Limit for the next Query of one partition. A single partition:
 * what the page still needs plus one, so a page that ends the partition
 * knows it (no empty last page). Several: a fair share with some slack,
 * since shards (hashed ids) interleave evenly; a partition that runs dry is
 * simply read again. DynamoDB's Limit counts items before the filter, so the
 * share is divided by the ratio of items the filter keeps. Reading more than
 * a page uses is not free: what is read but not handed out is read again by
 * the next page.
 */
export function pageSize(remaining: number, partitions: number, matchRatio = 1): number {
  const share = partitions <= 1 ? remaining + 1 : Math.min(remaining + 1, Math.ceil((remaining * 1.25) / partitions) + 2);
  return Math.min(MAX_ITEMS_PER_QUERY, Math.ceil(share / Math.min(1, Math.max(matchRatio, MIN_MATCH_RATIO))));
}

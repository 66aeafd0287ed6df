import { EVENTS_TABLE } from '../../lib/declarations/tables';
import { SEVERITIES, severityRank, type Severity } from './event';
import { partitionKeys, SHARDS } from './event-keys';
import type { ResolvedFilters } from './query-filters';

/**
 * The query planner: which events index answers a combination of filters,
 * which of its partitions to read, and what DynamoDB filters on the server.
 * Pure: the adapter turns a plan into Query calls and nothing else. Every
 * plan is a Query on one index with an equality on its partition key; there
 * is no plan that scans.
 *
 * Most selective first (the order is the contract, see docs/query-api.md):
 * record > trace > user > type > exact severity > minimum severity > date.
 * A record's or a trace's history is a handful of events in one partition;
 * a user's activity is one partition too but can run to thousands; a type
 * is a slice of all traffic spread over SHARDS partitions; a severity is a
 * coarser slice (five values); the date index holds everything.
 */

export type EventIndexName = 'byRecord' | 'byTrace' | 'byUser' | 'byType' | 'bySeverity' | 'byDate';

export interface QueryPlan {
  index: EventIndexName;
  /** The index's partition-key attribute (`userPk`, `datePk`, …). */
  partitionKey: string;
  /**
   * The partitions to read, in groups. The partitions of one group are read
   * side by side and merged by sort key; a group is started only when the one
   * before it is exhausted (the date index's months: every event of a later
   * month sorts before every event of an earlier one, newest first).
   */
  groups: string[][];
  /** Newest first (lists) or oldest first (histories). */
  descending: boolean;
  /** Key condition with placeholders: `:partition` is bound per partition by the reader. */
  keyCondition: string;
  /** Server-side filter for whatever the partition key does not already say; absent when nothing is left. */
  filterExpression?: string;
  names: Record<string, string>;
  /** Values of every placeholder but `:partition`. */
  values: Record<string, string>;
}

/** The placeholder the reader binds to each partition's key value. */
export const PARTITION_VALUE = ':partition';

/** Filters that are exact matches on a list attribute of the same name, in the order they are written. */
const EXACT_FILTERS = ['userId', 'type', 'category', 'severity', 'status', 'source', 'recordType', 'recordId', 'traceId'] as const;
type ExactFilter = (typeof EXACT_FILTERS)[number];

/** A key that sorts after every `<occurredAt>#<id>` with that occurredAt (ids are ULIDs or UUIDs: no `~`). */
const AFTER_ANY_ID = '~';

/** Plans `GET /v1/events`: newest first over [from, to]. */
export function planEventQuery(filters: ResolvedFilters): QueryPlan {
  const covered = new Set<ExactFilter | 'minSeverity'>();
  let index: EventIndexName;
  let groups: string[][];

  const minimum = qualifyingSeverities(filters.minSeverity);
  if (filters.recordType !== undefined && filters.recordId !== undefined) {
    index = 'byRecord';
    groups = [[partitionKeys.record(filters.recordType, filters.recordId)]];
    covered.add('recordType').add('recordId');
  } else if (filters.traceId !== undefined) {
    index = 'byTrace';
    groups = [[partitionKeys.trace(filters.traceId)]];
    covered.add('traceId');
  } else if (filters.userId !== undefined) {
    index = 'byUser';
    groups = [[partitionKeys.user(filters.userId)]];
    covered.add('userId');
  } else if (filters.type !== undefined) {
    index = 'byType';
    groups = [shards((shard) => partitionKeys.type(filters.type!, shard))];
    covered.add('type');
  } else if (filters.severity !== undefined) {
    index = 'bySeverity';
    groups = [shards((shard) => partitionKeys.severity(filters.severity!, shard))];
    covered.add('severity');
  } else if (minimum) {
    // Every shard of every qualifying severity, merged as one group.
    index = 'bySeverity';
    groups = [minimum.flatMap((severity) => shards((shard) => partitionKeys.severity(severity, shard)))];
    covered.add('minSeverity');
  } else {
    index = 'byDate';
    groups = monthsBetween(filters.from, filters.to)
      .reverse()
      .map((month) => shards((shard) => partitionKeys.month(`${month}-01T00:00:00.000Z`, shard)));
  }

  const names: Record<string, string> = { '#partition': partitionKeyOf(index), '#sk': 'sk' };
  const values: Record<string, string> = { ':from': `${filters.from}#`, ':to': `${filters.to}#${AFTER_ANY_ID}` };
  const conditions: string[] = [];
  for (const field of EXACT_FILTERS) {
    const value = filters[field];
    if (value === undefined || covered.has(field)) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    conditions.push(`#${field} = :${field}`);
  }
  if (minimum && !covered.has('minSeverity')) {
    names['#severity'] = 'severity';
    const placeholders = minimum.map((severity, i) => {
      values[`:minSeverity${i}`] = severity;
      return `:minSeverity${i}`;
    });
    conditions.push(`#severity IN (${placeholders.join(', ')})`);
  }
  return {
    index,
    partitionKey: partitionKeyOf(index),
    groups,
    descending: true,
    // The time window always narrows the read, whatever the index.
    keyCondition: `#partition = ${PARTITION_VALUE} AND #sk BETWEEN :from AND :to`,
    ...(conditions.length > 0 ? { filterExpression: conditions.join(' AND ') } : {}),
    names,
    values,
  };
}

/** Plans `GET /v1/records/{type}/{id}/history`: every event of the record, oldest first. */
export function planRecordHistory(recordType: string, recordId: string): QueryPlan {
  return wholePartition('byRecord', partitionKeys.record(recordType, recordId));
}

/** Plans `GET /v1/traces/{traceId}`: every event of the trace, oldest first. */
export function planTrace(traceId: string): QueryPlan {
  return wholePartition('byTrace', partitionKeys.trace(traceId));
}

function wholePartition(index: EventIndexName, partition: string): QueryPlan {
  return {
    index,
    partitionKey: partitionKeyOf(index),
    groups: [[partition]],
    descending: false,
    keyCondition: `#partition = ${PARTITION_VALUE}`,
    names: { '#partition': partitionKeyOf(index) },
    values: {},
  };
}

/**
 * The severities at or above `minSeverity`, or undefined when that is no
 * constraint at all (`debug`: every event qualifies, so the date index reads
 * the same events with fewer partitions).
 */
export function qualifyingSeverities(minSeverity: Severity | undefined): Severity[] | undefined {
  if (minSeverity === undefined || severityRank(minSeverity) === 0) return undefined;
  return SEVERITIES.slice(severityRank(minSeverity));
}

function partitionKeyOf(index: EventIndexName): string {
  const declared = EVENTS_TABLE.indexes.find((candidate) => candidate.name === index);
  if (!declared) throw new Error(`the events table declares no index ${index}`);
  return declared.partitionKey.name;
}

function shards(key: (shard: number) => string): string[] {
  return Array.from({ length: SHARDS }, (_, shard) => key(shard));
}

/** `yyyy-mm` of every month that [from, to] touches, oldest first. */
export function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  let year = Number(from.slice(0, 4));
  let month = Number(from.slice(5, 7));
  const last = to.slice(0, 7);
  for (;;) {
    const current = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
    months.push(current);
    if (current >= last) return months;
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
}

/** Where a reader resumes after an item it has handed out: the item's key in the index (the table key is the id). */
export function exclusiveStartKey(plan: QueryPlan, partition: string, sk: string): Record<string, string> {
  return { [EVENTS_TABLE.partitionKey.name]: idOfSortKey(sk), [plan.partitionKey]: partition, sk };
}

/** The id in a sort key `<occurredAt>#<id>` (ISO times and ids contain no `#`). */
export function idOfSortKey(sk: string): string {
  return sk.slice(sk.indexOf('#') + 1);
}


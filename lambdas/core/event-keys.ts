import { createHash } from 'node:crypto';
import type { AuditEvent, Severity } from './event';

/**
 * How an event is laid out in the events table (see the README's key design).
 * The base table is keyed by id alone, which makes "never overwrite" a
 * single conditional put. Each index partition is `<kind>#<value>[#<shard>]`
 * with sort key `<occurredAt>#<id>`, so a partition reads newest first.
 */

/**
 * Partitions that every event of a month, a type or a severity would hit are
 * spread over this many shards (chosen by a hash of the id), so no single
 * partition takes all of their writes; readers query every shard and merge.
 * Changing it needs a backfill of the index keys, so it is a constant.
 */
export const SHARDS = 8;

export const MAX_SUMMARY_LENGTH = 160;

export type RetentionDays = Record<Severity, number> & { security: number };

export const DEFAULT_RETENTION_DAYS: RetentionDays = {
  debug: 30,
  info: 90,
  warning: 180,
  error: 365,
  critical: 730,
  security: 365,
};

/** The item written to the events table: index keys, list attributes and the full event. */
export interface EventItem {
  pk: string;
  sk: string;
  datePk: string;
  typePk: string;
  severityPk: string;
  userPk?: string;
  recordPk?: string;
  /** Sparse: only events with a traceId (the byTrace index). */
  tracePk?: string;
  id: string;
  occurredAt: string;
  receivedAt: string;
  type: string;
  category: string;
  severity: string;
  status: string;
  source: string;
  userId?: string;
  recordType?: string;
  recordId?: string;
  page?: string;
  summary?: string;
  traceId?: string;
  /** Epoch seconds after which DynamoDB's TTL may delete the item (the archive keeps it). */
  expiresAt: number;
  /** The event exactly as accepted, as JSON: what readers and the archive return. */
  doc: string;
}

export function shardOf(id: string): number {
  return createHash('sha1').update(id).digest()[0] % SHARDS;
}

export const partitionKeys = {
  month: (isoTime: string, shard: number) => `D#${isoTime.slice(0, 7)}#${shard}`,
  type: (type: string, shard: number) => `T#${type}#${shard}`,
  severity: (severity: string, shard: number) => `V#${severity}#${shard}`,
  user: (userId: string) => `U#${userId}`,
  record: (recordType: string, recordId: string) => `R#${recordType}#${recordId}`,
  trace: (traceId: string) => `X#${traceId}`,
};

export function sortKey(event: Pick<AuditEvent, 'occurredAt' | 'id'>): string {
  return `${event.occurredAt}#${event.id}`;
}

export function retentionDays(event: Pick<AuditEvent, 'severity' | 'category'>, retention: RetentionDays): number {
  const bySeverity = retention[event.severity];
  return event.category === 'security' ? Math.max(bySeverity, retention.security) : bySeverity;
}

export function toEventItem(event: AuditEvent, retention: RetentionDays = DEFAULT_RETENTION_DAYS): EventItem {
  const shard = shardOf(event.id);
  const expiresAt = Math.floor(Date.parse(event.receivedAt) / 1000) + retentionDays(event, retention) * 86_400;
  const summary = event.message ?? event.error?.message;
  const userId = event.actor?.userId;
  return {
    pk: event.id,
    sk: sortKey(event),
    datePk: partitionKeys.month(event.occurredAt, shard),
    typePk: partitionKeys.type(event.type, shard),
    severityPk: partitionKeys.severity(event.severity, shard),
    ...(userId ? { userPk: partitionKeys.user(userId), userId } : {}),
    ...(event.record ? { recordPk: partitionKeys.record(event.record.type, event.record.id), recordType: event.record.type, recordId: event.record.id } : {}),
    id: event.id,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    type: event.type,
    category: event.category,
    severity: event.severity,
    status: event.status,
    source: event.source,
    ...(event.page ? { page: event.page } : {}),
    ...(summary ? { summary: summary.slice(0, MAX_SUMMARY_LENGTH) } : {}),
    ...(event.traceId ? { tracePk: partitionKeys.trace(event.traceId), traceId: event.traceId } : {}),
    expiresAt,
    doc: JSON.stringify(event),
  };
}

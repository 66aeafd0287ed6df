import type { AuditEvent } from './event';
import { toEventItem, type EventItem, type RetentionDays } from './event-keys';

/**
 * Re-importing archived events (`npm run restore`): which events, and the
 * item each becomes. The item is built exactly as ingestion builds it, with
 * the archived line as its `doc` byte for byte; it is written with
 * ingestion's create-only put, so an event still in the table is never
 * overwritten or duplicated.
 */
export interface RestoreFilter {
  from: Date;
  to: Date;
  type?: string;
  category?: string;
  severity?: string;
  source?: string;
  userId?: string;
  recordType?: string;
  recordId?: string;
  id?: string;
}

/** A restored item: marked, so the archive does not archive it again, and kept at least `keepDays` for the investigation. */
export type RestoredItem = EventItem & { restoredAt: string };

export function matchesRestoreFilter(event: AuditEvent, filter: RestoreFilter): boolean {
  const received = Date.parse(event.receivedAt);
  if (!(received >= filter.from.getTime() && received <= filter.to.getTime())) return false;
  if (filter.type !== undefined && event.type !== filter.type) return false;
  if (filter.category !== undefined && event.category !== filter.category) return false;
  if (filter.severity !== undefined && event.severity !== filter.severity) return false;
  if (filter.source !== undefined && event.source !== filter.source) return false;
  if (filter.userId !== undefined && event.actor?.userId !== filter.userId) return false;
  if (filter.recordType !== undefined && event.record?.type !== filter.recordType) return false;
  if (filter.recordId !== undefined && event.record?.id !== filter.recordId) return false;
  if (filter.id !== undefined && event.id !== filter.id) return false;
  return true;
}

export function restoredItem(line: string, options: { retention: RetentionDays; now: Date; keepDays: number }): RestoredItem {
  const event = JSON.parse(line) as AuditEvent;
  const item = toEventItem(event, options.retention);
  // An event past its retention would be expired again by TTL within days: keep it for the investigation.
  const keepUntil = Math.floor(options.now.getTime() / 1000) + options.keepDays * 86_400;
  return { ...item, expiresAt: Math.max(item.expiresAt, keepUntil), doc: line, restoredAt: options.now.toISOString() };
}

import { monotonicFactory } from 'ulidx';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Monotonic within one process, so ids of one batch sort in posting order. */
const nextUlid = monotonicFactory();

export function newEventId(at: Date = new Date()): string {
  return nextUlid(at.getTime());
}

/**
 * A client-sent id (ULID or UUID) in its canonical case, or undefined when it
 * is neither. Canonical case matters: the id is the table key, and `01h…`
 * and `01H…` must be the same event.
 */
export function canonicalEventId(id: string): string | undefined {
  if (ULID.test(id)) return id.toUpperCase();
  if (UUID.test(id)) return id.toLowerCase();
  return undefined;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Parses a W3C `traceparent` header; all-zero ids are invalid per the spec. */
export function parseTraceparent(header: string | undefined): { traceId: string; spanId: string } | undefined {
  const match = header ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  if (!match || match[1] === 'ff' || /^0+$/.test(match[2]) || /^0+$/.test(match[3])) return undefined;
  return { traceId: match[2], spanId: match[3] };
}

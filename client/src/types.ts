import type { EventTypeCatalog, RegisteredEventType } from './event-types';

export type Category = 'user_activity' | 'admin_activity' | 'system_error' | 'payment' | 'content_update' | 'notification' | 'security';
export type Severity = 'debug' | 'info' | 'warning' | 'error' | 'critical';
export type Status = 'success' | 'failure';

declare const unregisteredBrand: unique symbol;
/**
 * A type name the registry does not (yet) know, made with `unregistered()`:
 * the documented escape hatch from compile-time checking. The server still
 * decides (accepts it, or refuses it when `unknownEventTypes` is `reject`).
 */
export type UnregisteredEventType = string & { readonly [unregisteredBrand]: true };
export type EventType = RegisteredEventType | UnregisteredEventType;

/** Marks a type name as deliberately unregistered: `client.log({ type: unregistered('billing.trial.extended'), category: 'payment' })`. */
export function unregistered(type: string): UnregisteredEventType {
  return type as UnregisteredEventType;
}

/** The fields an app sets on an event (the server stamps `source` and `receivedAt`). */
export interface EventFields {
  /** Client-assigned (a ULID) when absent, so that a retry is never stored twice. */
  id?: string;
  /** When it happened; now when absent. */
  occurredAt?: string | Date;
  category?: Category;
  severity?: Severity;
  status?: Status;
  actor?: { userId?: string; adminId?: string; ip?: string; userAgent?: string };
  record?: { type: string; id: string };
  page?: string;
  message?: string;
  error?: { name?: string; message?: string; code?: string | number; stack?: string };
  traceId?: string;
  spanId?: string;
  requestId?: string;
  sessionId?: string;
  fingerprint?: string;
  details?: Record<string, unknown>;
  payload?: unknown;
}

/** `details` of a registered type: its usual keys (from the registry's `fields`) are suggested, any other is allowed. */
export type DetailsOf<T> = T extends RegisteredEventType ? EventTypeCatalog[T]['details'] & Record<string, unknown> : Record<string, unknown>;

/** An event of type `T`: a registered type (checked at compile time) or an `unregistered()` one. */
export type AuditEventInput<T extends EventType = EventType> = Omit<EventFields, 'details'> & { type: T; details?: DetailsOf<T> };

/** What goes over the wire (and into the offline queue): ids and times already assigned, secrets already redacted. */
export type WireEvent = Omit<EventFields, 'occurredAt'> & { id: string; occurredAt: string; type: string };

/** The server's answer for one event of a batch (POST /v1/events). */
export type EventResult =
  | { index: number; id: string; status: 'accepted' | 'duplicate' }
  | { index: number; id?: string; status: 'rejected'; errors: Array<{ path: string; message: string }> }
  | { index: number; id: string; status: 'failed'; message: string };

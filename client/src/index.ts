/**
 * @audit-trail/client: logging to the audit trail from browsers and Node.js
 * 20+, in one call, without losing or duplicating events on flaky networks.
 * No dependencies; secrets are redacted with the server's own rules before
 * anything is queued or sent.
 */
export { createClient, type AuditClient, type ClientOptions, type ClientStats } from './client';
export { defaultStorage, localStorageStorage, memoryStorage, type QueueStorage, type StoredEvent } from './storage';
export { childContext, formatTraceparent, parseTraceparent, type TraceContext } from './trace';
export { unregistered } from './types';
export type { AuditEventInput, Category, DetailsOf, EventFields, EventResult, EventType, Severity, Status, UnregisteredEventType, WireEvent } from './types';
export type { EventTypeCatalog, RegisteredEventType } from './event-types';
export { ulid } from './ulid';

import type { AuditEvent, IngestResult } from './event';
import { ClientError, badRequest } from './errors';
import { toEventItem, type EventItem, type RetentionDays } from './event-keys';
import { readsAsSecret, type createRedactor } from './redact';
import { validateEvent, type RequestContext, type ValidationSettings } from './validate';

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_EVENT_BYTES = 64 * 1024;
export const MAX_EVENTS_PER_REQUEST = 100;
/** Conditional puts in flight at once for one request. */
const WRITE_CONCURRENCY = 25;

/** The events table as ingestion sees it: create-only. */
export interface EventStore {
  /** Writes the item unless an event with its id exists (then reports that event's source). */
  putNew(item: EventItem): Promise<{ created: true } | { created: false; existingSource: string }>;
}

export type Redactor = ReturnType<typeof createRedactor>;

export interface IngestSettings extends ValidationSettings {
  redact: Redactor;
  retention: RetentionDays;
}

/**
 * The events a request body carries: one event object, or `{ "events": [...] }`.
 * Throws a ClientError for a body that cannot be taken at all.
 */
export function parseIngestBody(body: string | null | undefined, contentType: string | undefined): unknown[] {
  if (!contentType || !/^application\/(.+\+)?json\b/i.test(contentType.trim())) {
    throw new ClientError(415, 'unsupported_media_type', 'send events as JSON with content-type: application/json');
  }
  if (!body || body.trim() === '') throw badRequest('empty_body', 'the request body is empty; send one event or { "events": [...] }');
  if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
    throw new ClientError(413, 'payload_too_large', `the request body is over ${MAX_BODY_BYTES} bytes; send smaller batches`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // V8's own message quotes a piece of the body, which may hold a secret: say less.
    throw badRequest('invalid_json', 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest('invalid_body', 'send one event object or { "events": [...] }');
  }
  if (!Object.prototype.hasOwnProperty.call(parsed, 'events')) return [parsed];
  const { events, ...rest } = parsed as { events: unknown };
  if (Object.keys(rest).length > 0) throw badRequest('invalid_body', `a batch has only "events"; unexpected: ${Object.keys(rest).join(', ')}`);
  if (!Array.isArray(events)) throw badRequest('invalid_body', '"events" must be an array');
  if (events.length === 0) throw badRequest('empty_batch', '"events" is empty');
  if (events.length > MAX_EVENTS_PER_REQUEST) {
    throw badRequest('too_many_events', `a batch holds at most ${MAX_EVENTS_PER_REQUEST} events; this one has ${events.length}`);
  }
  return events;
}

/** Validated, redacted and size-checked: ready to write, or why not. */
export function prepareEvent(input: unknown, request: RequestContext, settings: IngestSettings): { ok: true; event: AuditEvent } | { ok: false; id?: string; errors: { path: string; message: string }[] } {
  const validation = validateEvent(input, request, settings);
  if (!validation.ok) return validation;
  // The id is the table key and the client's handle for retries, so it is never rewritten: a
  // redacted digit run in it would store the event under another id, and two ids alike but for
  // that run would collapse into one (the second acknowledged as a duplicate, never stored).
  // A client's id that spells a card is refused; the server's ids are random and kept.
  const { id, ...fields } = validation.event;
  if (typeof (input as { id?: unknown }).id === 'string' && readsAsSecret(id)) {
    return { ok: false, errors: [{ path: 'id', message: 'reads as a secret (a card number) and ids are never redacted; send another ULID or UUID' }] };
  }
  const { value, count, paths } = settings.redact(fields);
  const event: AuditEvent = count > 0 ? { id, ...value, redaction: { count, paths } } : { id, ...value };
  const bytes = Buffer.byteLength(JSON.stringify(event), 'utf8');
  if (bytes > MAX_EVENT_BYTES) {
    return { ok: false, id: event.id, errors: [{ path: '', message: `the event is ${bytes} bytes after redaction; the limit is ${MAX_EVENT_BYTES}` }] };
  }
  return { ok: true, event };
}

/**
 * Validates, redacts and writes each event independently: one bad event
 * does not sink its batch. An event is acknowledged (`accepted`) only after
 * its write succeeded; a write that fails for a reason of ours is reported
 * as `failed` so the client retries it (with the same id, it cannot double).
 * `writeErrors` carries those causes for the caller's log; `redactions`
 * counts what redaction replaced in the accepted events (for metrics: the
 * answer does not repeat it, each stored event says so itself).
 */
export async function ingestEvents(
  inputs: unknown[],
  request: RequestContext,
  settings: IngestSettings,
  store: EventStore,
): Promise<{ results: IngestResult[]; writeErrors: unknown[]; redactions: { events: number; values: number } }> {
  const results: IngestResult[] = new Array(inputs.length);
  const redactedValues: number[] = new Array(inputs.length).fill(0);
  const writes: Array<() => Promise<void>> = [];
  const writeErrors: unknown[] = [];
  const idsInRequest = new Set<string>();

  inputs.forEach((input, index) => {
    const prepared = prepareEvent(input, request, settings);
    if (!prepared.ok) {
      results[index] = { index, ...(prepared.id ? { id: prepared.id } : {}), status: 'rejected', errors: prepared.errors };
      return;
    }
    const { event } = prepared;
    redactedValues[index] = event.redaction?.count ?? 0;
    // The same id twice in one request: the first is written, the others are its duplicates.
    if (idsInRequest.has(event.id)) {
      results[index] = { index, id: event.id, status: 'duplicate' };
      return;
    }
    idsInRequest.add(event.id);
    writes.push(async () => {
      try {
        const outcome = await store.putNew(toEventItem(event, settings.retention));
        if (outcome.created) results[index] = { index, id: event.id, status: 'accepted' };
        else if (outcome.existingSource === event.source) results[index] = { index, id: event.id, status: 'duplicate' };
        else results[index] = { index, id: event.id, status: 'rejected', errors: [{ path: 'id', message: 'is already used by an event of another app' }] };
      } catch (error) {
        writeErrors.push(error);
        results[index] = { index, id: event.id, status: 'failed', message: 'not stored; retry with the same id' };
      }
    });
  });

  await runAll(writes, WRITE_CONCURRENCY);
  const redactions = { events: 0, values: 0 };
  for (const result of results) {
    if (result.status !== 'accepted' || redactedValues[result.index] === 0) continue;
    redactions.events += 1;
    redactions.values += redactedValues[result.index];
  }
  return { results, writeErrors, redactions };
}

/** Runs tasks with at most `limit` in flight; the tasks handle their own errors. */
async function runAll(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

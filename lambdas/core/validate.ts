import * as z from './zod';
import { CATEGORIES, SEVERITIES, STATUSES, type AuditEvent, type FieldError } from './event';
import { canonicalEventId, newEventId, parseTraceparent } from './ids';
import { EVENT_TYPE_PATTERN, type EventTypeRegistry, type UnknownTypePolicy } from './registry';

export const MAX_NESTING_DEPTH = 32;
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;
export const MAX_TYPE_LENGTH = 128;

/** Keys that could reach an object's prototype if some later code merged the event naively. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time such as 2026-11-23T10:15:00Z' });

/** What a client may send. Server-owned fields (`source`, `receivedAt`) are refused, not silently dropped. */
const clientEventSchema = z.strictObject({
  id: z.string().max(64).optional(),
  occurredAt: isoTime.optional(),
  // Bounded: the type is part of an index key, which DynamoDB caps at 2,048 bytes.
  type: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .max(MAX_TYPE_LENGTH, `must be at most ${MAX_TYPE_LENGTH} characters`)
    .regex(EVENT_TYPE_PATTERN, 'must be lower-case dotted segments such as user.login.failed'),
  category: z.enum(CATEGORIES, { error: () => `must be one of ${CATEGORIES.join(', ')}` }).optional(),
  severity: z.enum(SEVERITIES, { error: () => `must be one of ${SEVERITIES.join(', ')}` }).optional(),
  status: z.enum(STATUSES, { error: () => `must be one of ${STATUSES.join(', ')}` }).optional(),
  actor: z
    .strictObject({
      userId: text(256).optional(),
      adminId: text(256).optional(),
      ip: z.union([z.ipv4(), z.ipv6()], { error: () => 'must be an IPv4 or IPv6 address' }).optional(),
      userAgent: text(1024).optional(),
    })
    .optional(),
  record: z.strictObject({ type: text(128), id: text(256) }).optional(),
  page: text(512).optional(),
  message: z.string().max(8192, 'must be at most 8192 characters').optional(),
  error: z
    .strictObject({
      name: text(256).optional(),
      message: z.string().max(8192).optional(),
      // A number beyond 2^53 is already rounded; as a string it would no longer pass a card check.
      code: z
        .union([z.string().max(128), z.number().refine((n) => Math.abs(n) <= Number.MAX_SAFE_INTEGER, 'must be below 2^53; send a longer code as a string')], { error: () => 'must be a string, or a number below 2^53' })
        .transform(String)
        .optional(),
      stack: z.string().max(32768).optional(),
    })
    .optional(),
  traceId: text(128).optional(),
  /** The span within `traceId` (W3C: 16 hex digits); batched events each carry their own trace context. */
  spanId: text(64).optional(),
  requestId: text(128).optional(),
  sessionId: text(128).optional(),
  fingerprint: text(128).optional(),
  details: z.record(z.string(), z.unknown(), { error: () => 'must be an object of key/values' }).optional(),
  payload: z.unknown().optional(),
});

export type ClientEvent = z.infer<typeof clientEventSchema>;

/** What the request, not the body, says about an event. */
export interface RequestContext {
  /** The posting app, from its credentials. */
  source: string;
  receivedAt: Date;
  /** Only set when the app lets the server record the caller's address and agent. */
  clientIp?: string;
  userAgent?: string;
  traceparent?: string;
}

export interface ValidationSettings {
  registry: EventTypeRegistry;
  unknownTypes: UnknownTypePolicy;
}

export type Validation = { ok: true; event: AuditEvent } | { ok: false; id?: string; errors: FieldError[] };

/**
 * Checks one posted event and turns it into the canonical stored shape
 * (before redaction). Every problem is reported with its field path, not
 * just the first.
 */
export function validateEvent(input: unknown, request: RequestContext, settings: ValidationSettings): Validation {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ path: '', message: 'an event must be a JSON object' }] };
  }
  const structural = checkStructure(input);
  if (structural.length > 0) return { ok: false, errors: structural };

  const raw = input as Record<string, unknown>;
  const serverOwned = (['source', 'receivedAt'] as const)
    .filter((field) => field in raw)
    .map((field) => ({ path: field, message: `is set by the server (${field === 'source' ? 'from the API key' : 'on arrival'}); remove it from the event` }));
  const withoutServerOwned = Object.fromEntries(Object.entries(raw).filter(([key]) => key !== 'source' && key !== 'receivedAt'));

  const parsed = clientEventSchema.safeParse(withoutServerOwned);
  const errors: FieldError[] = [...serverOwned];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) errors.push({ path: joinPath([...issue.path, key]), message: 'is not a field of an event' });
      } else {
        errors.push({ path: joinPath(issue.path), message: issue.message });
      }
    }
  }
  const clientId = typeof raw.id === 'string' ? raw.id : undefined;
  const id = clientId === undefined ? undefined : canonicalEventId(clientId);
  if (clientId !== undefined && id === undefined) errors.push({ path: 'id', message: 'must be a ULID or a UUID' });
  if (!parsed.success || errors.length > 0) return { ok: false, id, errors };

  const event = parsed.data;
  const definition = settings.registry.get(event.type);
  if (!definition && settings.unknownTypes === 'reject') {
    return { ok: false, id, errors: [{ path: 'type', message: `"${event.type}" is not a registered event type` }] };
  }
  const category = event.category ?? settings.registry.defaultCategory(event.type);
  if (!category) {
    return { ok: false, id, errors: [{ path: 'category', message: `is required for the unregistered type "${event.type}"` }] };
  }

  const receivedAt = request.receivedAt.toISOString();
  const occurredAt = event.occurredAt ? new Date(event.occurredAt) : request.receivedAt;
  if (occurredAt.getTime() - request.receivedAt.getTime() > MAX_FUTURE_SKEW_MS) {
    return { ok: false, id, errors: [{ path: 'occurredAt', message: 'is more than 5 minutes in the future' }] };
  }

  const trace = event.traceId ? undefined : parseTraceparent(request.traceparent);
  const actor = {
    ...event.actor,
    ...(event.actor?.ip === undefined && request.clientIp ? { ip: request.clientIp } : {}),
    ...(event.actor?.userAgent === undefined && request.userAgent ? { userAgent: request.userAgent.slice(0, 1024) } : {}),
  };

  const stored: AuditEvent = {
    id: id ?? newEventId(request.receivedAt),
    occurredAt: occurredAt.toISOString(),
    receivedAt,
    type: event.type,
    category,
    severity: event.severity ?? definition?.severity ?? (event.status === 'failure' || event.error ? 'error' : 'info'),
    status: event.status ?? definition?.status ?? (event.error ? 'failure' : 'success'),
    source: request.source,
    ...(Object.keys(actor).length > 0 ? { actor } : {}),
    ...pick(event, ['record', 'page', 'message', 'error']),
    ...(trace ? { traceId: trace.traceId, spanId: trace.spanId } : {}),
    ...pick(event, ['traceId', 'spanId', 'requestId', 'sessionId', 'fingerprint', 'details', 'payload']),
  };
  return { ok: true, event: stored };
}

function pick<T extends object, K extends keyof T>(source: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

/**
 * Depth and key checks over the raw JSON, before the schema sees it: nesting
 * beyond what DynamoDB can store, and keys that could pollute prototypes.
 * Iterative, so a hostile 10,000-level document cannot blow the stack.
 */
function checkStructure(root: object): FieldError[] {
  const errors: FieldError[] = [];
  const stack: Array<{ value: unknown; path: (string | number)[] }> = [{ value: root, path: [] }];
  while (stack.length > 0 && errors.length < 20) {
    const { value, path } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (path.length >= MAX_NESTING_DEPTH) {
      errors.push({ path: joinPath(path), message: `nests deeper than ${MAX_NESTING_DEPTH} levels` });
      continue;
    }
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    for (const [key, child] of entries) {
      if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) {
        errors.push({ path: joinPath([...path, key]), message: `the key "${key}" is not allowed` });
      } else {
        stack.push({ value: child, path: [...path, key] });
      }
    }
  }
  return errors;
}

export function joinPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

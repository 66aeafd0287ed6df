/**
 * OpenTelemetry logs (OTLP/HTTP, `POST /v1/logs`) → audit events. Pure
 * mapping: the handler decodes the body (JSON, or protobuf converted to the
 * same shape) and hands the mapped events to the ordinary ingest pipeline
 * (validation, redaction, create-only write), so an OTLP log record is
 * checked and stored exactly like a posted event.
 *
 * The input is the OTLP/JSON shape (lowerCamelCase field names, trace and
 * span ids as hex, 64-bit integers as decimal strings or numbers).
 */
import { createHash } from 'node:crypto';
import { CATEGORIES, type Category, type Severity } from './event';
import { badRequest } from './errors';
import { readsAsSecret } from './redact';
import { EVENT_TYPE_PATTERN } from './registry';

export const DEFAULT_OTLP_EVENT_TYPE = 'otel.log';
/** No category fits an arbitrary application log; `system_error` is the one for what systems report. */
export const DEFAULT_OTLP_CATEGORY: Category = 'system_error';
/** More records than this in one request is refused whole (the OTel SDKs send at most 512 by default). */
export const MAX_OTLP_RECORDS = 2000;

const MAX_MESSAGE = 8192;
const MAX_ERROR_MESSAGE = 8192;
const MAX_ERROR_NAME = 256;
const MAX_STACK = 32768;
/** AnyValue nesting kept as structure; deeper values are replaced by a marker (the stored event nests at most 32 levels). */
const MAX_VALUE_DEPTH = 12;
/** Nesting of the request document itself (JSON); anything deeper is no OTLP request. */
const MAX_DOCUMENT_DEPTH = 64;
/** Keys that could reach an object's prototype; validation refuses them, so they are renamed here instead. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface OtlpMappingOptions {
  /** The posting app: part of every derived id, so two apps never share one. */
  source: string;
  /** The type of a record without a usable `event.name`. */
  defaultType: string;
  /** The category of a record whose type the registry does not know and that names none (`audit.category`). */
  defaultCategory: Category;
  /** The registry's category for a type (registered, or guessed from its first segment). */
  categoryOf: (type: string) => Category | undefined;
}

/** One log record: the event it maps to, or why it cannot be one. `path` locates it in the request. */
export type MappedLogRecord = { path: string; event: Record<string, unknown> } | { path: string; error: string };

/**
 * Every log record of an ExportLogsServiceRequest, in request order. Throws a
 * ClientError when the document is not an export request at all.
 */
export function mapOtlpLogs(request: unknown, options: OtlpMappingOptions): MappedLogRecord[] {
  if (!isObject(request)) throw badRequest('invalid_body', 'an OTLP logs request is an object with "resourceLogs"');
  const resourceLogs = request.resourceLogs ?? [];
  if (!Array.isArray(resourceLogs)) throw badRequest('invalid_body', '"resourceLogs" must be an array');
  const out: MappedLogRecord[] = [];
  resourceLogs.forEach((rl, r) => {
    if (!isObject(rl)) throw badRequest('invalid_body', `resourceLogs[${r}] must be an object`);
    const resource = isObject(rl.resource) ? rl.resource : {};
    const resourceAttributes = attributesOf(resource.attributes);
    const scopeLogs = rl.scopeLogs ?? [];
    if (!Array.isArray(scopeLogs)) throw badRequest('invalid_body', `resourceLogs[${r}].scopeLogs must be an array`);
    scopeLogs.forEach((sl, s) => {
      if (!isObject(sl)) throw badRequest('invalid_body', `resourceLogs[${r}].scopeLogs[${s}] must be an object`);
      const scope = isObject(sl.scope) ? sl.scope : {};
      const records = sl.logRecords ?? [];
      if (!Array.isArray(records)) throw badRequest('invalid_body', `resourceLogs[${r}].scopeLogs[${s}].logRecords must be an array`);
      records.forEach((record, l) => {
        const path = `resourceLogs[${r}].scopeLogs[${s}].logRecords[${l}]`;
        if (out.length >= MAX_OTLP_RECORDS) {
          throw badRequest('too_many_records', `a request holds at most ${MAX_OTLP_RECORDS} log records; send smaller batches`);
        }
        if (!isObject(record)) {
          out.push({ path, error: 'a log record must be an object' });
          return;
        }
        try {
          out.push({ path, event: mapLogRecord(record, { resource, resourceAttributes, scope }, options) });
        } catch (error) {
          out.push({ path, error: (error as Error).message });
        }
      });
    });
  });
  return out;
}

interface RecordContext {
  resource: Record<string, unknown>;
  resourceAttributes: Record<string, unknown>;
  scope: Record<string, unknown>;
}

function mapLogRecord(record: Record<string, unknown>, context: RecordContext, options: OtlpMappingOptions): Record<string, unknown> {
  const attributes = attributesOf(record.attributes);
  const take = (key: string): unknown => {
    const value = attributes[key];
    delete attributes[key];
    return value;
  };

  // Type: the record's own event name (OTLP 1.5+), else the `event.name` attribute, else the default.
  const eventName = typeof record.eventName === 'string' && record.eventName !== '' ? record.eventName : attributes['event.name'];
  const type = typeof eventName === 'string' ? eventType(eventName) : undefined;
  if (type !== undefined) delete attributes['event.name'];

  const severity = severityFromNumber(record.severityNumber) ?? severityFromText(record.severityText);
  const time = nanosToMillis(record.timeUnixNano) ?? nanosToMillis(record.observedTimeUnixNano);
  const traceId = traceIdOf(record.traceId, 16);
  const spanId = traceId ? traceIdOf(record.spanId, 8) : undefined;

  const exceptionType = take('exception.type');
  const exceptionMessage = take('exception.message');
  const exceptionStack = take('exception.stacktrace');
  const error = {
    ...(nonEmpty(exceptionType) ? { name: String(exceptionType).slice(0, MAX_ERROR_NAME) } : {}),
    ...(nonEmpty(exceptionMessage) ? { message: String(exceptionMessage).slice(0, MAX_ERROR_MESSAGE) } : {}),
    ...(nonEmpty(exceptionStack) ? { stack: String(exceptionStack).slice(0, MAX_STACK) } : {}),
  };

  // A few semantic-convention attributes have a home in the event itself.
  const userId = take('user.id') ?? take('enduser.id');
  const sessionId = take('session.id');
  const requestedCategory = take('audit.category');
  const recordType = take('audit.record.type');
  const recordId = take('audit.record.id');

  const finalType = type ?? options.defaultType;
  const category = CATEGORIES.includes(requestedCategory as Category)
    ? (requestedCategory as Category)
    : options.categoryOf(finalType) === undefined
      ? options.defaultCategory
      : undefined;

  const body = anyValue(record.body, 0);
  let message: string | undefined;
  let payload: unknown;
  if (typeof body === 'string') {
    message = body.length > MAX_MESSAGE ? `${body.slice(0, MAX_MESSAGE - 1)}…` : body;
    if (body.length > MAX_MESSAGE) payload = { body };
  } else if (body !== undefined && body !== null) {
    attributes.body = body;
  }
  if (message === undefined && typeof error.message === 'string') message = error.message;

  const service = context.resourceAttributes['service.name'];
  const details: Record<string, unknown> = {
    ...(nonEmpty(service) ? { service: String(service) } : {}),
    ...pickDefined(context.resourceAttributes, ['service.namespace', 'service.version', 'deployment.environment.name', 'deployment.environment']),
    ...(nonEmpty(context.scope.name) ? { 'otel.scope': String(context.scope.name) } : {}),
    ...(nonEmpty(record.severityText) ? { 'otel.severity_text': String(record.severityText) } : {}),
    ...(type === undefined && nonEmpty(eventName) ? { 'event.name': String(eventName) } : {}),
    ...attributes,
  };

  return {
    id: deterministicId(time, [options.source, context.resource, context.scope, record]),
    type: finalType,
    ...(category ? { category } : {}),
    ...(severity ? { severity } : {}),
    ...(time !== undefined ? { occurredAt: isoTime(time) } : {}),
    ...(nonEmpty(userId) ? { actor: { userId: String(userId).slice(0, 256) } } : {}),
    ...(nonEmpty(recordType) && nonEmpty(recordId) ? { record: { type: String(recordType).slice(0, 128), id: String(recordId).slice(0, 256) } } : {}),
    ...(message !== undefined && message !== '' ? { message } : {}),
    ...(Object.keys(error).length > 0 ? { error } : {}),
    ...(traceId ? { traceId } : {}),
    ...(spanId ? { spanId } : {}),
    ...(nonEmpty(sessionId) ? { sessionId: String(sessionId).slice(0, 128) } : {}),
    ...(Object.keys(details).length > 0 ? { details } : {}),
    ...(payload !== undefined ? { payload } : {}),
  };
}

// ---------------------------------------------------------------------------
// Severity

/** OTLP SeverityNumber ranges (1–4 TRACE, 5–8 DEBUG, 9–12 INFO, 13–16 WARN, 17–20 ERROR, 21–24 FATAL). */
export function severityFromNumber(value: unknown): Severity | undefined {
  const n = typeof value === 'string' ? severityNumberFromName(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 24) return undefined;
  if (n <= 8) return 'debug';
  if (n <= 12) return 'info';
  if (n <= 16) return 'warning';
  if (n <= 20) return 'error';
  return 'critical';
}

const SEVERITY_BASE: Record<string, number> = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 };

/** JSON encoders are told to send enums as numbers, but some send the enum's name (`SEVERITY_NUMBER_WARN2`). */
function severityNumberFromName(name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  const match = /^SEVERITY_NUMBER_([A-Z]+?)([2-4])?$/.exec(name);
  const base = match ? SEVERITY_BASE[match[1]] : undefined;
  return base === undefined ? undefined : base + (match![2] ? Number(match![2]) - 1 : 0);
}

const SEVERITY_TEXT: Record<string, Severity> = {
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  information: 'info',
  notice: 'info',
  warn: 'warning',
  warning: 'warning',
  error: 'error',
  err: 'error',
  fatal: 'critical',
  critical: 'critical',
  crit: 'critical',
  alert: 'critical',
  emergency: 'critical',
};

/** Only when the record has no severity number: the text as loggers usually spell it. */
export function severityFromText(text: unknown): Severity | undefined {
  if (typeof text !== 'string') return undefined;
  const word = /^[a-z]+/.exec(text.trim().toLowerCase())?.[0];
  return word === undefined ? undefined : SEVERITY_TEXT[word];
}

// ---------------------------------------------------------------------------
// Values

/** `event.name` as an event type: lower-cased, other characters as `_`; undefined if still not a dotted type. */
export function eventType(name: string): string | undefined {
  const candidate = name.trim().toLowerCase().replace(/[^a-z0-9_.]+/g, '_');
  return EVENT_TYPE_PATTERN.test(candidate) ? candidate : undefined;
}

/** OTLP attributes (`[{ key, value: AnyValue }]`) as a plain object; a repeated key keeps its last value. */
export function attributesOf(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    if (!isObject(item) || typeof item.key !== 'string' || item.key === '') continue;
    const key = FORBIDDEN_KEYS.has(item.key) ? `${item.key}_` : item.key;
    const value = anyValue(item.value, 0);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** An OTLP AnyValue as plain JSON: strings, booleans, numbers, arrays and objects. */
export function anyValue(value: unknown, depth: number): unknown {
  if (!isObject(value)) return undefined;
  if (depth >= MAX_VALUE_DEPTH) return '[nested too deep]';
  if ('stringValue' in value) return typeof value.stringValue === 'string' ? value.stringValue : String(value.stringValue ?? '');
  if ('boolValue' in value) return value.boolValue === true || value.boolValue === 'true';
  if ('intValue' in value) return int64(value.intValue);
  if ('doubleValue' in value) {
    const n = Number(value.doubleValue);
    // JSON cannot hold NaN or ±Infinity; their names can.
    return Number.isFinite(n) ? n : String(value.doubleValue);
  }
  if ('bytesValue' in value) return typeof value.bytesValue === 'string' ? value.bytesValue : '';
  if ('arrayValue' in value) {
    const values = isObject(value.arrayValue) && Array.isArray(value.arrayValue.values) ? value.arrayValue.values : [];
    return values.map((item) => anyValue(item, depth + 1) ?? null);
  }
  if ('kvlistValue' in value) {
    const values = isObject(value.kvlistValue) && Array.isArray(value.kvlistValue.values) ? value.kvlistValue.values : [];
    const out: Record<string, unknown> = {};
    for (const item of values) {
      if (!isObject(item) || typeof item.key !== 'string') continue;
      const key = FORBIDDEN_KEYS.has(item.key) ? `${item.key}_` : item.key;
      out[key] = anyValue(item.value, depth + 1) ?? null;
    }
    return out;
  }
  return null;
}

/** A 64-bit integer as a number when it fits exactly, else as its decimal string. */
function int64(value: unknown): number | string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  return null;
}

/** Epoch nanoseconds (decimal string or number) in milliseconds; undefined for 0 or nonsense. */
export function nanosToMillis(value: unknown): number | undefined {
  let nanos: bigint;
  if (typeof value === 'string' && /^\d{1,25}$/.test(value)) nanos = BigInt(value);
  else if (typeof value === 'number' && Number.isFinite(value) && value > 0) nanos = BigInt(Math.floor(value));
  else return undefined;
  if (nanos === 0n) return undefined;
  const ms = Number(nanos / 1_000_000n);
  // Beyond what a Date can hold: the record is refused by validation as far-future rather than mis-dated.
  return ms > 8.64e15 ? 8.64e15 : ms;
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** A trace (16 bytes) or span (8 bytes) id as lower-case hex; OTLP/JSON uses hex, some encoders base64. */
export function traceIdOf(value: unknown, bytes: number): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  let hex: string | undefined;
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(value)) hex = value.toLowerCase();
  else if (/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
    const decoded = Buffer.from(value, 'base64');
    if (decoded.length === bytes) hex = decoded.toString('hex');
  }
  // All-zero ids mean "no trace" (W3C trace context).
  return hex === undefined || /^0+$/.test(hex) ? undefined : hex;
}

// ---------------------------------------------------------------------------
// Ids

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const MAX_ULID_TIME = 2 ** 48 - 1;

/**
 * An event id derived from the record itself (and the app and resource that
 * sent it): OTLP exporters retry a whole request after a 429, 503 or
 * timeout, and ids the server drew at random would store every record of a
 * retried request twice. Derived ids make the retry's records `duplicate`s.
 * A ULID whose time is the record's time, so ids still sort by time; a
 * (version 8) UUID when the record carries no time.
 */
export function deterministicId(timeMs: number | undefined, identity: unknown, isRefused: (id: string) => boolean = readsAsSecret): string {
  // Ids are never redacted, and one that reads as a secret is refused (about one ULID in ten million): derive
  // again, still deterministically. The first derivation is the id as it always was.
  for (let attempt = 0; ; attempt++) {
    const id = deriveId(timeMs, attempt === 0 ? identity : [identity, attempt]);
    if (!isRefused(id)) return id;
  }
}

function deriveId(timeMs: number | undefined, identity: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(identity)).digest();
  if (timeMs === undefined || timeMs < 0 || timeMs > MAX_ULID_TIME) {
    const b = Buffer.from(digest.subarray(0, 16));
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = b.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  let time = '';
  let t = Math.floor(timeMs);
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let random = '';
  let n = BigInt(`0x${digest.subarray(0, 10).toString('hex')}`);
  for (let i = 0; i < 16; i++) {
    random = CROCKFORD[Number(n & 31n)] + random;
    n >>= 5n;
  }
  return time + random;
}

// ---------------------------------------------------------------------------
// Request documents

/**
 * OTLP/JSON receivers must accept field names in lowerCamelCase and in the
 * proto's snake_case: rename every object key to lowerCamelCase. Attribute
 * keys are values (`{"key": "http.method"}`), not object keys, so they are
 * untouched. Throws for a document nested deeper than any export request.
 */
export function camelCaseKeys(value: unknown, depth = 0): unknown {
  if (depth > MAX_DOCUMENT_DEPTH) throw badRequest('invalid_body', `the document nests deeper than ${MAX_DOCUMENT_DEPTH} levels`);
  if (Array.isArray(value)) return value.map((item) => camelCaseKeys(item, depth + 1));
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) continue;
    const name = key.includes('_') ? key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()) : key;
    if (FORBIDDEN_KEYS.has(name)) continue;
    out[name] = camelCaseKeys(child, depth + 1);
  }
  return out;
}

/** The OTLP partial-success answer for the records that were not stored (none: an empty response). */
export function exportLogsResponse(rejected: Array<{ path: string; reason: string }>): { partialSuccess?: { rejectedLogRecords: number; errorMessage: string } } {
  if (rejected.length === 0) return {};
  const shown = rejected.slice(0, 5).map(({ path, reason }) => `${path}: ${reason}`);
  const more = rejected.length > shown.length ? `; and ${rejected.length - shown.length} more` : '';
  return { partialSuccess: { rejectedLogRecords: rejected.length, errorMessage: `${rejected.length} log record(s) rejected: ${shown.join('; ')}${more}` } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmpty(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function pickDefined(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (nonEmpty(source[key])) out[key] = source[key];
  return out;
}

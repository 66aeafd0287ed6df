/**
 * Property-based fuzzing of validation and of the two ingest Lambdas
 * (issue 9, item 4): no input makes them throw or answer 500, every answer
 * is JSON with one result per posted event, and what they would write holds
 * no secret. DynamoDB is mocked with aws-sdk-client-mock, as in
 * ingest-handler.test.ts.
 *
 * Cases per CI run (numRuns; FUZZ_RUNS_SCALE and seed replay: fuzz-arbitraries.ts):
 *   prepareEvent over arbitrary JSON ............. 1,500
 *   parseIngestBody over arbitrary bodies ........ 1,000
 *   POST /v1/events handler, arbitrary requests .. 1,000
 *   POST /v1/events handler, secrets in raw JSON ... 300
 *   POST /v1/logs handler, arbitrary requests ...... 500
 *   total ........................................ 4,300 (fuzz-redaction.test.ts adds 6,600)
 */
import { gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { CATEGORIES, SEVERITIES, STATUSES } from '../../lambdas/core/event';
import { toEventItem } from '../../lambdas/core/event-keys';
import { ClientError } from '../../lambdas/core/errors';
import { canonicalEventId } from '../../lambdas/core/ids';
import { MAX_BODY_BYTES, MAX_EVENTS_PER_REQUEST, parseIngestBody, prepareEvent } from '../../lambdas/core/ingest';
import { ingestSettingsFromEnv } from '../../lambdas/core/settings';
import { MAX_TYPE_LENGTH, validateEvent, type RequestContext } from '../../lambdas/core/validate';
import { encodeExportLogsRequest } from '../../lambdas/otlp/protobuf';
import {
  FUZZ_TIMEOUT_MS,
  deeplyNested,
  filler,
  fuzzParameters,
  hostileJson,
  hostileKey,
  hostileString,
  isoTimestamp,
  leak,
  ownObject,
  separator,
  textSecret,
  cardDigits,
  digitHeavyUlid,
  ulidSpellsCard,
  type Secret,
} from './fuzz-arbitraries';

jest.setTimeout(FUZZ_TIMEOUT_MS);

process.env.EVENTS_TABLE = 'events-test';
process.env.COUNTERS_TABLE = 'counters-test';
process.env.AWS_REGION = 'eu-west-1';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

type Handler = (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>;
const dynamo = mockClient(DynamoDBDocumentClient);
/* eslint-disable @typescript-eslint/no-require-imports */
const ingest = (require('../../lambdas/ingest/handler') as { handler: Handler }).handler;
const otlp = (require('../../lambdas/otlp/handler') as { handler: Handler }).handler;
/* eslint-enable @typescript-eslint/no-require-imports */

const settings = ingestSettingsFromEnv({});
const receivedAt = new Date('2026-11-23T10:00:00.000Z');
const request: RequestContext = { source: 'checkout', receivedAt };
const context = { functionName: 'fuzz', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

// ---------------------------------------------------------------------------
// Events: valid ones, and valid ones with fields broken in every way

const eventType = fc.oneof(
  fc.constantFrom('user.login.failed', 'user.logout', 'payment.charge.failed', 'order.shipped', 'otel.log'),
  fc.stringMatching(/^[a-z][a-z0-9_]{0,12}(\.[a-z0-9_]{1,12}){1,5}$/),
  // Long but well-formed: the type ends up in an index key, which DynamoDB caps at 2,048 bytes.
  fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.constantFrom('a', 'z9_')).map(([n, unit]) => `x.${unit.repeat(Math.ceil(n / unit.length))}`),
);
const text = (max: number) => fc.oneof(fc.string({ minLength: 1, maxLength: Math.min(max, 40) }), filler, textSecret.map((s) => s.text));

const validFields = {
  id: fc.oneof(fc.ulid(), fc.uuid(), fc.ulid().map((u) => u.toLowerCase()), digitHeavyUlid),
  occurredAt: isoTimestamp,
  type: eventType,
  category: fc.constantFrom(...CATEGORIES),
  severity: fc.constantFrom(...SEVERITIES),
  status: fc.constantFrom(...STATUSES),
  actor: fc.record({ userId: text(256), adminId: text(256), ip: fc.oneof(fc.ipV4(), fc.ipV6()), userAgent: text(1024) }, { requiredKeys: [] }),
  record: fc.record({ type: text(128), id: text(256) }),
  page: text(512),
  message: text(8192),
  error: fc.record({ name: text(256), message: text(8192), code: fc.oneof(text(128), fc.integer()), stack: text(32768) }, { requiredKeys: [] }),
  traceId: text(128),
  spanId: text(64),
  requestId: text(128),
  sessionId: text(128),
  fingerprint: text(128),
  details: fc.dictionary(hostileKey, hostileJson, { maxKeys: 5 }),
  payload: hostileJson,
};
type FieldName = keyof typeof validFields;
const FIELD_NAMES = Object.keys(validFields) as FieldName[];

/** Each field absent, valid, or any JSON at all; sometimes server-owned, unknown or prototype keys. */
const mutatedEvent: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.tuple(...FIELD_NAMES.map((name) => fc.oneof(
      { weight: name === 'type' ? 1 : 4, arbitrary: fc.constant(undefined) },
      { weight: 4, arbitrary: validFields[name] as fc.Arbitrary<unknown> },
      { weight: 1, arbitrary: hostileJson },
    ))),
    fc.array(fc.tuple(hostileKey, hostileJson), { maxLength: 2 }),
    fc.nat(9),
  )
  .map(([values, extra, extraCount]) => {
    const entries: Array<[string, unknown]> = FIELD_NAMES.flatMap((name, i) => (values[i] === undefined ? [] : [[name, values[i]] as [string, unknown]]));
    return ownObject([...entries, ...(extraCount < 2 ? extra : [])]);
  });

const hugeString = 'x'.repeat(70_000);
const anyEventInput: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: mutatedEvent },
  { weight: 2, arbitrary: hostileJson },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 25, max: 200 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 3 })).map(([depth, arrays]) => ({ type: 'user.logout', details: { d: deeplyNested('leaf', depth, arrays) } })) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>({ type: 'user.logout', message: hugeString }, { type: 'user.logout', details: { big: hugeString } }, { type: 'user.logout', payload: [hugeString.slice(0, 40_000), hugeString.slice(0, 30_000)] }) },
);

/** Within DynamoDB's key limits: partition keys 2,048 bytes, sort keys 1,024 (base table and every index). */
function expectStorable(event: Parameters<typeof toEventItem>[0]): void {
  const item = toEventItem(event, settings.retention);
  for (const pk of [item.pk, item.datePk, item.typePk, item.severityPk, item.userPk, item.recordPk, item.tracePk]) {
    if (pk !== undefined) expect(Buffer.byteLength(pk, 'utf8')).toBeLessThanOrEqual(2048);
  }
  expect(Buffer.byteLength(item.sk, 'utf8')).toBeLessThanOrEqual(1024);
}

function expectFieldErrors(input: unknown, errors: Array<{ path: string; message: string }>): void {
  expect(errors.length).toBeGreaterThan(0);
  const keys = input !== null && typeof input === 'object' && !Array.isArray(input) ? Object.keys(input) : [];
  for (const error of errors) {
    expect(typeof error.message).toBe('string');
    expect(error.message.length).toBeGreaterThan(0);
    // A path names a field the client sent, a required field it left out, or '' for the whole event.
    // (An empty key vanishes from a dotted path: `{"": {"__proto__": 1}}` reports `__proto__`.)
    const rooted = error.path === '' || keys.includes('') || [...keys, ...FIELD_NAMES].some((k) => error.path === k || error.path.startsWith(`${k}.`) || error.path.startsWith(`${k}[`));
    if (!rooted) throw new Error(`error path ${JSON.stringify(error.path)} is not in the input's keys ${JSON.stringify(keys)}`);
  }
}

describe('validation', () => {
  it('prepareEvent never throws: an event is accepted (valid, storable, redacted, its id kept) or rejected with field paths', () => {
    fc.assert(
      fc.property(anyEventInput, (raw) => {
        const input = JSON.parse(JSON.stringify(raw ?? null)) as unknown;
        const prepared = prepareEvent(input, request, settings);
        if (!prepared.ok) {
          expectFieldErrors(input, prepared.errors);
          return;
        }
        const event = prepared.event;
        const clientId = (input as Record<string, unknown>).id;
        if (typeof clientId === 'string') {
          expect(event.id).toBe(canonicalEventId(clientId));
          expect(ulidSpellsCard(clientId)).toBe(false);
        }
        expectStorable(event);
        expect(settings.redact(event).count).toBe(0);
        // What was stored is itself a valid event once the server's own fields are taken off.
        const { source, receivedAt: at, redaction, ...resent } = event;
        const again = validateEvent(resent, request, settings);
        // Markers may lengthen a field past its posted limit: the README bounds only the whole event after redaction.
        const grownByMarkers = (e: { path: string; message: string }) =>
          /at most \d+ characters/.test(e.message) && String(e.path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], resent)).includes('[REDACTED:');
        if (!again.ok && !again.errors.every(grownByMarkers)) throw new Error(`stored event no longer validates: ${JSON.stringify(again.errors)}`);
      }),
      fuzzParameters(1500),
    );
  });

  it('parseIngestBody takes 1–100 events or throws a ClientError of the documented codes, nothing else', () => {
    const body = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom('', ' ', '\n\t', 'null', '[]', '{}', '"x"', '1', '{"events":[]}', '{"events":{}}', '{"events":null}', '{"events":[1],"x":1}', '{"__proto__":{"events":[1]}}', '{"events":[1],"events":[2]}', 'x'.repeat(MAX_BODY_BYTES + 1)),
      hostileJson.map((v) => JSON.stringify(v) ?? ''),
      fc.array(hostileJson, { maxLength: MAX_EVENTS_PER_REQUEST + 10 }).map((events) => JSON.stringify({ events })),
    );
    const contentType = fc.oneof(
      fc.constantFrom('application/json', 'application/json; charset=utf-8', ' APPLICATION/JSON ', 'application/vnd.api+json', 'text/plain', 'application/jsonp', 'multipart/form-data', ''),
      fc.constant(undefined),
      fc.string({ maxLength: 20 }),
    );
    const CODES = new Set(['invalid_json', 'empty_body', 'invalid_body', 'empty_batch', 'too_many_events', 'payload_too_large', 'unsupported_media_type']);
    fc.assert(
      fc.property(body, contentType, (b, type) => {
        let events: unknown[];
        try {
          events = parseIngestBody(b, type);
        } catch (error) {
          if (!(error instanceof ClientError)) throw error;
          expect([400, 413, 415]).toContain(error.statusCode);
          expect(CODES).toContain(error.code);
          return;
        }
        expect(events.length).toBeGreaterThanOrEqual(1);
        expect(events.length).toBeLessThanOrEqual(MAX_EVENTS_PER_REQUEST);
      }),
      fuzzParameters(1000),
    );
  });
});

describe('regressions found by fuzzing', () => {
  it('refuses a type too long for its index key (DynamoDB: 2,048 bytes), which PutItem would refuse on every retry', () => {
    expect(prepareEvent({ type: `x.${'a'.repeat(2100)}`, category: 'security' }, request, settings)).toEqual({ ok: false, errors: [{ path: 'type', message: `must be at most ${MAX_TYPE_LENGTH} characters` }] });
    expect(prepareEvent({ type: `x.${'a'.repeat(MAX_TYPE_LENGTH - 2)}`, category: 'security' }, request, settings).ok).toBe(true);
  });

  it('refuses a numeric error.code beyond 2^53, whose rounded digits would pass for no card once made a string', () => {
    // 352800000900000008 (a JCB number) was stored as the string "352800000900000000".
    const input = JSON.parse('{"type":"user.logout","error":{"code":352800000900000008}}');
    expect(prepareEvent(input, request, settings)).toMatchObject({ ok: false, errors: [{ path: 'error.code' }] });
    expect(prepareEvent({ type: 'user.logout', error: { code: 1062 } }, request, settings)).toMatchObject({ ok: true, event: { error: { code: '1062' } } });
  });
});

// ---------------------------------------------------------------------------
// The handlers

type StoreMode = 'ok' | 'exists-same' | 'exists-other';
function mockStore(mode: StoreMode): void {
  dynamo.reset();
  dynamo.on(UpdateCommand).resolves({ Attributes: { used: 1 } });
  if (mode === 'ok') dynamo.on(PutCommand).resolves({});
  else dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: { source: { S: mode === 'exists-same' ? 'checkout' : 'other-app' } } }));
}

const putItems = () => dynamo.commandCalls(PutCommand).map((call) => call.args[0].input.Item as Record<string, unknown>);

/** Every written document: its key is its id, and it holds nothing the redactor would still take. */
function expectCleanWrites(): void {
  for (const item of putItems()) {
    const doc = JSON.parse(item.doc as string) as Record<string, unknown>;
    expect(item.pk).toBe(doc.id);
    expect(settings.redact(doc).count).toBe(0);
  }
}

interface HttpRequest {
  body: string | null;
  isBase64Encoded: boolean;
  headers: Record<string, string>;
  authorizer: Record<string, string>;
  /** OTLP: the log records the body holds, when the test can tell. */
  records?: number;
}

function apiEvent(path: string, r: HttpRequest): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    path,
    resource: path,
    headers: r.headers,
    body: r.body,
    isBase64Encoded: r.isBase64Encoded,
    requestContext: { requestId: 'api-req-1', requestTimeEpoch: receivedAt.getTime(), authorizer: r.authorizer, identity: { sourceIp: '198.51.100.7' } },
  } as unknown as APIGatewayProxyEvent;
}

const headerName = (name: string) => fc.constantFrom(name, name.toLowerCase(), name.toUpperCase());
const headers = (contentTypes: fc.Arbitrary<string | undefined>) =>
  fc
    .tuple(
      headerName('Content-Type'),
      contentTypes,
      fc.option(fc.oneof(fc.constant('00-4bf92f3577b34da6a3ce929d0e4e4736-00f067aa0ba902b7-01'), fc.string({ maxLength: 60 })), { nil: undefined }),
      fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    )
    .map(([name, type, traceparent, agent]) => ({
      ...(type !== undefined ? { [name]: type } : {}),
      ...(traceparent !== undefined ? { traceparent } : {}),
      ...(agent !== undefined ? { 'User-Agent': agent } : {}),
    }));

const authorizer = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ app: 'checkout', rateLimit: '100000' }) },
  { weight: 2, arbitrary: fc.constant({ app: 'checkout', rateLimit: '100000', captureClientIp: 'true' }) },
  { weight: 1, arbitrary: fc.constantFrom<Record<string, string>>({}, { app: '' }, { app: 'checkout', rateLimit: 'lots' }) },
);

const ERROR_CODES = new Set(['invalid_json', 'empty_body', 'invalid_body', 'empty_batch', 'too_many_events', 'payload_too_large', 'unsupported_media_type', 'unauthorized', 'invalid_event', 'invalid_protobuf', 'too_many_records']);

function expectJsonAnswer(result: APIGatewayProxyResult): unknown {
  expect(result.headers?.['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(result.body) as { error?: { code?: unknown; message?: unknown } };
  if (result.statusCode >= 400) {
    expect(typeof body.error?.message).toBe('string');
    expect(ERROR_CODES).toContain(body.error?.code);
  }
  return body;
}

/** How many events the handler should answer for, read independently of parseIngestBody. */
function postedEventCount(r: HttpRequest): number | undefined {
  try {
    const text = r.isBase64Encoded ? Buffer.from(r.body ?? '', 'base64').toString('utf8') : (r.body ?? '');
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    return Object.prototype.hasOwnProperty.call(parsed, 'events') ? (Array.isArray((parsed as { events: unknown }).events) ? (parsed as { events: unknown[] }).events.length : undefined) : 1;
  } catch {
    return undefined;
  }
}

describe('POST /v1/events never crashes', () => {
  const eventsBody = fc.oneof(
    { weight: 3, arbitrary: mutatedEvent.map((e) => JSON.stringify(e)) },
    { weight: 3, arbitrary: fc.array(fc.oneof({ weight: 4, arbitrary: mutatedEvent }, { weight: 1, arbitrary: hostileJson }), { maxLength: 110 }).map((events) => JSON.stringify({ events })) },
    { weight: 1, arbitrary: hostileJson.map((v) => JSON.stringify(v) ?? 'undefined') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
    { weight: 1, arbitrary: fc.constantFrom<string | null>(null, '', '{"events":[]}', `{"events":[${'{"type":"user.logout"},'.repeat(100)}{"type":"user.logout"}]}`, JSON.stringify({ type: 'user.logout', message: 'x'.repeat(MAX_BODY_BYTES) })) },
  );
  const ingestRequest: fc.Arbitrary<HttpRequest> = fc
    .tuple(
      eventsBody,
      fc.boolean(),
      fc.uint8Array({ maxLength: 64 }),
      headers(fc.oneof({ weight: 6, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/cloudevents+json', 'text/plain', '', undefined) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) })),
      authorizer,
    )
    .map(([body, base64, bytes, h, auth]) => ({
      // A base64 body is either the JSON encoded (as API Gateway sends a binary type) or random bytes.
      body: base64 ? Buffer.from(bytes.length % 2 ? bytes : Buffer.from(body ?? '')).toString('base64') : body,
      isBase64Encoded: base64,
      headers: h,
      authorizer: auth,
    }));

  it('answers every request with JSON, 2xx or 4xx, and one result per posted event', async () => {
    await fc.assert(
      fc.asyncProperty(ingestRequest, fc.constantFrom<StoreMode>('ok', 'ok', 'ok', 'exists-same', 'exists-other'), async (r, mode) => {
        mockStore(mode);
        const result = await ingest(apiEvent('/v1/events', r), context);
        expect([200, 207, 400, 401, 413, 415]).toContain(result.statusCode);
        const body = expectJsonAnswer(result) as { error?: { code: string }; results?: Array<{ index: number; status: string }>; accepted?: number; duplicates?: number; rejected?: number; failed?: number };
        if (!body.results) {
          expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
          return;
        }
        const n = postedEventCount(r);
        expect(body.results).toHaveLength(n as number);
        body.results.forEach((res, i) => expect(res.index).toBe(i));
        const { accepted = 0, duplicates = 0, rejected = 0, failed = 0 } = body;
        expect(accepted + duplicates + rejected + failed).toBe(n);
        expect(failed).toBe(0);
        if (result.statusCode === 200) expect(rejected).toBe(0);
        if (result.statusCode === 207) expect(rejected > 0 && rejected < (n as number)).toBe(true);
        if (result.statusCode === 400) expect([body.error?.code, rejected]).toEqual(['invalid_event', n]);
        if (mode === 'ok') expect(dynamo.commandCalls(PutCommand)).toHaveLength(accepted);
        else expect(accepted).toBe(0);
        expectCleanWrites();
      }),
      fuzzParameters(1000),
    );
  });

  it('writes no generated secret, even as raw JSON numbers of any length', async () => {
    // The body is written by hand so a card can be a number literal that JSON.parse rounds.
    const literal = fc.oneof(
      textSecret.map((s): [Secret, string] => [s, JSON.stringify(s.text)]),
      cardDigits.map((d): [Secret, string] => [{ kind: 'card (JSON number)', text: d, significant: [], digits: d }, d]),
    );
    const eventText = fc
      .tuple(literal, fc.constantFrom('message', 'details', 'payload', 'error'), filler, separator)
      .map(([[secret, json], where, before, sep]) => {
        const inText = json.startsWith('"') ? JSON.stringify(`${before}${sep}${secret.text}${sep}`) : json;
        const field =
          where === 'message' ? `"message":${json.startsWith('"') ? inText : JSON.stringify(secret.text)}`
          // A numeric code beyond 2^53 is refused (see the regressions); a safe one must still be redacted.
          : where === 'error' ? `"error":{"stack":${JSON.stringify(`${before}${sep}${secret.text}${sep}`)},"code":${!json.startsWith('"') && Number.isSafeInteger(Number(json)) ? json : '"E1"'}}`
          : `"${where}":{"a":[1,{"b":${json}}],"c":${inText}}`;
        return { secret, text: `{"type":"user.login.failed",${field}}` };
      });
    await fc.assert(
      fc.asyncProperty(fc.array(eventText, { minLength: 1, maxLength: 5 }), async (events) => {
        mockStore('ok');
        const body = events.length === 1 ? (events[0] as { text: string }).text : `{"events":[${events.map((e) => e.text).join(',')}]}`;
        const result = await ingest(apiEvent('/v1/events', { body, isBase64Encoded: false, headers: { 'content-type': 'application/json' }, authorizer: { app: 'checkout', rateLimit: '100000' } }), context);
        expect(result.statusCode).toBe(200);
        const written = JSON.stringify(putItems().map((item) => ({ ...item, doc: JSON.parse(item.doc as string) })));
        expect(putItems()).toHaveLength(events.length);
        for (const { secret } of events) {
          const found = leak(written, secret);
          if (found !== undefined) throw new Error(`${secret.kind} written: ${found}`);
        }
      }),
      fuzzParameters(300),
    );
  });
});

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Log records in an OTLP/JSON request, counted the way the spec nests them; undefined if it is no such request. */
function countRecords(req: unknown): number | undefined {
  if (!isObject(req)) return undefined;
  const resourceLogs = req.resourceLogs ?? [];
  if (!Array.isArray(resourceLogs)) return undefined;
  let n = 0;
  for (const rl of resourceLogs) {
    const scopeLogs = isObject(rl) ? (rl.scopeLogs ?? []) : undefined;
    if (!Array.isArray(scopeLogs)) return undefined;
    for (const sl of scopeLogs) {
      const records = isObject(sl) ? (sl.logRecords ?? []) : undefined;
      if (!Array.isArray(records)) return undefined;
      n += records.length;
    }
  }
  return n;
}

describe('POST /v1/logs never crashes', () => {
  const anyValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      hostileString.map((stringValue) => ({ stringValue })),
      fc.oneof(fc.integer(), fc.string({ maxLength: 22 }), fc.constant('9007199254740993')).map((intValue) => ({ intValue })),
      fc.oneof(fc.double(), fc.constantFrom('NaN', 'Infinity', '-Infinity')).map((doubleValue) => ({ doubleValue })),
      fc.boolean().map((boolValue) => ({ boolValue })),
      fc.base64String({ maxLength: 16 }).map((bytesValue) => ({ bytesValue })),
      fc.array(tie('v'), { maxLength: 3 }).map((values) => ({ arrayValue: { values } })),
      fc.array(fc.record({ key: hostileKey, value: tie('v') }), { maxLength: 3 }).map((values) => ({ kvlistValue: { values } })),
      hostileJson,
    ),
  })).v;
  const attributes = fc.array(
    fc.record({
      key: fc.oneof(hostileKey, fc.constantFrom('event.name', 'user.id', 'enduser.id', 'session.id', 'audit.category', 'audit.record.type', 'audit.record.id', 'exception.type', 'exception.message', 'exception.stacktrace', 'service.name', 'password', 'http.request.header.authorization')),
      value: anyValue,
    }),
    { maxLength: 6 },
  );
  const nanos = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String), fc.integer(), fc.string({ maxLength: 10 }), fc.constant('1795428000000000000'));
  const hex = (bytes: number) => fc.oneof(fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex')), fc.string({ maxLength: bytes * 2 }));
  const logRecord = fc.oneof(
    { weight: 6, arbitrary: fc.record({ timeUnixNano: nanos, observedTimeUnixNano: nanos, severityNumber: fc.oneof(fc.integer({ min: -2, max: 30 }), fc.string({ maxLength: 24 })), severityText: hostileString, body: anyValue, attributes, eventName: fc.oneof(fc.string({ maxLength: 30 }), eventType), traceId: hex(16), spanId: hex(8), flags: fc.integer() }, { requiredKeys: [] }) },
    { weight: 1, arbitrary: hostileJson },
  );
  const exportRequest = fc.oneof(
    { weight: 6, arbitrary: fc.record({ resourceLogs: fc.array(fc.record({ resource: fc.record({ attributes }, { requiredKeys: [] }), scopeLogs: fc.array(fc.record({ scope: fc.record({ name: fc.string({ maxLength: 10 }) }), logRecords: fc.array(logRecord, { maxLength: 6 }) }, { requiredKeys: [] }), { maxLength: 3 }) }, { requiredKeys: [] }), { maxLength: 3 }) }, { requiredKeys: [] }) },
    { weight: 1, arbitrary: hostileJson },
  );

  const otlpRequest: fc.Arbitrary<HttpRequest> = fc
    .tuple(
      exportRequest,
      fc.constantFrom('json', 'snake-json', 'protobuf', 'gzip-json', 'gzip-protobuf', 'random-bytes', 'random-text'),
      fc.uint8Array({ maxLength: 80 }),
      authorizer,
      fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
    )
    .map(([req, encoding, bytes, auth, oddType]): HttpRequest => {
      const json = JSON.stringify(req) ?? 'null';
      let protobuf: Buffer | undefined;
      try {
        protobuf = Buffer.from(encodeExportLogsRequest(req));
      } catch {
        protobuf = Buffer.from(bytes);
      }
      const snake = json.replace(/"(resourceLogs|scopeLogs|logRecords|timeUnixNano|severityNumber|traceId)"/g, (_, k: string) => `"${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}"`);
      const pick: Record<string, [Buffer | string, string]> = {
        json: [json, 'application/json'],
        'snake-json': [snake, 'application/json; charset=utf-8'],
        protobuf: [protobuf, 'application/x-protobuf'],
        'gzip-json': [gzipSync(json), 'application/json'],
        'gzip-protobuf': [gzipSync(protobuf), 'application/x-protobuf'],
        'random-bytes': [Buffer.from(bytes), 'application/x-protobuf'],
        'random-text': [Buffer.from(bytes).toString('latin1'), 'application/json'],
      };
      const [body, type] = pick[encoding] as [Buffer | string, string];
      const binary = Buffer.isBuffer(body);
      const records = encoding === 'json' || encoding === 'gzip-json' ? countRecords(req) : undefined;
      return {
        body: binary ? body.toString('base64') : body,
        isBase64Encoded: binary,
        headers: { 'Content-Type': oddType !== undefined && bytes.length % 7 === 0 ? oddType : type },
        authorizer: auth,
        ...(records !== undefined ? { records } : {}),
      };
    });

  it('answers every request 200, 400, 401, 413 or 415 in its encoding, accounts for each record, writes only redacted events', async () => {
    await fc.assert(
      fc.asyncProperty(otlpRequest, fc.constantFrom<StoreMode>('ok', 'ok', 'exists-same', 'exists-other'), async (r, mode) => {
        mockStore(mode);
        const result = await otlp(apiEvent('/v1/logs', r), context);
        expect([200, 400, 401, 413, 415]).toContain(result.statusCode);
        if (result.statusCode === 200 && result.isBase64Encoded) {
          expect(result.headers?.['content-type']).toBe('application/x-protobuf');
        } else {
          const body = expectJsonAnswer(result) as { partialSuccess?: { rejectedLogRecords: unknown; errorMessage: unknown } };
          if (result.statusCode === 200 && body.partialSuccess) {
            expect(Number.isInteger(body.partialSuccess.rejectedLogRecords)).toBe(true);
            expect(typeof body.partialSuccess.errorMessage).toBe('string');
          }
          // Each record is written, rejected, or a byte-identical copy of a written one.
          if (result.statusCode === 200 && r.records !== undefined && mode === 'ok') {
            const handled = dynamo.commandCalls(PutCommand).length + Number(body.partialSuccess?.rejectedLogRecords ?? 0);
            expect(handled).toBeLessThanOrEqual(r.records);
            if (r.records > 0) expect(handled).toBeGreaterThan(0);
          }
        }
        expectCleanWrites();
      }),
      fuzzParameters(500),
    );
  });
});

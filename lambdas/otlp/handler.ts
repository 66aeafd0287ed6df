import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoEventStore } from '../adapters/event-store';
import { DynamoRateLimiter } from '../adapters/rate-limiter';
import { CATEGORIES, type Category } from '../core/event';
import { ClientError, badRequest } from '../core/errors';
import { ingestEvents } from '../core/ingest';
import { DEFAULT_OTLP_CATEGORY, DEFAULT_OTLP_EVENT_TYPE, camelCaseKeys, eventType, exportLogsResponse, mapOtlpLogs } from '../core/otlp';
import { defaultAppRateLimit, ingestSettingsFromEnv } from '../core/settings';
import { callingApp } from '../shared/calling-app';
import { header, httpHandler, json, logger } from '../shared/http';
import { flushMetrics, recordIngest, recordRateLimited } from '../shared/metrics';
import { decodeExportLogsRequest, encodeExportLogsResponse } from './protobuf';
import { APP_ROUTE_CORS } from '../../lib/declarations/routes';

/**
 * `POST /v1/logs`: OTLP/HTTP logs (JSON or protobuf) from apps already
 * instrumented with OpenTelemetry. Each log record becomes an event
 * (lambdas/core/otlp.ts) and goes through the same pipeline as
 * `POST /v1/events`: validation, redaction, create-only write.
 */

/** Decoded (and decompressed) body limit: above an SDK's default batch of 512 records with attributes. */
export const MAX_OTLP_BODY_BYTES = 5 * 1024 * 1024;

const settings = ingestSettingsFromEnv();
const fallbackRateLimit = defaultAppRateLimit();
const store = new DynamoEventStore();
const rateLimiter = new DynamoRateLimiter();
const defaultType = eventType(process.env.OTLP_DEFAULT_EVENT_TYPE || DEFAULT_OTLP_EVENT_TYPE);
if (!defaultType) throw new Error('OTLP_DEFAULT_EVENT_TYPE must be a lower-case dotted event type such as otel.log');
const defaultCategory = (process.env.OTLP_DEFAULT_CATEGORY || DEFAULT_OTLP_CATEGORY) as Category;
if (!CATEGORIES.includes(defaultCategory)) throw new Error(`OTLP_DEFAULT_CATEGORY must be one of ${CATEGORIES.join(', ')}`);

type Encoding = 'json' | 'protobuf';

function encodingOf(contentType: string | undefined): Encoding {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType === 'application/json') return 'json';
  if (mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf') return 'protobuf';
  throw new ClientError(415, 'unsupported_media_type', 'send OTLP logs as application/json or application/x-protobuf');
}

/** The body's bytes: base64 when API Gateway treated it as binary (protobuf), gunzipped when compressed. */
function bodyBytes(event: APIGatewayProxyEvent): Buffer {
  if (!event.body) return Buffer.alloc(0);
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  // API Gateway inflates gzip bodies itself when the API has compression on; the magic bytes tell if it did not.
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw, { maxOutputLength: MAX_OTLP_BODY_BYTES });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
      throw badRequest('invalid_body', 'the body is not valid gzip');
    }
  }
  if (raw.length > MAX_OTLP_BODY_BYTES) throw tooLarge();
  return raw;
}

const tooLarge = () => new ClientError(413, 'payload_too_large', `the request body is over ${MAX_OTLP_BODY_BYTES} bytes; export smaller batches`);

function decode(encoding: Encoding, bytes: Buffer): unknown {
  if (encoding === 'protobuf') {
    try {
      return decodeExportLogsRequest(bytes);
    } catch (error) {
      throw badRequest('invalid_protobuf', `the body is not an OTLP ExportLogsServiceRequest: ${(error as Error).message}`);
    }
  }
  if (bytes.length === 0) throw badRequest('empty_body', 'the request body is empty; send an ExportLogsServiceRequest');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw badRequest('invalid_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
  return camelCaseKeys(parsed);
}

/** OTLP answers in the request's encoding. An empty protobuf message is zero bytes, which needs no binary handling. */
function answer(encoding: Encoding, response: ReturnType<typeof exportLogsResponse>): APIGatewayProxyResult {
  if (encoding === 'json') return json(200, response);
  const bytes = encodeExportLogsResponse(response);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/x-protobuf', 'cache-control': 'no-store' },
    body: Buffer.from(bytes).toString('base64'),
    isBase64Encoded: true,
  };
}

export const handler = httpHandler(async (event) => {
  const app = callingApp(event, fallbackRateLimit);
  const encoding = encodingOf(header(event, 'content-type'));
  const mapped = mapOtlpLogs(decode(encoding, bodyBytes(event)), {
    source: app.source,
    defaultType,
    defaultCategory,
    categoryOf: (type) => settings.registry.defaultCategory(type),
  });
  const mappable = mapped.flatMap((record) => ('event' in record ? [record] : []));

  if (mappable.length > 0 && !(await rateLimiter.tryConsume(app.source, mappable.length, app.rateLimit))) {
    recordRateLimited(mappable.length);
    throw new ClientError(429, 'rate_limited', `app ${app.source} is over ${app.rateLimit} events per second; retry shortly`, { 'retry-after': '1' });
  }

  const { results, writeErrors, redactions } =
    mappable.length === 0
      ? { results: [], writeErrors: [], redactions: { events: 0, values: 0 } }
      : await ingestEvents(
          mappable.map((record) => record.event),
          {
            source: app.source,
            receivedAt: new Date(event.requestContext.requestTimeEpoch || Date.now()),
            ...(app.captureClientIp ? { clientIp: event.requestContext.identity?.sourceIp, userAgent: header(event, 'user-agent') } : {}),
            traceparent: header(event, 'traceparent'),
          },
          settings,
          store,
        );
  for (const error of writeErrors) logger.error('event write failed', error as Error);

  const rejected = [
    ...mapped.flatMap((record) => ('error' in record ? [{ path: record.path, reason: record.error }] : [])),
    ...results.flatMap((result) =>
      result.status === 'rejected'
        ? [{ path: mappable[result.index].path, reason: result.errors.map((e) => (e.path ? `${e.path} ${e.message}` : e.message)).join(', ') }]
        : [],
    ),
  ];
  const count = (status: string) => results.filter((result) => result.status === status).length;
  const summary = { records: mapped.length, accepted: count('accepted'), duplicates: count('duplicate'), rejected: rejected.length, failed: count('failed') };
  logger.info('otlp logs ingested', { app: app.source, encoding, ...summary });
  // Unmappable records count as rejected events, as they are in the answer.
  recordIngest({ ...summary, redactedEvents: redactions.events, redactions: redactions.values });

  if (summary.failed > 0) {
    // Retryable for OTLP exporters; the records' derived ids make the stored ones duplicates on the retry.
    throw new ClientError(503, 'write_failed', `${summary.failed} log record(s) were not stored; retry the request`, { 'retry-after': '1' });
  }
  return answer(encoding, exportLogsResponse(rejected));
}, { corsAllowOrigin: APP_ROUTE_CORS.allowOrigin }).use(flushMetrics());

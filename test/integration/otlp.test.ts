/**
 * POST /v1/logs end to end, with OpenTelemetry's own JS log exporters as the
 * clients (OTLP/HTTP JSON and protobuf), against the local stack. Records
 * are read back through the query API: by their (unique per run) type from
 * `event.name`, then in full by id.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { camelCaseKeys } from '../../lambdas/core/otlp';
import { encodeExportLogsRequest } from '../../lambdas/otlp/protobuf';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { issueLocalToken } from '../../local/tokens';
import { captureFunctionLogs } from '../helpers/function-logs';

const API_KEY = 'integration-test-otlp-key';
let stack: LocalStack;
let dataDir: string;
let viewerToken: string;
const run = randomBytes(4).toString('hex');

// The functions' JSON log lines go to stdout, and the critical test records make the default rules
// "send" alerts to the local outbox (printed): keep the test output readable.
jest.spyOn(console, 'log').mockImplementation(() => undefined);
// The functions' structured log lines are kept out of the test output.
captureFunctionLogs();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'audit-otlp-'));
  stack = await startLocalStack({ port: 0, dataDir, ingestApiKey: API_KEY, log: () => undefined });
  viewerToken = await issueLocalToken(dataDir, { role: 'viewer' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function eventsOfType(type: string): Promise<any[]> {
  const response = await fetch(`${stack.url}/v1/events?type=${type}&limit=50`, { headers: { authorization: `Bearer ${viewerToken}` } });
  expect(response.status).toBe(200);
  const page = (await response.json()) as { items: Array<{ id: string }> };
  return Promise.all(
    page.items.map(async (item) => {
      const full = await fetch(`${stack.url}/v1/events/${item.id}`, { headers: { authorization: `Bearer ${viewerToken}` } });
      return full.json();
    }),
  );
}

/** Emits through the OpenTelemetry SDK with the given exporter, as an instrumented app would. */
async function emitWith(exporter: LogRecordExporter, emit: (provider: LoggerProvider) => void): Promise<void> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout-api', 'service.version': '1.4.2' }),
    // One export request for both records, as an app's batch processor sends them.
    processors: [new BatchLogRecordProcessor({ exporter })],
  });
  emit(provider);
  await provider.forceFlush();
  await provider.shutdown();
}

const spanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };

describe.each([
  ['json', (url: string) => new JsonLogExporter({ url, headers: { 'x-api-key': API_KEY } })],
  ['protobuf', (url: string) => new ProtoLogExporter({ url, headers: { 'x-api-key': API_KEY } })],
  // Compressed: API Gateway (and the local one) inflates the body before the function sees it.
  ['json_gzip', (url: string) => new JsonLogExporter({ url, headers: { 'x-api-key': API_KEY }, compression: 'gzip' as never })],
  ['protobuf_gzip', (url: string) => new ProtoLogExporter({ url, headers: { 'x-api-key': API_KEY }, compression: 'gzip' as never })],
] as const)('OTLP/HTTP %s with the official exporter', (encoding, exporterFor) => {
  it('stores each log record as an event with severity, type, details, trace ids, time and error', async () => {
    const paymentType = `otlptest.${encoding}.payment_${run}`;
    const crashType = `otlptest.${encoding}.crash_${run}`;
    const time = new Date(Date.now() - 60_000);
    await emitWith(exporterFor(`${stack.url}/v1/logs`), (provider) => {
      const logger = provider.getLogger('billing', '2.0.0');
      logger.emit({
        severityNumber: SeverityNumber.WARN2,
        severityText: 'WARN',
        body: 'card declined for INV-1001',
        timestamp: time,
        attributes: { 'event.name': paymentType, 'invoice.id': 'INV-1001', amount: 42.5, attempts: 3, retried: true, tags: ['a', 'b'], password: 'hunter2hunter2' },
        context: trace.setSpanContext(ROOT_CONTEXT, spanContext),
      });
      logger.emit({
        eventName: crashType,
        severityNumber: SeverityNumber.FATAL,
        body: { reason: 'out of memory', heapMb: 2048 },
        attributes: { 'exception.type': 'RangeError', 'exception.message': 'heap limit', 'exception.stacktrace': 'RangeError: heap limit\n    at grow (heap.js:1:1)', 'user.id': 'u-7' },
      });
    });

    const [payment] = await eventsOfType(paymentType);
    expect(payment).toMatchObject({
      type: paymentType,
      severity: 'warning',
      source: 'local', // the app of the key, not the OTel service: that one is a label in details
      message: 'card declined for INV-1001',
      occurredAt: time.toISOString(),
      traceId: spanContext.traceId,
      spanId: spanContext.spanId,
      details: {
        service: 'checkout-api',
        'service.version': '1.4.2',
        'otel.scope': 'billing',
        'otel.severity_text': 'WARN',
        'invoice.id': 'INV-1001',
        amount: 42.5,
        attempts: 3,
        retried: true,
        tags: ['a', 'b'],
        password: '[REDACTED:password]',
      },
      redaction: { count: 1, paths: ['details.password'] },
    });
    expect(payment.details['event.name']).toBeUndefined();

    const [crash] = await eventsOfType(crashType);
    expect(crash).toMatchObject({
      type: crashType,
      severity: 'critical',
      status: 'failure',
      actor: { userId: 'u-7' },
      error: { name: 'RangeError', message: 'heap limit', stack: expect.stringContaining('at grow') },
      details: { service: 'checkout-api', body: { reason: 'out of memory', heapMb: 2048 } },
    });
    expect(crash.details['exception.type']).toBeUndefined();
  });
});

describe('POST /v1/logs semantics', () => {
  const post = (body: string | Uint8Array<ArrayBuffer>, contentType: string, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}/v1/logs`, { method: 'POST', headers: { 'content-type': contentType, 'x-api-key': API_KEY, ...headers }, body });

  const request = (type: string, records: Array<Record<string, unknown>>) => ({
    resource_logs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { string_value: 'worker' } }] },
        scope_logs: [{ scope: { name: 'jobs' }, log_records: records.map((r) => ({ attributes: [{ key: 'event.name', value: { string_value: type } }], ...r })) }],
      },
    ],
  });

  it('answers a partial success per the OTLP spec and stores the valid records (snake_case JSON too)', async () => {
    const type = `otlptest.partial.json_${run}`;
    const now = `${Date.now()}000000`;
    const farFuture = `${Date.now() + 24 * 3600_000}000000`;
    const response = await post(
      JSON.stringify(request(type, [{ time_unix_nano: now, severity_number: 9, body: { string_value: 'ok' } }, { time_unix_nano: farFuture, body: { string_value: 'from the future' } }])),
      'application/json',
    );
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toEqual({ partialSuccess: { rejectedLogRecords: 1, errorMessage: expect.stringContaining('logRecords[1]: occurredAt is more than 5 minutes in the future') } });
    const stored = await eventsOfType(type);
    expect(stored.map((e) => e.message)).toEqual(['ok']);
    expect(stored[0]).toMatchObject({ severity: 'info', category: 'system_error', details: { service: 'worker', 'otel.scope': 'jobs' } });
  });

  it('stores a retried request once: ids derive from the records', async () => {
    const type = `otlptest.retry.json_${run}`;
    const body = JSON.stringify(request(type, [{ timeUnixNano: `${Date.now()}000000`, body: { stringValue: 'once' } }]));
    expect((await post(body, 'application/json')).status).toBe(200);
    const again = await post(body, 'application/json');
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({});
    expect(await eventsOfType(type)).toHaveLength(1);
  });

  it('answers protobuf in protobuf, decodable by the official deserializer', async () => {
    const type = `otlptest.partial.proto_${run}`;
    const bytes = new Uint8Array(encodeExportLogsRequest(
      camelCaseKeys(request(type, [{ timeUnixNano: `${Date.now()}000000`, body: { stringValue: 'ok' } }, { timeUnixNano: `${Date.now() + 24 * 3600_000}000000` }])),
    ));
    const response = await post(bytes, 'application/x-protobuf', { accept: 'application/x-protobuf' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-protobuf');
    const decoded = ProtobufLogsSerializer.deserializeResponse(new Uint8Array(await response.arrayBuffer()));
    expect(decoded.partialSuccess).toMatchObject({ rejectedLogRecords: 1 });
    expect(await eventsOfType(type)).toHaveLength(1);
    // As on AWS: a client whose first Accept type is not binary gets a base64-encoded answer as text.
    const asText = await post(bytes, 'application/x-protobuf');
    const text = await asText.text();
    expect(ProtobufLogsSerializer.deserializeResponse(Buffer.from(text, 'base64')).partialSuccess).toMatchObject({ rejectedLogRecords: 1 });
    expect(await eventsOfType(type)).toHaveLength(1); // the retried record is a duplicate
  });

  it('refuses what is no OTLP logs request', async () => {
    expect((await post('{"resourceLogs": 3}', 'application/json')).status).toBe(400);
    expect((await post('not json', 'application/json')).status).toBe(400);
    expect((await post(new Uint8Array([0x0a, 0xff, 0xff]), 'application/x-protobuf')).status).toBe(400);
    const unsupported = await post('a=b', 'text/plain');
    expect(unsupported.status).toBe(415);
    expect(await unsupported.json()).toEqual({ error: { code: 'unsupported_media_type', message: expect.any(String) } });
    const noKey = await fetch(`${stack.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(noKey.status).toBe(401);
  });
});

// The spies above replace methods of the real process.stdout (and console), shared with the test files that run next.
afterAll(() => jest.restoreAllMocks());

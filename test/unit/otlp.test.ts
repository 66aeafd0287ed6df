import { canonicalEventId } from '../../lambdas/core/ids';
import { createRegistry } from '../../lambdas/core/registry';
import {
  anyValue,
  camelCaseKeys,
  deterministicId,
  exportLogsResponse,
  mapOtlpLogs,
  severityFromNumber,
  severityFromText,
  traceIdOf,
  type OtlpMappingOptions,
} from '../../lambdas/core/otlp';
import { decodeExportLogsRequest, encodeExportLogsRequest } from '../../lambdas/otlp/protobuf';
import { resolveConfig, functionEnvironment } from '../../lib/config';

const registry = createRegistry();
const options: OtlpMappingOptions = { source: 'checkout', defaultType: 'otel.log', defaultCategory: 'system_error', categoryOf: (t) => registry.defaultCategory(t) };

const kv = (key: string, value: unknown) => ({ key, value });
function requestWith(record: Record<string, unknown>, resourceAttributes = [kv('service.name', { stringValue: 'api' })]) {
  return { resourceLogs: [{ resource: { attributes: resourceAttributes }, scopeLogs: [{ scope: { name: 'lib' }, logRecords: [record] }] }] };
}
function mapOne(record: Record<string, unknown>, opts = options) {
  const [mapped] = mapOtlpLogs(requestWith(record), opts);
  if (!('event' in mapped)) throw new Error(mapped.error);
  return mapped.event as Record<string, any>;
}

describe('severity', () => {
  it.each([
    [1, 'debug'], [4, 'debug'], [5, 'debug'], [8, 'debug'], [9, 'info'], [12, 'info'], [13, 'warning'], [16, 'warning'],
    [17, 'error'], [20, 'error'], [21, 'critical'], [24, 'critical'], [0, undefined], [25, undefined], ['SEVERITY_NUMBER_WARN3', 'warning'], ['SEVERITY_NUMBER_FATAL', 'critical'],
  ])('number %p → %p', (n, severity) => expect(severityFromNumber(n)).toBe(severity));

  it('falls back to the text only without a number', () => {
    expect(severityFromText('Warning')).toBe('warning');
    expect(severityFromText('fatal error')).toBe('critical');
    expect(mapOne({ severityText: 'ERROR' }).severity).toBe('error');
    expect(mapOne({ severityNumber: 9, severityText: 'ERROR' }).severity).toBe('info');
    expect(mapOne({}).severity).toBeUndefined();
  });
});

describe('mapping a log record', () => {
  it('takes the type from eventName, then the event.name attribute, else the default (with a category for it)', () => {
    expect(mapOne({ eventName: 'payment.charge.failed', attributes: [kv('event.name', { stringValue: 'x.y' })] })).toMatchObject({ type: 'payment.charge.failed' });
    const fromAttribute = mapOne({ attributes: [kv('event.name', { stringValue: 'Order.Created' })] });
    expect(fromAttribute.type).toBe('order.created');
    expect(fromAttribute.details['event.name']).toBeUndefined();
    expect(fromAttribute.category).toBe('system_error');
    // A registered type keeps the registry's category.
    expect(mapOne({ attributes: [kv('event.name', { stringValue: 'user.login.failed' })] }).category).toBeUndefined();
    const unusable = mapOne({ attributes: [kv('event.name', { stringValue: 'click' })] });
    expect(unusable).toMatchObject({ type: 'otel.log', details: { 'event.name': 'click' } });
    expect(mapOne({ attributes: [kv('audit.category', { stringValue: 'payment' })] }).category).toBe('payment');
  });

  it('flattens AnyValue attributes and body into details, service.name into details.service', () => {
    const event = mapOne({
      body: { kvlistValue: { values: [kv('a', { intValue: '7' }), kv('b', { arrayValue: { values: [{ doubleValue: 1.5 }, { boolValue: true }, {}] } })] } },
      attributes: [
        kv('big', { intValue: '9007199254740993' }),
        kv('bytes', { bytesValue: 'AQI=' }),
        kv('nan', { doubleValue: 'NaN' }),
        kv('__proto__', { stringValue: 'x' }),
        kv('user.id', { stringValue: 'u-1' }),
        kv('session.id', { stringValue: 's-1' }),
        kv('audit.record.type', { stringValue: 'invoice' }),
        kv('audit.record.id', { stringValue: 'INV-1' }),
      ],
    });
    expect(event).toMatchObject({
      actor: { userId: 'u-1' },
      sessionId: 's-1',
      record: { type: 'invoice', id: 'INV-1' },
      details: { service: 'api', 'otel.scope': 'lib', body: { a: 7, b: [1.5, true, null] }, big: '9007199254740993', bytes: 'AQI=', nan: 'NaN', __proto___: 'x' },
    });
    expect(Object.getPrototypeOf(event.details)).toBe(Object.prototype);
    expect(event.message).toBeUndefined();
  });

  it('caps AnyValue nesting', () => {
    let value: Record<string, unknown> = { stringValue: 'deep' };
    for (let i = 0; i < 40; i++) value = { arrayValue: { values: [value] } };
    expect(JSON.stringify(anyValue(value, 0))).toContain('[nested too deep]');
  });

  it('maps exception.* attributes to error and keeps a string body as the message', () => {
    const event = mapOne({
      body: { stringValue: 'boom' },
      attributes: [kv('exception.type', { stringValue: 'TypeError' }), kv('exception.message', { stringValue: 'x is undefined' }), kv('exception.stacktrace', { stringValue: 'TypeError: x\n  at f' })],
    });
    expect(event).toMatchObject({ message: 'boom', error: { name: 'TypeError', message: 'x is undefined', stack: 'TypeError: x\n  at f' } });
    expect(event.details['exception.type']).toBeUndefined();
    const long = mapOne({ body: { stringValue: 'x'.repeat(9000) } });
    expect(long.message).toHaveLength(8192);
    expect(long.payload.body).toHaveLength(9000);
  });

  it('reads times (time, else observed time) and trace ids', () => {
    expect(mapOne({ timeUnixNano: '1700000000123456789' }).occurredAt).toBe('2023-11-14T22:13:20.123Z');
    expect(mapOne({ timeUnixNano: '0', observedTimeUnixNano: 1700000000000000000 }).occurredAt).toBe('2023-11-14T22:13:20.000Z');
    expect(mapOne({ traceId: '4BF92F3577B34DA6A3CE929D0E0E4736', spanId: '00f067aa0ba902b7' })).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' });
    expect(traceIdOf('S/kvNXezTaajzpKdDg5HNg==', 16)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf('00000000000000000000000000000000', 16)).toBeUndefined();
    expect(mapOne({ traceId: 'nonsense', spanId: '00f067aa0ba902b7' }).spanId).toBeUndefined();
  });

  it('derives the id from app, resource and record: a retry gets the same id, another app another', () => {
    const record = { timeUnixNano: '1700000000000000000', body: { stringValue: 'x' } };
    const a = mapOne(record).id;
    expect(mapOne({ ...record }).id).toBe(a);
    expect(mapOne(record, { ...options, source: 'other' }).id).not.toBe(a);
    expect(mapOne({ ...record, body: { stringValue: 'y' } }).id).not.toBe(a);
    expect(canonicalEventId(a)).toBe(a);
    expect(a.slice(0, 10)).toBe('01HF7YAT00'); // the ULID's time part is the record's time
    const noTime = mapOne({ body: { stringValue: 'x' } }).id;
    expect(noTime).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicId(undefined, 'same')).toBe(deterministicId(undefined, 'same'));
  });

  it('derives another id, still deterministically, when the first would be refused (it reads as a secret)', () => {
    const first = deterministicId(1_700_000_000_000, 'record');
    const refuseFirst = (id: string) => id === first;
    const second = deterministicId(1_700_000_000_000, 'record', refuseFirst);
    expect(second).not.toBe(first);
    expect(second.slice(0, 10)).toBe(first.slice(0, 10)); // same time part: ids still sort by time
    expect(deterministicId(1_700_000_000_000, 'record', refuseFirst)).toBe(second);
  });

  it('reports records it cannot read and refuses documents that are no request', () => {
    const mapped = mapOtlpLogs({ resourceLogs: [{ scopeLogs: [{ logRecords: [3, {}] }] }] }, options);
    expect(mapped[0]).toEqual({ path: 'resourceLogs[0].scopeLogs[0].logRecords[0]', error: 'a log record must be an object' });
    expect('event' in mapped[1]).toBe(true);
    expect(() => mapOtlpLogs([], options)).toThrow(/resourceLogs/);
    expect(() => mapOtlpLogs({ resourceLogs: {} }, options)).toThrow(/array/);
    expect(mapOtlpLogs({}, options)).toEqual([]);
    const many = { resourceLogs: [{ scopeLogs: [{ logRecords: Array.from({ length: 2001 }, () => ({})) }] }] };
    expect(() => mapOtlpLogs(many, options)).toThrow(/at most 2000/);
  });
});

describe('documents and answers', () => {
  it('accepts snake_case field names and drops prototype keys', () => {
    const parsed = JSON.parse('{"resource_logs":[{"scope_logs":[{"log_records":[{"time_unix_nano":"1","__proto__":{"polluted":1}}]}]}]}');
    const normalised = camelCaseKeys(parsed) as any;
    expect(normalised).toEqual({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '1' }] }] }] });
    expect(normalised.resourceLogs[0].scopeLogs[0].logRecords[0].polluted).toBeUndefined();
    expect(() => camelCaseKeys(JSON.parse('['.repeat(100) + ']'.repeat(100)))).toThrow(/deeper/);
  });

  it('round-trips the protobuf encoding to the JSON shape', () => {
    const request = requestWith({ timeUnixNano: '1700000000000000001', severityNumber: 13, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', body: { bytesValue: 'AQI=' }, eventName: 'a.b' });
    expect(decodeExportLogsRequest(encodeExportLogsRequest(request))).toEqual(request);
  });

  it('answers {} or a partial success naming the first rejections', () => {
    expect(exportLogsResponse([])).toEqual({});
    const answer = exportLogsResponse(Array.from({ length: 7 }, (_, i) => ({ path: `r[${i}]`, reason: 'bad' })));
    expect(answer.partialSuccess?.rejectedLogRecords).toBe(7);
    expect(answer.partialSuccess?.errorMessage).toMatch(/r\[4\]: bad; and 2 more$/);
  });

  it('takes the OTLP defaults from cdk.json context and checks them', () => {
    expect(functionEnvironment(resolveConfig({ otlp: { defaultEventType: 'app.log', defaultCategory: 'user_activity' } }))).toMatchObject({
      OTLP_DEFAULT_EVENT_TYPE: 'app.log',
      OTLP_DEFAULT_CATEGORY: 'user_activity',
    });
    expect(functionEnvironment(resolveConfig({})).OTLP_DEFAULT_EVENT_TYPE).toBeUndefined();
    expect(() => resolveConfig({ otlp: { defaultEventType: 'Log' } })).toThrow(/defaultEventType/);
    expect(() => resolveConfig({ otlp: { defaultCategory: 'ops' } })).toThrow(/defaultCategory/);
  });
});

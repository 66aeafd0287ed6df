/**
 * OTLP/HTTP protobuf encoding of logs, decoded with protobufjs (no
 * hand-written wire format). The schema is the subset of the official
 * opentelemetry-proto files (v1.5+: common/v1/common.proto,
 * resource/v1/resource.proto, logs/v1/logs.proto,
 * collector/logs/v1/logs_service.proto) that logs need, with the official
 * field names and numbers; fields left out (entity refs) are skipped by the
 * decoder as unknown fields. Kept inline so that the bundled function needs
 * no .proto files at run time.
 */
import protobuf from 'protobufjs';

const SCHEMA = [
  `syntax = "proto3";
   package opentelemetry.proto.common.v1;
   message AnyValue {
     oneof value {
       string string_value = 1;
       bool bool_value = 2;
       int64 int_value = 3;
       double double_value = 4;
       ArrayValue array_value = 5;
       KeyValueList kvlist_value = 6;
       bytes bytes_value = 7;
     }
   }
   message ArrayValue { repeated AnyValue values = 1; }
   message KeyValueList { repeated KeyValue values = 1; }
   message KeyValue { string key = 1; AnyValue value = 2; }
   message InstrumentationScope {
     string name = 1;
     string version = 2;
     repeated KeyValue attributes = 3;
     uint32 dropped_attributes_count = 4;
   }`,
  `syntax = "proto3";
   package opentelemetry.proto.resource.v1;
   message Resource {
     repeated opentelemetry.proto.common.v1.KeyValue attributes = 1;
     uint32 dropped_attributes_count = 2;
   }`,
  // severity_number is the SeverityNumber enum in the official file; an enum is a varint on the wire, like int32.
  `syntax = "proto3";
   package opentelemetry.proto.logs.v1;
   message ResourceLogs {
     opentelemetry.proto.resource.v1.Resource resource = 1;
     repeated ScopeLogs scope_logs = 2;
     string schema_url = 3;
   }
   message ScopeLogs {
     opentelemetry.proto.common.v1.InstrumentationScope scope = 1;
     repeated LogRecord log_records = 2;
     string schema_url = 3;
   }
   message LogRecord {
     fixed64 time_unix_nano = 1;
     fixed64 observed_time_unix_nano = 11;
     int32 severity_number = 2;
     string severity_text = 3;
     opentelemetry.proto.common.v1.AnyValue body = 5;
     repeated opentelemetry.proto.common.v1.KeyValue attributes = 6;
     uint32 dropped_attributes_count = 7;
     fixed32 flags = 8;
     bytes trace_id = 9;
     bytes span_id = 10;
     string event_name = 12;
   }`,
  `syntax = "proto3";
   package opentelemetry.proto.collector.logs.v1;
   message ExportLogsServiceRequest { repeated opentelemetry.proto.logs.v1.ResourceLogs resource_logs = 1; }
   message ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1; }
   message ExportLogsPartialSuccess { int64 rejected_log_records = 1; string error_message = 2; }`,
];

const root = new protobuf.Root();
for (const source of SCHEMA) protobuf.parse(source, root, { keepCase: false });
const ExportLogsServiceRequest = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
const ExportLogsServiceResponse = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');

/**
 * Decodes an ExportLogsServiceRequest into the OTLP/JSON shape the mapping
 * reads (lib: lambdas/core/otlp.ts): trace and span ids as hex, bytes values
 * as base64, 64-bit integers as decimal strings. Throws on malformed input.
 */
export function decodeExportLogsRequest(bytes: Uint8Array): unknown {
  const message = ExportLogsServiceRequest.decode(bytes);
  const object = ExportLogsServiceRequest.toObject(message, { longs: String, enums: Number, defaults: false, arrays: false });
  return toJsonShape(object, 0);
}

/** The protobuf answer: `{}` is zero bytes; a partial success carries its counts. */
export function encodeExportLogsResponse(response: { partialSuccess?: { rejectedLogRecords: number; errorMessage: string } }): Uint8Array {
  return ExportLogsServiceResponse.encode(ExportLogsServiceResponse.fromObject(response)).finish();
}

/** Test and tooling helper: the protobuf encoding of an OTLP/JSON-shaped request (ids as hex). */
export function encodeExportLogsRequest(request: unknown): Uint8Array {
  return ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(fromJsonShape(request, '') as Record<string, unknown>)).finish();
}

const HEX_ID_FIELDS = new Set(['traceId', 'spanId']);

function toJsonShape(value: unknown, depth: number): unknown {
  if (depth > 200) throw new Error('the message nests too deeply');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((item) => toJsonShape(item, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = HEX_ID_FIELDS.has(key) && child instanceof Uint8Array ? Buffer.from(child).toString('hex') : toJsonShape(child, depth + 1);
  }
  return out;
}

function fromJsonShape(value: unknown, key: string): unknown {
  if (HEX_ID_FIELDS.has(key) && typeof value === 'string') return Buffer.from(value, 'hex');
  if (key === 'bytesValue' && typeof value === 'string') return Buffer.from(value, 'base64');
  if (Array.isArray(value)) return value.map((item) => fromJsonShape(item, ''));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromJsonShape(v, k)]));
}

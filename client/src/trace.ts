/** W3C trace context (https://www.w3.org/TR/trace-context/): the `traceparent` header. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  /** Two hex digits; `01` is sampled. */
  flags: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Parses a `traceparent` header; undefined when absent or invalid (version ff, all-zero ids). */
export function parseTraceparent(header: string | null | undefined): TraceContext | undefined {
  const match = header ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  if (!match || match[1] === 'ff' || /^0+$/.test(match[2]) || /^0+$/.test(match[3])) return undefined;
  // Version 00 has exactly four fields; later versions may append more.
  if (match[1] === '00' && match[5] !== undefined) return undefined;
  return { traceId: match[2], spanId: match[3], flags: match[4] };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.flags}`;
}

function randomHex(bytes: number): string {
  let hex = '';
  do {
    hex = Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
  } while (/^0+$/.test(hex));
  return hex;
}

export const newSpanId = (): string => randomHex(8);

/** A child span of the incoming context, or a new trace when there is none. */
export function childContext(parent: TraceContext | undefined): TraceContext {
  return { traceId: parent?.traceId ?? randomHex(16), spanId: newSpanId(), flags: parent?.flags ?? '01' };
}

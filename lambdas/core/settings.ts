import { DEFAULT_RETENTION_DAYS, type RetentionDays } from './event-keys';
import type { IngestSettings } from './ingest';
import { createRedactor, type RedactionPattern } from './redact';
import { createRegistry, type UnknownTypePolicy } from './registry';

/**
 * The environment variables through which deployment configuration
 * (cdk.json context, or the local stack's defaults) reaches the functions.
 * `lib/config.ts` writes them; this reads them. JSON values are parsed once
 * per cold start.
 */
export interface FunctionEnvironment {
  UNKNOWN_EVENT_TYPES?: string;
  EXTRA_EVENT_TYPES?: string;
  REDACTION_PATTERNS?: string;
  REDACTION_KEYS?: string;
  RETENTION_DAYS?: string;
  DEFAULT_APP_RATE_LIMIT?: string;
}

/** Top-level correlation ids are named like secrets ("session") but are not. */
const CORRELATION_FIELDS = ['sessionId', 'requestId', 'traceId', 'spanId'];

export function ingestSettingsFromEnv(env: FunctionEnvironment = process.env): IngestSettings {
  const unknownTypes = (env.UNKNOWN_EVENT_TYPES ?? 'accept') as UnknownTypePolicy;
  if (unknownTypes !== 'accept' && unknownTypes !== 'reject') {
    throw new Error(`UNKNOWN_EVENT_TYPES must be accept or reject, not ${env.UNKNOWN_EVENT_TYPES}`);
  }
  return {
    registry: createRegistry(parseJson<unknown[]>(env.EXTRA_EVENT_TYPES, 'EXTRA_EVENT_TYPES', [])),
    unknownTypes,
    redact: createRedactor({
      extraPatterns: parseJson<RedactionPattern[]>(env.REDACTION_PATTERNS, 'REDACTION_PATTERNS', []),
      extraKeys: parseJson<string[]>(env.REDACTION_KEYS, 'REDACTION_KEYS', []),
      exemptPaths: CORRELATION_FIELDS,
    }),
    retention: { ...DEFAULT_RETENTION_DAYS, ...parseJson<Partial<RetentionDays>>(env.RETENTION_DAYS, 'RETENTION_DAYS', {}) },
  };
}

export function defaultAppRateLimit(env: FunctionEnvironment = process.env): number {
  const value = Number(env.DEFAULT_APP_RATE_LIMIT ?? 500);
  if (!Number.isInteger(value) || value <= 0) throw new Error('DEFAULT_APP_RATE_LIMIT must be a positive whole number');
  return value;
}

function parseJson<T>(raw: string | undefined, name: string, fallback: T): T {
  if (raw === undefined || raw === '') return fallback;
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new Error(`${name} is not valid JSON`);
  }
}

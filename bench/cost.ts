/**
 * `npm run bench`, cost section: what a million ~1 KB events cost on AWS,
 * component by component, next to CloudWatch Logs and Datadog for the same
 * volume.
 *
 * The deployment's facts come from the synthesized template (memory sizes,
 * architecture, the events table's indexes and projections, TTL and PITR, the
 * stream mappings' batch sizes, windows and filters, the authorizer's cache,
 * the archive bucket's lifecycle, log retention, the retention days the ingest
 * function is configured with). The work per event comes from the project's
 * own code run on a realistic mix: item sizes from prepareEvent/toEventItem,
 * stats transactions from the stats module's aggregation, error groups from
 * the tracker's grouping, archive objects from the archive's own gzip. Only
 * durations, traffic shape and log line sizes are assumptions, listed in the
 * output. Prices: bench/prices.ts.
 */
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { monotonicFactory } from 'ulidx';
import type { AuditTrailApp } from '../lib/app';
import { FUNCTIONS, APP_KEY_AUTHORIZER_FUNCTION, INGEST_FUNCTION, BACKUP_FUNCTION } from '../lib/declarations/functions';
import { seededRandom } from '../local/seeded-random';
import { STREAM_CONSUMERS, ARCHIVE_STREAM, ERRORS_STREAM, RULES_STREAM, STATS_STREAM } from '../lib/declarations/streams';
import { ERROR_GROUPS_TABLE, EVENTS_TABLE, type TableDeclaration } from '../lib/declarations/tables';
import { planArchiveObjects, type ArchiveRecord } from '../lambdas/core/archive';
import { DIGEST_VERSION, signDigest } from '../lambdas/core/archive-digest';
import { ADMIN_EVENT_SOURCE } from '../lambdas/core/admin-audit';
import { planGroupWrite } from '../lambdas/core/error-groups';
import { groupErrors } from '../lambdas/core/error-tracker';
import type { AuditEvent } from '../lambdas/core/event';
import { retentionDays, toEventItem, DEFAULT_RETENTION_DAYS, type RetentionDays } from '../lambdas/core/event-keys';
import { prepareEvent } from '../lambdas/core/ingest';
import { DEFAULT_RULES, isStateful, matchesRule } from '../lambdas/core/rules';
import { ingestSettingsFromEnv } from '../lambdas/core/settings';
import { chunkForTransactions, countedEventOf, countersFor, markerKey as statsMarkerKey, orderForAggregation, MARKER_RETENTION_SECONDS } from '../lambdas/core/stats';
import { PRICES, PRICES_CHECKED_ON, type PriceName } from './prices';
import type { BenchOptions, BenchSection } from './section';
import { synthesizedStack } from './stack-template';

const MILLION = 1_000_000;
const GB = 1e9;
const DAYS_PER_MONTH = 30.4;
const SECONDS_PER_MONTH = DAYS_PER_MONTH * 86_400;
/** DynamoDB's storage overhead per item, in the base table and in each index (DynamoDB developer guide, "Item sizes"). */
const DYNAMO_ITEM_OVERHEAD_BYTES = 100;
/** A partition (and so a stream shard) takes at most this many write units a second. */
const PARTITION_WRITE_UNITS_PER_SECOND = 1000;
/** S3 lifecycle does not transition objects smaller than this by default (since September 2024); Glacier IR bills at least this much per object. */
const GLACIER_IR_MIN_OBJECT_BYTES = 128 * 1024;

// ---------------------------------------------------------------- assumptions

/**
 * What the model cannot read from the template or the code: traffic shape,
 * durations (per invocation, from the work each one does), log line sizes.
 * Durations are estimates for DynamoDB and S3 calls from Lambda in-region
 * (single-digit ms per DynamoDB call, tens of ms per S3 PUT), not measurements.
 */
export interface CostAssumptions {
  /** Sustained ingest rate; decides how full the stream batches are and how much the authorizer cache saves. */
  eventsPerSecond: number;
  /** Distinct app keys posting at once (the REQUEST authorizer caches per key). */
  activeAppKeys: number;
  /** Distinct error groups the error events fall into (the tracker writes once per group and batch). */
  activeErrorGroups: number;
  durationsMs: {
    ingestFixed: number;
    ingestPerEventCpu: number;
    /** The per-app rate counter (one UpdateItem per request, before the writes). */
    ingestRateCounter: number;
    /** One round of up to 25 conditional puts in flight. */
    ingestWriteWave: number;
    authorizer: number;
    consumerFixed: number;
    /** Rules: GetItem + conditional PutItem of a rule's state, one event after the other. */
    rulesPerMatch: number;
    /** Error tracker: read the group + one transaction, 4 groups in parallel. */
    errorGroupWrite: number;
    /** Stats: one transaction, one after the other. */
    statsTransaction: number;
    /** Archive: 2 reads, the objects' PUTs, a KMS Sign, the commit transaction, the digest PUT, the head update. */
    archiveBatch: number;
    archivePerEventGzip: number;
  };
}

export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  eventsPerSecond: 100,
  activeAppKeys: 10,
  activeErrorGroups: 20,
  durationsMs: {
    ingestFixed: 8,
    ingestPerEventCpu: 0.05,
    ingestRateCounter: 6,
    ingestWriteWave: 8,
    authorizer: 15,
    consumerFixed: 4,
    rulesPerMatch: 12,
    errorGroupWrite: 25,
    statsTransaction: 25,
    archiveBatch: 120,
    archivePerEventGzip: 0.02,
  },
};

// ---------------------------------------------------------------- the template

export interface IndexFacts {
  name: string;
  partitionKey: string;
  sortKey?: string;
  /** Non-key attributes projected; 'ALL' or 'KEYS_ONLY' as in the template. */
  projection: readonly string[] | 'ALL' | 'KEYS_ONLY';
}

export interface TableFacts {
  logicalId: string;
  partitionKey: string;
  sortKey?: string;
  indexes: IndexFacts[];
  ttlAttribute?: string;
  pointInTimeRecovery: boolean;
  streamView?: string;
  onDemand: boolean;
}

export interface FunctionFacts {
  id: string;
  logicalId: string;
  memoryMb: number;
  architecture: string;
  logRetentionDays?: number;
}

export interface StreamConsumerFacts {
  functionId: string;
  batchSize: number;
  windowSeconds: number;
  /** From the filter patterns: the stream event names that reach the function. */
  eventNames: string[];
  /** The filter drops items restored from the archive. */
  skipsRestored: boolean;
}

export interface TemplateFacts {
  functions: Map<string, FunctionFacts>;
  eventsTable: TableFacts;
  errorGroupsTable: TableFacts;
  streamConsumers: StreamConsumerFacts[];
  appKeyAuthorizerTtlSeconds: number;
  /** The ingest function's RETENTION_DAYS (the configured TTL per severity). */
  retention: RetentionDays;
  archive: { transitions: { storageClass: string; days: number }[]; expirationDays?: number; bucketKey: boolean; objectLock: boolean };
  backup: { fullExportEveryDays: number; exportAfterEvents: number; keepDays?: number };
  accessLogRetentionDays?: number;
}

type Json = Record<string, any>;

export function readTemplateFacts(built: AuditTrailApp, template: Json): TemplateFacts {
  const resources = template.Resources as Record<string, Json>;
  const logicalIdOf = (construct: { node: { defaultChild?: unknown } }) => Stack.of(built.stack).getLogicalId(construct.node.defaultChild as CfnElement);

  const functions = new Map<string, FunctionFacts>();
  for (const declaration of FUNCTIONS) {
    const fn = built.stack.api.functions.get(declaration.id);
    if (!fn) throw new Error(`the stack deploys no function ${declaration.id}`);
    const logicalId = logicalIdOf(fn);
    const props = resources[logicalId]?.Properties;
    if (!props) throw new Error(`no template resource ${logicalId} for ${declaration.id}`);
    const logGroupId = props.LoggingConfig?.LogGroup?.Ref as string | undefined;
    functions.set(declaration.id, {
      id: declaration.id,
      logicalId,
      memoryMb: props.MemorySize,
      architecture: (props.Architectures ?? ['x86_64'])[0],
      ...(logGroupId ? { logRetentionDays: resources[logGroupId]?.Properties?.RetentionInDays } : {}),
    });
  }
  const functionIdByLogicalId = new Map([...functions.values()].map((f) => [f.logicalId, f.id]));

  const tableFacts = (declaration: TableDeclaration): TableFacts => {
    const logicalId = logicalIdOf(built.stack.eventStore.table(declaration));
    const props = resources[logicalId].Properties;
    const keyOf = (schema: Json[], type: string) => schema.find((k) => k.KeyType === type)?.AttributeName as string | undefined;
    const replica = (props.Replicas ?? [])[0] ?? {};
    return {
      logicalId,
      partitionKey: keyOf(props.KeySchema, 'HASH')!,
      ...(keyOf(props.KeySchema, 'RANGE') ? { sortKey: keyOf(props.KeySchema, 'RANGE') } : {}),
      indexes: (props.GlobalSecondaryIndexes ?? []).map((gsi: Json): IndexFacts => ({
        name: gsi.IndexName,
        partitionKey: keyOf(gsi.KeySchema, 'HASH')!,
        ...(keyOf(gsi.KeySchema, 'RANGE') ? { sortKey: keyOf(gsi.KeySchema, 'RANGE') } : {}),
        projection: gsi.Projection.ProjectionType === 'INCLUDE' ? gsi.Projection.NonKeyAttributes : gsi.Projection.ProjectionType,
      })),
      ...(props.TimeToLiveSpecification?.Enabled ? { ttlAttribute: props.TimeToLiveSpecification.AttributeName } : {}),
      pointInTimeRecovery: Boolean((replica.PointInTimeRecoverySpecification ?? props.PointInTimeRecoverySpecification)?.PointInTimeRecoveryEnabled),
      ...(props.StreamSpecification ? { streamView: props.StreamSpecification.StreamViewType } : {}),
      onDemand: (props.BillingMode ?? 'PAY_PER_REQUEST') === 'PAY_PER_REQUEST',
    };
  };
  const eventsTable = tableFacts(EVENTS_TABLE);

  const streamConsumers: StreamConsumerFacts[] = Object.values(resources)
    .filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties.EventSourceArn).includes(eventsTable.logicalId))
    .map((r) => {
      const patterns = (r.Properties.FilterCriteria?.Filters ?? []).map((f: Json) => JSON.parse(f.Pattern) as Json);
      return {
        functionId: functionIdByLogicalId.get(r.Properties.FunctionName.Ref) ?? r.Properties.FunctionName.Ref,
        batchSize: r.Properties.BatchSize,
        windowSeconds: r.Properties.MaximumBatchingWindowInSeconds ?? 0,
        eventNames: patterns.flatMap((p: Json) => p.eventName ?? []),
        skipsRestored: patterns.length > 0 && patterns.every((p: Json) => p.dynamodb?.NewImage?.restoredAt?.S?.[0]?.exists === false),
      };
    });

  const authorizer = Object.values(resources).find(
    (r) => r.Type === 'AWS::ApiGateway::Authorizer' && r.Properties.Type === 'REQUEST' && JSON.stringify(r.Properties.AuthorizerUri).includes(functions.get(APP_KEY_AUTHORIZER_FUNCTION.id)!.logicalId),
  );
  if (!authorizer) throw new Error('no REQUEST authorizer for the app-key function in the template');

  const ingestEnv = resources[functions.get(INGEST_FUNCTION.id)!.logicalId].Properties.Environment.Variables as Record<string, string>;
  const backupEnv = resources[functions.get(BACKUP_FUNCTION.id)!.logicalId].Properties.Environment.Variables as Record<string, string>;

  const archiveBucket = resources[logicalIdOf(built.stack.archive.bucket)].Properties;
  const eventRule = (archiveBucket.LifecycleConfiguration?.Rules ?? []).find((rule: Json) => rule.Status === 'Enabled' && (rule.Transitions || rule.ExpirationInDays) && (!rule.Prefix || 'events/'.startsWith(rule.Prefix)));
  const backupBucket = resources[logicalIdOf(built.stack.backups.bucket)].Properties;
  const backupExpiry = (backupBucket.LifecycleConfiguration?.Rules ?? []).find((rule: Json) => rule.ExpirationInDays)?.ExpirationInDays;
  const accessLogs = Object.values(resources).find((r) => r.Type === 'AWS::ApiGateway::Stage')?.Properties.AccessLogSetting?.DestinationArn?.['Fn::GetAtt']?.[0];

  return {
    functions,
    eventsTable,
    errorGroupsTable: tableFacts(ERROR_GROUPS_TABLE),
    streamConsumers,
    appKeyAuthorizerTtlSeconds: authorizer.Properties.AuthorizerResultTtlInSeconds ?? 300,
    retention: { ...DEFAULT_RETENTION_DAYS, ...(JSON.parse(ingestEnv.RETENTION_DAYS ?? '{}') as Partial<RetentionDays>) },
    archive: {
      transitions: (eventRule?.Transitions ?? []).map((t: Json) => ({ storageClass: t.StorageClass, days: t.TransitionInDays })),
      ...(eventRule?.ExpirationInDays ? { expirationDays: eventRule.ExpirationInDays } : {}),
      bucketKey: Boolean(archiveBucket.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.BucketKeyEnabled),
      objectLock: Boolean(archiveBucket.ObjectLockEnabled ?? archiveBucket.ObjectLockConfiguration),
    },
    backup: {
      fullExportEveryDays: Number(backupEnv.FULL_EXPORT_EVERY_DAYS),
      exportAfterEvents: Number(backupEnv.EXPORT_AFTER_EVENTS),
      ...(backupExpiry ? { keepDays: backupExpiry } : {}),
    },
    ...(accessLogs ? { accessLogRetentionDays: resources[accessLogs]?.Properties?.RetentionInDays } : {}),
  };
}

// ---------------------------------------------------------------- item sizes and write units

/** DynamoDB's item size: attribute names plus values (strings as UTF-8, numbers about 1 byte per 2 digits + 1). */
export function itemBytes(item: Record<string, unknown>, attributes?: readonly string[]): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined || (attributes && !attributes.includes(name))) continue;
    bytes += Buffer.byteLength(name);
    if (typeof value === 'number') bytes += Math.ceil(String(value).replace(/[-.]/g, '').length / 2) + 1;
    else if (typeof value === 'boolean') bytes += 1;
    else if (value instanceof Set) bytes += [...value].reduce((n: number, v) => n + Buffer.byteLength(String(v)), 0);
    else if (typeof value === 'object') bytes += Buffer.byteLength(JSON.stringify(value));
    else bytes += Buffer.byteLength(String(value));
  }
  return bytes;
}

export const writeUnitsFor = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/** The attributes an index copies of an item: the table's keys, the index's keys and its projection. */
export function projectedAttributes(table: Pick<TableFacts, 'partitionKey' | 'sortKey'>, index: IndexFacts, item: Record<string, unknown>): readonly string[] | undefined {
  if (index.projection === 'ALL') return undefined;
  const keys = [table.partitionKey, table.sortKey, index.partitionKey, index.sortKey].filter((k): k is string => k !== undefined);
  return index.projection === 'KEYS_ONLY' ? keys : [...keys, ...index.projection].filter((name) => name in item);
}

export interface ItemWrite {
  bytes: number;
  baseUnits: number;
  /** Each index the item lands in (an index whose keys the item lacks does not get it: sparse). */
  indexes: { name: string; bytes: number; units: number }[];
  totalUnits: number;
  /** Bytes stored, base plus index items, each with DynamoDB's per-item overhead. */
  storedBytes: number;
}

/** What creating the item costs in write units: 1 per started KB in the base table and in every index it lands in. */
export function itemWrite(item: Record<string, unknown>, table: Pick<TableFacts, 'partitionKey' | 'sortKey' | 'indexes'>): ItemWrite {
  const bytes = itemBytes(item);
  const indexes = table.indexes
    .filter((index) => item[index.partitionKey] !== undefined && (index.sortKey === undefined || item[index.sortKey] !== undefined))
    .map((index) => {
      const indexBytes = itemBytes(item, projectedAttributes(table, index, item));
      return { name: index.name, bytes: indexBytes, units: writeUnitsFor(indexBytes) };
    });
  const baseUnits = writeUnitsFor(bytes);
  return {
    bytes,
    baseUnits,
    indexes,
    totalUnits: baseUnits + indexes.reduce((n, i) => n + i.units, 0),
    storedBytes: bytes + DYNAMO_ITEM_OVERHEAD_BYTES + indexes.reduce((n, i) => n + i.bytes + DYNAMO_ITEM_OVERHEAD_BYTES, 0),
  };
}

// ---------------------------------------------------------------- the event mix

/**
 * A realistic mix of ~1 KB events, as apps of this kind send them: page views
 * and profile edits (with a user and a trace), failed logins, failed
 * payments, API errors with a stack. Error messages vary over
 * `activeErrorGroups` routes so that the tracker sees that many groups.
 */
export const EVENT_MIX: { label: string; per20: number }[] = [
  { label: 'page view (user, trace)', per20: 9 },
  { label: 'profile update (user, record, trace)', per20: 5 },
  { label: 'failed login (security)', per20: 2 },
  { label: 'payment failure (user, record)', per20: 2 },
  { label: 'API error with a stack (trace)', per20: 2 },
];
const KIND_OF_SLOT = EVENT_MIX.flatMap((kind, k) => Array.from({ length: kind.per20 }, () => k));

/** One event of the mix as an app sends it, with realistic sizes: user agents, traces, stacks, a few secrets to redact. */
function sampleInput(i: number, errorGroups: number, random: () => number): Record<string, unknown> {
  const int = (below: number) => Math.floor(random() * below);
  const hex = (digits: number) => Array.from({ length: digits }, () => int(16).toString(16)).join('');
  const user = `u-${int(50_000)}`;
  const trace = (_n: number) => hex(32);
  const browser = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
  switch (KIND_OF_SLOT[i % KIND_OF_SLOT.length]) {
    case 0:
      return {
        type: 'user.page.viewed',
        page: `/projects/${int(40)}/dashboard`,
        actor: { userId: user, userAgent: browser },
        sessionId: `sess-${hex(16)}`,
        traceId: trace(i),
        message: 'Opened the project dashboard',
        details: {
          referrer: 'https://app.example.com/projects',
          plan: 'pro',
          locale: 'en-GB',
          viewport: '1440x900',
          loadMs: 120 + int(2000),
          userAgent: browser,
          widgets: ['sales', 'traffic', 'alerts', 'tasks'],
          experiment: { id: 'exp-dashboard-layout', variant: random() < 0.5 ? 'b' : 'a' },
        },
      };
    case 1:
      return {
        type: 'user.profile.updated',
        page: '/settings/profile',
        actor: { userId: user, userAgent: browser },
        record: { type: 'profile', id: user },
        traceId: trace(i),
        message: 'Updated display name and notification preferences',
        details: {
          changed: ['displayName', 'notifications.email', 'notifications.weeklyDigest'],
          before: { displayName: 'Sam', notifications: { email: true, weeklyDigest: false } },
          after: { displayName: 'Sam Lee', notifications: { email: false, weeklyDigest: true } },
          userAgent: browser,
        },
      };
    case 2:
      return {
        type: 'user.login.failed',
        actor: { userId: user, userAgent: browser },
        message: `Login failed for ${user}@example.com: wrong password (attempt ${1 + (i % 5)})`,
        details: { reason: 'wrong_password', password: 'hunter2hunter2', method: 'password', mfa: false, attempt: 1 + (i % 5), userAgent: browser, geo: { country: 'GB', city: 'London' } },
      };
    case 3:
      return {
        type: 'payment.charge.failed',
        actor: { userId: user },
        record: { type: 'invoice', id: `INV-${100_000 + int(900_000)}` },
        message: `Card 4111 1111 1111 1111 declined for ${user}`,
        error: { name: 'CardDeclined', code: 'card_declined', message: 'Your card was declined.' },
        details: {
          amount: 500 + int(20_000),
          currency: 'EUR',
          attempt: 1 + (i % 3),
          provider: 'stripe',
          paymentIntent: `pi_${trace(i).slice(0, 24)}`,
          customer: `cus_${trace(i + 1).slice(0, 14)}`,
          plan: 'pro-annual',
        },
      };
    default: {
      const route = i % errorGroups;
      return {
        type: 'api.request.failed',
        page: `/api/v1/resource${route}`,
        requestId: `req-${trace(i).slice(0, 20)}`,
        traceId: trace(i),
        error: {
          name: 'TypeError',
          message: `Cannot read properties of undefined (reading 'total${route}')`,
          stack: `TypeError: Cannot read properties of undefined (reading 'total${route}')\n    at handler${route} (/app/src/routes/resource${route}.ts:42:17)\n    at runMiddleware (/app/src/http/middleware.ts:88:5)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)`,
        },
        details: { method: 'POST', status: 500, durationMs: 20 + int(3000), headers: { authorization: 'Bearer abc.def.ghi-token-value' } },
      };
    }
  }
}

export interface SampleEvent {
  kind: number;
  event: AuditEvent;
  item: Record<string, unknown>;
}

/** `count` events of the mix as stored: validated, defaulted, redacted, keyed (the ingest path's own functions). */
export function sampleEvents(count: number, retention: RetentionDays, errorGroups: number, receivedAt = new Date('2026-11-23T10:15:00.000Z')): SampleEvent[] {
  const settings = ingestSettingsFromEnv({ RETENTION_DAYS: JSON.stringify(retention) });
  const id = monotonicFactory();
  const random = seededRandom(20261123);
  return Array.from({ length: count }, (_, i) => {
    // Received over a few minutes, as a stream batch is; occurred up to a few seconds earlier.
    const received = new Date(receivedAt.getTime() + i * 120);
    const occurredAt = new Date(received.getTime() - Math.floor(random() * 5000)).toISOString();
    const prepared = prepareEvent({ id: id(received.getTime()), occurredAt, ...sampleInput(i, errorGroups, random) }, { source: 'checkout', receivedAt: received }, settings);
    if (!prepared.ok) throw new Error(`sample event ${i} rejected: ${JSON.stringify(prepared.errors)}`);
    return { kind: KIND_OF_SLOT[i % KIND_OF_SLOT.length], event: prepared.event, item: toEventItem(prepared.event, retention) as unknown as Record<string, unknown> };
  });
}

// ---------------------------------------------------------------- per-batch work of the consumers

export interface ConsumerWork {
  /** Per invocation (one stream batch of `eventsPerInvocation` records). */
  writeUnits: number;
  readUnits: number;
  s3Puts: number;
  kmsSigns: number;
  durationMs: number;
  /** What this consumer writes, in words, for the notes. */
  writes: string;
}

const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/** Rule engine: each event past the rules; each stateful match reads and conditionally rewrites its group's state. */
export function rulesWork(batch: SampleEvent[], a: CostAssumptions): ConsumerWork {
  const rules = DEFAULT_RULES.filter((rule) => rule.enabled && !rule.silence);
  let matches = 0;
  let writeUnits = 0;
  for (const { event } of batch) {
    for (const rule of rules.filter((r) => matchesRule(r, event))) {
      matches += 1;
      if (!isStateful(rule)) continue;
      // The state holds up to threshold.count entries `<occurredAt>#<id>`: its size decides the put's units.
      const entries = Array.from({ length: rule.threshold?.count ?? 1 }, () => `${event.occurredAt}#${event.id}`);
      const state = { pk: `rule#${rule.id}#${event.actor?.userId ?? event.source}`, version: 12, state: JSON.stringify({ entries, throttledUntil: Date.now() }), expiresAt: 1_800_000_000 };
      writeUnits += writeUnitsFor(itemBytes(state));
    }
  }
  return {
    writeUnits,
    // One strongly consistent GetItem of the state per match (items under 4 KB: 1 unit).
    readUnits: matches,
    s3Puts: 0,
    kmsSigns: 0,
    durationMs: a.durationsMs.consumerFixed + matches * a.durationsMs.rulesPerMatch,
    writes: 'Counters: per event matching a default rule (failed logins, failed payments, API failure bursts), 1 consistent GetItem + 1 conditional PutItem of the rule state; notifications only when a rule fires (throttled: not per event)',
  };
}

/** Error tracker: per group in the batch, 1 consistent read, then markers + the group update + both status indexes in one transaction. */
export function errorTrackerWork(batch: SampleEvent[], errorGroupsTable: TableFacts, a: CostAssumptions): ConsumerWork {
  const groups = [...groupErrors(batch.map((s) => s.event), ADMIN_EVENT_SOURCE).values()];
  let writeUnits = 0;
  for (const group of groups) {
    const plan = planGroupWrite(undefined, group.identity, group.occurrences, new Date(batch[0]!.event.receivedAt));
    if (plan.kind !== 'create') throw new Error('expected a create plan for a new group');
    const { id, samples, users, endpoints, ...rest } = plan.group;
    // The group as the store writes it (lambdas/adapters/error-group-store.ts): new groups are the smallest; busy ones grow (docs/errors.md: up to ~6 KB).
    const item: Record<string, unknown> = { pk: id, ...rest, samples: new Set(samples), users: new Set(users), endpoints: new Set(endpoints) };
    const groupUnits = 2 * writeUnitsFor(itemBytes(item));
    const markerUnits = 2 * group.occurrences.length * writeUnitsFor(itemBytes({ pk: `E#${group.eventIds[0]}`, expiresAt: 1_800_000_000 }));
    // An update moves the group in both status indexes (count and lastSeen are their sort keys): a delete and a put each.
    const indexUnits = errorGroupsTable.indexes.reduce((n, index) => n + 2 * writeUnitsFor(itemBytes(item, projectedAttributes(errorGroupsTable, index, item))), 0);
    writeUnits += markerUnits + groupUnits + indexUnits;
  }
  return {
    writeUnits,
    readUnits: groups.length,
    s3Puts: 0,
    kmsSigns: 0,
    durationMs: a.durationsMs.consumerFixed + Math.ceil(groups.length / 4) * a.durationsMs.errorGroupWrite,
    writes: 'ErrorGroups: per error group in a batch, 1 consistent GetItem and one transaction: a create-only marker per error event (2 WRU each), the group update (2 WRU per KB), both status indexes moved (delete + put each)',
  };
}

/** Stats: the batch aggregated (the stats module's own ordering and chunking), one transaction per chunk: a marker per event + one ADD per counter. */
export function statsWork(batch: SampleEvent[], a: CostAssumptions): ConsumerWork {
  const counted = batch.map((s) => countedEventOf(s.item)).filter((c) => c !== undefined);
  const chunks = chunkForTransactions(orderForAggregation(counted));
  let writeUnits = 0;
  for (const chunk of chunks) {
    const marker = { ...statsMarkerKey(chunk[0]!.id), expiresAt: Math.floor(Date.now() / 1000) + MARKER_RETENTION_SECONDS };
    writeUnits += 2 * chunk.length * writeUnitsFor(itemBytes(marker));
    for (const delta of countersFor(chunk)) {
      const { severities, ...counter } = delta;
      writeUnits += 2 * writeUnitsFor(itemBytes({ ...counter, ...severities }));
    }
  }
  return {
    writeUnits,
    readUnits: 0,
    s3Puts: 0,
    kmsSigns: 0,
    durationMs: a.durationsMs.consumerFixed + chunks.length * a.durationsMs.statsTransaction,
    writes: `Stats: ${chunks.length} transaction(s) per batch of ${batch.length}: a create-only marker per event and one ADD per hour/day counter item (sum, type, page), 2 WRU each`,
  };
}

/** Archive: the batch's objects (the archive's own gzip), a signed digest, the chain commit in ArchiveState. */
export async function archiveWork(batch: SampleEvent[], a: CostAssumptions): Promise<ConsumerWork & { objects: { bytes: number; events: number }[]; headBytes: number }> {
  const records: ArchiveRecord[] = batch.map((s, i) => ({
    eventId: `${s.event.id.toLowerCase()}`,
    sequenceNumber: String(4_000_000_000_000_000_000n + BigInt(i)),
    receivedAt: s.event.receivedAt,
    doc: String(s.item.doc),
  }));
  const objects = planArchiveObjects(records);
  // A digest like the writer's (ECDSA P-256 signature: ~72 bytes DER), to size the chain head item that carries its text.
  const signed = await signDigest(
    {
      version: DIGEST_VERSION,
      sequence: 123_456,
      createdAt: batch[0]!.event.receivedAt,
      previousDigestKey: 'digests/dt=2026-11-23/hour=10/000000123455.json',
      previousDigestSha256: 'f'.repeat(64),
      batch: { firstEventId: records[0]!.eventId, firstSequenceNumber: records[0]!.sequenceNumber, lastSequenceNumber: records.at(-1)!.sequenceNumber, events: records.length },
      objects: objects.map((o) => ({ key: o.key, sha256: o.sha256, events: o.events, bytes: o.body.length, firstSequenceNumber: o.firstSequenceNumber, lastSequenceNumber: o.lastSequenceNumber })),
    },
    { keyId: 'arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-0123456789ab', sign: async () => Buffer.alloc(72, 1) },
  );
  const headBytes = itemBytes({ pk: 'chain#head', sequence: 123_456, digestKey: signed.key, digestSha256: signed.sha256, digestText: signed.text, materialized: false, committedAt: batch[0]!.event.receivedAt });
  const markerBytes = itemBytes({ pk: `batch#${records[0]!.eventId}`, lastSequenceNumber: records.at(-1)!.sequenceNumber, digestSequence: 123_456, expiresAt: 1_800_000_000 });
  // Commit: a transaction of the head put, the batch marker put and the export counter ADD; then the head marked materialized.
  const writeUnits = 2 * (writeUnitsFor(headBytes) + writeUnitsFor(markerBytes) + 1) + writeUnitsFor(headBytes);
  return {
    writeUnits,
    // Consistent GetItem of the head (under 4 KB) and of the batch marker.
    readUnits: 2,
    s3Puts: objects.length + 1,
    kmsSigns: 1,
    durationMs: a.durationsMs.archiveBatch + batch.length * a.durationsMs.archivePerEventGzip,
    writes: `ArchiveState: per batch 2 consistent GetItems, a 3-item transaction (chain head ${headBytes} B, batch marker, export counter), the head marked materialized; S3: ${objects.length} object(s) + 1 digest; KMS: 1 Sign`,
    objects: objects.map((o) => ({ bytes: o.body.length, events: o.events })),
    headBytes,
  };
}

// ---------------------------------------------------------------- the model

export type Component =
  | 'apiGateway'
  | 'authorizer'
  | 'ingestLambda'
  | 'eventWrites'
  | 'rateCounter'
  | 'rulesConsumer'
  | 'errorTrackerConsumer'
  | 'statsConsumer'
  | 'archiveConsumer'
  | 'streamReads'
  | 'dynamoStorage'
  | 'pointInTimeRecovery'
  | 'archiveS3'
  | 'tableExports'
  | 'functionLogs'
  | 'xray';

export interface LambdaUsage {
  invocations: number;
  memoryMb: number;
  durationMs: number;
}

/** Requests plus GB-seconds (duration billed per started ms). */
export function lambdaCost(usage: LambdaUsage, prices: { request: number; gbSecond: number }): number {
  return usage.invocations * (prices.request + (usage.memoryMb / 1024) * (Math.ceil(usage.durationMs) / 1000) * prices.gbSecond);
}

/** Records per invocation of a stream consumer: what the window gathers on one shard, at most the batch size. */
export function eventsPerInvocation(consumer: Pick<StreamConsumerFacts, 'batchSize' | 'windowSeconds'>, eventsPerSecondPerShard: number): number {
  return Math.max(1, Math.min(consumer.batchSize, Math.floor(eventsPerSecondPerShard * Math.max(consumer.windowSeconds, 0.25))));
}

/** X-Ray's default sampling rule: the first request each second, then 5%. */
export function tracedPerSecond(requestsPerSecond: number): number {
  return Math.min(requestsPerSecond, 1) + 0.05 * Math.max(0, requestsPerSecond - 1);
}

/** Representative log lines, measured rather than guessed: the bytes CloudWatch ingests per invocation. */
export function logBytesPerInvocation(functionName: string, appLines: number, withXray: boolean): number {
  const requestId = '8f5e2c1a-4b7d-4e0f-9a3c-2d1e0f9b8a7c';
  const start = `START RequestId: ${requestId} Version: $LATEST\n`;
  const end = `END RequestId: ${requestId}\n`;
  const report = `REPORT RequestId: ${requestId}\tDuration: 48.12 ms\tBilled Duration: 49 ms\tMemory Size: 1024 MB\tMax Memory Used: 118 MB\t${withXray ? 'XRAY TraceId: 1-6741a2b3-4c5d6e7f8a9b0c1d2e3f4a5b\tSegmentId: 0a1b2c3d4e5f6a7b\tSampled: true\t' : ''}\n`;
  const powertools = `${JSON.stringify({
    level: 'INFO',
    message: 'ingested',
    timestamp: '2026-11-23T10:15:00.123Z',
    service: 'audit-trail',
    cold_start: false,
    function_arn: `arn:aws:lambda:us-east-1:123456789012:function:AuditTrail-${functionName}-AbCdEfGh1234`,
    function_memory_size: '1024',
    function_name: `AuditTrail-${functionName}-AbCdEfGh1234`,
    function_request_id: requestId,
    sampling_rate: 0,
    xray_trace_id: '1-6741a2b3-4c5d6e7f8a9b0c1d2e3f4a5b',
    app: 'checkout',
    accepted: 100,
    duplicates: 0,
    rejected: 0,
    failed: 0,
  })}\n`;
  return Buffer.byteLength(start + end + report) + appLines * Buffer.byteLength(powertools);
}

/** One API Gateway access log line in the stage's format (lib/constructs/api.ts), with typical values. */
export function accessLogBytes(): number {
  return Buffer.byteLength(
    `${JSON.stringify({
      requestId: '8f5e2c1a-4b7d-4e0f-9a3c-2d1e0f9b8a7c',
      extendedRequestId: 'AbCdEfGhIjKlMnO=',
      requestTime: '23/Nov/2026:10:15:00 +0000',
      ip: '203.0.113.7',
      userAgent: 'audit-trail-client/0.1 node/24.11.0',
      method: 'POST',
      resourcePath: '/v1/events',
      path: '/prod/v1/events',
      protocol: 'HTTP/1.1',
      status: '200',
      responseLength: '5321',
      responseLatency: '61',
      integrationLatency: '55',
      app: 'checkout',
      keyId: 'k01JD2X3Y4Z5',
      userSub: '-',
      authorizerError: '-',
      errorMessage: '-',
      errorType: '-',
      xrayTraceId: '1-6741a2b3-4c5d6e7f8a9b0c1d2e3f4a5b',
    })}\n`,
  );
}

export interface CostResult {
  /** Dollars per million events, by component, for the main case (batches of `eventsPerRequest`). */
  byComponent: Record<Component, number>;
  total: number;
  /** Lines of the breakdown: the quantities per million events behind each component. */
  quantities: Record<Component, string>;
}

export interface ModelInput {
  facts: TemplateFacts;
  assumptions: CostAssumptions;
  /** Events posted per API request: 100 (the client's batches) or 1. */
  eventsPerRequest: number;
  mix: SampleEvent[];
  consumers: { rules: ConsumerWork; errors: ConsumerWork; stats: ConsumerWork; archive: ConsumerWork & { objects: { bytes: number; events: number }[] } };
  /** Records per invocation the consumer work above was computed for. */
  fills: Record<string, number>;
  prices?: { [K in PriceName]: { usd: number } };
}

/** Dollars per million events, component by component. Pure: everything it needs is in `input`. */
export function costPerMillion(input: ModelInput): CostResult {
  const { facts, assumptions: a, eventsPerRequest, mix } = input;
  const p = Object.fromEntries(Object.entries(input.prices ?? PRICES).map(([k, v]) => [k, v.usd])) as Record<PriceName, number>;
  const lambdaPrices = (fn: FunctionFacts) => {
    if (fn.architecture !== 'arm64') throw new Error(`${fn.id} is ${fn.architecture}: only arm64 prices are in bench/prices.ts`);
    return { request: p.lambdaRequest, gbSecond: p.lambdaArmGbSecond };
  };
  const fn = (id: string) => {
    const found = facts.functions.get(id);
    if (!found) throw new Error(`no function ${id} in the template`);
    return found;
  };
  const requests = MILLION / eventsPerRequest;
  const monthlyEvents = a.eventsPerSecond * SECONDS_PER_MONTH;
  const perEvent = (values: (s: SampleEvent) => number) => average(mix.map(values));
  const writes = mix.map((s) => itemWrite(s.item, facts.eventsTable));
  const retentionOf = (s: SampleEvent) => retentionDays(s.event, facts.retention);
  const meanWriteUnits = average(writes.map((w) => w.totalUnits));
  const meanStoredBytes = average(writes.map((w) => w.storedBytes));
  const meanBaseBytes = average(writes.map((w) => w.bytes + DYNAMO_ITEM_OVERHEAD_BYTES));
  const meanRetentionDays = perEvent(retentionOf);

  const byComponent = {} as Record<Component, number>;
  const quantities = {} as Record<Component, string>;
  const set = (component: Component, usd: number, what: string) => {
    byComponent[component] = usd;
    quantities[component] = what;
  };

  set('apiGateway', requests * p.apiGatewayRestRequest, `${fmt(requests)} REST requests (${eventsPerRequest} event${eventsPerRequest === 1 ? '' : 's'} each)`);

  // The REQUEST authorizer runs once per key per cache TTL while the key keeps posting; cache hits cost nothing.
  const authorizerRuns = ((a.activeAppKeys * SECONDS_PER_MONTH) / facts.appKeyAuthorizerTtlSeconds) * (MILLION / monthlyEvents);
  const authorizer = fn(APP_KEY_AUTHORIZER_FUNCTION.id);
  set(
    'authorizer',
    lambdaCost({ invocations: authorizerRuns, memoryMb: authorizer.memoryMb, durationMs: a.durationsMs.authorizer }, lambdaPrices(authorizer)) + authorizerRuns * 0.5 * p.dynamoReadRequestUnit,
    `${fmt(authorizerRuns, 1)} invocations (${a.activeAppKeys} keys, ${facts.appKeyAuthorizerTtlSeconds} s cache, ${fmt(monthlyEvents / 1e6)} M events a month) × ${authorizer.memoryMb} MB × ${a.durationsMs.authorizer} ms + 1 GetItem`,
  );

  const ingest = fn(INGEST_FUNCTION.id);
  const ingestMs =
    a.durationsMs.ingestFixed + eventsPerRequest * a.durationsMs.ingestPerEventCpu + a.durationsMs.ingestRateCounter + Math.ceil(eventsPerRequest / 25) * a.durationsMs.ingestWriteWave;
  set('ingestLambda', lambdaCost({ invocations: requests, memoryMb: ingest.memoryMb, durationMs: ingestMs }, lambdaPrices(ingest)), `${fmt(requests)} invocations × ${ingest.memoryMb} MB × ${Math.ceil(ingestMs)} ms`);

  set(
    'eventWrites',
    MILLION * meanWriteUnits * p.dynamoWriteRequestUnit,
    `${fmt(meanWriteUnits, 2)} WRU per event (base + ${fmt(average(writes.map((w) => w.indexes.length)), 2)} of ${facts.eventsTable.indexes.length} indexes on average)`,
  );
  set('rateCounter', requests * p.dynamoWriteRequestUnit, `${fmt(requests)} UpdateItem (1 WRU) on Counters, one per request`);

  const consumer = (component: Component, streamId: string, work: ConsumerWork) => {
    const mapping = facts.streamConsumers.find((c) => c.functionId === streamId);
    if (!mapping) throw new Error(`no stream mapping for ${streamId} in the template`);
    const fill = input.fills[streamId]!;
    const invocations = MILLION / fill;
    const f = fn(streamId);
    const usd =
      lambdaCost({ invocations, memoryMb: f.memoryMb, durationMs: work.durationMs }, lambdaPrices(f)) +
      invocations * (work.writeUnits * p.dynamoWriteRequestUnit + work.readUnits * p.dynamoReadRequestUnit + work.s3Puts * p.s3PutRequest + work.kmsSigns * p.kmsAsymmetricRequest);
    set(
      component,
      usd,
      `${fmt(invocations)} invocations of ${fill} records (batch ${mapping.batchSize}, window ${mapping.windowSeconds} s) × ${f.memoryMb} MB × ${Math.ceil(work.durationMs)} ms; ${fmt(work.writeUnits / fill, 2)} WRU, ${fmt(work.readUnits / fill, 2)} RRU${work.s3Puts ? `, ${fmt(work.s3Puts / fill, 4)} PUT` : ''}${work.kmsSigns ? `, ${fmt(work.kmsSigns / fill, 4)} Sign` : ''} per event`,
    );
  };
  consumer('rulesConsumer', RULES_STREAM.function.id, input.consumers.rules);
  consumer('errorTrackerConsumer', ERRORS_STREAM.function.id, input.consumers.errors);
  consumer('statsConsumer', STATS_STREAM.function.id, input.consumers.stats);
  consumer('archiveConsumer', ARCHIVE_STREAM.function.id, input.consumers.archive);
  set('streamReads', MILLION * p.dynamoStreamsReadByLambda, `GetRecords by ${facts.streamConsumers.length} Lambda triggers: free`);

  // Each event is kept until its TTL (retention per severity, security at least a year), base item and index items.
  const storageGbMonths = average(mix.map((s, i) => writes[i]!.storedBytes * (retentionOf(s) / DAYS_PER_MONTH))) * (MILLION / GB);
  set('dynamoStorage', storageGbMonths * p.dynamoStorageGbMonth, `${fmt(meanStoredBytes)} B stored per event (base + index items) for ${fmt(meanRetentionDays)} days on average → ${fmt(storageGbMonths, 2)} GB-months`);
  const pitrGbMonths = facts.eventsTable.pointInTimeRecovery ? average(mix.map((s, i) => (writes[i]!.bytes + DYNAMO_ITEM_OVERHEAD_BYTES) * (retentionOf(s) / DAYS_PER_MONTH))) * (MILLION / GB) : 0;
  set('pointInTimeRecovery', pitrGbMonths * p.dynamoPitrGbMonth, facts.eventsTable.pointInTimeRecovery ? `PITR on: base table size (${fmt(meanBaseBytes)} B per event) → ${fmt(pitrGbMonths, 2)} GB-months` : 'PITR off');

  // The archive: objects per batch (1 per hour spanned) + a digest; Standard, then Glacier IR per the lifecycle (objects under 128 KB stay in Standard).
  const archive = input.consumers.archive;
  const archiveFill = input.fills[ARCHIVE_STREAM.function.id]!;
  const objectsPerMillion = (MILLION / archiveFill) * archive.objects.length;
  const gzBytesPerEvent = archive.objects.reduce((n, o) => n + o.bytes, 0) / archiveFill;
  const firstTransition = facts.archive.transitions[0];
  const transitions = firstTransition && average(archive.objects.map((o) => o.bytes)) >= GLACIER_IR_MIN_OBJECT_BYTES;
  const yearDays = 365;
  const standardDays = transitions ? Math.min(firstTransition.days, yearDays) : yearDays;
  const coldPrice = transitions && firstTransition.storageClass === 'GLACIER_IR' ? p.s3GlacierIrGbMonth : p.s3StandardGbMonth;
  const archiveGb = (gzBytesPerEvent * MILLION) / GB;
  const archiveStorage = archiveGb * ((standardDays / DAYS_PER_MONTH) * p.s3StandardGbMonth + ((yearDays - standardDays) / DAYS_PER_MONTH) * coldPrice);
  set(
    'archiveS3',
    archiveStorage + (transitions ? objectsPerMillion * p.s3GlacierIrTransition : 0),
    `${fmt(gzBytesPerEvent)} B gzipped per event → ${fmt(archiveGb, 3)} GB, first year (${standardDays} d Standard${transitions ? `, then ${firstTransition.storageClass}` : ''}); ${fmt(objectsPerMillion)} objects${transitions ? ' transitioned' : ' (under 128 KB: not transitioned)'}; PUTs are in archiveConsumer`,
  );

  // Backups: each event in one incremental export, and in every weekly full export while it lives; exports kept `keepDays`.
  const { fullExportEveryDays, keepDays } = facts.backup;
  const fullExportsPerEvent = meanRetentionDays / fullExportEveryDays;
  const exportedGb = ((1 + fullExportsPerEvent) * meanBaseBytes * MILLION) / GB;
  const exportStorageGbMonths = exportedGb * ((keepDays ?? DAYS_PER_MONTH) / DAYS_PER_MONTH) * (gzBytesPerEvent / perEvent((s) => Buffer.byteLength(String(s.item.doc))));
  set(
    'tableExports',
    exportedGb * p.dynamoIncrementalExportGb + exportStorageGbMonths * p.s3StandardGbMonth,
    `1 incremental + ${fmt(fullExportsPerEvent, 1)} full exports (every ${fullExportEveryDays} d) per event → ${fmt(exportedGb, 2)} GB exported, kept ${keepDays ?? '?'} d (gzip-sized)`,
  );

  // Our own logs: platform lines + one INFO line per invocation, and an access log line per request; stored for the groups' retention.
  const consumerInvocations = STREAM_CONSUMERS.map((c) => MILLION / input.fills[c.function.id]!);
  const logBytes =
    requests * (logBytesPerInvocation(INGEST_FUNCTION.id, 1, true) + accessLogBytes()) +
    authorizerRuns * logBytesPerInvocation(APP_KEY_AUTHORIZER_FUNCTION.id, 0, true) +
    STREAM_CONSUMERS.reduce((n, c, i) => n + consumerInvocations[i]! * logBytesPerInvocation(c.function.id, c === RULES_STREAM ? 0 : 1, true), 0);
  const logRetentionDays = fn(INGEST_FUNCTION.id).logRetentionDays ?? 365;
  set(
    'functionLogs',
    (logBytes / GB) * (p.cloudWatchLogsIngestGb + (logRetentionDays / DAYS_PER_MONTH) * p.cloudWatchLogsStorageGbMonth),
    `${fmt(logBytes / 1e6, 1)} MB of log lines (${fmt(logBytes / requests)} B per request incl. the access log), kept ${logRetentionDays} d (storage billed uncompressed: an upper bound)`,
  );

  const requestsPerSecond = a.eventsPerSecond / eventsPerRequest;
  const traces =
    (tracedPerSecond(requestsPerSecond) / a.eventsPerSecond) * MILLION +
    STREAM_CONSUMERS.reduce((n, c) => {
      const invocationsPerSecond = a.eventsPerSecond / input.fills[c.function.id]!;
      return n + (tracedPerSecond(invocationsPerSecond) / a.eventsPerSecond) * MILLION;
    }, 0);
  set('xray', traces * p.xrayTraceRecorded, `${fmt(traces)} traces recorded (default sampling: 1/s + 5%; API stage and every function traced)`);

  const total = Object.values(byComponent).reduce((x, y) => x + y, 0);
  return { byComponent, total, quantities };
}

/** The same million events as log lines in CloudWatch Logs (kept as long as our TTL keeps them) and in Datadog (indexed 15 days). */
export function alternatives(mix: SampleEvent[], retention: RetentionDays, prices: typeof PRICES = PRICES) {
  const meanBytes = average(mix.map((s) => Buffer.byteLength(String(s.item.doc)) + 1));
  const gb = (meanBytes * MILLION) / GB;
  const meanRetentionMonths = average(mix.map((s) => retentionDays(s.event, retention))) / DAYS_PER_MONTH;
  const cloudWatchLogs = {
    ingest: gb * prices.cloudWatchLogsIngestGb.usd,
    storage: gb * meanRetentionMonths * prices.cloudWatchLogsStorageGbMonth.usd,
    total: 0,
    basis: `${fmt(gb, 3)} GB (${fmt(meanBytes)} B per event) ingested, stored ${fmt(meanRetentionMonths * DAYS_PER_MONTH)} days on average (the same retention as the TTL), storage uncompressed`,
  };
  cloudWatchLogs.total = cloudWatchLogs.ingest + cloudWatchLogs.storage;
  const datadog = {
    ingest: gb * prices.datadogLogIngestGb.usd,
    indexing15Days: MILLION * prices.datadogIndexed15DaysPerEvent.usd,
    total: 0,
    onDemandTotal: gb * prices.datadogLogIngestGb.usd + MILLION * prices.datadogIndexed15DaysOnDemandPerEvent.usd,
    basis: `${fmt(gb, 3)} GB ingested, 1 M events indexed with 15-day retention (annual commitment; on demand in onDemandTotal); longer retention costs more`,
  };
  datadog.total = datadog.ingest + datadog.indexing15Days;
  return { cloudWatchLogs, datadog, meanEventBytes: meanBytes };
}

// ---------------------------------------------------------------- the section

const COMPONENT_LABELS: Record<Component, string> = {
  apiGateway: 'API Gateway (REST requests)',
  authorizer: 'App-key authorizer (cached)',
  ingestLambda: 'Ingest Lambda',
  eventWrites: 'DynamoDB: event + index writes',
  rateCounter: 'DynamoDB: per-app rate counter',
  rulesConsumer: 'Rules consumer (Lambda + DynamoDB)',
  errorTrackerConsumer: 'Error tracker (Lambda + DynamoDB)',
  statsConsumer: 'Stats counter (Lambda + DynamoDB)',
  archiveConsumer: 'Archive (Lambda + DynamoDB + S3 PUT + KMS)',
  streamReads: 'DynamoDB Streams reads',
  dynamoStorage: 'DynamoDB storage until TTL',
  pointInTimeRecovery: 'DynamoDB PITR',
  archiveS3: 'S3 archive storage, first year',
  tableExports: 'Table exports to S3 (backups)',
  functionLogs: 'CloudWatch Logs (our functions, access log)',
  xray: 'X-Ray traces',
};

export interface CostResults {
  perMillionEvents: { total: number; byComponent: Record<Component, number>; singleEventRequests: { total: number; byComponent: Record<Component, number> } };
  comparison: ReturnType<typeof alternatives>;
  writeUnitsPerEvent: { label: string; itemBytes: number; base: number; indexes: string[]; total: number }[];
  template: { gsis: string[]; streamConsumers: StreamConsumerFacts[]; retention: RetentionDays; authorizerCacheSeconds: number };
  assumptions: string[];
  prices: typeof PRICES & { checkedOn: string };
}

export async function costSection(options: BenchOptions): Promise<BenchSection<CostResults>> {
  options.log('cost: synthesizing the stack (bundling skipped)');
  const { built, template } = synthesizedStack();
  const facts = readTemplateFacts(built, template);
  const assumptions: CostAssumptions = DEFAULT_ASSUMPTIONS;

  const mix = sampleEvents(1000, facts.retention, assumptions.activeErrorGroups);
  const baseUnitsPerSecond = assumptions.eventsPerSecond * average(mix.map((s) => writeUnitsFor(itemBytes(s.item))));
  const shards = Math.max(1, Math.ceil(baseUnitsPerSecond / PARTITION_WRITE_UNITS_PER_SECOND));
  const fills = Object.fromEntries(facts.streamConsumers.map((c) => [c.functionId, eventsPerInvocation(c, assumptions.eventsPerSecond / shards)]));
  const batchOf = (id: string) => mix.slice(0, fills[id]);
  options.log(`cost: ${assumptions.eventsPerSecond} events/s over ${shards} stream shard(s): batches of ${JSON.stringify(fills)}`);
  const consumers = {
    rules: rulesWork(batchOf(RULES_STREAM.function.id), assumptions),
    errors: errorTrackerWork(batchOf(ERRORS_STREAM.function.id), facts.errorGroupsTable, assumptions),
    stats: statsWork(batchOf(STATS_STREAM.function.id), assumptions),
    archive: await archiveWork(batchOf(ARCHIVE_STREAM.function.id), assumptions),
  };
  const input: ModelInput = { facts, assumptions, eventsPerRequest: 100, mix, consumers, fills };
  const batched = costPerMillion(input);
  const single = costPerMillion({ ...input, eventsPerRequest: 1 });
  const comparison = alternatives(mix, facts.retention);

  const kinds = EVENT_MIX.map((kind, k) => {
    const sample = mix.find((s) => s.kind === k)!;
    const write = itemWrite(sample.item, facts.eventsTable);
    return { label: kind.label, itemBytes: write.bytes, base: write.baseUnits, indexes: write.indexes.map((i) => i.name), total: write.totalUnits };
  });

  const d = assumptions.durationsMs;
  const assumptionLines = [
    `Traffic: ${assumptions.eventsPerSecond} events/s sustained (an assumption: a product's sustained traffic, not this machine's ingest rate), ${assumptions.activeAppKeys} app keys posting, ${shards} stream shard(s) (one per ${PARTITION_WRITE_UNITS_PER_SECOND} base-table WRU/s); stream batches fill to min(batch size, rate per shard × window).`,
    `Events: the mix ${EVENT_MIX.map((k) => `${Math.round(k.per20 * 5)}% ${k.label}`).join(', ')}; mean stored document ${fmt(comparison.meanEventBytes)} B. Errors fall into ${assumptions.activeErrorGroups} API error groups plus one per decline code.`,
    `Authorizer: a REQUEST authorizer cached ${facts.appKeyAuthorizerTtlSeconds} s per x-api-key (template), so it runs once per key per ${facts.appKeyAuthorizerTtlSeconds} s while the key posts; cache hits are free.`,
    `Durations (estimates, not measured on AWS): ingest ${d.ingestFixed} ms + ${d.ingestPerEventCpu} ms/event + ${d.ingestRateCounter} ms rate counter + ${d.ingestWriteWave} ms per wave of 25 puts; authorizer ${d.authorizer} ms; consumers ${d.consumerFixed} ms + rules ${d.rulesPerMatch} ms per matching event, error tracker ${d.errorGroupWrite} ms per 4 groups, stats ${d.statsTransaction} ms per transaction, archive ${d.archiveBatch} ms per batch + ${d.archivePerEventGzip} ms/event.`,
    'Consumers\' writes per event, from their code: ' + [consumers.rules, consumers.errors, consumers.stats, consumers.archive].map((w) => w.writes).join('. ') + '.',
    'Error groups are sized as new groups (smallest); a busy group is up to ~6 KB (docs/errors.md), so its update costs up to 12 WRU instead of 2.',
    `Storage: DynamoDB keeps each event until its TTL (${Object.entries(facts.retention).map(([k, v]) => `${k} ${v} d`).join(', ')}; from the ingest function's RETENTION_DAYS), 100 B overhead per base and index item; the S3 archive is kept forever (no expiry in the lifecycle): shown is its first year.`,
    'Not per event, not counted: KMS keys ($1/month each), Secrets Manager, alarms and the dashboard, Cognito, CloudFront, the scheduled functions, notifications (SNS/webhooks, throttled per rule), queries and exports, free tiers, data transfer out.',
    'With X-Ray off and the access log off (both on in the template) the total drops by their lines above.',
  ];
  const notes = [
    ...assumptionLines,
    `Prices (bench/prices.ts, checked ${PRICES_CHECKED_ON}, us-east-1 list prices):`,
    ...Object.entries(PRICES).map(([name, price]) => `  ${name}: ${unitPrice(price.usd, price.unit)} — ${price.source}${price.confirmed ? '' : ' (NOT confirmed on the pricing page by this check: last known list price)'}${'note' in price ? ` ${price.note}` : ''}`),
  ];

  const money = (usd: number) => `$${usd < 0.01 && usd > 0 ? usd.toFixed(4) : usd.toFixed(2)}`;
  const components = Object.keys(COMPONENT_LABELS) as Component[];
  return {
    key: 'cost',
    title: 'Cost per million ~1 KB events on AWS (us-east-1, list prices)',
    tables: [
      {
        heading: 'Write units per event (events table, 1 WRU per started KB in the base table and each index the item lands in)',
        headers: ['event', 'item', 'base', 'indexes', 'total WRU'],
        rows: kinds.map((k) => [k.label, `${k.itemBytes} B`, String(k.base), `${k.indexes.length} (${k.indexes.join(', ')})`, String(k.total)]),
      },
      {
        heading: `Per million events (${assumptions.eventsPerSecond} events/s)`,
        headers: ['component', 'batches of 100', 'single events', 'what (batches of 100)'],
        rows: [
          ...components.map((c) => [COMPONENT_LABELS[c], money(batched.byComponent[c]), money(single.byComponent[c]), batched.quantities[c]]),
          ['total', money(batched.total), money(single.total), ''],
        ],
      },
      {
        heading: 'The same million events elsewhere (log storage only: no per-event validation, redaction, indexes, rules, stats or archive)',
        headers: ['service', 'per million events', 'basis'],
        rows: [
          ['this stack (batches of 100)', money(batched.total), 'everything above'],
          ['CloudWatch Logs', money(comparison.cloudWatchLogs.total), comparison.cloudWatchLogs.basis],
          ['Datadog Log Management', money(comparison.datadog.total), `${comparison.datadog.basis}; on demand ${money(comparison.datadog.onDemandTotal)}`],
        ],
      },
    ],
    notes,
    results: {
      perMillionEvents: { total: batched.total, byComponent: batched.byComponent, singleEventRequests: { total: single.total, byComponent: single.byComponent } },
      comparison,
      writeUnitsPerEvent: kinds,
      template: {
        gsis: facts.eventsTable.indexes.map((i) => i.name),
        streamConsumers: facts.streamConsumers,
        retention: facts.retention,
        authorizerCacheSeconds: facts.appKeyAuthorizerTtlSeconds,
      },
      assumptions: assumptionLines,
      prices: { ...PRICES, checkedOn: PRICES_CHECKED_ON },
    },
  };
}

function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A unit price as pricing pages quote it: per million when under a cent, without float noise (2.0000000000000002e-7). */
function unitPrice(usd: number, unit: string): string {
  return usd >= 0.01 || usd === 0 ? `$${usd} per ${unit}` : `$${Number((usd * 1e6).toPrecision(6))} per million (${unit})`;
}

/**
 * The rule function's throughput: stream records per second through
 * lambdas/rules/handler.ts with 50 rules stored, on the stack's real tables
 * (rules, rule state, notifications in DynamoDB Local; email and SMS to the
 * local outbox file). The batches are built here in the shape the stream
 * delivers (INSERT, NewImage = the marshalled event item) and handed to the
 * handler one at a time, as Lambda does for one shard, so the stack's own
 * pollers play no part. The rules cache is the default (RULES_CACHE_SECONDS).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { RULES_STREAM } from '../lib/declarations/streams';
import { toEventItem } from '../lambdas/core/event-keys';
import { prepareEvent } from '../lambdas/core/ingest';
import { matchesRule, validateRule, type Rule } from '../lambdas/core/rules';
import { ingestSettingsFromEnv } from '../lambdas/core/settings';
import { invokeHandler } from '../local/invocations';
import { sampleEvent } from './events';
import { benchSizes, chunk, fmt, latencyOf, type Latency } from './measure';
import type { BenchOptions, BenchSection } from './section';
import type { BenchStack } from './stack';

export const RULE_COUNT = 50;
/** The rule section's events are sampleEvent(RULE_EVENTS_OFFSET + n): indexes no other section uses. */
export const RULE_EVENTS_OFFSET = 2_000_000;

export type RuleHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] } | void>;

export interface RulesResults {
  rules: number;
  records: number;
  batchSize: number;
  recordsPerSecond: number;
  /** Per batch (one handler invocation). */
  batchLatency: Latency;
  /** Records the handler reported failed (batchItemFailures). */
  failedRecords: number;
  /** How the stored rules meet the records (matching computed here with the engine's own matchesRule). */
  recordsMatchingAnyRule: number;
  ruleMatches: number;
  rulesThatMatched: number;
  /** Email and SMS messages the run appended to the local outbox file. */
  outboxMessages: number;
  outboxByRule: Record<string, number>;
}

/**
 * The rules on top of the defaults, up to RULE_COUNT: a few that match much of
 * the traffic (thresholds with groupBy, wildcards), most aimed at types,
 * fields or sources this traffic never has, as most of a real rule set is
 * quiet most of the time.
 */
export function benchRules(count: number): Rule[] {
  const often: Rule[] = [
    { id: 'bench-page-views-per-user', name: 'Page view burst per user', enabled: true, match: { type: 'user.page.*' }, threshold: { count: 200, windowSeconds: 60, groupBy: 'actor.userId' }, channels: ['inApp'] },
    { id: 'bench-payments', name: 'Any payment problem', enabled: true, match: { type: 'payment.*', status: 'failure' }, threshold: { count: 3, windowSeconds: 3600, groupBy: 'record.id' }, throttleSeconds: 3600, channels: ['email', 'inApp'] },
    { id: 'bench-failures-by-user', name: 'Failures of one user', enabled: true, match: { type: 'user.*.failed' }, threshold: { count: 10, windowSeconds: 600, groupBy: 'actor.userId' }, throttleSeconds: 1800, channels: ['inApp'] },
    { id: 'bench-http-500', name: 'HTTP 500 burst', enabled: true, match: { type: 'api.request.fail*', fields: { 'details.status': [500, 502, 503] } }, threshold: { count: 50, windowSeconds: 300, groupBy: 'page' }, throttleSeconds: 900, channels: ['email', 'inApp'] },
    { id: 'bench-warnings', name: 'Warnings and worse', enabled: true, match: { minSeverity: 'warning' }, threshold: { count: 500, windowSeconds: 60, groupBy: 'type' }, throttleSeconds: 600, channels: ['inApp'] },
    { id: 'bench-suspicious', name: 'Suspicious activity, every time', enabled: true, match: { type: 'security.suspicious_activity' }, channels: ['email', 'inApp'] },
    { id: 'bench-settings-denied', name: 'Denied on settings', enabled: true, match: { type: 'security.*', fields: { page: '/settings' } }, threshold: { count: 5, windowSeconds: 600, groupBy: 'actor.ip' }, throttleSeconds: 600, channels: ['inApp'] },
  ];
  const quietTypes = ['order.*', 'invoice.*.deleted', 'file.upload_failed', 'export.*', 'db.*', '*.*.deleted', 'admin.key.*', 'user.signup.failed', 'content.page.updated', 'notification.*.failed'];
  const quiet: Rule[] = [];
  for (let i = 0; often.length + quiet.length < count; i++) {
    const base = { id: `bench-quiet-${i}`, name: `Quiet rule ${i}`, enabled: true, channels: ['inApp'] as Rule['channels'] };
    switch (i % 4) {
      case 0:
        quiet.push({ ...base, match: { type: quietTypes[i % quietTypes.length] } });
        break;
      case 1:
        quiet.push({ ...base, match: { type: 'user.*', fields: { 'details.plan': ['enterprise', `tier-${i}`] } }, threshold: { count: 3, windowSeconds: 600, groupBy: 'actor.userId' } });
        break;
      case 2:
        quiet.push({ ...base, match: { minSeverity: 'error', source: `app-${i}` }, throttleSeconds: 300 });
        break;
      default:
        quiet.push({ ...base, match: { category: 'content_update', recordType: `doc-${i}` }, threshold: { count: 2, windowSeconds: 60, groupBy: 'record.id' } });
    }
  }
  return [...often, ...quiet].slice(0, Math.max(0, count));
}

/**
 * A handler module of its own (a fresh `require` of lambdas/rules/handler.ts),
 * so its rules cache is empty and its first read sees the 50 rules, whatever
 * the stack's own rule consumer (the same module, already loaded) cached.
 */
export async function freshRuleHandler(): Promise<RuleHandler> {
  const path = require.resolve('../lambdas/rules/handler');
  delete require.cache[path];
  return (require(path) as { handler: RuleHandler }).handler;
}

export async function rulesSection(bench: BenchStack, options: BenchOptions & { loadHandler?: () => Promise<RuleHandler> }): Promise<BenchSection<RulesResults>> {
  const { ruleRecords } = benchSizes(options);
  const { DynamoRuleStore } = await import('../lambdas/adapters/rule-store');
  const store = new DynamoRuleStore();
  const existing = (await store.list()).rules;
  const added = benchRules(RULE_COUNT - existing.length).map((rule) => {
    const checked = validateRule(rule);
    if (!checked.ok) throw new Error(`bench rule ${rule.id}: ${JSON.stringify(checked.errors)}`);
    return checked.rule;
  });
  for (const rule of added) await store.create(rule);
  const rules = (await store.list()).rules;
  options.log(`rules: ${rules.length} rules stored (${existing.length} already there, ${added.length} added)`);
  const handler = await (options.loadHandler ?? freshRuleHandler)();

  // Recent, in order, 20 ms apart: thresholds meet their windows as live traffic would.
  const settings = ingestSettingsFromEnv(process.env);
  const start = Date.now() - ruleRecords * 20;
  const events = Array.from({ length: ruleRecords }, (_, i) => {
    const occurredAt = new Date(start + i * 20);
    const prepared = prepareEvent(sampleEvent(RULE_EVENTS_OFFSET + i, occurredAt.toISOString()), { source: 'local', receivedAt: occurredAt }, settings);
    if (!prepared.ok) throw new Error(`sample event rejected: ${JSON.stringify(prepared.errors)}`);
    return prepared.event;
  });
  const records = events.map((event, i) => streamRecord(toEventItem(event, settings.retention) as unknown as Record<string, unknown>, bench.eventsTable, i));
  const batches = chunk(records, RULES_STREAM.batchSize);

  const outbox = process.env.LOCAL_OUTBOX_FILE;
  const outboxLines = () => (outbox && existsSync(outbox) ? readFileSync(outbox, 'utf8').split('\n').filter(Boolean) : []);
  const outboxBefore = outboxLines().length;

  let failedRecords = 0;
  const invoke = async (batch: DynamoDBRecord[]) => {
    const response = await invokeHandler(handler, { Records: batch }, lambdaContext());
    failedRecords += response?.batchItemFailures.length ?? 0;
  };
  options.log(`rules: ${records.length} records in batches of ${RULES_STREAM.batchSize}, one batch at a time`);
  const latencies: number[] = [];
  const started = performance.now();
  for (const batch of batches) {
    const at = performance.now();
    await invoke(batch);
    latencies.push(performance.now() - at);
  }
  const seconds = (performance.now() - started) / 1000;
  const sent = outboxLines().slice(outboxBefore);
  const outboxByRule: Record<string, number> = {};
  for (const line of sent) {
    const rule = (JSON.parse(line) as { attributes?: { rule?: string } }).attributes?.rule ?? '?';
    outboxByRule[rule] = (outboxByRule[rule] ?? 0) + 1;
  }
  const outboxMessages = sent.length;

  const enabled = rules.filter((rule) => rule.enabled && !rule.silence);
  const matchesPerEvent = events.map((event) => enabled.filter((rule) => matchesRule(rule, event)).map((rule) => rule.id));
  const results: RulesResults = {
    rules: rules.length,
    records: records.length,
    batchSize: RULES_STREAM.batchSize,
    recordsPerSecond: Math.round(records.length / seconds),
    batchLatency: latencyOf(latencies),
    failedRecords,
    recordsMatchingAnyRule: matchesPerEvent.filter((ids) => ids.length > 0).length,
    ruleMatches: matchesPerEvent.reduce((sum, ids) => sum + ids.length, 0),
    rulesThatMatched: new Set(matchesPerEvent.flat()).size,
    outboxMessages,
    outboxByRule,
  };

  for (const rule of added) await store.delete(rule.id);

  return {
    key: 'rules',
    title: `Rules: stream records through the rule handler, ${rules.length} rules`,
    tables: [
      {
        headers: ['records', 'batch', 'records/s', 'batch p50 ms', 'batch p95 ms', 'failed', 'records matching', 'matches / record', 'rules that matched', 'outbox messages'],
        rows: [
          [
            fmt.int(results.records),
            String(results.batchSize),
            fmt.int(results.recordsPerSecond),
            fmt.ms(results.batchLatency.p50Ms),
            fmt.ms(results.batchLatency.p95Ms),
            String(failedRecords),
            `${Math.round((100 * results.recordsMatchingAnyRule) / results.records)}%`,
            (results.ruleMatches / results.records).toFixed(2),
            `${results.rulesThatMatched} of ${rules.length}`,
            String(outboxMessages),
          ],
        ],
      },
    ],
    notes: [
      `Outbox messages by rule: ${Object.entries(outboxByRule).sort((a, b) => b[1] - a[1]).map(([rule, n]) => `${rule} ${n}`).join(', ') || 'none'}.`,
      'One batch in flight (one stream shard), the first batch included (it loads the rules). Every match of a rule with a threshold or throttle is a conditional write of its state in DynamoDB Local; a firing adds the notification, the deliveries and the outbox line. Rules matching nothing cost only the in-memory match.',
    ],
    results,
  };
}

/** A stream record as DynamoDB Streams delivers an INSERT to Lambda (NEW_IMAGE view). */
function streamRecord(item: Record<string, unknown>, table: string, n: number): DynamoDBRecord {
  const image = marshall(item, { removeUndefinedValues: true }) as Record<string, AttributeValue>;
  return {
    eventID: randomUUID().replace(/-/g, ''),
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'local',
    eventSourceARN: `arn:aws:dynamodb:local:000000000000:table/${table}/stream/bench`,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: { pk: image.pk } as never,
      NewImage: image as never,
      SequenceNumber: String(100_000_000_000 + n),
      SizeBytes: JSON.stringify(item).length,
      StreamViewType: 'NEW_IMAGE',
    },
  };
}

function lambdaContext(): Context {
  const fn = RULES_STREAM.function;
  const deadline = Date.now() + fn.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `audit-trail-${fn.id}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:audit-trail-${fn.id}`,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/audit-trail-${fn.id}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

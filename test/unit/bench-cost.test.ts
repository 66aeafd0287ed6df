import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  alternatives,
  costPerMillion,
  errorTrackerWork,
  eventsPerInvocation,
  itemWrite,
  lambdaCost,
  readTemplateFacts,
  rulesWork,
  sampleEvents,
  statsWork,
  archiveWork,
  tracedPerSecond,
  DEFAULT_ASSUMPTIONS,
  type TemplateFacts,
  type TableFacts,
} from '../../bench/cost';
import { PRICES } from '../../bench/prices';
import { synthesizedStack } from '../../bench/stack-template';
import { FUNCTIONS } from '../../lib/declarations/functions';
import { STREAM_CONSUMERS } from '../../lib/declarations/streams';
import { EVENT_LIST_ATTRIBUTES, EVENTS_TABLE } from '../../lib/declarations/tables';

const cdkJson = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: { auditTrail: { retentionDays: Record<string, number> } } };

let facts: TemplateFacts;

beforeAll(() => {
  const { built, template } = synthesizedStack();
  facts = readTemplateFacts(built, template);
});

describe('the cost model reads the synthesized template', () => {
  it('finds the events table with its 6 GSIs and their projections, TTL, PITR and stream', () => {
    expect(facts.eventsTable.indexes.map((i) => i.name)).toEqual(['byDate', 'byUser', 'byType', 'bySeverity', 'byRecord', 'byTrace']);
    for (const index of facts.eventsTable.indexes) expect(index.projection).toEqual([...EVENT_LIST_ATTRIBUTES]);
    expect(facts.eventsTable).toMatchObject({ partitionKey: 'pk', ttlAttribute: 'expiresAt', pointInTimeRecovery: true, streamView: 'NEW_IMAGE', onDemand: true });
  });

  it('finds each stream consumer with its batch size, window and INSERT-only filter', () => {
    expect(facts.streamConsumers).toHaveLength(STREAM_CONSUMERS.length);
    for (const declared of STREAM_CONSUMERS) {
      expect(facts.streamConsumers.find((c) => c.functionId === declared.function.id)).toEqual({
        functionId: declared.function.id,
        batchSize: declared.batchSize,
        windowSeconds: declared.maxBatchingWindowSeconds,
        eventNames: ['INSERT'],
        skipsRestored: true,
      });
    }
  });

  it('reads every function with its memory and architecture, the authorizer cache and the configured retention', () => {
    for (const declaration of FUNCTIONS) expect(facts.functions.get(declaration.id)).toMatchObject({ memoryMb: declaration.memoryMb, architecture: 'arm64', logRetentionDays: 365 });
    expect(facts.appKeyAuthorizerTtlSeconds).toBe(300);
    expect(facts.retention).toEqual(cdkJson.context.auditTrail.retentionDays);
    expect(facts.archive.transitions).toEqual([{ storageClass: 'GLACIER_IR', days: 90 }]);
    expect(facts.backup).toMatchObject({ fullExportEveryDays: 7, keepDays: 35 });
  });
});

describe('write units', () => {
  it('count the base item and every index the item lands in (sparse indexes only when it has their keys)', () => {
    const [pageView] = sampleEvents(1, facts.retention, 20);
    const full = itemWrite(pageView!.item, facts.eventsTable);
    expect(full.indexes.map((i) => i.name)).toEqual(['byDate', 'byUser', 'byType', 'bySeverity', 'byTrace']);
    expect(full.totalUnits).toBe(full.baseUnits + full.indexes.reduce((n, i) => n + i.units, 0));

    const { userPk: _u, userId: _i, tracePk: _t, traceId: _x, ...anonymous } = pageView!.item;
    expect(itemWrite(anonymous, facts.eventsTable).indexes.map((i) => i.name)).toEqual(['byDate', 'byType', 'bySeverity']);
    const withRecord = { ...pageView!.item, recordPk: 'R#invoice#1', recordType: 'invoice', recordId: '1' };
    expect(itemWrite(withRecord, facts.eventsTable).indexes).toHaveLength(EVENTS_TABLE.indexes.length);
  });

  it('size a hand-checked item: names + UTF-8 values, 1 unit per started KB, projections with the keys', () => {
    const table: TableFacts = {
      logicalId: 'T',
      partitionKey: 'pk',
      indexes: [
        { name: 'byG', partitionKey: 'g', sortKey: 'sk', projection: ['a'] },
        { name: 'byMissing', partitionKey: 'm', projection: 'ALL' },
      ],
      pointInTimeRecovery: false,
      onDemand: true,
    };
    // pk: 2 + 3, g: 1 + 2, sk: 2 + 4, a: 1 + 1, n (number 12345: ceil(5 digits / 2) + 1): 1 + 4, doc: 3 + 1100 → 1124 B.
    const item = { pk: 'id1', g: 'G1', sk: '2026', a: 'x', n: 12345, doc: 'd'.repeat(1100) };
    const write = itemWrite(item, table);
    expect(write.bytes).toBe(5 + 3 + 6 + 2 + 5 + 1103);
    expect(write.baseUnits).toBe(2);
    // The index copies pk, g, sk and a: 16 B, 1 unit; byMissing does not get the item (no `m`).
    expect(write.indexes).toEqual([{ name: 'byG', bytes: 16, units: 1 }]);
    expect(write.totalUnits).toBe(3);
    expect(write.storedBytes).toBe(1124 + 100 + 16 + 100);
  });
});

describe('arithmetic', () => {
  it('prices Lambda as requests plus GB-seconds per started millisecond', () => {
    const usd = lambdaCost({ invocations: 1e6, memoryMb: 1024, durationMs: 99.2 }, { request: 0.2e-6, gbSecond: 0.0000133334 });
    expect(usd).toBeCloseTo(0.2 + 1e6 * 1 * 0.1 * 0.0000133334, 9);
  });

  it('fills stream batches from the rate per shard and the window, capped by the batch size', () => {
    expect(eventsPerInvocation({ batchSize: 500, windowSeconds: 5 }, 100)).toBe(500);
    expect(eventsPerInvocation({ batchSize: 50, windowSeconds: 1 }, 10)).toBe(10);
    expect(eventsPerInvocation({ batchSize: 50, windowSeconds: 1 }, 0.1)).toBe(1);
    expect(tracedPerSecond(21)).toBeCloseTo(2, 9);
    expect(tracedPerSecond(0.5)).toBe(0.5);
  });

  it('adds up per million events from the template, the mix and the prices', async () => {
    const mix = sampleEvents(200, facts.retention, 20);
    const fills = Object.fromEntries(facts.streamConsumers.map((c) => [c.functionId, Math.min(c.batchSize, 100)]));
    const batch = mix.slice(0, 100);
    const result = costPerMillion({
      facts,
      assumptions: DEFAULT_ASSUMPTIONS,
      eventsPerRequest: 100,
      mix,
      fills,
      consumers: {
        rules: rulesWork(batch, DEFAULT_ASSUMPTIONS),
        errors: errorTrackerWork(batch, facts.errorGroupsTable, DEFAULT_ASSUMPTIONS),
        stats: statsWork(batch, DEFAULT_ASSUMPTIONS),
        archive: await archiveWork(batch, DEFAULT_ASSUMPTIONS),
      },
    });
    // 10,000 requests of 100 events at $3.50 per million; one rate-counter WRU per request.
    expect(result.byComponent.apiGateway).toBeCloseTo(0.035, 9);
    expect(result.byComponent.rateCounter).toBeCloseTo(10_000 * 0.625e-6, 9);
    const meanUnits = mix.reduce((n, s) => n + itemWrite(s.item, facts.eventsTable).totalUnits, 0) / mix.length;
    expect(result.byComponent.eventWrites).toBeCloseTo(1e6 * meanUnits * 0.625e-6, 9);
    expect(result.byComponent.streamReads).toBe(0);
    expect(result.total).toBeCloseTo(Object.values(result.byComponent).reduce((a, b) => a + b, 0), 9);

    const elsewhere = alternatives(mix, facts.retention);
    const gb = elsewhere.meanEventBytes / 1000;
    expect(elsewhere.datadog.total).toBeCloseTo(gb * PRICES.datadogLogIngestGb.usd + 1.7, 9);
    expect(elsewhere.cloudWatchLogs.ingest).toBeCloseTo(gb * 0.5, 9);
  });
});

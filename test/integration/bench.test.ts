/**
 * The benchmark's local-stack sections (bench/local-sections.ts) run end to
 * end with tiny sizes: this proves the bench code works and its figures are
 * consistent, not how fast anything is (no timing assertions: the figures
 * are `npm run bench`'s job).
 */
import { sampleEvent } from '../../bench/events';
import { failuresOf, runLocalStackSections, type LocalStackSections } from '../../bench/local-sections';
import { RULE_COUNT, RULE_EVENTS_OFFSET, type RuleHandler } from '../../bench/rules';

jest.setTimeout(120_000);

const SIZES = { coreRounds: 500, singleEvents: 4, ingestEvents: 200, clients: 2, soakEvents: 400, queryRepetitions: 2, ruleRecords: 400 };

let sections: LocalStackSections;

beforeAll(async () => {
  // The local outbox echoes every notification to the console.
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const started = Date.now();
  sections = await runLocalStackSections({
    quick: true,
    sizes: SIZES,
    inMemory: true,
    log: process.env.BENCH_TEST_LOG ? (line) => process.stderr.write(`${((Date.now() - started) / 1000).toFixed(1)}s ${line}\n`) : () => undefined,
    // jest keeps its own module registry: a fresh rule handler (an empty rules cache) comes from an isolated one.
    loadRuleHandler: async () => {
      let handler: RuleHandler | undefined;
      await jest.isolateModulesAsync(async () => {
        handler = (await import('../../lambdas/rules/handler')).handler as unknown as RuleHandler;
      });
      return handler!;
    },
  });
}, 120_000);

test('nothing failed: no errors, every soak event stored', () => {
  expect(failuresOf(sections)).toEqual([]);
});

test('ingest: API and raw figures over the same number of events, ratio = API ÷ raw', () => {
  const r = sections.ingest.results;
  expect(r.api.events).toBe(SIZES.ingestEvents);
  expect(r.raw.events).toBe(SIZES.ingestEvents);
  expect(r.single.events).toBe(SIZES.singleEvents);
  for (const t of [r.api, r.raw, r.single]) {
    expect(t.eventsPerSecond).toBeGreaterThan(0);
    expect(t.latency.p50Ms).toBeLessThanOrEqual(t.latency.p95Ms);
    expect(t.latency.p95Ms).toBeLessThanOrEqual(t.latency.p99Ms);
  }
  expect(r.ratioToRaw).toBeCloseTo(r.api.eventsPerSecond / r.raw.eventsPerSecond, 2);
  expect(r.core.usPerEvent).toBeGreaterThan(0);
});

test('soak: every event accepted and stored, heap sampled every 5%', () => {
  const r = sections.soak.results;
  expect(r.events).toBe(SIZES.soakEvents);
  expect(r.errors.total).toBe(0);
  expect(r.stored).toBe(SIZES.soakEvents);
  expect(r.allStored).toBe(true);
  expect(r.timeline.length).toBeGreaterThanOrEqual(2);
  expect(r.timeline.at(-1)!.events).toBe(SIZES.soakEvents);
  expect(r.heap.peakMb).toBeGreaterThanOrEqual(Math.max(r.heap.startMb, r.heap.endMb));
  expect(r.dataset.events).toBe(SIZES.soakEvents);
  expect(r.streams?.drained).toBe(true);
});

test('query: every read answered with results, the API page equals the raw read, ratio is the worst filter', () => {
  const r = sections.query.results;
  expect(r.errors).toBe(0);
  expect(r.filters.length).toBeGreaterThanOrEqual(15);
  for (const filter of r.filters) {
    expect({ filter: filter.label, nonEmpty: filter.nonEmpty, mismatches: filter.mismatches }).toEqual({ filter: filter.label, nonEmpty: SIZES.queryRepetitions, mismatches: 0 });
    if (filter.raw) expect(filter.p95Ratio).toBeCloseTo(filter.api.p95Ms / filter.raw.p95Ms, 1);
  }
  const ratios = r.filters.flatMap((filter) => (filter.p95Ratio === undefined ? [] : [filter.p95Ratio]));
  expect(r.p95RatioToRaw).toBe(Math.max(...ratios));
  expect(r.filters.find((filter) => filter.label === r.worstFilter)?.p95Ratio).toBe(r.p95RatioToRaw);
});

test('rules: every record through the handler with 50 rules, the bench rules among them', () => {
  const r = sections.rules.results;
  expect(r.rules).toBe(RULE_COUNT);
  expect(r.records).toBe(SIZES.ruleRecords);
  expect(r.failedRecords).toBe(0);
  expect(r.recordsMatchingAnyRule).toBeGreaterThan(0);
  expect(r.recordsMatchingAnyRule).toBeLessThanOrEqual(r.records);
  expect(r.rulesThatMatched).toBeLessThan(RULE_COUNT);
  // bench-suspicious emails every suspicious event: only a handler that loaded the bench rules (not a cached set) sends these.
  const suspicious = Array.from({ length: SIZES.ruleRecords }, (_, n) => sampleEvent(RULE_EVENTS_OFFSET + n)).filter((event) => event.type === 'security.suspicious_activity').length;
  expect(suspicious).toBeGreaterThan(0);
  expect(r.outboxByRule['bench-suspicious']).toBe(suspicious);
  expect(Object.values(r.outboxByRule).reduce((a, b) => a + b, 0)).toBe(r.outboxMessages);
});

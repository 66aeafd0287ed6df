/**
 * What ingestion costs, measured here:
 * 1. the domain work per event (validate, default, redact, size-check) on one core;
 * 2. end to end through the local stack (HTTP, the API Gateway emulator, the
 *    real authorizer and handler, DynamoDB Local on disk), single events and
 *    batches of 100;
 * 3. in the same run, the same kind of items written raw with BatchWriteItem
 *    into the same table of the same DynamoDB Local: the floor the API is
 *    compared with (`ratioToRaw`).
 * DynamoDB Local (Java over SQLite) is far slower than DynamoDB, so the
 * absolute figures bound the local stack, not AWS; the ratio says what the
 * system adds on top of its database.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { toEventItem } from '../lambdas/core/event-keys';
import { prepareEvent } from '../lambdas/core/ingest';
import { ingestSettingsFromEnv } from '../lambdas/core/settings';
import { sampleEvent } from './events';
import { benchSizes, chunk, fmt, latencyOf, runClients, type Latency } from './measure';
import type { BenchOptions, BenchSection } from './section';
import type { BenchStack } from './stack';

/** The API's batch limit, and BatchWriteItem's. */
const API_BATCH = 100;
const RAW_WRITE_CALL = 25;
/** API and raw take turns this many times, so the stream consumers' catch-up load falls on both alike. */
const ROUNDS = 4;

export interface Throughput {
  events: number;
  clients: number;
  batchSize: number;
  eventsPerSecond: number;
  /** Per request (API) or per batch of 100 written as four parallel BatchWriteItem calls (raw). */
  latency: Latency;
}

export interface IngestResults {
  core: { usPerEvent: number; eventsPerSecondOneCore: number; batchOf100Ms: number };
  single: Throughput;
  api: Throughput;
  raw: Throughput & { writeCallSize: number };
  /** API events/s ÷ raw events/s, same events, same concurrency, same table. */
  ratioToRaw: number;
  /** Non-200 answers and events not accepted. */
  errors: number;
}

/** prepareEvent over the sample mix on one core, after a warm-up (µs per event). */
export function benchCore(rounds: number): IngestResults['core'] {
  const settings = ingestSettingsFromEnv(process.env);
  const request = { source: 'bench', receivedAt: new Date() };
  const events = Array.from({ length: 1000 }, (_, i) => sampleEvent(i));
  for (let i = 0; i < Math.min(5000, rounds); i++) prepareEvent(events[i % 1000], request, settings); // warm-up
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) prepareEvent(events[i % 1000], request, settings);
  const usPerEvent = Number(process.hrtime.bigint() - started) / 1000 / rounds;
  return { usPerEvent: Math.round(usPerEvent * 10) / 10, eventsPerSecondOneCore: Math.round(1e6 / usPerEvent), batchOf100Ms: Math.round(usPerEvent * 10) / 100 };
}

export async function ingestSection(bench: BenchStack, options: BenchOptions): Promise<BenchSection<IngestResults>> {
  const sizes = benchSizes(options);
  const clients = sizes.clients;
  let errors = 0;
  let nextIndex = 0;
  const drafts = (count: number) => Array.from({ length: count }, () => sampleEvent(nextIndex++));

  options.log(`ingest: domain work, ${sizes.coreRounds} events on one core`);
  const core = benchCore(sizes.coreRounds);

  const post = async (events: unknown[]) => {
    const { status, body } = await bench.postEvents(events);
    if (status !== 200 || body?.accepted !== events.length) {
      errors += 1;
      options.log(`ingest: POST /v1/events answered ${status}: ${JSON.stringify(body).slice(0, 300)}`);
    }
  };
  await post(drafts(20)); // warm-up: the handlers' first invocation, the authorizer's cache

  options.log(`ingest: ${sizes.singleEvents} single events, ${clients} clients`);
  const singles = await runClients(drafts(sizes.singleEvents).map((event) => [event]), clients, post);

  // Raw: what ingestion stores, prepared up front (the domain work is figure 1), fresh ids, written as one
  // batch of 100 per "request": four BatchWriteItem calls of 25 in parallel, unprocessed items retried.
  const settings = ingestSettingsFromEnv(process.env);
  const receivedAt = new Date();
  const rawItems = (count: number) =>
    drafts(count).map((draft) => {
      const prepared = prepareEvent(draft, { source: 'local', receivedAt }, settings);
      if (!prepared.ok) throw new Error(`sample event rejected: ${JSON.stringify(prepared.errors)}`);
      return toEventItem(prepared.event, settings.retention);
    });
  const writeRaw = async (items: readonly object[]) => {
    await Promise.all(
      chunk(items, RAW_WRITE_CALL).map(async (call) => {
        let pending = call.map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 8) throw new Error(`BatchWriteItem: ${pending.length} item(s) still unprocessed`);
          if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
          const output = await bench.raw.send(new BatchWriteCommand({ RequestItems: { [bench.eventsTable]: pending } }));
          pending = (output.UnprocessedItems?.[bench.eventsTable] ?? []) as typeof pending;
        }
      }),
    );
  };

  const rounds = Math.max(1, Math.min(ROUNDS, Math.floor(sizes.ingestEvents / API_BATCH)));
  const perRound = Math.max(API_BATCH, Math.round(sizes.ingestEvents / rounds / API_BATCH) * API_BATCH);
  const api = { seconds: 0, events: 0, latencies: [] as number[] };
  const raw = { seconds: 0, events: 0, latencies: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    options.log(`ingest: round ${round + 1}/${rounds}: ${perRound} events through the API, then ${perRound} raw, ${clients} clients`);
    const viaApi = await runClients(chunk(drafts(perRound), API_BATCH), clients, post);
    api.seconds += viaApi.seconds;
    api.events += perRound;
    api.latencies.push(...viaApi.latencies);
    const viaRaw = await runClients(chunk(rawItems(perRound), API_BATCH), clients, writeRaw);
    raw.seconds += viaRaw.seconds;
    raw.events += perRound;
    raw.latencies.push(...viaRaw.latencies);
  }

  const single: Throughput = { events: sizes.singleEvents, clients, batchSize: 1, eventsPerSecond: Math.round(sizes.singleEvents / singles.seconds), latency: latencyOf(singles.latencies) };
  const apiFigures: Throughput = { events: api.events, clients, batchSize: API_BATCH, eventsPerSecond: Math.round(api.events / api.seconds), latency: latencyOf(api.latencies) };
  const rawFigures = { events: raw.events, clients, batchSize: API_BATCH, writeCallSize: RAW_WRITE_CALL, eventsPerSecond: Math.round(raw.events / raw.seconds), latency: latencyOf(raw.latencies) };
  const results: IngestResults = {
    core,
    single,
    api: apiFigures,
    raw: rawFigures,
    ratioToRaw: Math.round((apiFigures.eventsPerSecond / rawFigures.eventsPerSecond) * 1000) / 1000,
    errors,
  };

  const row = (label: string, t: Throughput): string[] => [label, fmt.int(t.events), fmt.int(t.eventsPerSecond), fmt.ms(t.latency.p50Ms), fmt.ms(t.latency.p95Ms), fmt.ms(t.latency.p99Ms)];
  return {
    key: 'ingest',
    title: 'Ingestion',
    tables: [
      {
        heading: 'Domain work per event (validate + defaults + redaction + size check), one core',
        headers: ['µs per event', 'events/s', 'batch of 100'],
        rows: [[core.usPerEvent.toFixed(1), fmt.int(core.eventsPerSecondOneCore), `${core.batchOf100Ms.toFixed(2)} ms`]],
      },
      {
        heading: `Local stack vs raw DynamoDB Local, ${clients} clients (latency per request of ${API_BATCH}, or per single event)`,
        headers: ['path', 'events', 'events/s', 'p50 ms', 'p95 ms', 'p99 ms'],
        rows: [
          row('POST /v1/events, single events', single),
          row(`POST /v1/events, batches of ${API_BATCH}`, apiFigures),
          row(`raw BatchWriteItem (4 × ${RAW_WRITE_CALL} per ${API_BATCH})`, rawFigures),
          ['API ÷ raw (events/s)', '', fmt.ratio(results.ratioToRaw), '', '', ''],
        ],
      },
    ],
    notes: [
      'The API path: HTTP → API Gateway emulator → app-key authorizer (cached) → ingest handler (validate, redact, rate counter, one conditional PutItem per event, 25 in flight) → DynamoDB Local on disk.',
      'The raw path: the same items (toEventItem(prepareEvent(…)), fresh ids), unconditional BatchWriteItem, no HTTP, no domain work. Both feed the stream consumers (rules, errors, stats, archive), which run in this process too; API and raw alternate in rounds so their catch-up load falls on both.',
      `errors (non-200 answers, events not accepted): ${errors}`,
    ],
    results,
  };
}

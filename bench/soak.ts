/**
 * The soak: many events through POST /v1/events as fast as the local stack
 * takes them (concurrent clients, batches of 100), with every answer
 * checked, throughput and the Node heap (after a full GC) sampled every 5%
 * of the run. The heap is the whole process: the API emulator, the handlers,
 * the stream pollers and consumers, and the bench's own clients; a leak in
 * any of them makes it climb.
 *
 * The events carry occurredAt times in order over a window that ends an
 * hour before the soak starts (about 140 an hour: 100k events are 30 days),
 * so they read like a month of traffic, and nothing else the bench writes
 * falls into that window: counting it afterwards proves every event stored.
 * The same events are the data set the query section reads.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { planEventQuery, PARTITION_VALUE } from '../lambdas/core/query-plan';
import { sampleEvent } from './events';
import { benchSizes, fmt } from './measure';
import type { BenchOptions, BenchSection } from './section';
import type { BenchStack } from './stack';

const BATCH = 100;
const SAMPLES = 20;
/** Samples before this fraction of the run are warm-up (JIT, caches, DynamoDB Local's own growth): not the baseline. */
const WARM_UP_FRACTION = 0.1;
/** "Flat": the end within this of the start (the larger of the two). */
const FLAT_TOLERANCE_MB = 8;
const FLAT_TOLERANCE_SHARE = 0.1;
const EVENTS_PER_HOUR = 140;

export interface SoakSample {
  events: number;
  atSeconds: number;
  /** Over the interval since the previous sample. */
  eventsPerSecond: number;
  heapMb: number;
}

export interface SoakDataset {
  from: string;
  to: string;
  events: number;
}

export interface SoakResults {
  events: number;
  clients: number;
  batchSize: number;
  seconds: number;
  eventsPerSecond: number;
  /** Per 5% interval: the slowest, the median and the fastest. */
  intervalEventsPerSecond: { min: number; median: number; max: number };
  errors: { answers: number; events: number; total: number };
  /** Events counted in the soak's window after the run (a Query of every date partition). */
  stored: number;
  allStored: boolean;
  heap: {
    gcBeforeSample: boolean;
    warmUpEvents: number;
    startMb: number;
    peakMb: number;
    endMb: number;
    slopeMbPer10kEvents: number;
    toleranceMb: number;
    flat: boolean;
  };
  timeline: SoakSample[];
  dataset: SoakDataset;
  /** Whether (and how long after the last answer) the stream consumers had handled every soak record. */
  streams: { drained: boolean; secondsAfterLastEvent: number; backlog: Record<string, number> };
}

export async function soakSection(bench: BenchStack, options: BenchOptions & { drainTimeoutMs: number }): Promise<BenchSection<SoakResults>> {
  const { soakEvents: total, clients } = benchSizes(options);
  const batches = Math.ceil(total / BATCH);
  const spanMs = Math.max(1, Math.round(total / EVENTS_PER_HOUR)) * 3_600_000;
  const windowEnd = Date.now() - 3_600_000;
  const windowStart = windowEnd - spanMs;
  const occurredAt = (i: number) => new Date(windowStart + Math.floor((i * spanMs) / total)).toISOString();
  // Indexes far from the other sections' (they start at 0), so ids of users, records and traces differ a little.
  const offset = 1_000_000;

  const gc = (globalThis as { gc?: () => void }).gc;
  const heapMb = () => {
    gc?.();
    return Math.round((process.memoryUsage().heapUsed / 1024 / 1024) * 10) / 10;
  };

  const errors = { answers: 0, events: 0 };
  const timeline: SoakSample[] = [];
  const sampleEvery = Math.max(1, Math.ceil(batches / SAMPLES));
  let nextBatch = 0;
  let doneBatches = 0;
  let doneEvents = 0;
  const started = performance.now();
  let last = { events: 0, at: started };
  timeline.push({ events: 0, atSeconds: 0, eventsPerSecond: 0, heapMb: heapMb() });

  options.log(`soak: ${total} events, batches of ${BATCH}, ${clients} clients`);
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (nextBatch < batches) {
        const batch = nextBatch++;
        const first = batch * BATCH;
        const events = Array.from({ length: Math.min(BATCH, total - first) }, (_, k) => sampleEvent(offset + first + k, occurredAt(first + k)));
        const { status, body } = await bench.postEvents(events);
        if (status !== 200) errors.answers += 1;
        const notAccepted = events.length - (body?.accepted ?? 0);
        if (notAccepted > 0) {
          errors.events += notAccepted;
          options.log(`soak: POST /v1/events answered ${status}, ${notAccepted} event(s) not accepted: ${JSON.stringify(body).slice(0, 300)}`);
        }
        doneBatches += 1;
        doneEvents += events.length;
        if (doneBatches % sampleEvery === 0 || doneBatches === batches) {
          const now = performance.now();
          const sample = {
            events: doneEvents,
            atSeconds: Math.round((now - started) / 100) / 10,
            eventsPerSecond: Math.round((doneEvents - last.events) / ((now - last.at) / 1000)),
            heapMb: heapMb(),
          };
          timeline.push(sample);
          last = { events: doneEvents, at: performance.now() };
          options.log(`soak: ${sample.events} events, ${sample.eventsPerSecond} events/s, heap ${sample.heapMb} MB`);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;

  const window = { from: new Date(windowStart).toISOString(), to: new Date(windowEnd).toISOString() };
  options.log(`soak: counting the stored events of ${window.from} … ${window.to}`);
  const stored = await countStored(bench, window.from, window.to);
  options.log('soak: waiting for the stream consumers to catch up');
  const drained = await bench.drainStreams(options.drainTimeoutMs);
  const streams = { drained: drained.drained, secondsAfterLastEvent: Math.round((performance.now() - started) / 1000 - seconds), backlog: drained.backlog };

  const measured = timeline.slice(1);
  const afterWarmUp = measured.filter((sample) => sample.events >= WARM_UP_FRACTION * total);
  const baseline = afterWarmUp.length >= 2 ? afterWarmUp : measured;
  const startMb = baseline[0]!.heapMb;
  const endMb = baseline.at(-1)!.heapMb;
  const toleranceMb = Math.max(FLAT_TOLERANCE_MB, Math.round(FLAT_TOLERANCE_SHARE * startMb * 10) / 10);
  const rates = measured.map((sample) => sample.eventsPerSecond).sort((a, b) => a - b);
  const results: SoakResults = {
    events: doneEvents,
    clients,
    batchSize: BATCH,
    seconds: Math.round(seconds * 10) / 10,
    eventsPerSecond: Math.round(doneEvents / seconds),
    intervalEventsPerSecond: { min: rates[0] ?? 0, median: rates[Math.floor(rates.length / 2)] ?? 0, max: rates.at(-1) ?? 0 },
    errors: { ...errors, total: errors.answers + errors.events },
    stored,
    allStored: stored === total,
    heap: {
      gcBeforeSample: gc !== undefined,
      warmUpEvents: baseline[0]!.events,
      startMb,
      peakMb: Math.max(...timeline.map((sample) => sample.heapMb)),
      endMb,
      slopeMbPer10kEvents: Math.round(slope(baseline.map((sample) => [sample.events / 10_000, sample.heapMb])) * 100) / 100,
      toleranceMb,
      flat: Math.abs(endMb - startMb) <= toleranceMb,
    },
    timeline,
    dataset: { ...window, events: total },
    streams,
  };

  const h = results.heap;
  return {
    key: 'soak',
    title: `Soak: ${fmt.int(total)} events through POST /v1/events`,
    tables: [
      {
        headers: ['events', 'clients', 'seconds', 'events/s', 'per 5%: min / median / max', 'errors', 'stored'],
        rows: [
          [
            fmt.int(results.events),
            String(clients),
            results.seconds.toFixed(0),
            fmt.int(results.eventsPerSecond),
            `${fmt.int(results.intervalEventsPerSecond.min)} / ${fmt.int(results.intervalEventsPerSecond.median)} / ${fmt.int(results.intervalEventsPerSecond.max)}`,
            String(results.errors.total),
            `${fmt.int(stored)}${results.allStored ? ' (all)' : ' (MISSING EVENTS)'}`,
          ],
        ],
      },
      {
        heading: `Node heap${h.gcBeforeSample ? ' after a full GC' : ' (no --expose-gc: without GC, noisy)'}, MB`,
        headers: ['start (after warm-up)', 'peak', 'end', 'slope per 10k events', 'verdict'],
        rows: [[h.startMb.toFixed(1), h.peakMb.toFixed(1), h.endMb.toFixed(1), `${h.slopeMbPer10kEvents >= 0 ? '+' : ''}${h.slopeMbPer10kEvents.toFixed(2)}`, h.flat ? `flat (±${h.toleranceMb} MB)` : `NOT flat (beyond ±${h.toleranceMb} MB)`]],
      },
      {
        heading: 'Over time',
        headers: ['events', 's', 'events/s', 'heap MB'],
        rows: measured.map((sample) => [fmt.int(sample.events), sample.atSeconds.toFixed(0), fmt.int(sample.eventsPerSecond), sample.heapMb.toFixed(1)]),
      },
    ],
    notes: [
      `Warm-up: the first ${Math.round(WARM_UP_FRACTION * 100)}% of the run; "flat" means the end within the larger of ${FLAT_TOLERANCE_MB} MB and ${FLAT_TOLERANCE_SHARE * 100}% of the start. The heap is this whole process (stack, stream consumers, bench clients), not DynamoDB Local (a separate Java process).`,
      'The stream consumers (rules, errors, stats, archive) run in this process and share its cores with the API; what they have not handled by the end is finished before the query section.',
      streams.drained
        ? `The stream consumers had handled every soak record ${streams.secondsAfterLastEvent} s after the last answer.`
        : `The stream consumers were still behind ${streams.secondsAfterLastEvent} s after the last answer: ${JSON.stringify(streams.backlog)} records left (1000 = 1000 or more).`,
    ],
    results,
  };
}

/** Every event stored in [from, to]: a COUNT Query of each date partition the planner names for that window. */
async function countStored(bench: BenchStack, from: string, to: string): Promise<number> {
  const plan = planEventQuery({ from, to });
  let count = 0;
  for (const partition of plan.groups.flat()) {
    let after: Record<string, unknown> | undefined;
    do {
      const output = await bench.raw.send(
        new QueryCommand({
          TableName: bench.eventsTable,
          IndexName: plan.index,
          KeyConditionExpression: plan.keyCondition,
          ExpressionAttributeNames: plan.names,
          ExpressionAttributeValues: { ...plan.values, [PARTITION_VALUE]: partition },
          Select: 'COUNT',
          ...(after ? { ExclusiveStartKey: after } : {}),
        }),
      );
      count += output.Count ?? 0;
      after = output.LastEvaluatedKey;
    } while (after);
  }
  return count;
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  if (points.length < 2) return 0;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / points.length;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
  const num = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const den = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

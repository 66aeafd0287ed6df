import type { BenchOptions, BenchSizes } from './section';

/** Full run on top, `--quick` below: the quick soak (and so the query data set) is a tenth of the full one. */
const FULL: BenchSizes = { coreRounds: 50_000, singleEvents: 400, ingestEvents: 6_000, clients: 4, soakEvents: 100_000, queryRepetitions: 30, ruleRecords: 5_000 };
const QUICK: BenchSizes = { coreRounds: 20_000, singleEvents: 200, ingestEvents: 1_600, clients: 4, soakEvents: 10_000, queryRepetitions: 15, ruleRecords: 1_000 };

export function benchSizes(options: BenchOptions): BenchSizes {
  return { ...(options.quick ? QUICK : FULL), ...options.sizes };
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Latency {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function latencyOf(samples: readonly number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    count: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? NaN),
  };
}

/** Runs `jobs` with `clients` workers taking the next job as they finish one; returns each job's milliseconds. */
export async function runClients<Job>(jobs: readonly Job[], clients: number, work: (job: Job, index: number) => Promise<void>): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < jobs.length) {
        const index = next++;
        const at = performance.now();
        await work(jobs[index]!, index);
        latencies.push(performance.now() - at);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export const fmt = {
  int: (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : '–'),
  ms: (n: number) => (!Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en')),
  ratio: (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '–'),
  mb: (bytes: number) => (bytes / 1024 / 1024).toFixed(1),
};

/**
 * `npm run bench [-- --quick]`: every section, printed as tables (stdout),
 * progress on stderr, figures in bench/results.json. Exits non-zero when a
 * section counted errors (the soak requires none) or failed outright.
 *
 * Order: the bundle sizes and cold starts first, on a quiet machine; then
 * the local stack's sections on one stack (ingest, soak, query, rules:
 * bench/local-sections.ts); the cost last, at a stated traffic (not this machine's rate, which
 * moves with its load and says nothing about AWS).
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { format, parseArgs } from 'node:util';
import { bundlesSection } from './bundles';
import { costSection } from './cost';
import { failuresOf, runLocalStackSections, type LocalStackSections } from './local-sections';
import { fmt } from './measure';
import { formatSection, formatTable } from './report';
import type { BenchOptions, BenchSection } from './section';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const runStarted = Date.now();
const options: BenchOptions = {
  quick: values.quick ?? false,
  log: (line) => process.stderr.write(`[bench +${Math.round((Date.now() - runStarted) / 1000)}s] ${line}\n`),
};

// stdout is for the tables. Whatever the stack writes there (the local outbox
// echoing each notification) goes to stderr instead.
const writeStdout = process.stdout.write.bind(process.stdout);
const print = (text: string) => void writeStdout(`${text}\n`);
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
console.log = (...args: unknown[]) => process.stderr.write(`${format(...args)}\n`);

async function main(): Promise<number> {
  print(`Benchmark${options.quick ? ' (--quick)' : ''}: node ${process.version}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB, ${new Date().toISOString()}`);
  const sections: BenchSection<object>[] = [];
  const failures: string[] = [];
  const attempt = async <T extends BenchSection<object>>(key: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      const section = await run();
      print(formatSection(section));
      sections.push(section);
      return section;
    } catch (error) {
      failures.push(`${key}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      options.log(`${key} failed: ${String(error)}`);
      return undefined;
    }
  };

  await attempt('bundles', () => bundlesSection(options));
  let local: LocalStackSections | undefined;
  try {
    local = await runLocalStackSections(options);
    for (const section of [local.ingest, local.soak, local.query, local.rules]) {
      print(formatSection(section));
      sections.push(section);
    }
    failures.push(...failuresOf(local));
  } catch (error) {
    failures.push(`local stack: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    options.log(`the local stack's sections failed: ${String(error)}`);
  }
  await attempt('cost', () => costSection(options));

  const results = {
    generatedAt: new Date().toISOString(),
    quick: options.quick,
    node: process.version,
    machine: { cpus: cpus().length, memGb: Math.round((totalmem() / 2 ** 30) * 10) / 10 },
    ...Object.fromEntries(sections.map((section) => [section.key, section.results])),
    ...(failures.length > 0 ? { failures } : {}),
  };
  const file = join(__dirname, 'results.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);

  if (local) {
    const { ingest, soak, query, rules } = local;
    const q = query.results;
    const slowest = q.filters.reduce((a, b) => (b.api.p95Ms > a.api.p95Ms ? b : a));
    const h = soak.results.heap;
    print('\n== Summary ==');
    print(
      formatTable(
        ['figure', 'value'],
        [
          ['ingest, batches of 100, 4 clients (API)', `${fmt.int(ingest.results.api.eventsPerSecond)} events/s, request p50 ${fmt.ms(ingest.results.api.latency.p50Ms)} / p95 ${fmt.ms(ingest.results.api.latency.p95Ms)} / p99 ${fmt.ms(ingest.results.api.latency.p99Ms)} ms`],
          ['ingest, raw BatchWriteItem, same events', `${fmt.int(ingest.results.raw.eventsPerSecond)} events/s`],
          ['ingest.ratioToRaw', fmt.ratio(ingest.results.ratioToRaw)],
          ['domain work per event', `${ingest.results.core.usPerEvent.toFixed(1)} µs`],
          [`query, ${fmt.int(q.storedEvents)} events: query.p95RatioToRaw`, `${fmt.ratio(q.p95RatioToRaw)} (${q.worstFilter})`],
          ['query, slowest API p95', `${fmt.ms(slowest.api.p95Ms)} ms (${slowest.label})`],
          [`rules, ${rules.results.rules} rules`, `${fmt.int(rules.results.recordsPerSecond)} records/s`],
          [`soak, ${fmt.int(soak.results.events)} events`, `${fmt.int(soak.results.eventsPerSecond)} events/s, ${soak.results.errors.total} errors, ${soak.results.allStored ? 'all stored' : 'EVENTS MISSING'}`],
          ['soak heap after GC (start / peak / end)', `${h.startMb} / ${h.peakMb} / ${h.endMb} MB, ${h.slopeMbPer10kEvents >= 0 ? '+' : ''}${h.slopeMbPer10kEvents} MB per 10k events: ${h.flat ? 'flat' : 'NOT flat'}`],
        ],
      ).join('\n'),
    );
  }
  print(`\nWrote ${file} in ${Math.round((Date.now() - runStarted) / 1000)} s.`);
  if (failures.length > 0) {
    process.stderr.write(`\nThe benchmark FAILED:\n${failures.map((failure) => `  - ${failure}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

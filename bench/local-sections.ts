import { ingestSection, type IngestResults } from './ingest';
import { querySection, type QueryResults } from './query';
import { rulesSection, type RuleHandler, type RulesResults } from './rules';
import type { BenchOptions, BenchSection } from './section';
import { soakSection, type SoakResults } from './soak';
import { startBenchStack } from './stack';

export interface LocalStackSections {
  ingest: BenchSection<IngestResults>;
  soak: BenchSection<SoakResults>;
  query: BenchSection<QueryResults>;
  rules: BenchSection<RulesResults>;
}

/** Streams left behind by one section are handled before the next measures anything (at most this long). */
const DRAIN_TIMEOUT_MS = { quick: 180_000, full: 900_000 };

/**
 * The sections that need the local stack, on one stack, in this order:
 * ingest; the soak (whose events are the query section's data set); the
 * queries, once the stream consumers caught up; the rules last (they add 50
 * rules, which the stack's own rule consumer would otherwise pick up).
 */
export async function runLocalStackSections(
  options: BenchOptions & { inMemory?: boolean; loadRuleHandler?: () => Promise<RuleHandler> },
): Promise<LocalStackSections> {
  options.log('starting the local stack (DynamoDB Local, local S3, handlers, stream consumers)');
  const bench = await startBenchStack({ inMemory: options.inMemory, log: options.log });
  const drainTimeout = options.quick ? DRAIN_TIMEOUT_MS.quick : DRAIN_TIMEOUT_MS.full;
  const drain = async (after: string) => {
    options.log(`waiting for the stream consumers to handle what ${after} wrote`);
    const outcome = await bench.drainStreams(drainTimeout);
    options.log(outcome.drained ? `stream consumers caught up in ${outcome.seconds.toFixed(0)} s` : `stream consumers still behind after ${outcome.seconds.toFixed(0)} s: ${JSON.stringify(outcome.backlog)}`);
  };
  try {
    const ingest = await ingestSection(bench, options);
    await drain('the ingest section');
    const soak = await soakSection(bench, { ...options, drainTimeoutMs: drainTimeout });
    const query = await querySection(bench, soak.results.dataset, options);
    const rules = await rulesSection(bench, { ...options, loadHandler: options.loadRuleHandler });
    return { ingest, soak, query, rules };
  } finally {
    await bench.stop();
  }
}

/** Why a run must fail: any error the sections counted, any soak event not stored. */
export function failuresOf(sections: LocalStackSections): string[] {
  const failures: string[] = [];
  if (sections.ingest.results.errors > 0) failures.push(`ingest: ${sections.ingest.results.errors} failed request(s)`);
  const soak = sections.soak.results;
  if (soak.errors.total > 0) failures.push(`soak: ${soak.errors.answers} non-200 answer(s), ${soak.errors.events} event(s) not accepted`);
  if (!soak.allStored) failures.push(`soak: ${soak.stored} of ${soak.events} events found stored`);
  if (!soak.streams.drained) failures.push(`soak: the stream consumers were still behind after the drain timeout: ${JSON.stringify(soak.streams.backlog)}`);
  if (sections.query.results.errors > 0) failures.push(`query: ${sections.query.results.errors} non-200 answer(s)`);
  if (sections.rules.results.failedRecords > 0) failures.push(`rules: ${sections.rules.results.failedRecords} record(s) failed`);
  return failures;
}

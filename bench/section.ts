/**
 * One part of `npm run bench`: what it measured, as a printable table and as
 * the structured figures `bench/results.json` keeps under the section's key.
 */
export interface BenchOptions {
  /** `npm run bench -- --quick`: smaller data sets and fewer repetitions, the whole run under 5 minutes. */
  quick: boolean;
  /** Progress lines (stderr), kept out of the tables. */
  log: (line: string) => void;
  /** Overrides of the data-set sizes (bench/sizes.ts); the test uses tiny ones to check the code, not the figures. */
  sizes?: Partial<BenchSizes>;
}

/** How much each section does; `benchSizes` gives the full and quick values. */
export interface BenchSizes {
  /** prepareEvent calls timed for the per-event domain figure. */
  coreRounds: number;
  /** Single-event requests (batches of 1). */
  singleEvents: number;
  /** Events sent through the API, and the same number written raw, in batches of 100. */
  ingestEvents: number;
  /** Concurrent clients for ingestion and the soak. */
  clients: number;
  /** Events the soak sends; they are also the data set the query section reads. */
  soakEvents: number;
  /** Times each query is asked (through the API, and raw). */
  queryRepetitions: number;
  /** Stream records fed to the rule handler. */
  ruleRecords: number;
}

export interface BenchSection<Results extends object = Record<string, unknown>> {
  /** Key in results.json: ingest, query, rules, soak, bundles, cost. */
  key: string;
  title: string;
  /** Each table: a heading line, column headers, rows of cells. */
  tables: { heading?: string; headers: string[]; rows: string[][] }[];
  /** Free-text lines printed under the tables: assumptions, sources, caveats. */
  notes?: string[];
  results: Results;
}

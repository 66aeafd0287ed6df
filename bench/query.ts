/**
 * Read latency of every filter the query API supports, on the soak's data
 * set, against the DynamoDB calls behind it. For each filter the raw side
 * parses the same parameters, plans with the same planner
 * (lambdas/core/query-plan.ts) and reads the same first page with the same
 * merge (lambdas/core/query-merge.ts) over a DynamoDB client of its own:
 * exactly the Query calls the API issues, shards side by side where the API
 * merges them, without HTTP, the gateway emulator, the token check, the
 * handler and the JSON answer. `p95RatioToRaw` is what all that adds.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoEventIndex } from '../lambdas/adapters/event-index';
import { DEFAULT_HISTORY_PAGE, parseEventListQuery, resolveWindow, type QueryParameters } from '../lambdas/core/query-filters';
import { readMerged, startOf, type ReadStats } from '../lambdas/core/query-merge';
import { planEventQuery, planRecordHistory, planTrace, type QueryPlan } from '../lambdas/core/query-plan';
import { benchSizes, fmt, latencyOf, type Latency } from './measure';
import type { BenchOptions, BenchSection } from './section';
import type { SoakDataset } from './soak';
import type { BenchStack } from './stack';

type Params = Record<string, string | undefined>;

interface Values {
  users: string[];
  /** [userId, type] and [userId, severity at least warning] of events present, for the combined filters. */
  userTypes: Array<[string, string]>;
  usersWithWarnings: string[];
  types: string[];
  records: Array<[string, string]>;
  traces: string[];
  ids: string[];
}

/** One measured read: the API request, and the raw calls behind it (absent for routes with no single plan). */
interface Case {
  label: string;
  /** What the planner chose (index, partitions), for the table. */
  plan?: (values: Values, rep: number) => QueryPlan;
  api: (values: Values, rep: number) => { path: string; params?: Params };
  raw?: (values: Values, rep: number) => Promise<{ ids: string[]; stats?: ReadStats }>;
}

export interface QueryFilterResult {
  label: string;
  index?: string;
  partitions?: number;
  api: Latency;
  raw?: Latency;
  /** API p95 ÷ raw p95, and the same at p50 (steadier with few repetitions). */
  p95Ratio?: number;
  p50Ratio?: number;
  /** DynamoDB Query calls per page (raw side, the same as the API's). */
  queriesPerPage?: number;
  itemsPerPage: number;
  /** Repetitions that returned at least one item. */
  nonEmpty: number;
  /** Repetitions where the API's page and the raw page differed (should be 0: nothing is written meanwhile). */
  mismatches: number;
}

export interface QueryResults {
  storedEvents: number;
  repetitions: number;
  filters: QueryFilterResult[];
  /** The largest per-filter API p95 ÷ raw p95, and its filter. */
  p95RatioToRaw: number;
  worstFilter: string;
  errors: number;
}

const pick = <T>(list: readonly T[], rep: number): T => list[rep % list.length]!;

export async function querySection(bench: BenchStack, dataset: SoakDataset, options: BenchOptions): Promise<BenchSection<QueryResults>> {
  const { queryRepetitions: repetitions } = benchSizes(options);
  const index = new DynamoEventIndex(bench.raw, bench.eventsTable);
  const whole = { from: dataset.from, to: dataset.to };
  let errors = 0;

  // Values that exist: read from the data set itself, so every filter finds something at any size.
  const sample = await bench.get('/v1/events', { ...whole, limit: '200' });
  if (sample.status !== 200) throw new Error(`GET /v1/events answered ${sample.status}: ${JSON.stringify(sample.body).slice(0, 300)}`);
  const items = sample.body.items as Array<Record<string, string | undefined>>;
  const distinct = (values: Array<string | undefined>) => [...new Set(values.filter((v): v is string => v !== undefined))];
  const rank = (severity: string | undefined) => ['debug', 'info', 'warning', 'error', 'critical'].indexOf(severity ?? '');
  const values: Values = {
    users: distinct(items.map((item) => item.userId)),
    userTypes: distinct(items.map((item) => (item.userId ? `${item.userId}\n${item.type}` : undefined))).map((key) => key.split('\n') as [string, string]),
    usersWithWarnings: distinct(items.map((item) => (rank(item.severity) >= rank('warning') ? item.userId : undefined))),
    types: distinct(items.map((item) => item.type)),
    records: distinct(items.map((item) => (item.recordType && item.recordId ? `${item.recordType}\n${item.recordId}` : undefined))).map((key) => key.split('\n') as [string, string]),
    traces: distinct(items.map((item) => item.traceId)),
    ids: distinct(items.map((item) => item.id)),
  };
  for (const [name, list] of Object.entries(values)) if (list.length === 0) throw new Error(`the data set has no ${name} to query`);

  const listPlan = (params: Params): QueryPlan => {
    const request = parseEventListQuery(asQueryParameters(params));
    return planEventQuery({ ...request.filters, ...resolveWindow(request.filters, new Date()) });
  };
  const rawList = async (params: Params) => {
    const request = parseEventListQuery(asQueryParameters(params));
    const plan = planEventQuery({ ...request.filters, ...resolveWindow(request.filters, new Date()) });
    const { items, stats } = await readMerged(plan, index, startOf(plan), { limit: request.limit });
    return { ids: items.map((item) => String(item.id)), stats };
  };
  const rawWhole = async (plan: QueryPlan) => {
    const { items, stats } = await readMerged(plan, index, startOf(plan), { limit: DEFAULT_HISTORY_PAGE });
    return { ids: items.map((item) => String(item.id)), stats };
  };
  const list = (label: string, params: (v: Values, rep: number) => Params): Case => ({
    label,
    plan: (v, rep) => listPlan(params(v, rep)),
    api: (v, rep) => ({ path: '/v1/events', params: params(v, rep) }),
    raw: (v, rep) => rawList(params(v, rep)),
  });

  const cases: Case[] = [
    list('date range, last 7 days (default window)', () => ({})),
    list('date range, whole data set', () => whole),
    list('user', (v, rep) => ({ ...whole, userId: pick(v.users, rep) })),
    list('type', (v, rep) => ({ ...whole, type: pick(v.types, rep) })),
    list('severity=error', () => ({ ...whole, severity: 'error' })),
    list('minSeverity=warning', () => ({ ...whole, minSeverity: 'warning' })),
    list('record (list filter)', (v, rep) => ({ ...whole, recordType: pick(v.records, rep)[0], recordId: pick(v.records, rep)[1] })),
    list('trace (list filter)', (v, rep) => ({ ...whole, traceId: pick(v.traces, rep) })),
    list('user + type', (v, rep) => ({ ...whole, userId: pick(v.userTypes, rep)[0], type: pick(v.userTypes, rep)[1] })),
    list('user + minSeverity=warning', (v, rep) => ({ ...whole, userId: pick(v.usersWithWarnings, rep), minSeverity: 'warning' })),
    list('severity=error + category=payment', () => ({ ...whole, severity: 'error', category: 'payment' })),
    list('date + status=failure', () => ({ ...whole, status: 'failure' })),
    list('date + category=security (rare)', () => ({ ...whole, category: 'security' })),
    {
      label: 'record history (/v1/records/…/history)',
      plan: (v, rep) => planRecordHistory(...pick(v.records, rep)),
      api: (v, rep) => ({ path: `/v1/records/${encodeURIComponent(pick(v.records, rep)[0])}/${encodeURIComponent(pick(v.records, rep)[1])}/history` }),
      raw: (v, rep) => rawWhole(planRecordHistory(...pick(v.records, rep))),
    },
    {
      label: 'trace (/v1/traces/…)',
      plan: (v, rep) => planTrace(pick(v.traces, rep)),
      api: (v, rep) => ({ path: `/v1/traces/${pick(v.traces, rep)}` }),
      raw: (v, rep) => rawWhole(planTrace(pick(v.traces, rep))),
    },
    {
      label: 'one event by id (/v1/events/{id})',
      api: (v, rep) => ({ path: `/v1/events/${pick(v.ids, rep)}` }),
      raw: async (v, rep) => {
        const { Item } = await bench.raw.send(new GetCommand({ TableName: bench.eventsTable, Key: { pk: pick(v.ids, rep) }, ProjectionExpression: 'doc' }));
        return { ids: Item ? [(JSON.parse(String(Item.doc)) as { id: string }).id] : [] };
      },
    },
    { label: 'stats, by day over the data set (/v1/stats)', api: () => ({ path: '/v1/stats', params: { ...whole, interval: 'day' } }) },
  ];

  const timeApi = async (c: Case, rep: number) => {
    const { path, params } = c.api(values, rep);
    const started = performance.now();
    const { status, body } = await bench.get(path, params);
    const ms = performance.now() - started;
    if (status !== 200) {
      errors += 1;
      options.log(`query: ${c.label}: GET ${path} answered ${status}: ${JSON.stringify(body).slice(0, 300)}`);
    }
    const ids = Array.isArray(body?.items) ? (body.items as Array<{ id: string }>).map((item) => item.id) : typeof body?.id === 'string' ? [body.id as string] : [];
    return { ms, ids, nonEmpty: ids.length > 0 || (path === '/v1/stats' && status === 200) };
  };
  const timeRaw = async (c: Case, rep: number) => {
    const started = performance.now();
    const out = await c.raw!(values, rep);
    return { ms: performance.now() - started, ...out };
  };

  options.log(`query: warm-up, then ${repetitions} repetitions of ${cases.length} reads (API and raw alternating)`);
  for (const c of cases) {
    await timeApi(c, 0);
    if (c.raw) await timeRaw(c, 0);
  }
  errors = 0;

  const measured = cases.map(() => ({ api: [] as number[], raw: [] as number[], queries: 0, items: 0, nonEmpty: 0, mismatches: 0 }));
  for (let rep = 0; rep < repetitions; rep++) {
    for (const [i, c] of cases.entries()) {
      const m = measured[i]!;
      // Alternate which goes first, so neither always meets a cache the other warmed.
      const apiFirst = rep % 2 === 0;
      const raw = c.raw && !apiFirst ? await timeRaw(c, rep) : undefined;
      const api = await timeApi(c, rep);
      const rawAfter = c.raw && apiFirst ? await timeRaw(c, rep) : raw;
      m.api.push(api.ms);
      m.items += api.ids.length;
      if (api.nonEmpty) m.nonEmpty += 1;
      if (rawAfter) {
        m.raw.push(rawAfter.ms);
        m.queries += rawAfter.stats?.queries ?? 1;
        if (rawAfter.ids.join() !== api.ids.join()) m.mismatches += 1;
      }
    }
  }

  const filters: QueryFilterResult[] = cases.map((c, i) => {
    const m = measured[i]!;
    const plan = c.plan?.(values, 0);
    const api = latencyOf(m.api);
    const raw = m.raw.length > 0 ? latencyOf(m.raw) : undefined;
    return {
      label: c.label,
      ...(plan ? { index: plan.index, partitions: plan.groups.reduce((sum, group) => sum + group.length, 0) } : {}),
      api,
      ...(raw ? { raw, p95Ratio: Math.round((api.p95Ms / raw.p95Ms) * 100) / 100, p50Ratio: Math.round((api.p50Ms / raw.p50Ms) * 100) / 100, queriesPerPage: Math.round((m.queries / repetitions) * 10) / 10 } : {}),
      itemsPerPage: Math.round((m.items / repetitions) * 10) / 10,
      nonEmpty: m.nonEmpty,
      mismatches: m.mismatches,
    };
  });
  const compared = filters.filter((f) => f.p95Ratio !== undefined);
  const worst = compared.reduce((a, b) => (b.p95Ratio! > a.p95Ratio! ? b : a));
  const results: QueryResults = { storedEvents: dataset.events, repetitions, filters, p95RatioToRaw: worst.p95Ratio!, worstFilter: worst.label, errors };

  return {
    key: 'query',
    title: `Queries on ${fmt.int(dataset.events)} stored events${options.quick ? ' (quick: a smaller data set than the full run)' : ''}`,
    tables: [
      {
        headers: ['read', 'index (partitions)', 'API p50', 'API p95', 'raw p50', 'raw p95', 'p50 API÷raw', 'p95 API÷raw', 'queries/page', 'items/page'],
        rows: filters.map((f) => [
          f.label,
          f.index ? `${f.index} (${f.partitions})` : f.label.includes('by id') ? 'table (GetItem)' : 'Stats table',
          fmt.ms(f.api.p50Ms),
          fmt.ms(f.api.p95Ms),
          f.raw ? fmt.ms(f.raw.p50Ms) : '–',
          f.raw ? fmt.ms(f.raw.p95Ms) : '–',
          f.p50Ratio !== undefined ? fmt.ratio(f.p50Ratio) : '–',
          f.p95Ratio !== undefined ? fmt.ratio(f.p95Ratio) : '–',
          f.queriesPerPage !== undefined ? String(f.queriesPerPage) : '–',
          f.raw ? String(f.itemsPerPage) : '–',
        ]),
      },
    ],
    notes: [
      `Milliseconds, ${repetitions} repetitions each, one request at a time, first page (limit 50 for lists, 200 for histories and traces); values (users, types, records, traces, ids) rotate over ones present in the data set.`,
      `Raw: the planner's Query calls for the same parameters through the same merge, on a DynamoDB client of the bench's own. Worst p95 ratio: ${fmt.ratio(worst.p95Ratio!)} (${worst.label}).`,
      `Errors (non-200 answers): ${errors}; API pages that differed from the raw read: ${filters.reduce((sum, f) => sum + f.mismatches, 0)}.`,
    ],
    results,
  };
}

function asQueryParameters(params: Params): QueryParameters {
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined).map(([name, value]) => [name, [value!]]));
}

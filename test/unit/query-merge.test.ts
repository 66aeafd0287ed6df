/**
 * The k-way merge and the paged reader over an in-memory stand-in for
 * DynamoDB Query (exclusive start key, Limit counted before the filter,
 * LastEvaluatedKey whenever Limit was reached), checked against a plain
 * sort of the same items.
 */
import fc from 'fast-check';
import { DONE, mergeSorted, pageSize, readMerged, startOf, type IndexItem, type MergePosition, type PartitionReader } from '../../lambdas/core/query-merge';
import type { QueryPlan } from '../../lambdas/core/query-plan';

const sk = (minute: number, id: string) => `2026-11-${String(1 + Math.floor(minute / 1440)).padStart(2, '0')}T${String(Math.floor(minute / 60) % 24).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00.000Z#${id}`;

function plan(groups: string[][], descending = true, filtered = false): QueryPlan {
  return {
    index: 'byDate',
    partitionKey: 'datePk',
    groups,
    descending,
    keyCondition: '#partition = :partition',
    ...(filtered ? { filterExpression: '#keep = :keep' } : {}),
    names: { '#partition': 'datePk' },
    values: {},
  };
}

/** DynamoDB Query semantics over arrays; records every call. */
class FakeIndex implements PartitionReader {
  readonly calls: Array<{ partition: string; after?: string; limit: number }> = [];
  constructor(
    private readonly partitions: Record<string, IndexItem[]>,
    private readonly keep: (item: IndexItem) => boolean = () => true,
  ) {}

  async readPartition(p: QueryPlan, partition: string, options: { after?: string; limit: number }) {
    this.calls.push({ partition, ...options });
    const ordered = [...(this.partitions[partition] ?? [])].sort((a, b) => (a.sk < b.sk ? -1 : 1));
    if (p.descending) ordered.reverse();
    const start = options.after === undefined ? 0 : ordered.findIndex((item) => (p.descending ? item.sk < options.after! : item.sk > options.after!));
    const evaluated = start === -1 ? [] : ordered.slice(start, start + options.limit);
    return {
      items: evaluated.filter(this.keep),
      ...(evaluated.length === options.limit ? { lastEvaluated: evaluated[evaluated.length - 1].sk } : {}),
      scanned: evaluated.length,
    };
  }
}

/** Follows cursors (through JSON, as a client would) until the end; fails if a page repeats a position forever. */
async function readAll(p: QueryPlan, index: PartitionReader, limit: number, maxQueries?: number) {
  const pages: IndexItem[][] = [];
  let position: MergePosition | undefined = startOf(p);
  while (position) {
    const page = await readMerged(p, index, position, { limit, ...(maxQueries ? { maxQueries } : {}) });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    pages.push(page.items);
    position = page.next ? (JSON.parse(JSON.stringify(page.next)) as MergePosition) : undefined;
    if (pages.length > 10_000) throw new Error('paging does not end');
  }
  return pages;
}

const ids = (items: IndexItem[]) => items.map((item) => item.sk);

describe('mergeSorted (the k-way merge)', () => {
  it('merges sorted lists newest first, and oldest first', () => {
    const a = [{ sk: sk(9, 'A') }, { sk: sk(5, 'A') }, { sk: sk(1, 'A') }];
    const b = [{ sk: sk(8, 'B') }, { sk: sk(7, 'B') }];
    const c = [{ sk: sk(9, 'C') }];
    expect(ids(mergeSorted([a, b, c], true))).toEqual([sk(9, 'C'), sk(9, 'A'), sk(8, 'B'), sk(7, 'B'), sk(5, 'A'), sk(1, 'A')]);
    expect(ids(mergeSorted([a, b, c], true, 2))).toEqual([sk(9, 'C'), sk(9, 'A')]);
    expect(ids(mergeSorted([[...a].reverse(), [...b].reverse(), c], false))).toEqual([sk(1, 'A'), sk(5, 'A'), sk(7, 'B'), sk(8, 'B'), sk(9, 'A'), sk(9, 'C')]);
  });

  it('equals a sort of the concatenation for any sorted inputs', () => {
    fc.assert(
      fc.property(fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { maxLength: 30 }), { maxLength: 9 }), fc.boolean(), (lists, descending) => {
        const sorted = lists.map((list, i) =>
          [...list].sort((x, y) => (descending ? y - x : x - y)).map((minute) => ({ sk: sk(minute, `L${i}`) })),
        );
        const expected = sorted.flat().map((item) => item.sk).sort();
        if (descending) expected.reverse();
        expect(ids(mergeSorted(sorted, descending))).toEqual(expected);
      }),
    );
  });
});

describe('readMerged (paged k-way merge over partitions)', () => {
  it('returns every item exactly once, in order, whatever the page size, shard skew, filter and group layout', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }), // groups
        fc.integer({ min: 1, max: 8 }), // partitions per group
        fc.array(fc.tuple(fc.nat(1_000), fc.nat(100), fc.boolean()), { maxLength: 250 }), // items: minute, skew, kept
        fc.integer({ min: 1, max: 40 }), // limit
        fc.boolean(), // descending
        fc.boolean(), // filtered
        async (groupCount, perGroup, raw, limit, descending, filtered) => {
          const groups = Array.from({ length: groupCount }, (_, g) => Array.from({ length: perGroup }, (_, s) => `G${g}#${s}`));
          const partitions: Record<string, IndexItem[]> = {};
          raw.forEach(([minute, skew, keep], n) => {
            // Groups are consecutive time ranges (like months), newest group first when descending.
            const g = Math.min(groupCount - 1, Math.floor((minute * groupCount) / 1001));
            const group = descending ? groupCount - 1 - g : g;
            // Uneven shards: skew puts most items into the first partition.
            const shard = skew < 60 ? 0 : n % perGroup;
            const item = { sk: sk(minute, `ID${String(n).padStart(4, '0')}`), keep: filtered ? keep : true };
            (partitions[groups[group][shard]] ??= []).push(item);
          });
          const index = new FakeIndex(partitions, (item) => item.keep === true);
          const pages = await readAll(plan(groups, descending, filtered), index, limit);

          const expected = Object.values(partitions).flat().filter((item) => item.keep).map((item) => item.sk).sort();
          if (descending) expected.reverse();
          expect(pages.flat().map((item) => item.sk)).toEqual(expected);
          // Only a filtered read may stop short of a full page before the end.
          if (!filtered) for (const page of pages.slice(0, -1)) expect(page).toHaveLength(limit);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('resumes a partition after the last item handed out, not after the last item read', async () => {
    // Shard 0 holds the 10 newest events, shard 1 the 10 oldest: the first page reads both but uses only shard 0.
    const partitions = {
      s0: Array.from({ length: 10 }, (_, i) => ({ sk: sk(100 + i, `A${i}`) })),
      s1: Array.from({ length: 10 }, (_, i) => ({ sk: sk(i, `B${i}`) })),
    };
    const p = plan([['s0', 's1']]);
    const index = new FakeIndex(partitions);
    const first = await readMerged(p, index, startOf(p), { limit: 5 });
    expect(ids(first.items)).toEqual([109, 108, 107, 106, 105].map((m, i) => sk(m, `A${9 - i}`)));
    // s1 was read (its head was needed to know s0's items come first) but nothing of it was handed out.
    expect(first.next).toEqual({ group: 0, partitions: [sk(105, 'A5'), null] });
    const second = await readMerged(p, index, first.next!, { limit: 8 });
    expect(ids(second.items)).toEqual([...[104, 103, 102, 101, 100].map((m, i) => sk(m, `A${4 - i}`)), sk(9, 'B9'), sk(8, 'B8'), sk(7, 'B7')]);
    expect(second.next).toEqual({ group: 0, partitions: [DONE, sk(7, 'B7')] });
  });

  it('ends without a cursor when the last page empties every partition', async () => {
    const partitions = { only: [{ sk: sk(3, 'C') }, { sk: sk(2, 'B') }, { sk: sk(1, 'A') }] };
    const p = plan([['only']]);
    const page = await readMerged(p, new FakeIndex(partitions), startOf(p), { limit: 3 });
    expect(page.items).toHaveLength(3);
    expect(page.next).toBeUndefined();
    // One query: it asked for one more than the page needed, so it saw the end.
    expect(page.stats.queries).toBe(1);
  });

  it('bounds the queries of one page and still makes progress when a filter matches almost nothing', async () => {
    const items = Array.from({ length: 5000 }, (_, i) => ({ sk: sk(i, `X${String(i).padStart(5, '0')}`), keep: i === 17 }));
    const p = plan([['a']], true, true);
    const index = new FakeIndex({ a: items }, (item) => item.keep === true);
    const pages = await readAll(p, index, 10, 3);
    expect(pages.flat().map((item) => item.sk)).toEqual([sk(17, 'X00017')]);
    // Each page stopped at 3 queries (some returned nothing) yet every page moved on.
    expect(pages.length).toBeGreaterThan(1);
    expect(index.calls.length).toBeLessThanOrEqual(pages.length * 3);
    // The Limit grew once pages came back thinned out by the filter.
    expect(index.calls[0].limit).toBe(22);
    expect(index.calls[1].limit).toBe(Math.ceil(11 * 32));
  });

  it('reads the next group only once the current one is exhausted', async () => {
    const partitions = { 'nov#0': [{ sk: sk(5000, 'N') }], 'nov#1': [], 'oct#0': [{ sk: sk(10, 'O') }], 'oct#1': [] };
    const p = plan([['nov#0', 'nov#1'], ['oct#0', 'oct#1']]);
    const index = new FakeIndex(partitions);
    const first = await readMerged(p, index, startOf(p), { limit: 1 });
    expect(ids(first.items)).toEqual([sk(5000, 'N')]);
    expect(index.calls.map((call) => call.partition)).toEqual(['nov#0', 'nov#1']);
    const second = await readMerged(p, index, first.next!, { limit: 5 });
    expect(ids(second.items)).toEqual([sk(10, 'O')]);
    expect(second.next).toBeUndefined();
  });

  it('asks each of several partitions for a fair share, one partition for the page plus one, more when a filter thins pages', () => {
    expect(pageSize(50, 1)).toBe(51);
    expect(pageSize(50, 8)).toBe(10);
    expect(pageSize(2, 8)).toBe(3);
    expect(pageSize(50, 8, 0.5)).toBe(20);
    expect(pageSize(50, 8, 0.1)).toBe(100);
    expect(pageSize(50, 8, 0)).toBe(320);
    expect(pageSize(200, 1, 0.5)).toBe(402);
    expect(pageSize(200, 1, 0.01)).toBe(1000);
  });
});

/**
 * The query planner: which index for which filters, what is left to the
 * server-side filter, and that no plan is ever anything but a Query with an
 * equality on the partition key.
 */
import fc from 'fast-check';
import { ClientError } from '../../lambdas/core/errors';
import { monthsBetween, planEventQuery, planRecordHistory, planTrace, type QueryPlan } from '../../lambdas/core/query-plan';
import { parseEventListQuery, parsePageQuery, resolveWindow, type EventFilters, type QueryParameters } from '../../lambdas/core/query-filters';
import { EVENTS_TABLE } from '../../lib/declarations/tables';

const FROM = '2026-10-20T00:00:00.000Z';
const TO = '2026-11-23T12:00:00.000Z';
const window = { from: FROM, to: TO };
const plan = (filters: EventFilters) => planEventQuery({ ...window, ...filters });
const shards = (prefix: string) => Array.from({ length: 8 }, (_, i) => `${prefix}#${i}`);

describe('index selection: record > trace > user > type > severity > minSeverity > date', () => {
  const all = { recordType: 'invoice', recordId: 'INV-1', traceId: 't1', userId: 'u-1', type: 'user.login.failed', severity: 'error' } as const;
  const cases: Array<[string, EventFilters, QueryPlan['index'], string[][]]> = [
    ['every filter', all, 'byRecord', [['R#invoice#INV-1']]],
    ['no record', { ...all, recordType: undefined, recordId: undefined }, 'byTrace', [['X#t1']]],
    ['no record, trace', { userId: 'u-1', type: 'user.login.failed', severity: 'error' }, 'byUser', [['U#u-1']]],
    ['type and severity', { type: 'user.login.failed', severity: 'error' }, 'byType', [shards('T#user.login.failed')]],
    ['severity alone', { severity: 'critical', category: 'payment', status: 'failure' }, 'bySeverity', [shards('V#critical')]],
    ['minSeverity', { minSeverity: 'error', source: 'web' }, 'bySeverity', [[...shards('V#error'), ...shards('V#critical')]]],
    ['category/status/source only', { category: 'payment', status: 'failure', source: 'web' }, 'byDate', [shards('D#2026-11'), shards('D#2026-10')]],
    ['nothing', {}, 'byDate', [shards('D#2026-11'), shards('D#2026-10')]],
    ['minSeverity debug (no constraint)', { minSeverity: 'debug' }, 'byDate', [shards('D#2026-11'), shards('D#2026-10')]],
    ['user and minSeverity', { userId: 'u-9', minSeverity: 'warning' }, 'byUser', [['U#u-9']]],
  ];
  it.each(cases)('%s → %s', (_name, filters, index, groups) => {
    const p = plan(filters);
    expect(p.index).toBe(index);
    expect(p.groups).toEqual(groups);
    expect(p.descending).toBe(true);
    expect(p.partitionKey).toBe(EVENTS_TABLE.indexes.find((declared) => declared.name === index)!.partitionKey.name);
  });
});

describe('what is left for the server-side filter', () => {
  it('is every filter the partition does not already say, as placeholders with values beside them', () => {
    const p = plan({ userId: 'u-1', type: 'user.login.failed', category: 'security', status: 'failure', source: 'web', traceId: 't-1', recordType: 'x', recordId: 'y' });
    expect(p.index).toBe('byRecord');
    expect(p.filterExpression).toBe('#userId = :userId AND #type = :type AND #category = :category AND #status = :status AND #source = :source AND #traceId = :traceId');
    expect(p.names).toMatchObject({ '#userId': 'userId', '#type': 'type', '#category': 'category', '#status': 'status', '#source': 'source', '#traceId': 'traceId' });
    expect(p.values).toMatchObject({ ':userId': 'u-1', ':type': 'user.login.failed', ':category': 'security', ':status': 'failure', ':source': 'web', ':traceId': 't-1' });
    expect(p.names).not.toHaveProperty('#recordType');
  });

  it('turns minSeverity into an IN over the qualifying severities when another index is chosen', () => {
    const p = plan({ type: 'payment.charge.failed', minSeverity: 'warning' });
    expect(p.index).toBe('byType');
    expect(p.filterExpression).toBe('#severity IN (:minSeverity0, :minSeverity1, :minSeverity2)');
    expect(p.values).toMatchObject({ ':minSeverity0': 'warning', ':minSeverity1': 'error', ':minSeverity2': 'critical' });
  });

  it('has no filter when the partition says everything', () => {
    expect(plan({ userId: 'u-1' }).filterExpression).toBeUndefined();
    expect(plan({ minSeverity: 'critical' }).filterExpression).toBeUndefined();
    expect(plan({}).filterExpression).toBeUndefined();
  });

  it('always narrows by the time window on the sort key', () => {
    for (const p of [plan({}), plan({ userId: 'u' }), plan({ recordType: 'a', recordId: 'b' })]) {
      expect(p.keyCondition).toBe('#partition = :partition AND #sk BETWEEN :from AND :to');
      expect(p.values[':from']).toBe(`${FROM}#`);
      expect(p.values[':to']).toBe(`${TO}#~`);
      // Every id (ULID or UUID) sorts inside the bounds of its second.
      expect(`${TO}#01JD7X8Y9ZABCDEFGHJKMNPQRS` < p.values[':to']).toBe(true);
      expect(`${TO}#ffffffff-ffff-ffff-ffff-ffffffffffff` < p.values[':to']).toBe(true);
      expect(`${FROM}#00000000-0000-0000-0000-000000000000` > p.values[':from']).toBe(true);
    }
  });

  it('plans a record history and a trace oldest first over the whole partition', () => {
    expect(planRecordHistory('invoice', 'INV-1')).toMatchObject({ index: 'byRecord', groups: [['R#invoice#INV-1']], descending: false, keyCondition: '#partition = :partition' });
    expect(planTrace('abc')).toMatchObject({ index: 'byTrace', groups: [['X#abc']], descending: false });
  });
});

describe('no plan is a scan', () => {
  const text = fc.string({ minLength: 1, maxLength: 12 });
  const filters = fc.record(
    {
      userId: text,
      type: fc.constantFrom('user.login.failed', 'payment.charge.failed'),
      category: fc.constantFrom('payment', 'security'),
      severity: fc.constantFrom('debug', 'info', 'warning', 'error', 'critical'),
      minSeverity: fc.constantFrom('debug', 'info', 'warning', 'error', 'critical'),
      status: fc.constantFrom('success', 'failure'),
      source: fc.constantFrom('web', 'billing'),
      record: fc.tuple(text, text),
      traceId: text,
      from: fc.date({ min: new Date('2020-01-01'), max: new Date('2026-11-01'), noInvalidDate: true }),
      days: fc.integer({ min: 0, max: 800 }),
    },
    { requiredKeys: ['from', 'days'] },
  );

  it('every combination is a Query on a declared index with an equality on its partition key, values only as placeholders', () => {
    fc.assert(
      fc.property(filters, ({ record, from, days, ...rest }) => {
        const given = { ...rest, ...(record ? { recordType: record[0], recordId: record[1] } : {}) } as EventFilters;
        if (given.severity && given.minSeverity) delete given.minSeverity;
        const to = new Date(from.getTime() + days * 86_400_000);
        const p = planEventQuery({ ...given, from: from.toISOString(), to: to.toISOString() });

        expect(EVENTS_TABLE.indexes.map((index) => index.name)).toContain(p.index);
        expect(p.keyCondition).toMatch(/^#partition = :partition AND #sk BETWEEN :from AND :to$/);
        expect(p.names['#partition']).toBe(p.partitionKey);
        expect(p.groups.length).toBeGreaterThan(0);
        for (const group of p.groups) {
          expect(group.length).toBeGreaterThan(0);
          expect(group.length).toBeLessThanOrEqual(32);
        }
        // Nothing the caller gave is ever part of an expression, only of the values.
        const expressions = `${p.keyCondition} ${p.filterExpression ?? ''}`;
        expect(expressions).toMatch(/^[#:\w\s=(),]*$/);
        for (const [name, value] of Object.entries(given)) {
          if (value === undefined || name === 'minSeverity') continue;
          const inPartition = p.groups.flat().every((partition) => partition.includes(value));
          expect(inPartition || Object.values(p.values).includes(value)).toBe(true);
        }
        // The date index covers every month of the window, newest first.
        if (p.index === 'byDate') expect(p.groups.map((group) => group[0].slice(2, 9))).toEqual(monthsBetween(p.values[':from'], p.values[':to']).reverse());
      }),
      { numRuns: 500 },
    );
  });
});

describe('months', () => {
  it('lists every month a window touches, across years', () => {
    expect(monthsBetween('2025-11-30T00:00:00.000Z', '2026-02-01T00:00:00.000Z')).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
    expect(monthsBetween('2026-11-01T00:00:00.000Z', '2026-11-30T00:00:00.000Z')).toEqual(['2026-11']);
  });
});

describe('parsing the query string', () => {
  const q = (params: Record<string, string | string[]>): QueryParameters =>
    Object.fromEntries(Object.entries(params).map(([name, value]) => [name, Array.isArray(value) ? value : [value]]));
  const refused = (params: Record<string, string | string[]>) => {
    try {
      parseEventListQuery(q(params));
    } catch (error) {
      expect(error).toBeInstanceOf(ClientError);
      return { status: (error as ClientError).statusCode, code: (error as ClientError).code, message: (error as ClientError).message };
    }
    throw new Error(`accepted ${JSON.stringify(params)}`);
  };

  it('normalizes what it accepts', () => {
    expect(parseEventListQuery(q({ from: '2026-11-22', to: '2026-11-22', userId: ' u-1 ', severity: 'error', limit: '200' }))).toEqual({
      filters: { from: '2026-11-22T00:00:00.000Z', to: '2026-11-22T23:59:59.999Z', userId: 'u-1', severity: 'error' },
      limit: 200,
    });
    expect(parseEventListQuery(q({ from: '2026-11-22T10:00:00+02:00' })).filters.from).toBe('2026-11-22T08:00:00.000Z');
    expect(parseEventListQuery({}).limit).toBe(50);
    expect(parsePageQuery({}).limit).toBe(200);
  });

  it.each([
    [{ limit: '500' }, 'invalid_filter', /^limit /],
    [{ limit: '0' }, 'invalid_filter', /^limit /],
    [{ limit: '1.5' }, 'invalid_filter', /^limit /],
    [{ from: '2026-11-23', to: '2026-11-01' }, 'invalid_filter', /^from .*after to/],
    [{ from: 'yesterday' }, 'invalid_filter', /^from must be an ISO-8601/],
    [{ to: '2026-11-22T10:00:00' }, 'invalid_filter', /^to must be an ISO-8601/],
    [{ from: '2026-02-30' }, 'invalid_filter', /^from /],
    [{ severity: 'fatal' }, 'invalid_filter', /^severity must be one of debug, info/],
    [{ minSeverity: 'loud' }, 'invalid_filter', /^minSeverity must be one of/],
    [{ severity: 'error', minSeverity: 'warning' }, 'invalid_filter', /^minSeverity cannot be combined/],
    [{ category: 'stuff' }, 'invalid_filter', /^category must be one of/],
    [{ status: 'ok' }, 'invalid_filter', /^status must be one of success, failure/],
    [{ recordType: 'invoice' }, 'invalid_filter', /^recordType needs recordType and recordId/],
    [{ recordId: 'INV-1' }, 'invalid_filter', /^recordId needs/],
    [{ type: "' OR 1=1 --" }, 'invalid_filter', /^type must be lower-case dotted/],
    [{ source: ':v' }, 'invalid_filter', /^source must be an app name/],
    [{ userId: '   ' }, 'invalid_filter', /^userId must not be empty/],
    [{ userId: 'x'.repeat(257) }, 'invalid_filter', /^userId must be at most 256/],
    [{ userId: ['a', 'b'] }, 'invalid_filter', /^userId is given more than once/],
    [{ user: 'u-1' }, 'unknown_parameter', /^user is not a parameter/],
    [{ from: '2000-01-01', to: '2026-01-01' }, 'invalid_filter', /at most 3660 days/],
  ])('%j → 400 %s', (params, code, message) => {
    const error = refused(params as Record<string, string>);
    expect(error).toMatchObject({ status: 400, code });
    expect(error.message).toMatch(message);
  });

  it('refuses unknown parameters on the history routes too', () => {
    expect(() => parsePageQuery(q({ from: '2026-11-01' }))).toThrow(/from is not a parameter/);
  });

  it('defaults the window to the last 7 days (plus the accepted clock skew)', () => {
    const now = new Date('2026-11-23T12:00:00.000Z');
    expect(resolveWindow({}, now)).toEqual({ from: '2026-11-16T12:05:00.000Z', to: '2026-11-23T12:05:00.000Z' });
    expect(resolveWindow({ to: '2026-11-10T00:00:00.000Z' }, now)).toEqual({ from: '2026-11-03T00:00:00.000Z', to: '2026-11-10T00:00:00.000Z' });
    expect(() => resolveWindow({ from: '2026-12-01T00:00:00.000Z' }, now)).toThrow(/after to/);
  });
});

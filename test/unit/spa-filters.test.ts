import { EVENT_FILTER_KEYS, EVENT_FILTERS, filterProblems, filtersFromParams, paramsFromFilters } from '../../frontend/src/filters';
import { withQuery } from '../../frontend/src/api';

describe('the events screen filters', () => {
  it('has one labelled control per API filter, in the order of the address', () => {
    expect(EVENT_FILTERS.map((filter) => filter.key)).toEqual([...EVENT_FILTER_KEYS]);
    expect(new Set(EVENT_FILTERS.map((filter) => filter.label)).size).toBe(EVENT_FILTERS.length);
    for (const filter of EVENT_FILTERS) if (filter.control === 'select') expect(filter.options?.length).toBeGreaterThan(1);
  });

  it('reads filters from an address, ignoring unknown keys and blank values, trimming the rest', () => {
    const params = new URLSearchParams('severity=error&userId=%20u-42%20&cursor=abc&type=&utm_source=mail');
    expect(filtersFromParams(params)).toEqual({ severity: 'error', userId: 'u-42' });
  });

  it('writes the same address for the same filters, whatever order they were set in', () => {
    const a = paramsFromFilters({ userId: 'u-42', severity: 'error', type: undefined });
    const b = paramsFromFilters({ severity: 'error', userId: 'u-42' });
    expect(a.toString()).toBe(b.toString());
    expect(a.toString()).toBe('userId=u-42&severity=error');
  });

  it('round-trips values that need escaping', () => {
    const filters = { userId: "' OR 1=1 --", recordType: 'invoice', recordId: 'INV/2026#1' };
    expect(filtersFromParams(new URLSearchParams(paramsFromFilters(filters).toString()))).toEqual(filters);
  });

  it('names the control at fault for what the API would refuse', () => {
    expect(filterProblems({})).toEqual({});
    expect(filterProblems({ recordType: 'invoice' })).toEqual({ recordId: 'A record type needs a record id.' });
    expect(filterProblems({ recordId: 'INV-1' })).toEqual({ recordType: 'A record id needs a record type.' });
    expect(filterProblems({ severity: 'error', minSeverity: 'warning' })).toHaveProperty('minSeverity');
    expect(filterProblems({ from: '2026-11-23', to: '2026-11-01' })).toEqual({ to: 'The end is before the start.' });
    expect(filterProblems({ from: '2026-11-01', to: '2026-11-01' })).toEqual({});
  });

  it('leaves empty parameters out of API requests', () => {
    expect(withQuery('/v1/events', { severity: 'error', userId: undefined, cursor: '', limit: 50 })).toBe('/v1/events?severity=error&limit=50');
    expect(withQuery('/v1/events', {})).toBe('/v1/events');
  });
});

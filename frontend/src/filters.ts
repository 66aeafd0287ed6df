/**
 * The events screen's filters: one list says each filter's URL key (the API's parameter of the same name),
 * its label and its control, so the form, the address bar and the API request cannot drift apart.
 */
import { CATEGORIES, SEVERITIES, STATUSES } from './types';

export interface FilterDefinition {
  key: EventFilterKey;
  label: string;
  control: 'text' | 'date' | 'select';
  options?: readonly string[];
  placeholder?: string;
}

export const EVENT_FILTER_KEYS = ['from', 'to', 'userId', 'type', 'category', 'severity', 'minSeverity', 'status', 'source', 'recordType', 'recordId', 'traceId'] as const;
export type EventFilterKey = (typeof EVENT_FILTER_KEYS)[number];
export type EventFilters = Partial<Record<EventFilterKey, string>>;

export const EVENT_FILTERS: readonly FilterDefinition[] = [
  { key: 'from', label: 'From (UTC day)', control: 'date' },
  { key: 'to', label: 'To (UTC day)', control: 'date' },
  { key: 'userId', label: 'User', control: 'text', placeholder: 'u-42' },
  { key: 'type', label: 'Type', control: 'text', placeholder: 'user.login.failed' },
  { key: 'category', label: 'Category', control: 'select', options: CATEGORIES },
  { key: 'severity', label: 'Severity', control: 'select', options: SEVERITIES },
  { key: 'minSeverity', label: 'At least', control: 'select', options: SEVERITIES },
  { key: 'status', label: 'Status', control: 'select', options: STATUSES },
  { key: 'source', label: 'Source app', control: 'text', placeholder: 'checkout' },
  { key: 'recordType', label: 'Record type', control: 'text', placeholder: 'invoice' },
  { key: 'recordId', label: 'Record id', control: 'text', placeholder: 'INV-1001' },
  { key: 'traceId', label: 'Trace', control: 'text' },
];

/** The filters in an address (`?severity=error&userId=u-42`); unknown keys and empty values are ignored. */
export function filtersFromParams(params: URLSearchParams): EventFilters {
  const filters: EventFilters = {};
  for (const key of EVENT_FILTER_KEYS) {
    const value = params.get(key)?.trim();
    if (value) filters[key] = value;
  }
  return filters;
}

/** The address for filters, in the one order of EVENT_FILTER_KEYS, so equal views have equal links. */
export function paramsFromFilters(filters: EventFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of EVENT_FILTER_KEYS) {
    const value = filters[key]?.trim();
    if (value) params.set(key, value);
  }
  return params;
}

/**
 * What the form can tell before asking the API (which checks everything again): the pairs it requires, and
 * the two severity filters that exclude each other. Keyed by filter, for the message under its control.
 */
export function filterProblems(filters: EventFilters): Partial<Record<EventFilterKey, string>> {
  const problems: Partial<Record<EventFilterKey, string>> = {};
  if (filters.recordType && !filters.recordId) problems.recordId = 'A record type needs a record id.';
  if (filters.recordId && !filters.recordType) problems.recordType = 'A record id needs a record type.';
  if (filters.severity && filters.minSeverity) problems.minSeverity = 'Choose an exact severity or a minimum, not both.';
  if (filters.from && filters.to && filters.from > filters.to) problems.to = 'The end is before the start.';
  return problems;
}

/**
 * The rule form's model, without React: what the controls hold (strings, as inputs do), how a stored rule
 * becomes form values and back, the checks the browser makes before sending (the same limits as the API's
 * schema in lambdas/core/rules.ts, which checks everything again), and how a rule reads in the list.
 *
 * Errors are keyed by the API's field paths (`threshold.count`, `match.minSeverity`, `channels`), so the
 * browser's messages and the server's 400 `errors` land under the same control.
 */
import type { FieldError } from './api';
import { CATEGORIES, SEVERITIES, STATUSES, type Category, type Channel, type Rule, type RuleMatch, type Severity, type Status } from './types';

export { CATEGORIES, SEVERITIES, STATUSES };

/** The channels a rule can notify on, in the API's order (lambdas/core/rules.ts CHANNELS). */
export const CHANNELS: readonly Channel[] = ['email', 'sms', 'inApp', 'webhook'];
export const CHANNEL_LABELS: Record<Channel, string> = { email: 'Email', sms: 'SMS', inApp: 'In-app', webhook: 'Webhook' };

// The API's limits (lambdas/core/rules.ts). Copied, not imported: that module needs node:crypto. The unit
// test checks these against the server's own validateRule so they cannot drift apart unnoticed.
export const RULE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
const TYPE_PATTERN = /^(\*|[a-z0-9_]+\*?)(\.(\*|[a-z0-9_]+\*?)){0,5}$/;
const FIELD_PATH = /^(?!.*(^|\.)(__proto__|constructor|prototype)(\.|$))[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+){0,7}$/;
export const MAX_NAME = 120;
export const MAX_DESCRIPTION = 1000;
export const MAX_THRESHOLD_COUNT = 1000;
export const MAX_WINDOW_SECONDS = 7 * 86_400;
export const MAX_THROTTLE_SECONDS = 7 * 86_400;
export const MIN_SILENCE_SECONDS = 300;
export const MAX_SILENCE_SECONDS = 30 * 86_400;
export const MAX_DRY_RUN_DAYS = 30;

export type RuleKind = 'every' | 'threshold' | 'silence';
export type DurationUnit = 's' | 'min' | 'h' | 'd';
export const DURATION_UNITS: ReadonlyArray<{ unit: DurationUnit; label: string; seconds: number }> = [
  { unit: 's', label: 'seconds', seconds: 1 },
  { unit: 'min', label: 'minutes', seconds: 60 },
  { unit: 'h', label: 'hours', seconds: 3600 },
  { unit: 'd', label: 'days', seconds: 86_400 },
];

/** A duration as its two controls hold it: a number typed, and a unit. */
export interface Duration {
  value: string;
  unit: DurationUnit;
}

export interface RuleForm {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  type: string;
  category: Category | '';
  minSeverity: Severity | '';
  status: Status | '';
  source: string;
  recordType: string;
  /** `match.fields` as JSON text; empty for none. */
  fields: string;
  kind: RuleKind;
  count: string;
  window: Duration;
  groupBy: string;
  silence: Duration;
  /** Empty: no throttle. */
  throttle: Duration;
  channels: Channel[];
}

/** What POST /v1/rules and PUT /v1/rules/{id} take. */
export type RuleBody = Pick<Rule, 'id' | 'name' | 'enabled' | 'match' | 'channels'> & Partial<Pick<Rule, 'description' | 'threshold' | 'silence' | 'throttleSeconds'>>;

/** A new rule: on for in-app, every matching event; the threshold and silence fields start at sensible values. */
export function emptyRuleForm(): RuleForm {
  return {
    id: '',
    name: '',
    description: '',
    enabled: true,
    type: '',
    category: '',
    minSeverity: '',
    status: '',
    source: '',
    recordType: '',
    fields: '',
    kind: 'every',
    count: '5',
    window: { value: '10', unit: 'min' },
    groupBy: '',
    silence: { value: '1', unit: 'h' },
    throttle: { value: '', unit: 'min' },
    channels: ['inApp'],
  };
}

/** 600 → 10 min; the largest unit that divides it, so a stored rule reads as it was meant. */
export function toDuration(seconds: number | undefined, fallback: Duration = { value: '', unit: 'min' }): Duration {
  if (seconds === undefined) return fallback;
  for (const { unit, seconds: size } of [...DURATION_UNITS].reverse()) {
    if (seconds > 0 && seconds % size === 0) return { value: String(seconds / size), unit };
  }
  return { value: String(seconds), unit: 's' };
}

export function unitSeconds(unit: DurationUnit): number {
  return DURATION_UNITS.find((u) => u.unit === unit)?.seconds ?? 1;
}

/** A stored rule as form values (every field of a rule has a control, so saving it unchanged changes nothing). */
export function ruleToForm(rule: Rule): RuleForm {
  const empty = emptyRuleForm();
  const m = rule.match ?? {};
  return {
    id: rule.id,
    name: rule.name,
    description: rule.description ?? '',
    enabled: rule.enabled,
    type: m.type ?? '',
    category: m.category ?? '',
    minSeverity: m.minSeverity ?? '',
    status: m.status ?? '',
    source: m.source ?? '',
    recordType: m.recordType ?? '',
    fields: m.fields && Object.keys(m.fields).length > 0 ? JSON.stringify(m.fields, null, 2) : '',
    kind: rule.silence ? 'silence' : rule.threshold ? 'threshold' : 'every',
    count: rule.threshold ? String(rule.threshold.count) : empty.count,
    window: toDuration(rule.threshold?.windowSeconds, empty.window),
    groupBy: rule.threshold?.groupBy ?? '',
    silence: toDuration(rule.silence?.windowSeconds, empty.silence),
    throttle: rule.throttleSeconds ? toDuration(rule.throttleSeconds) : empty.throttle,
    channels: CHANNELS.filter((c) => rule.channels.includes(c)),
  };
}

/** "Repeated failed logins!" → "repeated-failed-logins": a suggested id (the API derives one the same way when none is sent). */
export function suggestRuleId(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
}

export type RuleConversion = { ok: true; body: RuleBody } | { ok: false; errors: FieldError[] };

const WHOLE = /^\d+$/;

function describeSeconds(seconds: number): string {
  const d = toDuration(seconds);
  const label = DURATION_UNITS.find((u) => u.unit === d.unit)!.label;
  return `${d.value} ${d.value === '1' ? label.slice(0, -1) : label}`;
}

/** A duration's seconds, or the message for its control. */
function readDuration(duration: Duration, min: number, max: number, required: boolean): number | string | undefined {
  const text = duration.value.trim();
  if (text === '') return required ? 'Enter a duration.' : undefined;
  if (!WHOLE.test(text)) return 'Enter a whole number.';
  const seconds = Number(text) * unitSeconds(duration.unit);
  if (seconds < min || seconds > max) return `Must be between ${describeSeconds(min)} and ${describeSeconds(max)}.`;
  return seconds;
}

function isScalar(value: unknown): boolean {
  return (typeof value === 'string' && value.length <= 256) || (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean';
}

/** `match.fields` from its JSON text: an object of dotted path → value or list of values. */
export function parseMatchFields(text: string): { ok: true; fields?: Record<string, string | number | boolean | Array<string | number | boolean>> } | { ok: false; message: string } {
  if (text.trim() === '') return { ok: true };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: 'Not valid JSON. Write an object such as {"details.plan": ["pro", "team"]}.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, message: 'Write an object of field path → value, such as {"actor.userId": "u-42"}.' };
  const entries = Object.entries(value);
  if (entries.length === 0) return { ok: true };
  for (const [path, expected] of entries) {
    if (!FIELD_PATH.test(path)) return { ok: false, message: `"${path}" is not a dotted field path such as details.plan or actor.userId.` };
    if (Array.isArray(expected)) {
      if (expected.length === 0 || expected.length > 50) return { ok: false, message: `"${path}": a list needs 1 to 50 values.` };
      if (!expected.every(isScalar)) return { ok: false, message: `"${path}": list values must be strings (up to 256 characters), numbers or booleans.` };
    } else if (!isScalar(expected)) {
      return { ok: false, message: `"${path}": the value must be a string (up to 256 characters), a number, a boolean or a list of them.` };
    }
  }
  return { ok: true, fields: value as Record<string, string | number | boolean> };
}

/**
 * The request body for the form, or every problem by API path. `isNew`: the id is checked (on edit it is the
 * URL's and cannot change). Nothing half-valid is ever sent: one problem anywhere means no body.
 */
export function formToRule(form: RuleForm, options: { isNew: boolean }): RuleConversion {
  const errors: FieldError[] = [];
  const fail = (path: string, message: string) => errors.push({ path, message });

  const name = form.name.trim();
  if (name === '') fail('name', 'Enter a name.');
  else if (name.length > MAX_NAME) fail('name', `At most ${MAX_NAME} characters (this is ${name.length}).`);

  const id = form.id.trim();
  if (options.isNew) {
    if (id === '') fail('id', 'Enter an id.');
    else if (!RULE_ID_PATTERN.test(id)) fail('id', 'Use 1–64 lower-case letters, digits or dashes, starting with a letter or digit.');
  }

  const description = form.description.trim();
  if (description.length > MAX_DESCRIPTION) fail('description', `At most ${MAX_DESCRIPTION} characters (this is ${description.length}).`);

  const match: RuleMatch = {};
  const type = form.type.trim();
  if (type !== '') {
    if (!TYPE_PATTERN.test(type)) fail('match.type', 'Write a dotted type such as user.login.failed: lower-case letters, digits and _; * for one segment, a final * for any rest, fail* for a prefix.');
    else match.type = type;
  }
  if (form.category) match.category = form.category;
  if (form.minSeverity) match.minSeverity = form.minSeverity;
  if (form.status) match.status = form.status;
  const source = form.source.trim();
  if (source.length > 64) fail('match.source', 'At most 64 characters.');
  else if (source) match.source = source;
  const recordType = form.recordType.trim();
  if (recordType.length > 128) fail('match.recordType', 'At most 128 characters.');
  else if (recordType) match.recordType = recordType;
  const fields = parseMatchFields(form.fields);
  if (!fields.ok) fail('match.fields', fields.message);
  else if (fields.fields) match.fields = fields.fields;

  const body: RuleBody = { id, name, enabled: form.enabled, match, channels: CHANNELS.filter((c) => form.channels.includes(c)) };
  if (description) body.description = description;

  if (form.kind === 'threshold') {
    const countText = form.count.trim();
    let count: number | undefined;
    if (!WHOLE.test(countText)) fail('threshold.count', 'Enter a whole number of events.');
    else if (Number(countText) < 1 || Number(countText) > MAX_THRESHOLD_COUNT) fail('threshold.count', `Must be between 1 and ${MAX_THRESHOLD_COUNT}.`);
    else count = Number(countText);
    const window = readDuration(form.window, 1, MAX_WINDOW_SECONDS, true);
    if (typeof window === 'string') fail('threshold.windowSeconds', window);
    const groupBy = form.groupBy.trim();
    if (groupBy && !FIELD_PATH.test(groupBy)) fail('threshold.groupBy', 'Write a dotted field path such as actor.userId or details.app.');
    if (count !== undefined && typeof window === 'number') body.threshold = { count, windowSeconds: window, ...(groupBy ? { groupBy } : {}) };
  }
  if (form.kind === 'silence') {
    const window = readDuration(form.silence, MIN_SILENCE_SECONDS, MAX_SILENCE_SECONDS, true);
    if (typeof window === 'string') fail('silence.windowSeconds', window);
    else if (window !== undefined) body.silence = { windowSeconds: window };
  } else {
    // A silence fires once per silence; a throttle only applies to rules that fire on events.
    const throttle = readDuration(form.throttle, 0, MAX_THROTTLE_SECONDS, false);
    if (typeof throttle === 'string') fail('throttleSeconds', throttle);
    else if (throttle) body.throttleSeconds = throttle;
  }

  if (body.channels.length === 0) fail('channels', 'Choose at least one channel.');

  return errors.length > 0 ? { ok: false, errors } : { ok: true, body };
}

/** A saved rule with `enabled` flipped, as a PUT body (audit fields left out: the API keeps its own). */
export function toggledRule(rule: Rule, enabled: boolean): RuleBody {
  return { ...ruleBody(rule), enabled };
}

/** The rule's own fields, without createdAt/updatedBy and anything else the API added. */
export function ruleBody(rule: Rule): RuleBody {
  return {
    id: rule.id,
    name: rule.name,
    enabled: rule.enabled,
    match: rule.match,
    channels: rule.channels,
    ...(rule.description !== undefined ? { description: rule.description } : {}),
    ...(rule.threshold ? { threshold: rule.threshold } : {}),
    ...(rule.silence ? { silence: rule.silence } : {}),
    ...(rule.throttleSeconds ? { throttleSeconds: rule.throttleSeconds } : {}),
  };
}

// ---------------------------------------------------------------- errors on the form

/** The paths that have a control, in the form's order (for the summary). */
export const CONTROL_PATHS = [
  'name',
  'id',
  'description',
  'enabled',
  'match.type',
  'match.category',
  'match.minSeverity',
  'match.status',
  'match.source',
  'match.recordType',
  'match.fields',
  'threshold.count',
  'threshold.windowSeconds',
  'threshold.groupBy',
  'silence.windowSeconds',
  'throttleSeconds',
  'channels',
] as const;
export type ControlPath = (typeof CONTROL_PATHS)[number];

export const CONTROL_LABELS: Record<ControlPath, string> = {
  name: 'Name',
  id: 'Id',
  description: 'Description',
  enabled: 'Enabled',
  'match.type': 'Event type',
  'match.category': 'Category',
  'match.minSeverity': 'Minimum severity',
  'match.status': 'Status',
  'match.source': 'Source app',
  'match.recordType': 'Record type',
  'match.fields': 'Fields',
  'threshold.count': 'Count',
  'threshold.windowSeconds': 'Within',
  'threshold.groupBy': 'Per (group by)',
  'silence.windowSeconds': 'Silent for',
  throttleSeconds: 'Throttle',
  channels: 'Channels',
};

/**
 * The control an API error path belongs to: `channels[0]` → channels, `match.fields.details.plan` →
 * match.fields, `threshold` → its count, `silence` → its window; undefined for a path without a control
 * (the summary still shows it).
 */
export function controlForPath(path: string): ControlPath | undefined {
  if (path === 'channels' || path.startsWith('channels[')) return 'channels';
  if (path === 'match.fields' || path.startsWith('match.fields.') || path.startsWith('match.fields[')) return 'match.fields';
  if (path === 'threshold') return 'threshold.count';
  if (path === 'silence') return 'silence.windowSeconds';
  return (CONTROL_PATHS as readonly string[]).includes(path) ? (path as ControlPath) : undefined;
}

/** "must be at least 1" → "Must be at least 1." (the API's messages follow the field's name; under a control they stand alone). */
export function asSentence(message: string): string {
  const text = message.trim();
  if (text === '') return text;
  const first = text[0]!.toUpperCase() + text.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

export interface FormErrors {
  /** Messages under each control. */
  byControl: Partial<Record<ControlPath, string[]>>;
  /** Every problem, for the summary at the top: the control (if any), its label, the message. */
  summary: Array<{ control?: ControlPath; label: string; message: string }>;
}

/** Errors from the browser's check or the API's 400, arranged for the form. */
export function arrangeErrors(errors: readonly FieldError[]): FormErrors {
  const byControl: FormErrors['byControl'] = {};
  const summary: FormErrors['summary'] = [];
  for (const error of errors) {
    const control = controlForPath(error.path);
    const message = asSentence(error.message);
    if (control) (byControl[control] ??= []).push(message);
    summary.push({ ...(control ? { control } : {}), label: control ? CONTROL_LABELS[control] : error.path || 'Rule', message });
  }
  summary.sort((a, b) => order(a.control) - order(b.control));
  return { byControl, summary };
}

function order(control: ControlPath | undefined): number {
  return control ? CONTROL_PATHS.indexOf(control) : CONTROL_PATHS.length;
}

// ---------------------------------------------------------------- how a rule reads

/** "type payment.* · severity ≥ error · status failure"; "every event" for an empty match. */
export function describeMatch(match: RuleMatch | undefined): string[] {
  const m = match ?? {};
  const parts: string[] = [];
  if (m.type) parts.push(`type ${m.type}`);
  if (m.category) parts.push(`category ${m.category}`);
  if (m.minSeverity) parts.push(`severity ≥ ${m.minSeverity}`);
  if (m.status) parts.push(`status ${m.status}`);
  if (m.source) parts.push(`source ${m.source}`);
  if (m.recordType) parts.push(`record ${m.recordType}`);
  for (const [path, value] of Object.entries(m.fields ?? {})) {
    parts.push(`${path} = ${Array.isArray(value) ? value.map(String).join(' | ') : String(value)}`);
  }
  return parts.length > 0 ? parts : ['any event'];
}

/** 600 → "10 min", 3600 → "1 h", 90 → "90 s". */
export function shortDuration(seconds: number): string {
  const d = toDuration(seconds);
  return `${d.value} ${d.unit}`;
}

/** "5 in 10 min per actor.userId", "every event per type", "silent for 1 h". */
export function describeTrigger(rule: Pick<Rule, 'threshold' | 'silence'>): string {
  if (rule.silence) return `silent for ${shortDuration(rule.silence.windowSeconds)}`;
  const t = rule.threshold;
  if (!t) return 'every event';
  const per = t.groupBy ? ` per ${t.groupBy}` : '';
  if (t.count === 1) return `every event${per}`;
  return `${t.count} in ${shortDuration(t.windowSeconds)}${per}`;
}

export function describeThrottle(seconds: number | undefined): string {
  return seconds ? `at most 1 per ${shortDuration(seconds)}` : 'none';
}

/** Dry-run days as typed: a whole number 1–30, or the message for the control. */
export function parseDays(text: string): { ok: true; days: number } | { ok: false; message: string } {
  const value = text.trim();
  if (!WHOLE.test(value) || Number(value) < 1 || Number(value) > MAX_DRY_RUN_DAYS) return { ok: false, message: `Enter a whole number of days from 1 to ${MAX_DRY_RUN_DAYS}.` };
  return { ok: true, days: Number(value) };
}

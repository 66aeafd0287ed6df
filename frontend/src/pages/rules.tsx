import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { ApiError, api, describeError, type FieldError } from '../api';
import { ConfirmDialog } from '../components/confirm-dialog';
import { AnyOptions, Field as FormField, describedBy } from '../components/field';
import { Flash } from '../components/flash';
import { PageHeader } from '../components/layout';
import { QueryState } from '../components/query-state';
import { formatCount, formatDateTime, formatShortTime } from '../format';
import {
  CATEGORIES,
  CHANNELS,
  CHANNEL_LABELS,
  DURATION_UNITS,
  MAX_DRY_RUN_DAYS,
  SEVERITIES,
  STATUSES,
  arrangeErrors,
  controlForPath,
  describeMatch,
  describeThrottle,
  describeTrigger,
  emptyRuleForm,
  formToRule,
  parseDays,
  shortDuration,
  ruleToForm,
  suggestRuleId,
  toggledRule,
  type ControlPath,
  type Duration,
  type DurationUnit,
  type RuleForm,
  type RuleKind,
} from '../rule-form';
import type { Rule, RuleList, RuleTestResult } from '../types';
import './admin.css';
import './rules.css';

/** After a save or delete the list says so; the message travels in the history entry's state. */
interface ListState {
  flash?: string;
}

const byName = (a: Rule, b: Rule) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id);

// ---------------------------------------------------------------- the list

export function RulesPage() {
  const location = useLocation();
  const navigate = useNavigate();
  const client = useQueryClient();
  const flash = (location.state as ListState | null)?.flash;
  const query = useQuery({
    queryKey: ['rules'],
    queryFn: ({ signal }) => api.get<RuleList>('/v1/rules', undefined, signal),
  });
  const [deleting, setDeleting] = useState<Rule>();
  const remove = useMutation({
    mutationFn: (rule: Rule) => api.delete<void>(`/v1/rules/${encodeURIComponent(rule.id)}`),
    onSuccess: (_data, rule) => {
      client.setQueryData<RuleList>(['rules'], (old) => (old ? { rules: old.rules.filter((r) => r.id !== rule.id) } : old));
      client.removeQueries({ queryKey: ['rules', rule.id] });
      void client.invalidateQueries({ queryKey: ['rules'] });
      void client.invalidateQueries({ queryKey: ['events'] }); // the change is an admin.rule.changed event
      setDeleting(undefined);
      navigate('.', { replace: true, state: { flash: `Rule “${rule.name}” deleted.` } satisfies ListState });
    },
  });

  return (
    <>
      <PageHeader title="Rules">
        <Link className="button" to="/rules/new">
          New rule
        </Link>
      </PageHeader>
      {flash && <Flash onDismiss={() => navigate('.', { replace: true, state: null })}>{flash}</Flash>}
      <p className="muted page-intro">
        Rules turn matching events into notifications. Changes take effect within 30 seconds.
      </p>
      <QueryState query={query} isEmpty={(data) => data.rules.length === 0} empty={<>No rules yet. <Link to="/rules/new">Create the first one</Link>.</>}>
        {(data) => (
          <div className="table-wrap">
            <table aria-label="Rules" className="rules-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Enabled</th>
                  <th scope="col">Matches</th>
                  <th scope="col">Fires on</th>
                  <th scope="col">Throttle</th>
                  <th scope="col">Channels</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {[...data.rules].sort(byName).map((rule) => (
                  <RuleRow
                    key={rule.id}
                    rule={rule}
                    // An earlier "saved" message would now be stale.
                    onToggle={() => flash && navigate('.', { replace: true, state: null })}
                    onDelete={() => {
                      remove.reset();
                      setDeleting(rule);
                    }}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
      {deleting && (
        <ConfirmDialog
          title={`Delete the rule “${deleting.name}”?`}
          confirmLabel="Delete rule"
          pendingLabel="Deleting…"
          pending={remove.isPending}
          error={remove.error ?? undefined}
          onConfirm={() => remove.mutate(deleting)}
          onCancel={() => setDeleting(undefined)}
        >
          <p>
            It stops notifying at once (within 30 seconds). Notifications it already sent stay. This cannot be undone; to pause the rule
            instead, turn it off.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function RuleRow({ rule, onToggle, onDelete }: { rule: Rule; onToggle: () => void; onDelete: () => void }) {
  const client = useQueryClient();
  const toggle = useMutation({
    mutationFn: (enabled: boolean) => api.put<Rule>(`/v1/rules/${encodeURIComponent(rule.id)}`, toggledRule(rule, enabled)),
    // Optimistic: the switch moves at once; a refusal puts it back and says why.
    onMutate: async (enabled) => {
      await client.cancelQueries({ queryKey: ['rules'] });
      const previous = client.getQueryData<RuleList>(['rules']);
      client.setQueryData<RuleList>(['rules'], (old) => (old ? { rules: old.rules.map((r) => (r.id === rule.id ? { ...r, enabled } : r)) } : old));
      return { previous };
    },
    onError: (_error, _enabled, context) => {
      if (context?.previous) client.setQueryData(['rules'], context.previous);
    },
    onSuccess: (saved) => client.setQueryData(['rules', rule.id], saved),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: ['rules'] });
      void client.invalidateQueries({ queryKey: ['events'] });
    },
  });
  const match = describeMatch(rule.match);
  return (
    <tr className={rule.enabled ? undefined : 'disabled'}>
      <td className="rule-name">
        <Link to={`/rules/${encodeURIComponent(rule.id)}`}>{rule.name}</Link>
        <div className="muted mono small">{rule.id}</div>
        {rule.description && <div className="muted small rule-description">{rule.description}</div>}
      </td>
      <td className="nowrap">
        <label className="switch">
          <input
            type="checkbox"
            role="switch"
            checked={rule.enabled}
            disabled={toggle.isPending}
            aria-label={`Enabled: ${rule.name}`}
            onChange={(e) => {
              onToggle();
              toggle.mutate(e.target.checked);
            }}
          />
          <span aria-hidden="true">{toggle.isPending ? 'Saving…' : rule.enabled ? 'On' : 'Off'}</span>
        </label>
        {toggle.isError && (
          <p className="field-error" role="alert">
            Not saved: {describeError(toggle.error)}
          </p>
        )}
      </td>
      <td>
        <ul className="chips">
          {match.map((part) => (
            <li key={part} className="mono">
              {part}
            </li>
          ))}
        </ul>
      </td>
      <td>{describeTrigger(rule)}</td>
      <td className="nowrap" title={rule.silence ? undefined : describeThrottle(rule.throttleSeconds)}>
        {rule.silence || !rule.throttleSeconds ? <span className="muted">none</span> : shortDuration(rule.throttleSeconds)}
      </td>
      <td>
        {rule.channels.length > 0 ? (
          <ul className="channel-list">
            {rule.channels.map((c) => (
              <li key={c}>{CHANNEL_LABELS[c] ?? c}</li>
            ))}
          </ul>
        ) : (
          <span className="muted">none</span>
        )}
      </td>
      <td className="nowrap row-actions">
        <Link className="button secondary" to={`/rules/${encodeURIComponent(rule.id)}`} aria-label={`Edit ${rule.name}`}>
          Edit
        </Link>
        <button type="button" className="secondary danger-text" onClick={onDelete} aria-label={`Delete ${rule.name}`}>
          Delete
        </button>
      </td>
    </tr>
  );
}

// ---------------------------------------------------------------- create and edit

export function RuleEditPage() {
  const { id } = useParams();
  const isNew = id === undefined;
  const query = useQuery({
    queryKey: ['rules', id],
    queryFn: ({ signal }) => api.get<Rule>(`/v1/rules/${encodeURIComponent(id!)}`, undefined, signal),
    enabled: !isNew,
  });
  if (isNew) {
    return (
      <>
        <PageHeader title="New rule" />
        <RuleEditor isNew initial={emptyRuleForm()} />
      </>
    );
  }
  return (
    <>
      <PageHeader title={query.data ? `Rule: ${query.data.name}` : 'Rule'} />
      <QueryState query={query}>
        {(rule) => (
          <div className="rule-edit-layout">
            <RuleEditor key={rule.updatedAt ?? rule.id} isNew={false} initial={ruleToForm(rule)} rule={rule} />
            <DryRun ruleId={rule.id} />
          </div>
        )}
      </QueryState>
    </>
  );
}

/** The element id of a control, for labels, error links and focus. */
function controlId(path: ControlPath): string {
  if (path === 'channels') return 'rule-channel-email';
  return `rule-${path.replace(/\./g, '-')}`;
}

function RuleEditor({ isNew, initial, rule }: { isNew: boolean; initial: RuleForm; rule?: Rule }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const [form, setForm] = useState<RuleForm>(initial);
  // The id follows the name until someone types their own.
  const [idEdited, setIdEdited] = useState(!isNew);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [failure, setFailure] = useState<unknown>();
  const summary = useRef<HTMLDivElement>(null);
  // Each failed save (in the browser or at the API) moves focus to the summary once; typing afterwards does not.
  const [failedSaves, setFailedSaves] = useState(0);
  const reportErrors = (next: FieldError[]) => {
    setErrors(next);
    setFailedSaves((n) => n + 1);
  };

  const save = useMutation({
    mutationFn: (body: object) => (isNew ? api.post<Rule>('/v1/rules', body) : api.put<Rule>(`/v1/rules/${encodeURIComponent(initial.id)}`, body)),
    onSuccess: (saved) => {
      client.setQueryData(['rules', saved.id], saved);
      void client.invalidateQueries({ queryKey: ['rules'] });
      void client.invalidateQueries({ queryKey: ['events'] });
      navigate('/rules', { state: { flash: `Rule “${saved.name}” ${isNew ? 'created' : 'saved'}.` } satisfies ListState });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.fieldErrors.length > 0) reportErrors([...error.fieldErrors]);
      else if (error instanceof ApiError && error.status === 409) reportErrors([{ path: 'id', message: 'A rule with this id exists already: choose another id, or edit that rule.' }]);
      else setFailure(error);
    },
  });

  const shown = arrangeErrors(errors);
  useEffect(() => {
    if (failedSaves > 0) summary.current?.focus();
  }, [failedSaves]);

  /** A change clears that control's messages (the rest stay until the next save). */
  const update = (patch: Partial<RuleForm>, ...controls: ControlPath[]) => {
    setForm((current) => ({ ...current, ...patch }));
    if (controls.length === 0) return;
    setErrors((current) => {
      const kept = current.filter((e) => !controls.includes(controlForPath(e.path) as ControlPath));
      return kept.length === current.length ? current : kept;
    });
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFailure(undefined);
    const result = formToRule(form, { isNew });
    if (!result.ok) {
      reportErrors(result.errors);
      return;
    }
    setErrors([]);
    save.mutate(result.body);
  };

  const errorFor = (path: ControlPath) => shown.byControl[path];
  const describe = (path: ControlPath, hint = false) => describedBy(controlId(path), { hint, error: errorFor(path) });
  const invalid = (path: ControlPath) => (errorFor(path) ? true : undefined);
  const matchIsEmpty = !form.type.trim() && !form.category && !form.minSeverity && !form.status && !form.source.trim() && !form.recordType.trim() && !form.fields.trim();

  return (
    <form className="panel rule-form" onSubmit={submit} noValidate aria-label={isNew ? 'New rule' : 'Edit rule'}>
      {shown.summary.length > 0 && (
        <div className="callout error" role="alert" tabIndex={-1} ref={summary}>
          <strong>
            {shown.summary.length === 1 ? 'One thing to fix' : `${shown.summary.length} things to fix`} before the rule can be saved:
          </strong>
          <ul>
            {shown.summary.map((item, i) => (
              <li key={i}>
                {item.control ? (
                  <button type="button" className="link-button" onClick={() => document.getElementById(controlId(item.control!))?.focus()}>
                    {item.label}
                  </button>
                ) : (
                  <span className="mono">{item.label}</span>
                )}
                {`: ${item.message}`}
              </li>
            ))}
          </ul>
        </div>
      )}
      {failure !== undefined && (
        <div className="callout error" role="alert">
          <strong>Not saved.</strong> {describeError(failure)}
        </div>
      )}

      <fieldset>
        <legend>Rule</legend>
        <div className="form-grid">
          <Field path="name" label="Name" errors={errorFor('name')}>
            <input
              id={controlId('name')}
              value={form.name}
              maxLength={200}
              autoComplete="off"
              aria-invalid={invalid('name')}
              aria-describedby={describe('name')}
              onChange={(e) => update({ name: e.target.value, ...(idEdited ? {} : { id: suggestRuleId(e.target.value) }) }, 'name', ...(idEdited ? [] : (['id'] as ControlPath[])))}
            />
          </Field>
          {isNew ? (
            <TextField
              path="id"
              label="Id"
              mono
              value={form.id}
              errors={errorFor('id')}
              hint="Lower-case letters, digits and dashes; suggested from the name. It cannot change later."
              onChange={(id) => {
                setIdEdited(id !== '');
                update({ id }, 'id');
              }}
            />
          ) : (
            <div className="field">
              <span className="label-like">Id</span>
              <code className="readonly-value">{form.id}</code>
            </div>
          )}
          <div className="field enabled-field">
            <label className="checkbox">
              <input id={controlId('enabled')} type="checkbox" checked={form.enabled} onChange={(e) => update({ enabled: e.target.checked }, 'enabled')} />
              Enabled
            </label>
          </div>
        </div>
        <Field path="description" label="Description (optional)" errors={errorFor('description')}>
          <textarea
            id={controlId('description')}
            rows={2}
            value={form.description}
            aria-invalid={invalid('description')}
            aria-describedby={describe('description')}
            onChange={(e) => update({ description: e.target.value }, 'description')}
          />
        </Field>
      </fieldset>

      <fieldset>
        <legend>Matches events</legend>
        <p className="field-hint fieldset-hint">Every condition given must hold. {matchIsEmpty && <strong>No conditions yet: this rule would match every event.</strong>}</p>
        <div className="form-grid">
          <TextField
            path="match.type"
            label="Event type"
            mono
            value={form.type}
            placeholder="payment.charge.failed"
            errors={errorFor('match.type')}
            hint={
              <>
                <code>*</code> stands for one segment (<code>user.*.failed</code>), a final <code>*</code> for any rest (<code>payment.*</code>),{' '}
                <code>fail*</code> for a prefix.
              </>
            }
            onChange={(type) => update({ type }, 'match.type')}
          />
          <SelectField path="match.category" label="Category" value={form.category} options={CATEGORIES} errors={errorFor('match.category')} onChange={(v) => update({ category: v as RuleForm['category'] }, 'match.category')} />
          <SelectField path="match.minSeverity" label="Minimum severity" value={form.minSeverity} options={SEVERITIES} errors={errorFor('match.minSeverity')} onChange={(v) => update({ minSeverity: v as RuleForm['minSeverity'] }, 'match.minSeverity')} />
          <SelectField path="match.status" label="Status" value={form.status} options={STATUSES} errors={errorFor('match.status')} onChange={(v) => update({ status: v as RuleForm['status'] }, 'match.status')} />
          <TextField path="match.source" label="Source app" value={form.source} placeholder="checkout" errors={errorFor('match.source')} onChange={(source) => update({ source }, 'match.source')} />
          <TextField path="match.recordType" label="Record type" value={form.recordType} placeholder="invoice" errors={errorFor('match.recordType')} onChange={(recordType) => update({ recordType }, 'match.recordType')} />
        </div>
        <Field
          path="match.fields"
          label="Fields (optional, JSON)"
          errors={errorFor('match.fields')}
          hint={
            <>
              Exact values at dotted paths into the event; a list means any of. Example: <code>{'{"details.plan": ["pro", "team"], "actor.userId": "u-42"}'}</code>
            </>
          }
        >
          <textarea
            id={controlId('match.fields')}
            className="mono"
            rows={3}
            value={form.fields}
            spellCheck={false}
            placeholder={'{"details.plan": ["pro", "team"]}'}
            aria-invalid={invalid('match.fields')}
            aria-describedby={describe('match.fields', true)}
            onChange={(e) => update({ fields: e.target.value }, 'match.fields')}
          />
        </Field>
      </fieldset>

      <fieldset>
        <legend>When to notify</legend>
        <div className="kind-choices">
          {(
            [
              ['every', 'Every matching event'],
              ['threshold', 'A number of events within a window'],
              ['silence', 'Silence: no matching event for a while'],
            ] as Array<[RuleKind, string]>
          ).map(([kind, label]) => (
            <label className="checkbox" key={kind}>
              <input type="radio" name="rule-kind" value={kind} checked={form.kind === kind} onChange={() => update({ kind }, 'threshold.count', 'threshold.windowSeconds', 'threshold.groupBy', 'silence.windowSeconds', 'throttleSeconds')} />
              {label}
            </label>
          ))}
        </div>
        {form.kind === 'threshold' && (
          <div className="form-grid">
            <Field path="threshold.count" label="Count (events)" errors={errorFor('threshold.count')}>
              <input
                id={controlId('threshold.count')}
                type="number"
                inputMode="numeric"
                min={1}
                max={1000}
                step={1}
                value={form.count}
                aria-invalid={invalid('threshold.count')}
                aria-describedby={describe('threshold.count')}
                onChange={(e) => update({ count: e.target.value }, 'threshold.count')}
              />
            </Field>
            <DurationField path="threshold.windowSeconds" label="Within" value={form.window} errors={errorFor('threshold.windowSeconds')} onChange={(window) => update({ window }, 'threshold.windowSeconds')} />
            <TextField
              path="threshold.groupBy"
              label="Per (group by, optional)"
              mono
              value={form.groupBy}
              placeholder="actor.userId"
              errors={errorFor('threshold.groupBy')}
              hint="A dotted path, e.g. actor.userId: counted per user. Empty: all together."
              onChange={(groupBy) => update({ groupBy }, 'threshold.groupBy')}
            />
          </div>
        )}
        {/* A silence rule has its window; the others may have a throttle. */}
        <div className="form-grid">
          {form.kind === 'silence' ? (
            <DurationField
              key="silence"
              path="silence.windowSeconds"
              label="Silent for"
              value={form.silence}
              errors={errorFor('silence.windowSeconds')}
              hint="5 minutes to 30 days; checked every 5 minutes, after at least one matching event."
              onChange={(silence) => update({ silence }, 'silence.windowSeconds')}
            />
          ) : (
            <DurationField
              key="throttle"
              path="throttleSeconds"
              label="Throttle (optional)"
              value={form.throttle}
              errors={errorFor('throttleSeconds')}
              hint="After a notification, none for this long (per group); matches meanwhile are counted in the next."
              onChange={(throttle) => update({ throttle }, 'throttleSeconds')}
            />
          )}
        </div>
      </fieldset>

      <fieldset aria-describedby={errorFor('channels') ? `${controlId('channels')}-error` : undefined}>
        <legend>Channels</legend>
        <div className="channel-choices">
          {CHANNELS.map((channel) => (
            <label className="checkbox" key={channel}>
              <input
                id={`rule-channel-${channel}`}
                type="checkbox"
                checked={form.channels.includes(channel)}
                aria-invalid={invalid('channels')}
                onChange={(e) => update({ channels: e.target.checked ? [...form.channels, channel] : form.channels.filter((c) => c !== channel) }, 'channels')}
              />
              {CHANNEL_LABELS[channel]}
            </label>
          ))}
        </div>
        <FieldErrors id={`${controlId('channels')}-error`} errors={errorFor('channels')} />
      </fieldset>

      <div className="form-actions">
        <button type="submit" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : isNew ? 'Create rule' : 'Save changes'}
        </button>
        <Link className="button secondary" to="/rules">
          Cancel
        </Link>
        {rule?.updatedAt && (
          <span className="muted small">
            Last changed {formatDateTime(rule.updatedAt)}
            {rule.updatedBy ? ` by ${rule.updatedBy}` : ''}
          </span>
        )}
      </div>
    </form>
  );
}

function FieldErrors({ id, errors }: { id: string; errors?: string[] }) {
  if (!errors?.length) return null;
  return (
    <p className="field-error" id={id}>
      {errors.join(' ')}
    </p>
  );
}

function Field({ path, label, errors, hint, children }: { path: ControlPath; label: string; errors?: string[]; hint?: ReactNode; children: ReactNode }) {
  return (
    <FormField id={controlId(path)} label={label} hint={hint} error={errors?.length ? errors.join(' ') : undefined}>
      {children}
    </FormField>
  );
}

/** A one-line input for a name-like value (an id, an event type, a path): not spell-checked, not autocompleted. */
function TextField({
  path,
  label,
  value,
  placeholder,
  mono = false,
  errors,
  hint,
  onChange,
}: {
  path: ControlPath;
  label: string;
  value: string;
  placeholder?: string;
  mono?: boolean;
  errors?: string[];
  hint?: ReactNode;
  onChange: (value: string) => void;
}) {
  const id = controlId(path);
  return (
    <Field path={path} label={label} errors={errors} hint={hint}>
      <input
        id={id}
        className={mono ? 'mono' : undefined}
        value={value}
        placeholder={placeholder}
        autoComplete="off"
        spellCheck={false}
        aria-invalid={errors ? true : undefined}
        aria-describedby={describedBy(id, { hint, error: errors })}
        onChange={(e) => onChange(e.target.value)}
      />
    </Field>
  );
}

function SelectField({ path, label, value, options, errors, onChange }: { path: ControlPath; label: string; value: string; options: readonly string[]; errors?: string[]; onChange: (value: string) => void }) {
  const id = controlId(path);
  return (
    <Field path={path} label={label} errors={errors}>
      <select id={id} value={value} aria-invalid={errors ? true : undefined} aria-describedby={describedBy(id, { error: errors })} onChange={(e) => onChange(e.target.value)}>
        <AnyOptions values={options} />
      </select>
    </Field>
  );
}

/** A number and its unit; the unit's select is named after the number's label. */
function DurationField({ path, label, value, errors, hint, onChange }: { path: ControlPath; label: string; value: Duration; errors?: string[]; hint?: string; onChange: (value: Duration) => void }) {
  const id = controlId(path);
  return (
    <Field path={path} label={label} errors={errors} hint={hint}>
      <div className="duration">
        <input
          id={id}
          type="number"
          inputMode="numeric"
          min={0}
          step={1}
          value={value.value}
          aria-invalid={errors ? true : undefined}
          aria-describedby={describedBy(id, { hint, error: errors })}
          onChange={(e) => onChange({ ...value, value: e.target.value })}
        />
        <select aria-label={`${label}: unit`} value={value.unit} onChange={(e) => onChange({ ...value, unit: e.target.value as DurationUnit })}>
          {DURATION_UNITS.map((u) => (
            <option key={u.unit} value={u.unit}>
              {u.label}
            </option>
          ))}
        </select>
      </div>
    </Field>
  );
}

// ---------------------------------------------------------------- dry run

function DryRun({ ruleId }: { ruleId: string }) {
  const [days, setDays] = useState('7');
  const [problem, setProblem] = useState<string>();
  const id = useId();
  const test = useMutation({
    mutationFn: (n: number) => api.post<RuleTestResult>(`/v1/rules/${encodeURIComponent(ruleId)}/test`, { days: n }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseDays(days);
    if (!parsed.ok) {
      setProblem(parsed.message);
      return;
    }
    setProblem(undefined);
    test.mutate(parsed.days);
  };
  const result = test.data;
  return (
    <section className="panel dry-run" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Dry run</h2>
      <p className="muted small">Replays past events through the saved rule (not unsaved changes), from a fresh start. Nothing is sent.</p>
      <form className="dry-run-form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-days`}>Days (1–{MAX_DRY_RUN_DAYS})</label>
          <input
            id={`${id}-days`}
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_DRY_RUN_DAYS}
            step={1}
            value={days}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `${id}-days-error` : undefined}
            onChange={(e) => setDays(e.target.value)}
          />
        </div>
        <button type="submit" disabled={test.isPending}>
          {test.isPending ? 'Testing…' : 'Test against recent events'}
        </button>
      </form>
      {problem && (
        <p className="field-error" id={`${id}-days-error`}>
          {problem}
        </p>
      )}
      {test.isError && (
        <div className="callout error" role="alert">
          <strong>The test did not run.</strong> {describeError(test.error)}
        </div>
      )}
      <div aria-live="polite">
        {result && (
          <div className="dry-run-result" data-testid="dry-run-result">
            <p className="muted small">
              {formatDateTime(result.from)} – {formatDateTime(result.to)} ({result.days} {result.days === 1 ? 'day' : 'days'})
            </p>
            {result.truncated && (
              <div className="callout warning">Reading stopped after {formatCount(result.scanned)} events: the figures cover part of the period only.</div>
            )}
            <dl className="dry-run-figures">
              <Figure label="Events read" value={result.events} />
              <Figure label="Matched" value={result.matched} />
              <Figure label="Would notify" value={result.notifications} />
              <Figure label="Throttled" value={result.throttled} />
            </dl>
            {result.samples && result.samples.length > 0 && (
              <>
                <h3 className="small">
                  {result.samples.length < (result.notifications ?? 0) ? `The first ${result.samples.length} of ${formatCount(result.notifications)} notifications it would have sent` : 'Notifications it would have sent'}
                </h3>
                <ol className="dry-run-samples" aria-label="Notifications it would have sent">
                  {result.samples.map((sample) => (
                    <li key={`${sample.group}-${sample.eventId}-${sample.windowStart}`}>
                      <span title={`${formatDateTime(sample.windowStart)} – ${formatDateTime(sample.windowEnd)}`}>{formatShortTime(sample.windowEnd)}</span>
                      {sample.group !== '*' && <span className="mono"> · {sample.group}</span>}
                      {sample.count > 1 && <span> · {formatCount(sample.count)} events</span>}{' '}
                      · <Link to={`/events/${encodeURIComponent(sample.eventId)}`}>event</Link>
                    </li>
                  ))}
                </ol>
              </>
            )}
          </div>
        )}
      </div>
    </section>
  );
}

function Figure({ label, value }: { label: string; value: number | undefined }) {
  return (
    <div className="figure">
      <dt className="label">{label}</dt>
      <dd className="value">{formatCount(value)}</dd>
    </div>
  );
}

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, api, describeError } from '../api';
import { appKeyRequest, emptyAppKeyForm, fieldErrorsFromMessage, MAX_RATE_LIMIT, type AppKeyField, type AppKeyForm } from '../app-key-form';
import { ConfirmDialog } from '../components/confirm-dialog';
import { Field, describedBy } from '../components/field';
import { Flash } from '../components/flash';
import { PageHeader } from '../components/layout';
import { QueryState } from '../components/query-state';
import { formatCount, formatDateTime, formatShortTime } from '../format';
import type { AppKey, CreatedAppKey } from '../types';
import './admin.css';
import './app-keys.css';

interface AppKeyList {
  items: AppKey[];
}

/** Active keys first, then newest first. */
const keyOrder = (a: AppKey, b: AppKey) => Number(Boolean(a.revokedAt)) - Number(Boolean(b.revokedAt)) || b.createdAt.localeCompare(a.createdAt);

export function AppKeysPage() {
  const client = useQueryClient();
  const query = useQuery({
    queryKey: ['app-keys'],
    queryFn: ({ signal }) => api.get<AppKeyList>('/v1/app-keys', undefined, signal),
  });
  // The new key's secret lives in this component's state only: not in react-query's caches (a mutation's
  // result stays in its cache), not in storage; dismissing the panel (or leaving the page) drops it.
  const [created, setCreated] = useState<CreatedAppKey>();
  const [revoking, setRevoking] = useState<AppKey>();
  const [flash, setFlash] = useState<string>();
  const revoke = useMutation({
    mutationFn: (key: AppKey) => api.delete<AppKey>(`/v1/app-keys/${encodeURIComponent(key.keyId)}`),
    onSuccess: (revoked) => {
      client.setQueryData<AppKeyList>(['app-keys'], (old) => (old ? { items: old.items.map((k) => (k.keyId === revoked.keyId ? revoked : k)) } : old));
      void client.invalidateQueries({ queryKey: ['app-keys'] });
      void client.invalidateQueries({ queryKey: ['events'] }); // an admin.app_key.revoked event
      setRevoking(undefined);
      setFlash(`The key for “${revoked.app}” is revoked. Apps still using it are refused within 5 minutes.`);
    },
  });

  return (
    <>
      <PageHeader title="App keys" />
      <p className="muted page-intro">
        Each app posts events with its own key; the key’s app name is stamped as <code>source</code> on every event it posts.
      </p>
      {flash && <Flash onDismiss={() => setFlash(undefined)}>{flash}</Flash>}
      {created && <SecretPanel created={created} onDone={() => setCreated(undefined)} />}
      <CreateKeyForm
        onCreated={(result) => {
          setFlash(undefined);
          setCreated(result);
          void client.invalidateQueries({ queryKey: ['app-keys'] });
          void client.invalidateQueries({ queryKey: ['events'] });
        }}
      />
      <h2 className="section-title">Keys</h2>
      <QueryState query={query} isEmpty={(data) => data.items.length === 0} empty="No app keys yet. Create one above.">
        {(data) => (
          <div className="table-wrap">
            <table aria-label="App keys" className="app-keys-table">
              <thead>
                <tr>
                  <th scope="col">App</th>
                  <th scope="col">Key id</th>
                  <th scope="col">State</th>
                  <th scope="col">Created</th>
                  <th scope="col" className="num">
                    Rate limit
                  </th>
                  <th scope="col">Client IP</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {[...data.items].sort(keyOrder).map((key) => (
                  <tr key={key.keyId} className={key.revokedAt ? 'inactive' : undefined}>
                    <td className="nowrap">
                      <strong>{key.app}</strong>
                    </td>
                    <td className="mono">{key.keyId}</td>
                    <td className="nowrap">
                      {key.revokedAt ? (
                        <>
                          <span className="badge key-revoked">revoked</span>
                          <div className="small" title={formatDateTime(key.revokedAt)}>
                            {formatShortTime(key.revokedAt)}
                          </div>
                        </>
                      ) : (
                        <span className="badge key-active">active</span>
                      )}
                    </td>
                    <td>
                      <div className="nowrap" title={formatDateTime(key.createdAt)}>
                        {formatShortTime(key.createdAt)}
                      </div>
                      {key.createdBy && <div className="muted small">by {key.createdBy}</div>}
                    </td>
                    <td className="num">{key.rateLimit ? `${formatCount(key.rateLimit)}/s` : <span className="muted">default</span>}</td>
                    <td>{key.captureClientIp ? 'captured' : <span className="muted">no</span>}</td>
                    <td className="row-actions">
                      {!key.revokedAt && (
                        <button
                          type="button"
                          className="secondary danger-text"
                          aria-label={`Revoke the key for ${key.app} (${key.keyId})`}
                          onClick={() => {
                            revoke.reset();
                            setRevoking(key);
                          }}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
      {revoking && (
        <ConfirmDialog
          title={`Revoke the key for “${revoking.app}”?`}
          confirmLabel="Revoke key"
          pendingLabel="Revoking…"
          pending={revoke.isPending}
          error={revoke.error ?? undefined}
          onConfirm={() => revoke.mutate(revoking)}
          onCancel={() => setRevoking(undefined)}
        >
          <p>
            Key <code>{revoking.keyId}</code> of <strong>{revoking.app}</strong> stops working within 5 minutes: events posted with it are
            refused. It stays listed as revoked.
          </p>
          <p>This cannot be undone; the app needs a new key to post again.</p>
        </ConfirmDialog>
      )}
    </>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: (created: CreatedAppKey) => void }) {
  const [form, setForm] = useState<AppKeyForm>(emptyAppKeyForm);
  const [errors, setErrors] = useState<Partial<Record<AppKeyField, string>>>({});
  const [failure, setFailure] = useState<string>();
  const [pending, setPending] = useState(false);
  const appInput = useRef<HTMLInputElement>(null);

  const set = (patch: Partial<AppKeyForm>, field: AppKeyField) => {
    setForm((current) => ({ ...current, ...patch }));
    setErrors((current) => ({ ...current, [field]: undefined }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(undefined);
    const request = appKeyRequest(form);
    if (!request.ok) {
      setErrors(request.errors);
      return;
    }
    setErrors({});
    setPending(true);
    try {
      // Not a useMutation: its result (the secret) would stay in react-query's mutation cache.
      const created = await api.post<CreatedAppKey>('/v1/app-keys', request.body);
      setForm(emptyAppKeyForm());
      onCreated(created);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        // This route names each bad field in one message: put each part under its control.
        const { byField, rest } = fieldErrorsFromMessage(error.message, ['app', 'rateLimit', 'captureClientIp'] as const);
        setErrors(byField);
        if (rest.length > 0) setFailure(rest.join('; '));
        if (byField.app) appInput.current?.focus();
      } else {
        setFailure(describeError(error));
      }
    } finally {
      setPending(false);
    }
  };

  return (
    <form className="panel app-key-form" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="new-key-title">
      <h2 id="new-key-title">New app key</h2>
      {failure && (
        <div className="callout error" role="alert">
          <strong>No key was created.</strong> {failure}
        </div>
      )}
      <div className="app-key-fields">
        <Field
          id="app-key-app"
          label="App name"
          hint={
            <>
              1–63 lower-case letters, digits, <code>.</code> <code>-</code> <code>_</code>. Events from this key carry it as their source.
            </>
          }
          error={errors.app}
        >
          <input
            id="app-key-app"
            ref={appInput}
            className="mono"
            value={form.app}
            placeholder="checkout"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={errors.app ? true : undefined}
            aria-describedby={describedBy('app-key-app', { hint: true, error: errors.app })}
            onChange={(e) => set({ app: e.target.value }, 'app')}
          />
        </Field>
        <Field id="app-key-rate" label="Rate limit (events/s, optional)" hint="Empty: the deployment’s default." error={errors.rateLimit}>
          <input
            id="app-key-rate"
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_RATE_LIMIT}
            step={1}
            value={form.rateLimit}
            placeholder="default"
            aria-invalid={errors.rateLimit ? true : undefined}
            aria-describedby={describedBy('app-key-rate', { hint: true, error: errors.rateLimit })}
            onChange={(e) => set({ rateLimit: e.target.value }, 'rateLimit')}
          />
        </Field>
        <div className="field capture-field">
          <label className="checkbox">
            <input
              type="checkbox"
              checked={form.captureClientIp}
              aria-describedby="app-key-capture-hint"
              onChange={(e) => set({ captureClientIp: e.target.checked }, 'captureClientIp')}
            />
            Capture client IP
          </label>
          <span className="field-hint" id="app-key-capture-hint">
            For browser apps: the caller’s IP and user agent fill the event’s actor. Leave off for servers.
          </span>
          {errors.captureClientIp && <p className="field-error">{errors.captureClientIp}</p>}
        </div>
      </div>
      <div className="form-actions">
        <button type="submit" disabled={pending}>
          {pending ? 'Creating…' : 'Create key'}
        </button>
      </div>
    </form>
  );
}

/** The new key's secret, shown once. */
function SecretPanel({ created, onDone }: { created: CreatedAppKey; onDone: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [copy, setCopy] = useState<'copied' | 'manual'>();
  useEffect(() => heading.current?.focus(), []);

  const copyKey = async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(created.apiKey);
      setCopy('copied');
    } catch {
      // Not allowed here (an insecure origin, a denied permission): select it for Ctrl+C instead.
      input.current?.focus();
      input.current?.select();
      setCopy('manual');
    }
  };

  return (
    <section className="panel secret-panel" aria-labelledby="secret-title">
      <h2 id="secret-title" tabIndex={-1} ref={heading}>
        Key created for “{created.key.app}”
      </h2>
      <p className="secret-warning">
        <strong>Copy this key now: it will not be shown again.</strong> Only its hash is stored; if it is lost, revoke it and create another.
      </p>
      <div className="field">
        <label htmlFor="new-app-key">App key (secret)</label>
        <div className="secret-row">
          <input id="new-app-key" ref={input} className="mono" readOnly value={created.apiKey} onFocus={(e) => e.target.select()} spellCheck={false} autoComplete="off" />
          <button type="button" onClick={() => void copyKey()}>
            Copy
          </button>
        </div>
        <span className="field-hint" aria-live="polite">
          {copy === 'copied' ? 'Copied to the clipboard.' : copy === 'manual' ? 'The browser did not allow copying: the key is selected, press Ctrl+C (⌘C on a Mac).' : `Key id ${created.key.keyId}.`}
        </span>
      </div>
      <div className="form-actions">
        <button type="button" className="secondary" onClick={onDone}>
          I have stored it — hide the key
        </button>
      </div>
    </section>
  );
}

import { useState, type FormEvent } from 'react';
import type { Auth } from './auth';

/** Not signed in. Cognito: one button to the hosted sign-in. Local: how to get a token, and a field to paste it. */
export function SignIn({ auth, reason, onSignedIn }: { auth: Auth; reason?: string; onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      await auth.signIn(token);
      onSignedIn();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <main className="sign-in" id="main">
      <title>Sign in · Audit trail</title>
      <h1>Audit trail</h1>
      {reason && (
        <p className="callout warning" role="status">
          {reason}
        </p>
      )}
      {auth.mode === 'cognito' ? (
        <button type="button" onClick={() => void auth.signIn()}>
          Sign in
        </button>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <p>
            This is the local stack. Get a token with <code>npm run token -- --role admin</code> (or <code>viewer</code>) and open{' '}
            <code>{window.location.origin}/#token=&lt;token&gt;</code>, or paste it here.
          </p>
          <label htmlFor="token">Bearer token</label>
          <textarea id="token" rows={4} value={token} onChange={(e) => setToken(e.target.value)} spellCheck={false} autoComplete="off" />
          {error && (
            <p className="field-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit">Sign in</button>
        </form>
      )}
    </main>
  );
}

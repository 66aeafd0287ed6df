import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createAuth, takeTokenFromAddress } from './auth';
import { loadConfig } from './config';
import { App } from './app';
import './styles.css';

// First of all: a token in the address bar (`/#token=…`, local sign-in) leaves it before anything renders.
takeTokenFromAddress(window.location, window.history, window.sessionStorage);

const root = createRoot(document.getElementById('root')!);

loadConfig().then(
  (config) => {
    root.render(
      <StrictMode>
        <App config={config} auth={createAuth(config.auth)} />
      </StrictMode>,
    );
  },
  (error: unknown) => {
    root.render(
      <main className="sign-in" id="main">
        <h1>Audit trail</h1>
        <p className="callout error" role="alert">
          The admin site's configuration could not be read ({error instanceof Error ? error.message : String(error)}). Reload the page; if it persists, redeploy
          the stack.
        </p>
      </main>,
    );
  },
);

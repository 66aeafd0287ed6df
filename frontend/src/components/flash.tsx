import type { ReactNode } from 'react';
import './flash.css';

/** What an action did (a key revoked, a rule saved, an export requested), until it is dismissed. */
export function Flash({ children, onDismiss }: { children: ReactNode; onDismiss: () => void }) {
  return (
    <div className="callout success flash" role="status">
      <span>{children}</span>
      <button type="button" className="link-button" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

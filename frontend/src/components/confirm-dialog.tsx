import { useId, useRef, type ReactNode } from 'react';
import { describeError } from '../api';
import { ModalDialog } from './modal-dialog';
import './confirm-dialog.css';

/**
 * "Are you sure?" for an action that cannot be undone: a modal dialog (see ModalDialog: focus stays in it,
 * Escape cancels, closing returns focus to the control that opened it), opened with focus on Cancel so a stray
 * Enter does no harm. Mount it when there is something to confirm; unmount it (onCancel / after onConfirm
 * succeeds) to close.
 */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  pendingLabel = 'Working…',
  pending = false,
  error,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  pendingLabel?: string;
  pending?: boolean;
  error?: unknown;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const cancel = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  return (
    <ModalDialog className="confirm-dialog" labelledBy={titleId} initialFocus={cancel} pending={pending} onCancel={onCancel}>
      <h2 id={titleId}>{title}</h2>
      <div className="confirm-body">{children}</div>
      {error !== undefined && error !== null && (
        <div className="callout error" role="alert">
          {describeError(error)}
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" className="secondary" ref={cancel} onClick={onCancel} disabled={pending}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onConfirm} disabled={pending}>
          {pending ? pendingLabel : confirmLabel}
        </button>
      </div>
    </ModalDialog>
  );
}

import { useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, describeError } from '../api';
import { NOTE_MAX, noteProblem } from '../triage';
import { Field, describedBy } from './field';
import { ModalDialog } from './modal-dialog';
import './note-dialog.css';

/**
 * A decision with an optional note (resolve a notification; resolve, ignore or reopen an error group): a
 * modal dialog (see ModalDialog: focus stays inside, Escape cancels, closing returns focus to the control that
 * opened it or, when a resolved row left the list, to the page) that opens with focus in the note. Mount it to
 * open; unmount it to close.
 */
export function NoteDialog({
  title,
  children,
  confirmLabel,
  pendingLabel = 'Saving…',
  confirmClass,
  pending = false,
  error,
  onConfirm,
  onCancel,
}: {
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  pendingLabel?: string;
  confirmClass?: string;
  pending?: boolean;
  /** The last attempt's error: a note the API refused shows under the note, anything else above the buttons. */
  error?: unknown;
  onConfirm: (note: string) => void;
  onCancel: () => void;
}) {
  const textarea = useRef<HTMLTextAreaElement>(null);
  const [note, setNote] = useState('');
  const [tried, setTried] = useState(false);
  const id = useId();
  const noteId = `${id}-note`;

  const localProblem = noteProblem(note);
  const apiNoteError = error instanceof ApiError && (error.code === 'invalid_note' || error.fieldErrors.some((f) => f.path === 'note')) ? (error.fieldErrors.find((f) => f.path === 'note')?.message ?? error.message) : undefined;
  const noteError = (tried && localProblem) || apiNoteError;
  const otherError = error !== undefined && error !== null && !apiNoteError ? error : undefined;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (localProblem || pending) return;
    onConfirm(note.trim());
  };

  return (
    <ModalDialog className="note-dialog" labelledBy={`${id}-title`} initialFocus={textarea} pending={pending} onCancel={onCancel}>
      <form onSubmit={submit} noValidate>
        <h2 id={`${id}-title`}>{title}</h2>
        {children && <div className="note-dialog-body">{children}</div>}
        <Field id={noteId} label="Note (optional)" hint={`${note.length} / ${NOTE_MAX} characters`} error={noteError}>
          <textarea
            id={noteId}
            ref={textarea}
            name="note"
            rows={4}
            value={note}
            onChange={(e) => setNote(e.target.value)}
            aria-invalid={noteError ? true : undefined}
            aria-describedby={describedBy(noteId, { hint: true, error: noteError })}
            placeholder="What was done, or why: visible to everyone who reads this"
            disabled={pending}
          />
        </Field>
        {otherError !== undefined && (
          <div className="callout error" role="alert">
            {describeError(otherError)}
          </div>
        )}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onCancel} disabled={pending}>
            Cancel
          </button>
          <button type="submit" className={confirmClass} disabled={pending}>
            {pending ? pendingLabel : confirmLabel}
          </button>
        </div>
      </form>
    </ModalDialog>
  );
}

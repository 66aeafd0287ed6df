import { useEffect, useRef, type ReactNode, type RefObject } from 'react';

/**
 * A native modal `<dialog>`, open while it is mounted: showModal keeps focus inside and Escape cancels. It
 * opens with focus on `initialFocus`; when it closes, focus goes back to the control that opened it, or to the
 * page's main region when that control is gone (a deleted or resolved row left the list). Mount it to open;
 * unmount it to close. The confirmation and the decision-with-a-note dialogs are built on it.
 */
export function ModalDialog({
  className,
  labelledBy,
  initialFocus,
  pending = false,
  onCancel,
  children,
}: {
  className: string;
  /** The id of the dialog's title. */
  labelledBy: string;
  initialFocus: RefObject<HTMLElement | null>;
  /** A request runs: Escape does not close the dialog meanwhile. */
  pending?: boolean;
  onCancel: () => void;
  children: ReactNode;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  /** Set when the dialog closes because it is being unmounted (its own `close` event is then not news). */
  const unmounting = useRef(false);
  useEffect(() => {
    unmounting.current = false;
    const element = dialog.current;
    if (!element) return;
    // The browser's own focus return does not happen when the dialog leaves the DOM open; do it here.
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!element.open) element.showModal();
    initialFocus.current?.focus();
    return () => {
      unmounting.current = true;
      element.close();
      // After React has removed the row or re-rendered the list: back to the opener if it is still there.
      window.setTimeout(() => {
        if (opener?.isConnected && !opener.closest('[inert]')) opener.focus();
        else document.getElementById('main')?.focus();
      });
    };
  }, [initialFocus]);
  return (
    <dialog
      ref={dialog}
      className={className}
      aria-labelledby={labelledBy}
      onCancel={(e) => {
        // Escape: close through the parent, so its state and the DOM agree; not while the request runs.
        e.preventDefault();
        if (!pending) onCancel();
      }}
      onClose={() => {
        // Closed by the browser regardless (a repeated Escape may not be cancellable): open it again while a
        // request runs, or let the parent close it, so what is shown and the state never disagree.
        if (unmounting.current || !dialog.current?.isConnected) return;
        if (pending) dialog.current.showModal();
        else onCancel();
      }}
    >
      {children}
    </dialog>
  );
}

import type { ReactNode } from 'react';

/**
 * A control's `aria-describedby`: its hint and its error (`<id>-hint`, `<id>-error`, as Field renders them),
 * those that are shown.
 */
export function describedBy(id: string, { hint, error }: { hint?: unknown; error?: unknown }): string | undefined {
  return [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
}

/**
 * A labelled control with its hint and, when there is one, its error under it. The control itself is the
 * child: give it `id`, and `aria-describedby={describedBy(id, { hint, error })}`.
 */
export function Field({ id, label, hint, error, children }: { id: string; label: ReactNode; hint?: ReactNode; error?: ReactNode; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && (
        <span className="field-hint" id={`${id}-hint`}>
          {hint}
        </span>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** A select's options for an optional choice: "Any" (the empty value) first, then each value as it is. */
export function AnyOptions({ values }: { values: readonly string[] }) {
  return (
    <>
      <option value="">Any</option>
      {values.map((value) => (
        <option key={value} value={value}>
          {value}
        </option>
      ))}
    </>
  );
}

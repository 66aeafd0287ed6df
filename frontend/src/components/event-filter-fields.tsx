import { EVENT_FILTERS, type EventFilterKey, type EventFilters } from '../filters';
import { AnyOptions, Field, describedBy } from './field';

/**
 * The controls for the event filters (EVENT_FILTERS: a select with "Any", a date or a text input each), with
 * each filter's problem under its control. Used by the events screen's filter form and the export form; the
 * form around them owns the values and what a change does.
 */
export function EventFilterFields({
  idPrefix,
  values,
  problems,
  applyPicks = false,
  onChange,
}: {
  /** Control ids are `<idPrefix>-<filter key>`. */
  idPrefix: string;
  values: EventFilters;
  problems: Partial<Record<EventFilterKey, string>>;
  /** A pick from a list or a calendar is meant to apply at once (`apply` in onChange); typing waits for the form's submit. */
  applyPicks?: boolean;
  onChange: (key: EventFilterKey, value: string, apply: boolean) => void;
}) {
  return (
    <>
      {EVENT_FILTERS.map((definition) => {
        const id = `${idPrefix}-${definition.key}`;
        const problem = problems[definition.key];
        const common = {
          id,
          name: definition.key,
          value: values[definition.key] ?? '',
          'aria-invalid': problem ? true : undefined,
          'aria-describedby': describedBy(id, { error: problem }),
        } as const;
        return (
          <Field key={definition.key} id={id} label={definition.label} error={problem}>
            {definition.control === 'select' ? (
              <select {...common} onChange={(e) => onChange(definition.key, e.target.value, applyPicks)}>
                <AnyOptions values={definition.options!} />
              </select>
            ) : (
              <input
                {...common}
                type={definition.control === 'date' ? 'date' : 'text'}
                placeholder={definition.placeholder}
                onChange={(e) => onChange(definition.key, e.target.value, applyPicks && definition.control === 'date')}
                spellCheck={false}
                autoComplete="off"
              />
            )}
          </Field>
        );
      })}
    </>
  );
}

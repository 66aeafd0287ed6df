import { useState } from 'react';

export interface CursorPages {
  /** The cursor to ask for this page with; undefined on the first page. */
  cursor: string | undefined;
  /** 1 on the first page. */
  page: number;
  /** Back one page. */
  previous: () => void;
  /** On to the page that starts at `cursor` (the API's cursor of the page shown). */
  next: (cursor: string) => void;
  /** Back to the first page. */
  reset: () => void;
}

/**
 * Paging through a cursor-paged list: the API only says where the next page starts, so the cursors of the
 * pages before this one are kept; paging back pops, paging on pushes. A new `resetKey` (other filters, another
 * view) starts over at the first page.
 */
export function useCursorPages(resetKey: string): CursorPages {
  const [state, setState] = useState({ key: resetKey, cursors: [] as string[] });
  // Reset while rendering, not in an effect: the first render with new filters must not carry the old cursor
  // (the API would refuse it, since cursors are bound to their filters).
  const current = state.key === resetKey ? state : { key: resetKey, cursors: [] };
  if (current !== state) setState(current);
  const { cursors } = current;
  const setCursors = (update: (cursors: string[]) => string[]) => setState((s) => ({ key: s.key, cursors: update(s.key === resetKey ? s.cursors : []) }));
  return {
    cursor: cursors.at(-1),
    page: cursors.length + 1,
    previous: () => setCursors((c) => c.slice(0, -1)),
    next: (cursor) => setCursors((c) => [...c, cursor]),
    reset: () => setCursors(() => []),
  };
}

/** "← Newer · Page n · Older →" under a cursor-paged list; Older is off when there is no `nextCursor`. */
export function Pager({
  pages,
  nextCursor,
  loading = false,
  previousLabel = '← Newer',
  nextLabel = 'Older →',
}: {
  pages: CursorPages;
  nextCursor: string | undefined;
  /** A page is being fetched: said beside the page number. */
  loading?: boolean;
  previousLabel?: string;
  nextLabel?: string;
}) {
  return (
    <div className="pager">
      <button type="button" className="secondary" disabled={pages.page === 1} onClick={pages.previous}>
        {previousLabel}
      </button>
      <span className="muted">
        Page {pages.page}
        {loading ? ' · loading…' : ''}
      </span>
      <button type="button" className="secondary" disabled={!nextCursor} onClick={() => nextCursor && pages.next(nextCursor)}>
        {nextLabel}
      </button>
    </div>
  );
}

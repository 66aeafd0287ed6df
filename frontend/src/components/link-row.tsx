import type { ReactNode } from 'react';
import { useNavigate } from 'react-router';

/**
 * A table row that opens `to` when clicked anywhere on it, except on a link of its own (which goes where it
 * says). The keyboard uses the row's link to `to`, which the row must contain.
 */
export function LinkRow({ to, className, children }: { to: string; className?: string; children: ReactNode }) {
  const navigate = useNavigate();
  return (
    <tr
      className={className ? `clickable ${className}` : 'clickable'}
      onClick={(e) => {
        if (!(e.target as HTMLElement).closest('a')) navigate(to);
      }}
    >
      {children}
    </tr>
  );
}

import { createContext, useContext } from 'react';
import type { Auth, Session } from '../auth';

export interface SessionContextValue {
  session: Session;
  auth: Auth;
}

export const SessionContext = createContext<SessionContextValue | undefined>(undefined);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside the signed-in shell');
  return value;
}

/** Admin actions are left out for viewers (the API refuses them anyway; a button that always fails is noise). */
export function useIsAdmin(): boolean {
  return useSession().session.role === 'admin';
}

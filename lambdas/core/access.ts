import { ClientError } from './errors';
import type { UserGroup } from '../../lib/declarations/routes';

/** A signed-in person, as the Cognito authorizer (or the local stack) describes them. */
export interface Principal {
  userId: string;
  email?: string;
  groups: UserGroup[];
}

/**
 * Reads the Cognito user-pool authorizer's claims. API Gateway hands
 * `cognito:groups` over as a string (comma-separated, or `[a b]` in some
 * setups), so both forms are accepted.
 */
export function principalFromClaims(claims: Record<string, unknown> | undefined): Principal | undefined {
  if (!claims || typeof claims.sub !== 'string') return undefined;
  const raw = claims['cognito:groups'];
  const list = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.replace(/^\[|\]$/g, '').split(/[,\s]+/) : [];
  const groups = list.filter((group): group is UserGroup => group === 'admin' || group === 'viewer');
  return { userId: typeof claims.email === 'string' ? claims.email : claims.sub, ...(typeof claims.email === 'string' ? { email: claims.email } : {}), groups };
}

/** Throws 401 when nobody is signed in and 403 when they lack the role. */
export function requireRole(principal: Principal | undefined, role: UserGroup): Principal {
  if (!principal) throw new ClientError(401, 'unauthorized', 'sign in first');
  const allowed = role === 'viewer' ? principal.groups.length > 0 : principal.groups.includes('admin');
  if (!allowed) throw new ClientError(403, 'forbidden', `this needs the ${role} role`);
  return principal;
}

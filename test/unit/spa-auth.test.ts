import { SignJWT } from 'jose';
import { decodeClaims, safeReturnRoute, sessionFromToken, takeTokenFromAddress } from '../../frontend/src/auth';

const key = new TextEncoder().encode('a-test-key-of-at-least-32-bytes!!');
const token = (claims: Record<string, unknown>, expiresIn = 3600) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('s-1').setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn).sign(key);

describe('the SPA session', () => {
  it('reads who is signed in and their role from the ID token, non-ASCII e-mail included', async () => {
    const session = sessionFromToken(await token({ email: 'zoë@example.com', 'cognito:groups': ['viewer', 'admin'] }));
    expect(session).toMatchObject({ email: 'zoë@example.com', role: 'admin' });
    expect(sessionFromToken(await token({ email: 'v@example.com', 'cognito:groups': ['viewer'] }))?.role).toBe('viewer');
    expect(sessionFromToken(await token({ email: 'n@example.com' }))?.role).toBeUndefined();
  });

  it('has no session for an expired or malformed token', async () => {
    expect(sessionFromToken(await token({ email: 'a@example.com' }, -10))).toBeUndefined();
    expect(sessionFromToken('not-a-jwt')).toBeUndefined();
    expect(decodeClaims('a.!!!.c')).toBeUndefined();
  });

  it('takes a token from the address and replaces the entry, keeping the path and query', () => {
    const stored = new Map<string, string>();
    const storage = { setItem: (k: string, v: string) => stored.set(k, v) } as unknown as Storage;
    const replaced: string[] = [];
    const history = { replaceState: (_s: unknown, _t: string, url: string) => replaced.push(url) } as unknown as History;
    const location = { pathname: '/', search: '?x=1', hash: '#token=abc.def.ghi' } as Location;
    expect(takeTokenFromAddress(location, history, storage)).toBe(true);
    expect([...stored.values()]).toEqual(['abc.def.ghi']);
    expect(replaced).toEqual(['/?x=1#/']);
    expect(takeTokenFromAddress({ ...location, hash: '#/events' } as Location, history, storage)).toBe(false);
    expect(replaced).toHaveLength(1);
  });

  it('returns from sign-in only to one of its own routes', () => {
    expect(safeReturnRoute('#/events?severity=critical')).toBe('#/events?severity=critical');
    for (const bad of [undefined, 42, '', '#token=abc', '//evil.example/#/', 'https://evil.example/#/', '#/a#b', '#/a b']) expect(safeReturnRoute(bad)).toBe('#/');
  });
});

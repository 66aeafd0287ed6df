/**
 * Cursors: a round trip keeps the state; any change to a cursor, a cursor
 * of other filters, another key or garbage is a 400 invalid_cursor.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ClientError } from '../../lambdas/core/errors';
import { cursorBinding, cursorKeyFromBase64, cursorKeyFromSecret, openCursor, positionOf, sealCursor, type CursorState } from '../../lambdas/core/query-cursor';
import { planEventQuery } from '../../lambdas/core/query-plan';

const key = randomBytes(32);
const filters = { type: 'payment.charge.failed', from: '2026-11-01T00:00:00.000Z' };
const binding = cursorBinding('events', filters);
const state: CursorState = {
  v: 1,
  b: binding,
  w: ['2026-11-01T00:00:00.000Z', '2026-11-23T12:05:00.000Z'],
  g: 0,
  p: ['2026-11-20T10:00:00.000Z#01JD7X8Y9ZABCDEFGHJKMNPQRS', null, 1, null, null, null, null, '2026-11-02T00:00:00.000Z#01JD7X8Y9ZABCDEFGHJKMNPQRT'],
};

function refusal(open: () => unknown): { code: string; status: number; message: string } {
  try {
    open();
  } catch (error) {
    expect(error).toBeInstanceOf(ClientError);
    const { code, statusCode, message } = error as ClientError;
    return { code, status: statusCode, message };
  }
  throw new Error('the cursor was accepted');
}

it('round-trips the state, and is opaque URL-safe text', () => {
  const cursor = sealCursor(state, key);
  expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  expect(openCursor(cursor, key, binding)).toEqual(state);
});

it('is an HMAC-SHA256 over the payload, computed independently here', () => {
  const cursor = sealCursor(state, key);
  const [payload, mac] = cursor.split('.');
  expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toEqual(state);
  expect(mac).toBe(createHmac('sha256', key).update(`audit-trail.cursor.v1.${payload}`).digest('base64url'));
});

it('refuses a cursor with any single character changed', () => {
  const cursor = sealCursor(state, key);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < cursor.length; i++) {
    if (cursor[i] === '.') continue;
    const replacement = alphabet[(alphabet.indexOf(cursor[i]) + 1 + (i % 7)) % alphabet.length];
    const altered = cursor.slice(0, i) + replacement + cursor.slice(i + 1);
    expect(refusal(() => openCursor(altered, key, binding))).toMatchObject({ status: 400, code: 'invalid_cursor' });
  }
  // Every other character in the last positions too: the MAC's last base64url character carries spare bits.
  for (const i of [cursor.length - 1, cursor.length - 2, cursor.indexOf('.') - 1]) {
    for (const replacement of alphabet) {
      if (replacement === cursor[i]) continue;
      const altered = cursor.slice(0, i) + replacement + cursor.slice(i + 1);
      expect(refusal(() => openCursor(altered, key, binding)).code).toBe('invalid_cursor');
    }
  }
});

it('refuses a cursor whose state was changed and re-encoded without the key', () => {
  const cursor = sealCursor(state, key);
  const [, mac] = cursor.split('.');
  const forged = Buffer.from(JSON.stringify({ ...state, p: state.p.map(() => null) })).toString('base64url');
  expect(refusal(() => openCursor(`${forged}.${mac}`, key, binding))).toMatchObject({ code: 'invalid_cursor', message: expect.stringMatching(/altered or not issued/) });
});

it('refuses a cursor signed with another key', () => {
  expect(refusal(() => openCursor(sealCursor(state, randomBytes(32)), key, binding)).code).toBe('invalid_cursor');
});

it('refuses a cursor used with other filters or on another route', () => {
  const cursor = sealCursor(state, key);
  const others = [
    cursorBinding('events', { ...filters, type: 'payment.charge.succeeded' }),
    cursorBinding('events', { ...filters, userId: 'u-1' }),
    cursorBinding('events', { type: filters.type }),
    cursorBinding('trace', filters),
  ];
  for (const other of others) {
    expect(refusal(() => openCursor(cursor, key, other))).toMatchObject({ status: 400, code: 'invalid_cursor', message: expect.stringMatching(/other filters/) });
  }
  // The binding does not depend on the order filters were given in, nor on absent ones.
  expect(cursorBinding('events', { from: filters.from, type: filters.type, userId: undefined })).toBe(binding);
});

it.each([
  ['empty', ''],
  ['garbage', 'not-a-cursor'],
  ['no MAC', Buffer.from(JSON.stringify(state)).toString('base64url')],
  ['JSON', JSON.stringify(state)],
  ['too long', `${'a'.repeat(9000)}.${'b'.repeat(43)}`],
  ['three parts', 'a.b.c'],
])('refuses %s', (_name, cursor) => {
  expect(refusal(() => openCursor(cursor, key, binding))).toMatchObject({ status: 400, code: 'invalid_cursor' });
});

it('refuses a well-signed cursor whose state is malformed or does not fit the plan', () => {
  const malformed = sealCursor({ ...state, p: ['not a sort key'] } as CursorState, key);
  expect(refusal(() => openCursor(malformed, key, binding)).code).toBe('invalid_cursor');
  const plan = planEventQuery({ ...filters, from: state.w![0], to: state.w![1] });
  expect(positionOf(state, plan)).toEqual({ group: 0, partitions: state.p });
  expect(refusal(() => positionOf({ ...state, p: state.p.slice(1) }, plan)).code).toBe('invalid_cursor');
  expect(refusal(() => positionOf({ ...state, g: 3 }, plan)).code).toBe('invalid_cursor');
});

it('takes keys of at least 32 bytes only', () => {
  expect(cursorKeyFromBase64(randomBytes(32).toString('base64'))).toHaveLength(32);
  expect(() => cursorKeyFromBase64(randomBytes(16).toString('base64'))).toThrow(/at least 32 bytes/);
  expect(cursorKeyFromSecret('x'.repeat(64))).toHaveLength(64);
  expect(() => cursorKeyFromSecret('short')).toThrow(/at least 32 bytes/);
  expect(() => cursorKeyFromSecret(undefined)).toThrow();
});

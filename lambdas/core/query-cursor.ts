import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest } from './errors';
import { DONE, type MergePosition, type PartitionPosition } from './query-merge';
import type { QueryPlan } from './query-plan';

/**
 * Pagination cursors: opaque to clients, tamper-evident, and bound to the
 * query that issued them.
 *
 *     <payload>.<mac>
 *     payload = base64url(JSON { v, b, w?, g, p })
 *     mac     = base64url(HMAC-SHA256(key, "audit-trail.cursor.v1." + payload))
 *
 * `b` fingerprints the route and its filters: the MAC covers it, so a
 * cursor replayed with other filters is refused even though the filters
 * themselves are not in it. `w` is the first page's time window (so a
 * default "last 7 days" does not move while a client pages), `g` the
 * partition group and `p` each partition's position (see query-merge.ts).
 * The state holds nothing secret, only the MAC key is; a changed key (a
 * rotated secret) invalidates outstanding cursors, which is harmless:
 * clients start the query again.
 */

export interface CursorState {
  v: 1;
  /** Route and filters fingerprint. */
  b: string;
  /** The window [from, to] of the first page, for routes that have one. */
  w?: [string, string];
  g: number;
  p: PartitionPosition[];
}

/** At least this many bytes of key: HMAC-SHA256's block of security. */
export const MIN_KEY_BYTES = 32;
/** Far above any real cursor (40 partitions of ~50 characters); refuses absurd input before any work. */
const MAX_CURSOR_LENGTH = 8192;
const DOMAIN = 'audit-trail.cursor.v1.';
const TOKEN = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/;
const SORT_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[0-9A-Za-z-]{1,64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const invalidCursor = (why: string) => badRequest('invalid_cursor', `the cursor ${why}; start again without a cursor`);

/** The local stack's form: base64 of random bytes. */
export function cursorKeyFromBase64(value: string): Buffer {
  const key = Buffer.from(value.trim(), 'base64');
  if (key.length < MIN_KEY_BYTES) throw new Error(`the cursor signing key must be base64 of at least ${MIN_KEY_BYTES} bytes`);
  return key;
}

/** Secrets Manager's form: a generated string, used as it is (64 characters). */
export function cursorKeyFromSecret(value: string | Uint8Array | undefined): Buffer {
  const key = typeof value === 'string' ? Buffer.from(value, 'utf8') : value ? Buffer.from(value) : Buffer.alloc(0);
  if (key.length < MIN_KEY_BYTES) throw new Error(`the cursor signing secret must be at least ${MIN_KEY_BYTES} bytes`);
  return key;
}

/** Fingerprint of a route and its filters in canonical form (names sorted, absent ones left out). */
export function cursorBinding(route: string, filters: Readonly<Record<string, string | undefined>>): string {
  const canonical = Object.entries(filters)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify([route, canonical])).digest('base64url').slice(0, 22);
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(DOMAIN + payload).digest();
}

export function sealCursor(state: CursorState, key: Buffer): string {
  const payload = Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/** The state of a cursor this API issued for the same route and filters; a 400 `invalid_cursor` otherwise. */
export function openCursor(token: string, key: Buffer, binding: string): CursorState {
  const match = token.length <= MAX_CURSOR_LENGTH ? TOKEN.exec(token) : null;
  if (!match) throw invalidCursor('is malformed');
  const [, payload, signature] = match;
  // Compared as text: base64url's last character carries spare bits, so comparing decoded bytes would let it vary.
  const presented = Buffer.from(signature, 'utf8');
  const expected = Buffer.from(mac(key, payload).toString('base64url'), 'utf8');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw invalidCursor('was altered or not issued by this API');
  let state: unknown;
  try {
    state = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor('is malformed');
  }
  if (!isCursorState(state)) throw invalidCursor('is malformed');
  if (state.b !== binding) throw invalidCursor('belongs to a query with other filters');
  return state;
}

function isCursorState(value: unknown): value is CursorState {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const state = value as Record<string, unknown>;
  return (
    state.v === 1 &&
    typeof state.b === 'string' &&
    (state.w === undefined || (Array.isArray(state.w) && state.w.length === 2 && state.w.every((t) => typeof t === 'string' && ISO_TIME.test(t)))) &&
    Number.isInteger(state.g) &&
    (state.g as number) >= 0 &&
    Array.isArray(state.p) &&
    state.p.every((p) => p === null || p === DONE || (typeof p === 'string' && SORT_KEY.test(p)))
  );
}

/** The merge position a cursor stands for, checked against the plan it is used with. */
export function positionOf(state: CursorState, plan: QueryPlan): MergePosition {
  const group = plan.groups[state.g];
  // Only reachable if the layout changed between two pages (a deploy that changed the shard count).
  if (!group || group.length !== state.p.length) throw invalidCursor('no longer matches this query');
  return { group: state.g, partitions: state.p };
}

/**
 * The events every section sends: a realistic mix, the same for the same
 * index (so runs compare), of mostly page views with failures, logins,
 * payments with a record, API errors with stack traces and traces, and a few
 * carrying secrets the redactor removes. Types are registered ones
 * (docs/event-types.md), so each gets its catalog severity and category:
 * debug (page views), info, warning, error and the odd critical.
 */

export type DraftEvent = Record<string, unknown>;

/** Trace ids are W3C's 32 hex digits; several events share each (one request's story). */
function traceOf(n: number): string {
  return n.toString(16).padStart(32, '0');
}

export function sampleEvent(i: number, occurredAt?: string): DraftEvent {
  const user = `u-${i % 997}`;
  const at = occurredAt ? { occurredAt } : {};
  if (i % 200 === 199) {
    return { ...at, type: 'security.suspicious_activity', actor: { userId: user, ip: '198.51.100.7' }, message: 'token reuse from a new country', details: { signal: 'token_reuse' } };
  }
  switch (i % 20) {
    case 0:
    case 10:
      return {
        ...at,
        type: 'payment.charge.failed',
        actor: { userId: user },
        record: { type: 'invoice', id: `INV-${1000 + (i % 5000)}` },
        message: `Card 4111 1111 1111 1111 declined for ${user}`,
        error: { name: 'CardDeclined', code: 'card_declined', message: 'Your card was declined.' },
        details: { amount: 4999, currency: 'EUR', attempt: 1 + (i % 3) },
      };
    case 1:
    case 11:
      return {
        ...at,
        type: 'api.request.failed',
        page: '/api/checkout',
        requestId: `req-${i}`,
        traceId: traceOf(Math.floor(i / 5)),
        error: {
          name: 'TypeError',
          message: "Cannot read properties of undefined (reading 'total')",
          stack: "TypeError: Cannot read properties of undefined (reading 'total')\n    at computeTotal (/app/src/cart.ts:42:17)\n    at handler (/app/src/checkout.ts:88:5)",
        },
        details: { method: 'POST', status: 500, headers: { authorization: 'Bearer abc.def.ghi-token-value' } },
      };
    case 2:
    case 12:
      return { ...at, type: 'user.login.failed', actor: { userId: user, ip: '203.0.113.7' }, page: '/login', details: { reason: 'wrong_password', password: 'hunter2hunter2' } };
    case 3:
      return { ...at, type: 'security.access.denied', actor: { userId: user, ip: `198.51.100.${i % 250}` }, page: '/settings', record: { type: 'invoice', id: `INV-${1000 + (i % 5000)}` } };
    case 4:
      return { ...at, type: 'user.login.succeeded', actor: { userId: user, ip: '203.0.113.9' }, page: '/login', details: { method: 'password' } };
    case 5:
      return { ...at, type: 'admin.role.changed', actor: { adminId: 'admin-1' }, record: { type: 'user', id: user }, details: { from: 'viewer', to: 'editor' } };
    default:
      return {
        ...at,
        type: 'user.page.viewed',
        page: `/dashboard/${i % 40}`,
        actor: { userId: user },
        sessionId: `s-${i % 300}`,
        ...(i % 5 === 0 ? { traceId: traceOf(Math.floor(i / 5)) } : {}),
        message: 'Opened the dashboard',
        details: { referrer: 'https://example.com/landing', plan: 'pro', widgets: ['sales', 'traffic', 'alerts'] },
      };
  }
}

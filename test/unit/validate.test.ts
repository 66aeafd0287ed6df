import fc from 'fast-check';
import { createRegistry, type UnknownTypePolicy } from '../../lambdas/core/registry';
import { MAX_NESTING_DEPTH, validateEvent, type RequestContext } from '../../lambdas/core/validate';

const registry = createRegistry();
const settings: { registry: typeof registry; unknownTypes: UnknownTypePolicy } = { registry, unknownTypes: 'accept' };
const receivedAt = new Date('2026-11-23T10:00:00.000Z');
const request: RequestContext = { source: 'checkout', receivedAt };

function errorsOf(input: unknown, overrides: Partial<typeof settings> = {}, req: RequestContext = request) {
  const result = validateEvent(input, req, { ...settings, ...overrides });
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.event)}`);
  return result.errors;
}

function accepted(input: unknown, req: RequestContext = request) {
  const result = validateEvent(input, req, settings);
  if (!result.ok) throw new Error(`expected acceptance, got ${JSON.stringify(result.errors)}`);
  return result.event;
}

describe('validateEvent', () => {
  it('fills defaults from the registry and stamps server fields', () => {
    const event = accepted({ type: 'user.login.failed', actor: { userId: 'u-42' } });
    expect(event).toMatchObject({
      type: 'user.login.failed',
      category: 'security',
      severity: 'warning',
      status: 'failure',
      source: 'checkout',
      receivedAt: '2026-11-23T10:00:00.000Z',
      occurredAt: '2026-11-23T10:00:00.000Z',
      actor: { userId: 'u-42' },
    });
    expect(event.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('keeps what the client says over the registry defaults', () => {
    const event = accepted({ type: 'payment.charge.failed', severity: 'critical', occurredAt: '2026-11-23T09:59:00+01:00', record: { type: 'invoice', id: 'INV-1001' } });
    expect(event.severity).toBe('critical');
    expect(event.occurredAt).toBe('2026-11-23T08:59:00.000Z');
    expect(event.record).toEqual({ type: 'invoice', id: 'INV-1001' });
  });

  it('canonicalises client ids so a retry in another case is the same event', () => {
    expect(accepted({ type: 'user.logout', id: '01jd7x8y9zabcdefghjkmnpqrs' }).id).toBe('01JD7X8Y9ZABCDEFGHJKMNPQRS');
    expect(accepted({ type: 'user.logout', id: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11' }).id).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(errorsOf({ type: 'user.logout', id: 'not-an-id' })).toEqual([{ path: 'id', message: 'must be a ULID or a UUID' }]);
  });

  it('reports every problem with its field path', () => {
    const errors = errorsOf({ severity: 'fatal', actor: { userId: 42 }, record: { type: 'invoice' }, details: [] });
    const paths = errors.map((e) => e.path).sort();
    expect(paths).toEqual(['actor.userId', 'details', 'record.id', 'severity', 'type']);
    expect(errors.find((e) => e.path === 'severity')?.message).toMatch(/debug, info, warning, error, critical/);
    expect(errors.find((e) => e.path === 'type')?.message).toBe('is required');
  });

  it('refuses server-owned and unknown fields by name', () => {
    expect(errorsOf({ type: 'user.logout', source: 'forged', receivedAt: '2020-01-01T00:00:00Z', colour: 'red' })).toEqual([
      { path: 'source', message: expect.stringMatching(/set by the server/) },
      { path: 'receivedAt', message: expect.stringMatching(/set by the server/) },
      { path: 'colour', message: 'is not a field of an event' },
    ]);
  });

  it('rejects malformed types and times in the future beyond five minutes', () => {
    expect(errorsOf({ type: 'User Login' })[0].path).toBe('type');
    expect(errorsOf({ type: 'user.logout', occurredAt: '2026-11-23T10:05:01Z' })).toEqual([{ path: 'occurredAt', message: 'is more than 5 minutes in the future' }]);
    expect(accepted({ type: 'user.logout', occurredAt: '2026-11-23T10:04:59Z' }).occurredAt).toBe('2026-11-23T10:04:59.000Z');
    expect(errorsOf({ type: 'user.logout', occurredAt: 'yesterday' })[0].path).toBe('occurredAt');
  });

  it('applies the unknown-type policy', () => {
    expect(accepted({ type: 'payment.payout.sent' }).category).toBe('payment');
    expect(errorsOf({ type: 'widget.spun' })).toEqual([{ path: 'category', message: 'is required for the unregistered type "widget.spun"' }]);
    expect(accepted({ type: 'widget.spun', category: 'user_activity' }).severity).toBe('info');
    expect(errorsOf({ type: 'payment.payout.sent' }, { unknownTypes: 'reject' })).toEqual([{ path: 'type', message: '"payment.payout.sent" is not a registered event type' }]);
  });

  it('refuses prototype-polluting keys anywhere', () => {
    const polluted = JSON.parse('{"type":"user.logout","details":{"a":{"__proto__":{"admin":true}}},"payload":[{"constructor":{}}]}');
    expect(errorsOf(polluted).map((e) => e.path).sort()).toEqual(['details.a.__proto__', 'payload[0].constructor']);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it(`refuses nesting deeper than ${MAX_NESTING_DEPTH} levels, even very deep`, () => {
    const nest = (levels: number) => {
      let value: unknown = 'leaf';
      for (let i = 0; i < levels; i++) value = { n: value };
      return value;
    };
    // The event object is level 1, so `details` can hold 31 more levels of objects.
    expect(accepted({ type: 'user.logout', details: nest(MAX_NESTING_DEPTH - 1) }).details).toBeDefined();
    expect(errorsOf({ type: 'user.logout', details: nest(MAX_NESTING_DEPTH) })[0].message).toMatch(/deeper than 32/);
    expect(errorsOf({ type: 'user.logout', payload: nest(50_000) })[0].message).toMatch(/deeper than 32/);
  });

  it('takes ip, agent and trace from the request only where allowed and not given', () => {
    const req = { ...request, clientIp: '203.0.113.9', userAgent: 'Mozilla/5.0', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
    const event = accepted({ type: 'user.logout' }, req);
    expect(event.actor).toEqual({ ip: '203.0.113.9', userAgent: 'Mozilla/5.0' });
    expect(event).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' });
    expect(accepted({ type: 'user.logout', traceId: 'mine', actor: { ip: '2001:db8::1' } }, req)).toMatchObject({ traceId: 'mine', actor: { ip: '2001:db8::1' } });
    expect(accepted({ type: 'user.logout' }, { ...request, traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' }).traceId).toBeUndefined();
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = validateEvent(value, request, settings);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});

/**
 * Property-based fuzzing of redaction through the real ingest preparation
 * (validate → default → redact → size check, `prepareEvent`), issue 9 item 4.
 * redact.test.ts has properties of the redactor alone; these put every kind of
 * secret the README promises to redact into whole events and look at what
 * would be written.
 *
 * Cases per CI run (numRuns, see `runs` in fuzz-arbitraries.ts for
 * FUZZ_RUNS_SCALE and replaying a seed):
 *   secrets in text, keys and numbers ............ 2,500
 *   values under sensitive keys ................... 1,500
 *   configured patterns and key names ............... 400
 *   ordinary values untouched ..................... 1,200
 *   client ids kept or refused, never rewritten ..... 500
 *   idempotent, bounded, never throws ............. 1,000
 *   total ......................................... 7,100 (fuzz-ingest.test.ts adds 4,300)
 */
import fc from 'fast-check';
import { CATEGORIES, type AuditEvent } from '../../lambdas/core/event';
import { toEventItem } from '../../lambdas/core/event-keys';
import { canonicalEventId } from '../../lambdas/core/ids';
import { ingestEvents, prepareEvent, type EventStore } from '../../lambdas/core/ingest';
import { REDACTED_PREFIX, readsAsSecret } from '../../lambdas/core/redact';
import { ingestSettingsFromEnv } from '../../lambdas/core/settings';
import { validateEvent, type RequestContext } from '../../lambdas/core/validate';
import {
  FUZZ_TIMEOUT_MS,
  ORDINARY_KEYS,
  cardDigits,
  digitHeavyUlid,
  epochNumber,
  filler,
  fuzzParameters,
  hexDigest,
  hostileJson,
  isoTimestamp,
  jsonEscaped,
  keptUlid,
  ulidSpellsCard,
  leak,
  nonLuhnDigits,
  opaqueSecretValue,
  ordinaryToken,
  separator,
  sensitiveKey,
  shortNumber,
  textSecret,
  type Secret,
} from './fuzz-arbitraries';

jest.setTimeout(FUZZ_TIMEOUT_MS);

const settings = ingestSettingsFromEnv({});
const receivedAt = new Date('2026-11-23T10:00:00.000Z');
const request: RequestContext = { source: 'checkout', receivedAt };

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const TYPES = ['user.login.failed', 'user.logout', 'payment.charge.failed', 'api.request.failed', 'form.submitted', 'order.shipped', 'otel.log'];

/** Event fields that hold free text, with their length limits (validate.ts). */
const TEXT_FIELDS: Array<[string[], number]> = [
  [['message'], 8192], [['error', 'message'], 8192], [['error', 'stack'], 32768], [['error', 'name'], 256], [['error', 'code'], 128],
  [['actor', 'userId'], 256], [['actor', 'adminId'], 256], [['actor', 'userAgent'], 1024], [['record', 'id'], 256], [['record', 'type'], 128],
  [['page'], 512], [['requestId'], 128], [['sessionId'], 128], [['traceId'], 128], [['spanId'], 64], [['fingerprint'], 128],
];

type Step = string | number;
const pathKey = fc.string({ maxLength: 8 }).filter((k) => !FORBIDDEN.has(k));
/** A path inside `details` or `payload`: keys and array indexes, at most 6 deep. */
const innerPath: fc.Arbitrary<Step[]> = fc.array(fc.oneof(pathKey, fc.nat(3)), { maxLength: 6 });

/** Sets `leaf` at `path`, creating objects/arrays on the way, replacing scalars in the way. */
function put(root: Record<string, unknown>, path: Step[], leaf: unknown): void {
  let node: Record<string | number, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    const step = path[i] as Step;
    const nextIsIndex = typeof path[i + 1] === 'number';
    let child = node[step];
    if (child === null || typeof child !== 'object' || Array.isArray(child) !== nextIsIndex) {
      child = nextIsIndex ? [] : {};
      Object.defineProperty(node, step, { value: child, enumerable: true, writable: true, configurable: true });
    }
    if (Array.isArray(child)) while (child.length < (path[i + 1] as number)) child.push(null);
    node = child as Record<string | number, unknown>;
  }
  Object.defineProperty(node, path[path.length - 1] as Step, { value: leaf, enumerable: true, writable: true, configurable: true });
}

const get = (root: Record<string, unknown>, path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), root);

const baseEvent = fc.record({
  type: fc.constantFrom(...TYPES),
  category: fc.constantFrom(...CATEGORIES),
  id: fc.option(fc.oneof(keptUlid, fc.uuid()), { nil: undefined }),
});

type Placement =
  | { where: 'text'; field: number; before: string; sep: [string, string]; after: string }
  | { where: 'detailsValue' | 'payloadValue' | 'detailsKey'; path: Step[]; before: string; sep: [string, string]; after: string }
  | { where: 'number'; path: Step[] };

const placement: fc.Arbitrary<Placement> = fc.oneof(
  fc.record({ where: fc.constant('text' as const), field: fc.nat(TEXT_FIELDS.length - 1), before: filler, sep: fc.tuple(separator, separator), after: filler }),
  fc.record({ where: fc.constantFrom('detailsValue' as const, 'payloadValue' as const, 'detailsKey' as const), path: innerPath, before: filler, sep: fc.tuple(separator, separator), after: filler }),
  fc.record({ where: fc.constant('number' as const), path: innerPath }),
);

/** Writes `secret` into `event` as `where` says; a card may also go in as a JSON number, as JSON.parse would read it. */
function place(event: Record<string, unknown>, secret: Secret, where: Placement): void {
  if (where.where === 'number') {
    // A card as a JSON number, read the way the handler reads a body (17–19 digits are rounded by JSON.parse).
    const value = secret.digits ? JSON.parse(secret.digits) : secret.text;
    put(event, ['details', 'n', ...where.path], value);
    return;
  }
  const text = `${where.before}${where.sep[0]}${secret.text}${where.sep[1]}${where.after}`;
  if (where.where === 'text') {
    const [field, max] = TEXT_FIELDS[where.field] as [string[], number];
    const existing = get(event, field);
    const value = typeof existing === 'string' ? `${existing}\n${text}` : text;
    if (value.trim().length > 0 && value.length <= max) {
      put(event, field, value);
      if (field[0] === 'record') put(event, ['record', field[1] === 'id' ? 'type' : 'id'], (get(event, ['record', field[1] === 'id' ? 'type' : 'id']) as string) ?? 'invoice');
      return;
    }
    put(event, ['details', 'overflow', field.join('.')], text);
    return;
  }
  if (where.where === 'detailsKey') {
    put(event, ['details', 'k', ...where.path, text], 1);
    return;
  }
  put(event, [where.where === 'detailsValue' ? 'details' : 'payload', 'v', ...where.path], text);
}

function expectPrepared(input: unknown): AuditEvent {
  const prepared = prepareEvent(input, request, settings);
  if (!prepared.ok) throw new Error(`rejected: ${JSON.stringify(prepared.errors)}`);
  return prepared.event;
}

/** The event as it would be written: the document and every indexed attribute of the item. */
const written = (event: AuditEvent) => JSON.stringify({ event, item: { ...toEventItem(event), doc: undefined } });

function expectNoLeak(out: string, secrets: Secret[]): void {
  for (const secret of secrets) {
    const found = leak(out, secret);
    if (found !== undefined) throw new Error(`${secret.kind} survived: ${JSON.stringify(found)} (secret ${JSON.stringify(secret.text)}) in ${out}`);
  }
}

describe('no generated secret survives prepareEvent', () => {
  it('secrets of every kind in free-text fields, details/payload values and keys, and cards as JSON numbers', () => {
    fc.assert(
      fc.property(baseEvent, fc.array(fc.tuple(textSecret, placement), { minLength: 1, maxLength: 3 }), (base, placed) => {
        const event: Record<string, unknown> = { ...base };
        if (base.id === undefined) delete event.id;
        for (const [secret, where] of placed) place(event, secret, where);

        const stored = expectPrepared(event);
        expectNoLeak(written(stored), placed.map(([secret]) => secret));
        expect(stored.redaction?.count).toBeGreaterThanOrEqual(1);
        if (base.id !== undefined) expect(stored.id).toBe(canonicalEventId(base.id));
        // A second pass finds nothing: markers are final.
        expect(settings.redact(stored)).toEqual({ value: stored, count: 0, paths: [] });
      }),
      fuzzParameters(2500),
    );
  });

  it('any value under a sensitive key, in any case/separator style, at any depth of details or payload', () => {
    const secretValue = fc.oneof(
      opaqueSecretValue.map((v) => ({ value: v as unknown, significant: [v] })),
      fc.tuple(opaqueSecretValue, pathKey).map(([v, k]) => ({ value: { [k]: v } as unknown, significant: [v] })),
      opaqueSecretValue.map((v) => ({ value: [v, 1] as unknown, significant: [v] })),
      fc.integer({ min: 10_000_000, max: Number.MAX_SAFE_INTEGER }).map((n) => ({ value: n as unknown, significant: [String(n)] })),
      fc.constantFrom(true, false, 0, 7).map((v) => ({ value: v as unknown, significant: [] as string[] })),
    );
    fc.assert(
      fc.property(
        baseEvent,
        fc.array(fc.tuple(fc.constantFrom('details', 'payload'), innerPath, sensitiveKey(), secretValue), { minLength: 1, maxLength: 3 }),
        (base, placed) => {
          const event: Record<string, unknown> = { ...base };
          if (base.id === undefined) delete event.id;
          placed.forEach(([root, path, key, { value }], i) => put(event, [root, `s${i}`, ...path, key], value));

          const stored = expectPrepared(event);
          const out = written(stored);
          expectNoLeak(out, placed.map(([, , , { significant }]) => ({ kind: 'sensitive key', text: '', significant })));
          // Each value is a marker now (or inside a subtree that a sensitive name above it replaced whole).
          expect(stored.redaction?.count).toBeGreaterThanOrEqual(1);
          for (const [, , , { value }] of placed) {
            if (typeof value === 'number' || typeof value === 'boolean') expect(out).not.toMatch(new RegExp(`":${JSON.stringify(value)}[,}\\]]`));
          }
        },
      ),
      fuzzParameters(1500),
    );
  });

  it('configured patterns and extra key names (auditTrail.redactionPatterns / redactionKeys)', () => {
    const custom = ingestSettingsFromEnv({
      REDACTION_PATTERNS: JSON.stringify([{ name: 'order_ref', pattern: 'ORD-[0-9]{6}' }, { name: 'iban', pattern: '\\bDE[0-9]{20}\\b' }]),
      REDACTION_KEYS: JSON.stringify(['internal_ref', 'Mothers Maiden Name']),
    });
    const configured = fc.oneof(
      fc.integer({ min: 0, max: 999_999 }).map((n) => `ORD-${String(n).padStart(6, '0')}`),
      fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }).map((n) => `DE${n.toString().padStart(20, '0')}`),
    );
    fc.assert(
      fc.property(
        configured,
        filler,
        separator,
        fc.constantFrom('internal_ref', 'internalRef', 'INTERNAL-REF', 'mothersMaidenName', 'mothers_maiden_name'),
        opaqueSecretValue,
        (secret, text, sep, key, value) => {
          const prepared = prepareEvent({ type: 'user.logout', message: `${text}${sep}${secret}${sep}`, details: { [key]: value } }, request, custom);
          if (!prepared.ok) throw new Error(JSON.stringify(prepared.errors));
          const out = JSON.stringify(prepared.event);
          expect(out).not.toContain(secret);
          expect(out).not.toContain(jsonEscaped(value));
        },
      ),
      fuzzParameters(400),
    );
  });
});

describe('no false redaction of the ordinary', () => {
  it('ULIDs, UUIDs, ISO timestamps, epoch times, short and non-Luhn numbers, IPs, digests stay as sent', () => {
    const list = fc.array(ordinaryToken, { minLength: 1, maxLength: 8 });
    const ordinaryNumber = fc.oneof(shortNumber, epochNumber, nonLuhnDigits.map(Number).filter((n) => Number.isSafeInteger(n)));
    fc.assert(
      fc.property(
        fc.oneof(keptUlid, fc.uuid(), fc.uuid().map((u) => u.toUpperCase())),
        isoTimestamp,
        fc.oneof(fc.ipV4(), fc.ipV6()),
        hexDigest.map((h) => h.slice(0, 32)),
        list,
        fc.constantFrom(', ', ' | ', '; ', ' / ', '\n'),
        fc.dictionary(fc.oneof(fc.constantFrom(...ORDINARY_KEYS), ordinaryToken), fc.oneof(ordinaryToken, ordinaryNumber, fc.array(ordinaryNumber, { maxLength: 3 })), { maxKeys: 6 }),
        (id, occurredAt, ip, traceId, tokens, sep, details) => {
          const input = { id, type: 'api.request.failed', occurredAt, actor: { userId: tokens[0], ip }, traceId, message: tokens.join(sep), details };
          const stored = expectPrepared(input);
          expect(stored.redaction).toBeUndefined();
          expect(stored).toMatchObject({
            id: canonicalEventId(id),
            occurredAt: new Date(occurredAt).toISOString(),
            actor: { userId: (tokens[0] as string).trim() || undefined, ip },
            traceId,
            message: tokens.join(sep),
            details,
          });
        },
      ),
      fuzzParameters(1200),
    );
  });
});

describe('redaction of whole events', () => {
  it('never throws, is idempotent, keeps the id and grows the event by at most one marker per redaction', () => {
    const MAX_MARKER = REDACTED_PREFIX.length + 64 + 1 + 4; // + room for a "#n" key suffix and quotes
    const secretish = fc.oneof(textSecret.map((s) => s.text), cardDigits, filler);
    fc.assert(
      fc.property(
        baseEvent,
        fc.option(secretish, { nil: undefined }),
        fc.option(fc.dictionary(fc.oneof(pathKey, secretish, sensitiveKey()), fc.oneof(hostileJson, secretish), { maxKeys: 6 }), { nil: undefined }),
        fc.option(hostileJson, { nil: undefined }),
        (base, message, details, payload) => {
          const input = JSON.parse(JSON.stringify({ ...base, message, details, payload })) as Record<string, unknown>;
          const prepared = prepareEvent(input, request, settings);
          const validated = validateEvent(input, request, settings);
          expect(prepared.ok).toBe(validated.ok);
          if (!prepared.ok || !validated.ok) return;
          const event = prepared.event;
          if (base.id !== undefined) expect(event.id).toBe(canonicalEventId(base.id));
          expect(settings.redact(event)).toEqual({ value: event, count: 0, paths: [] });
          const { redaction, ...withoutSummary } = event;
          const before = JSON.stringify(validated.event).length;
          expect(JSON.stringify(withoutSummary).length).toBeLessThanOrEqual(before + (redaction?.count ?? 0) * MAX_MARKER);
        },
      ),
      fuzzParameters(1000),
    );
  });
});

describe('client ids', () => {
  it('come back as sent (case-normalised), or the event is refused at `id`: an id is never rewritten', () => {
    fc.assert(
      fc.property(fc.oneof(digitHeavyUlid, keptUlid, fc.uuid()), filler, (id, message) => {
        const prepared = prepareEvent({ id, type: 'user.logout', message }, request, settings);
        if (ulidSpellsCard(id)) {
          expect(prepared).toEqual({ ok: false, errors: [{ path: 'id', message: expect.any(String) }] });
        } else {
          if (!prepared.ok) throw new Error(`rejected: ${JSON.stringify(prepared.errors)}`);
          expect(prepared.event.id).toBe(canonicalEventId(id));
        }
      }),
      fuzzParameters(500),
    );
  });
});

describe('regressions found by fuzzing', () => {
  it('redacts a 17–19 digit card sent as a JSON number, which JSON.parse has rounded past its Luhn digit', () => {
    // Was stored as 6212345678901235000: 15 of the card's 19 digits.
    const input = JSON.parse('{"type":"user.logout","details":{"n":6212345678901234567,"m":4020005000000000009}}');
    expect(expectPrepared(input).details).toEqual({ n: '[REDACTED:card]', m: '[REDACTED:card]' });
  });

  it('refuses a client id that spells a card instead of storing the event under a redacted id', async () => {
    // Both ids used to become ABCD[REDACTED:card]ABCDEF: the first was stored under it, the second
    // acknowledged as its duplicate and never stored.
    const stored: string[] = [];
    const store: EventStore = { putNew: async (item) => (stored.push(item.pk), { created: true }) };
    const { results } = await ingestEvents(
      [{ id: 'ABCD4111111111111111ABCDEF', type: 'user.logout' }, { id: 'ABCD4012888888881881ABCDEF', type: 'user.logout' }, { id: '01JD7X8Y9ZABCDEFGHJKMNPQRS', type: 'user.logout' }],
      request,
      settings,
      store,
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'accepted']);
    expect(results[0]).toEqual({ index: 0, status: 'rejected', errors: [{ path: 'id', message: expect.stringContaining('card') }] });
    expect(stored).toEqual(['01JD7X8Y9ZABCDEFGHJKMNPQRS']);
  });

  it('judges ids by the built-in rules only: an operator’s extra pattern never refuses an id the client SDK drew', async () => {
    // A pattern matching inside ULIDs (about one in 20,000 here): it redacts message text, not ids.
    const withPattern = ingestSettingsFromEnv({ REDACTION_PATTERNS: JSON.stringify([{ name: 'ticket', pattern: 'C\\d{4}' }]) });
    const stored: string[] = [];
    const store: EventStore = { putNew: async (item) => (stored.push(item.pk), { created: true }) };
    const { results } = await ingestEvents([{ id: '01JD7XC1234ABCDEFGHJKMNPQR', type: 'user.logout', message: 'ticket C9876' }], request, withPattern, store);
    expect(results[0]!.status).toBe('accepted');
    expect(stored).toEqual(['01JD7XC1234ABCDEFGHJKMNPQR']);
    expect(readsAsSecret('01JD7XC1234ABCDEFGHJKMNPQR')).toBe(false);
    expect(readsAsSecret('ABCD4111111111111111ABCDEF')).toBe(true);
  });
});

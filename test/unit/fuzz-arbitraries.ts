/**
 * Generators shared by the property-based fuzz suites (fuzz-redaction,
 * fuzz-ingest). Not a test file itself. Secrets are built here from their
 * public formats (network prefixes, Luhn digit, base64url JSON, PEM armour…),
 * independently of lambdas/core/redact.ts, so a test never trusts the module
 * it checks.
 */
import fc from 'fast-check';

/**
 * Cases per property are `runs(n)`: n in CI, n × FUZZ_RUNS_SCALE for a deeper
 * local campaign (`FUZZ_RUNS_SCALE=10 npm run test:unit -- test/unit/fuzz`).
 * A failure prints fast-check's seed and shrink path; replay it with
 * `FUZZ_SEED=<seed>` (and `FUZZ_PATH=<path>` for the shrunk case).
 */
export const RUNS_SCALE = Math.max(0.01, Number(process.env.FUZZ_RUNS_SCALE ?? 1) || 1);
export const runs = (n: number) => Math.max(1, Math.round(n * RUNS_SCALE));

export function fuzzParameters(numRuns: number): fc.Parameters<unknown> {
  const seed = process.env.FUZZ_SEED;
  const path = process.env.FUZZ_PATH;
  return { numRuns: runs(numRuns), ...(seed ? { seed: Number(seed) } : {}), ...(path ? { path } : {}) };
}

/** Long enough for FUZZ_RUNS_SCALE campaigns; the CI run takes a fraction of it. */
export const FUZZ_TIMEOUT_MS = Math.max(60_000, 60_000 * RUNS_SCALE);

// ---------------------------------------------------------------------------
// Independent helpers

export function luhnCheckDigit(payload: string): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let d = payload.charCodeAt(payload.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export const passesLuhn = (digits: string) => luhnCheckDigit(digits.slice(0, -1)) === Number(digits.at(-1));

/**
 * Whether a ULID holds a run that reads as a card (13–19 digits between
 * letters, network digit 2–6, Luhn): such a client id is refused, not
 * rewritten. About 1 in 10^7 random ULIDs; fast-check's bias to zeros finds them far more often.
 */
export const ulidSpellsCard = (id: string) =>
  !id.includes('-') && (id.match(/\d+/g) ?? []).some((run) => run.length >= 13 && run.length <= 19 && run[0]! >= '2' && run[0]! <= '6' && passesLuhn(run));

/** ULIDs (any case) a client may send and get back unchanged. */
export const keptUlid = fc.oneof(fc.ulid(), fc.ulid().map((u) => u.toLowerCase())).filter((u) => !ulidSpellsCard(u));

const base64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const chars = (alphabet: string, minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;

// ---------------------------------------------------------------------------
// Secrets

/**
 * A secret as written into text, and what must not be found in the output:
 * `significant` substrings (compared JSON-escaped), and for card numbers the
 * digits, of which no 13 in a row may survive (a rounded JSON number or a
 * partly redacted run still leaks most of a card).
 */
export interface Secret {
  kind: string;
  text: string;
  significant: string[];
  digits?: string;
}

/** Issuer prefixes and lengths of the payment networks (all start 2–6, the README's "card network's 2–6 prefix"). */
const NETWORKS: Array<{ prefix: fc.Arbitrary<string>; lengths: number[] }> = [
  { prefix: fc.constant('4'), lengths: [13, 16, 19] }, // Visa
  { prefix: fc.oneof(fc.integer({ min: 51, max: 55 }), fc.integer({ min: 2221, max: 2720 })).map(String), lengths: [16] }, // Mastercard
  { prefix: fc.constantFrom('34', '37'), lengths: [15] }, // Amex
  { prefix: fc.oneof(fc.constantFrom('6011', '65'), fc.integer({ min: 644, max: 649 }).map(String)), lengths: [16, 19] }, // Discover
  { prefix: fc.integer({ min: 3528, max: 3589 }).map(String), lengths: [16, 17, 18, 19] }, // JCB
  { prefix: fc.oneof(fc.constantFrom('36', '38', '39'), fc.integer({ min: 300, max: 305 }).map(String)), lengths: [14, 16, 19] }, // Diners
  { prefix: fc.constant('62'), lengths: [16, 17, 18, 19] }, // UnionPay
  { prefix: fc.constantFrom('5018', '5020', '5038', '5893', '6304', '6759', '6761', '6762', '6763'), lengths: [13, 15, 16, 19] }, // Maestro
];

export const cardDigits: fc.Arbitrary<string> = fc
  .oneof(...NETWORKS.map(({ prefix, lengths }) => fc.tuple(prefix, fc.constantFrom(...lengths))))
  .chain(([prefix, length]) => chars(DIGITS, length - prefix.length - 1, length - prefix.length - 1).map((middle) => prefix + middle))
  .map((payload) => payload + luhnCheckDigit(payload));

/** Plain, in fours with spaces or dashes, or Amex-style 4-6-5. */
export const cardSecret: fc.Arbitrary<Secret> = fc.tuple(cardDigits, fc.constantFrom('plain', ' ', '-', 'amex')).map(([digits, format]) => {
  let text = digits;
  if (format === 'amex') text = digits.length === 15 ? `${digits.slice(0, 4)} ${digits.slice(4, 10)} ${digits.slice(10)}` : digits;
  else if (format !== 'plain') text = (digits.match(/.{1,4}/g) as string[]).join(format);
  return { kind: 'card', text, significant: [], digits };
});

/** US SSNs in the valid ranges (area 001–899 but 666, group 01–99, serial 0001–9999), dashed. */
export const ssnSecret: fc.Arbitrary<Secret> = fc
  .tuple(fc.integer({ min: 1, max: 899 }).filter((a) => a !== 666), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 }))
  .map(([a, g, s]) => `${String(a).padStart(3, '0')}-${String(g).padStart(2, '0')}-${String(s).padStart(4, '0')}`)
  .map((text) => ({ kind: 'ssn', text, significant: [text] }));

const claimValue = fc.oneof(chars(ALNUM + ' -_@.', 1, 24), fc.integer({ min: 0, max: 2 ** 40 }), fc.boolean());
export const jwtSecret: fc.Arbitrary<Secret> = fc
  .tuple(
    fc.record({ alg: fc.constantFrom('HS256', 'RS256', 'ES256', 'EdDSA', 'none'), typ: fc.constant('JWT'), kid: fc.option(chars(ALNUM, 4, 16), { nil: undefined }) }, { requiredKeys: ['alg'] }),
    fc.record({ sub: chars(ALNUM, 1, 24), iat: fc.integer({ min: 1_500_000_000, max: 1_900_000_000 }) }),
    fc.dictionary(chars(LOWER, 1, 8), claimValue, { maxKeys: 4 }),
    fc.uint8Array({ minLength: 0, maxLength: 64 }),
  )
  .map(([header, registered, claims, signature]) => {
    const payload = base64url(JSON.stringify({ ...registered, ...claims }));
    const sig = header.alg === 'none' ? '' : base64url(signature);
    return { kind: 'jwt', text: `${base64url(JSON.stringify(header))}.${payload}.${sig}`, significant: [payload, ...(sig.length >= 16 ? [sig] : [])] };
  });

export const bearerSecret: fc.Arbitrary<Secret> = fc
  .tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER'), fc.constantFrom(' ', '\t', '  '), chars(`${ALNUM}._~+/-`, 20, 60), fc.constantFrom('', '=', '=='))
  .map(([scheme, space, token, padding]) => ({ kind: 'bearer', text: `${scheme}${space}${token}${padding}`, significant: [token] }));

/** `Basic base64(user:password)`, short ones too (the token alone is then under 8 characters). */
export const basicSecret: fc.Arbitrary<Secret> = fc
  .tuple(fc.constantFrom('Basic', 'basic', 'BASIC'), fc.constantFrom(' ', '\t'), chars(`${ALNUM}._-`, 3, 12), chars(`${ALNUM}!#$%&*+,.:;<=>?@^_~-`, 3, 24))
  .map(([scheme, space, user, password]) => {
    const token = Buffer.from(`${user}:${password}`).toString('base64');
    return { kind: 'basic', text: `${scheme}${space}${token}`, significant: [token] };
  });

export const awsKeyIdSecret: fc.Arbitrary<Secret> = fc
  .tuple(fc.constantFrom('AKIA', 'ASIA', 'ABIA', 'ACCA'), chars(UPPER + DIGITS, 16, 16))
  .map(([prefix, rest]) => ({ kind: 'aws_access_key_id', text: prefix + rest, significant: [prefix + rest] }));

/** A secret access key is 40 random characters: recognisable only after its name (text) or under a sensitive key. */
export const awsSecretKeySecret: fc.Arbitrary<Secret> = fc
  .tuple(
    fc.constantFrom('aws_secret_access_key', 'AWS_SECRET_ACCESS_KEY', 'aws-secret-key', 'awsSecretAccessKey', 'SecretAccessKey', 'secret_access_key', 'aws_secret_key'),
    fc.constantFrom(['', ''], ['"', '"'], ["'", "'"], ['\\"', '\\"']),
    fc.constantFrom('=', ':', ' = ', ': '),
    chars(`${ALNUM}/+`, 40, 40),
  )
  .map(([name, [open, close], assign, secret]) => ({ kind: 'aws_secret_key', text: `${open}${name}${close}${assign}${open}${secret}${close}`, significant: [secret] }));

export const pemSecret: fc.Arbitrary<Secret> = fc
  .tuple(
    fc.constantFrom('', 'RSA ', 'EC ', 'DSA ', 'OPENSSH ', 'ENCRYPTED '),
    fc.array(fc.uint8Array({ minLength: 12, maxLength: 48 }), { minLength: 1, maxLength: 6 }),
    fc.constantFrom('\n', '\r\n', '\\n'),
    fc.boolean(),
  )
  .map(([label, blocks, newline, truncated]) => {
    const lines = blocks.map((b) => Buffer.from(b).toString('base64'));
    const end = truncated ? '' : `${newline}-----END ${label}PRIVATE KEY-----`;
    return { kind: 'private_key', text: `-----BEGIN ${label}PRIVATE KEY-----${newline}${lines.join(newline)}${end}`, significant: lines };
  });

/** Sensitive names as README "Redaction" lists them, as words to join in any case/separator style. */
export const SENSITIVE_NAMES: string[][] = [
  ['password'], ['passwd'], ['pwd'], ['passphrase'], ['pass'], ['new', 'password'], ['db', 'password'], ['secret'], ['client', 'secret'],
  ['token'], ['access', 'token'], ['refresh', 'token'], ['id', 'token'], ['session', 'token'], ['api', 'key'], ['stripe', 'api', 'key'],
  ['x', 'api', 'key'], ['access', 'key'], ['secret', 'key'], ['private', 'key'], ['secret', 'access', 'key'], ['authorization'], ['auth'],
  ['proxy', 'authorization'], ['cookie'], ['cookies'], ['set', 'cookie'], ['session'], ['session', 'id'], ['credential'], ['credentials'],
  ['aws', 'credentials'], ['ssn'], ['social', 'security', 'number'], ['card', 'number'], ['cc', 'number'], ['credit', 'card', 'number'],
  ['pan'], ['cvv'], ['cvv2'], ['cvc'], ['pin'],
];

const capital = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
type KeyStyle = 'camel' | 'pascal' | 'snake' | 'kebab' | 'upper' | 'space' | 'dot' | 'flat' | 'random';
function styleKey(words: string[], style: KeyStyle, flips: boolean[]): string {
  switch (style) {
    case 'camel': return words.map((w, i) => (i === 0 ? w : capital(w))).join('');
    case 'pascal': return words.map(capital).join('');
    case 'snake': return words.join('_');
    case 'kebab': return words.join('-');
    case 'upper': return words.join('_').toUpperCase();
    case 'space': return words.join(' ');
    case 'dot': return words.join('.');
    case 'flat': return words.join('');
    case 'random': return [...words.join('_')].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c)).join('');
  }
}

/** A sensitive key in any case and separator style (README: "by normalised name and suffix"). */
export const sensitiveKey = (styles: KeyStyle[] = ['camel', 'pascal', 'snake', 'kebab', 'upper', 'space', 'dot', 'flat', 'random']) =>
  fc.tuple(fc.constantFrom(...SENSITIVE_NAMES), fc.constantFrom(...styles), fc.array(fc.boolean(), { minLength: 1, maxLength: 8 })).map(([words, style, flips]) => styleKey(words, style, flips));

/** A value that only its key makes secret: unique enough never to appear by chance elsewhere in an event. */
export const opaqueSecretValue = chars(`${ALNUM}!#$%*+,./?@^_\`|~-`, 12, 40);

/** `password=…`-style pairs in free text: unquoted, quoted (spaces allowed) or JSON-ish. */
export const keyValueSecret: fc.Arbitrary<Secret> = fc
  .tuple(
    sensitiveKey(['camel', 'pascal', 'snake', 'kebab', 'upper', 'flat', 'random']),
    fc.constantFrom('=', ': ', ':', ' = ', '\t:\t'),
    fc.constantFrom('unquoted', '"', "'", 'json'),
    opaqueSecretValue,
    chars(`${ALNUM} `, 0, 8),
  )
  .map(([key, assign, quoting, value, spaced]) => {
    if (quoting === 'unquoted') return { kind: 'key_value', text: `${key}${assign}${value}`, significant: [value] };
    const quoted = spaced.trim() ? `${value} ${spaced}` : value;
    if (quoting === 'json') return { kind: 'key_value', text: `"${key}":"${quoted}"`, significant: [value] };
    return { kind: 'key_value', text: `${key}${assign}${quoting}${quoted}${quoting}`, significant: [value] };
  });

const host = fc.tuple(chars(LOWER + DIGITS, 1, 12), fc.constantFrom('.com', '.io', '.internal', '.example.org', ':5432', '')).map(([h, tld]) => h + tld);

/** URL query tokens (`?access_token=…`) and userinfo passwords (`scheme://user:password@host`). */
export const urlSecret: fc.Arbitrary<Secret> = fc.oneof(
  fc
    .tuple(fc.constantFrom('https', 'http', 'wss'), host, chars(`${LOWER}/`, 0, 12), sensitiveKey(['snake', 'camel', 'kebab', 'flat']), opaqueSecretValue.map((v) => v.replace(/[&#?]/g, '')), fc.boolean())
    .filter(([, , , , value]) => value.length >= 8)
    .map(([scheme, h, path, key, value, more]) => ({ kind: 'url_query', text: `${scheme}://${h}/${path}?${key}=${value}${more ? '&page=2' : ''}`, significant: [value] })),
  fc
    .tuple(fc.constantFrom('https', 'postgres', 'postgresql', 'redis', 'mongodb+srv', 'amqp', 'ftp'), chars(`${LOWER}${DIGITS}._-`, 0, 12), chars(`${ALNUM}!$%*+,;=._~-`, 8, 32), host, chars(`${LOWER}/`, 0, 12))
    .map(([scheme, user, password, h, path]) => ({ kind: 'url_userinfo', text: `${scheme}://${user}:${password}@${h}/${path}`, significant: [password] })),
);

/** Every kind of secret the README promises to redact in free text. */
export const textSecret: fc.Arbitrary<Secret> = fc.oneof(
  cardSecret,
  ssnSecret,
  jwtSecret,
  bearerSecret,
  basicSecret,
  awsKeyIdSecret,
  awsSecretKeySecret,
  pemSecret,
  keyValueSecret,
  urlSecret,
);

/**
 * What may stand right next to a secret: each separator has a character that
 * ends any token (no digit, dash, dot, letter or `/`), so the secret is a
 * secret of its own and not, say, the tail of a longer digit run or the
 * fraction of a decimal.
 */
export const separator = fc.constantFrom(' ', '\n', '\t', ', ', ' (', ') ', '; ', ' | ', ' "', '" ', ' <', '> ', '\r\n');

const LONE_SURROGATES = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF'];
/** Any text: unicode, ASCII punctuation, JSON-ish fragments, NUL, lone surrogates. */
export const filler = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
      { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
      { weight: 1, arbitrary: fc.constantFrom(...LONE_SURROGATES, '\u0000', '{"a":', '}', '[', '\\', '\\"', 'user=', 'id: 42', 'at Foo.bar (x.js:1:2)\n', 'é', '🙂') },
    ),
    { maxLength: 4 },
  )
  .map((parts) => parts.join(''));

export const jsonEscaped = (s: string) => JSON.stringify(s).slice(1, -1);

/** The first significant piece of `secret` found in `out`, if any. */
export function leak(out: string, secret: Secret): string | undefined {
  for (const s of secret.significant) if (out.includes(jsonEscaped(s))) return s;
  if (secret.digits) {
    // Separators between digits removed, as a reader would.
    const flat = out.replace(/(?<=\d)[ -](?=\d)/g, '');
    for (let i = 0; i + 13 <= secret.digits.length; i++) {
      const window = secret.digits.slice(i, i + 13);
      if (flat.includes(window)) return window;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Ordinary values that must stay

export const ORDINARY_WORDS = ['order', 'shipped', 'user', 'signed', 'in', 'from', 'checkout', 'page', 'view', 'retry', 'after', 'invoice', 'paid', 'total', 'cart', 'failed', 'profile', 'updated', 'ok', 'the'];
/** Keys the code documents as not sensitive (they do not end in a sensitive name). */
export const ORDINARY_KEYS = ['orderId', 'userId', 'count', 'max_tokens', 'tokenCount', 'tokens', 'token_type', 'author', 'authority', 'keyboard', 'publicKey', 'keyId', 'passenger', 'company', 'sessions', 'cardBrand', 'last4', 'amount', 'createdAt', 'traceId'];

/** Contiguous 13–19 digits failing Luhn: README, "a number failing Luhn … is not a card". */
export const nonLuhnDigits = fc
  .tuple(fc.integer({ min: 1, max: 9 }), chars(DIGITS, 12, 18))
  .map(([first, rest]) => `${first}${rest}`)
  .map((d) => (passesLuhn(d) ? d.slice(0, -1) + ((Number(d.at(-1)) + 1) % 10) : d));

/** Epoch seconds, milliseconds and microseconds of 2001–2033 (they start with 1). */
export const epochNumber = fc.oneof(
  fc.integer({ min: 1_000_000_000, max: 1_999_999_999 }),
  fc.integer({ min: 1_000_000_000_000, max: 1_999_999_999_999 }),
  fc.integer({ min: 1_000_000_000_000_000, max: 1_999_999_999_999_999 }),
);

export const isoTimestamp = fc
  .tuple(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2026-11-23T09:00:00Z'), noInvalidDate: true }), fc.constantFrom('Z', 'ms', '+02:00', '-05:30'))
  .map(([date, form]) => {
    const iso = date.toISOString();
    if (form === 'Z') return iso;
    if (form === 'ms') return iso.replace(/\.\d{3}Z$/, 'Z');
    const offsetMinutes = (form.startsWith('+') ? 1 : -1) * (Number(form.slice(1, 3)) * 60 + Number(form.slice(4)));
    return new Date(date.getTime() + offsetMinutes * 60_000).toISOString().replace('Z', form);
  });

export const hexDigest = fc.tuple(chars('0123456789abcdef', 64, 64), fc.constantFrom(...'abcdef')).map(([hex, letter]) => letter + hex.slice(1));
export const shortNumber = fc.integer({ min: -999_999_999_999, max: 999_999_999_999 });

export const ordinaryToken: fc.Arbitrary<string> = fc.oneof(
  keptUlid,
  fc.uuid(),
  isoTimestamp,
  epochNumber.map(String),
  shortNumber.map(String),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((n) => n.toFixed(2)),
  nonLuhnDigits,
  hexDigest,
  fc.ipV4(),
  fc.ipV6(),
  fc.tuple(fc.nat(20), fc.nat(20), fc.nat(99)).map(([a, b, c]) => `v${a}.${b}.${c}`),
  fc.constantFrom(...ORDINARY_WORDS),
);

// ---------------------------------------------------------------------------
// Hostile JSON

/** Keys that probe the validator: prototype names, event field names, empty, odd unicode. */
export const hostileKey = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'type', 'id', 'events', 'source', 'receivedAt', 'details', '', ' ', '\u0000', '\uD800', 'a.b', '[0]') },
);

export const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom(...LONE_SURROGATES, '\u0000', '', ' ', 'user.login', 'payment', 'error', '2026-11-23T10:00:00Z', '01JD7X8Y9ZABCDEFGHJKMNPQRS', '[REDACTED:card]', '[REDACTED:') },
  { weight: 1, arbitrary: textSecret.map((s) => s.text) },
);

/** JSON as `JSON.parse` returns it: `__proto__` is an own property, never the prototype. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 2 ** 53, 4111111111111111, 1e21, -1e-7)),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 5 }).map(ownObject),
  ),
})).value;

export function ownObject(entries: Array<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** `depth` levels of objects and arrays around `leaf`. */
export const deeplyNested = (leaf: unknown, depth: number, arrays: boolean[]): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = arrays[i % arrays.length] ? [value] : { a: value };
  return value;
};

/** ULIDs mostly of digits, sometimes with a card inside: the ids most likely to trip the card rule. */
export const digitHeavyUlid = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789012345678901234567890123456789ABCDEFGHJKMNPQRSTVWXYZ'), minLength: 26, maxLength: 26 }),
  fc.tuple(cardDigits, fc.string({ unit: fc.constantFrom(...'ABCDEFGHJKMNPQRSTVWXYZ'), minLength: 7, maxLength: 13 }), fc.nat(13)).map(([card, letters, at]) => {
    const pad = (letters + letters + letters).slice(0, 26 - card.length);
    const split = Math.min(at, pad.length);
    return pad.slice(0, split) + card + pad.slice(split);
  }),
);

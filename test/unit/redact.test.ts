import fc from 'fast-check';
import { createRedactor, luhnValid, redactSecrets, REDACTED_PREFIX } from '../../lambdas/core/redact';

// ---------------------------------------------------------------------------
// Fixtures and helpers (independent of the module under test)

const CARD = '4111111111111111'; // Visa test number, Luhn-valid
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** Luhn check digit for a payload, written here so the property tests do not trust the module's own check. */
function checkDigit(payload: number[]): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let d = payload[payload.length - 1 - i] as number;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

const text = (input: string) => redactSecrets(input);

// ---------------------------------------------------------------------------

describe('luhnValid', () => {
  it.each([
    ['4111111111111111', true],
    ['4111111111111112', false],
    ['378282246310005', true],
    ['4111 1111 1111 1111', true],
    ['79927398713', true],
    ['79927398710', false],
    ['', false],
    ['abcd', false],
  ])('%s → %s', (digits, expected) => {
    expect(luhnValid(digits)).toBe(expected);
  });
});

describe('redactSecrets: free text', () => {
  it.each([
    // cards
    ['spaced Visa', 'paid with 4111 1111 1111 1111 today', 'paid with [REDACTED:card] today'],
    ['dashed Visa', 'card 4111-1111-1111-1111.', 'card [REDACTED:card].'],
    ['plain Visa glued to letters', `ref${CARD}x`, 'ref[REDACTED:card]x'],
    ['Amex 15 digits', 'amex 378282246310005', 'amex [REDACTED:card]'],
    ['Amex 4-6-5', 'amex 3782 822463 10005', 'amex [REDACTED:card]'],
    ['Visa 13 digits', 'old visa 4222222222222', 'old visa [REDACTED:card]'],
    ['Mastercard 16 digits', 'mc=5555555555554444', 'mc=[REDACTED:card]'],
    ['card after a stray number', 'qty 12 4111 1111 1111 1111', 'qty 12 [REDACTED:card]'],
    // SSN
    ['valid SSN', 'ssn 123-45-6789 on file', 'ssn [REDACTED:ssn] on file'],
    // JWT
    ['JWT in text', `got ${JWT} from idp`, 'got [REDACTED:jwt] from idp'],
    ['JWT with empty signature', 'unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. end', 'unsigned [REDACTED:jwt] end'],
    // bearer / basic
    ['bearer header', 'Authorization: Bearer abc123def456ghi', 'Authorization: Bearer [REDACTED:bearer]'],
    ['bearer lower case', 'sent bearer Zm9vYmFyYmF6cXV4', 'sent bearer [REDACTED:bearer]'],
    ['bearer JWT', `Bearer ${JWT}`, 'Bearer [REDACTED:bearer]'],
    ['basic credentials', 'header Basic dXNlcjpwYXNzd29yZA==', 'header Basic [REDACTED:basic]'],
    // AWS
    ['AWS access key id', 'key AKIAIOSFODNN7EXAMPLE leaked', 'key [REDACTED:aws_access_key_id] leaked'],
    ['AWS temporary key id', 'ASIAY34FZKBOKMUTVV7A,', '[REDACTED:aws_access_key_id],'],
    ['AWS secret key =', `aws_secret_access_key = ${AWS_SECRET}`, 'aws_secret_access_key = [REDACTED:aws_secret_key]'],
    ['AWS secret key JSON', `{"SecretAccessKey":"${AWS_SECRET}"}`, '{"SecretAccessKey":"[REDACTED:aws_secret_key]"}'],
    ['AWS secret key quoted colon', `AWS_SECRET_KEY: '${AWS_SECRET}'`, "AWS_SECRET_KEY: '[REDACTED:aws_secret_key]'"],
    // PEM
    ['RSA private key', 'k=-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY----- done', 'k=[REDACTED:private_key] done'],
    ['EC private key', '-----BEGIN EC PRIVATE KEY-----\nMHcCAQ\n-----END EC PRIVATE KEY-----', '[REDACTED:private_key]'],
    ['OpenSSH private key', 'x -----BEGIN OPENSSH PRIVATE KEY-----\\nb3Blbn\\n-----END OPENSSH PRIVATE KEY-----', 'x [REDACTED:private_key]'],
    ['encrypted PKCS8 key', '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFH\n-----END ENCRYPTED PRIVATE KEY-----\n', '[REDACTED:private_key]\n'],
    ['truncated private key', 'dump -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg', 'dump [REDACTED:private_key]'],
    // key=value in free text
    ['password=', 'login failed for bob password=hunter2', 'login failed for bob password=[REDACTED:password]'],
    ['pwd: with spaces', 'retry with pwd : s3cr3t! later', 'retry with pwd : [REDACTED:password] later'],
    ['embedded JSON', '{"token":"abc def","user":"bob"}', '{"token":"[REDACTED:token]","user":"bob"}'],
    ['escaped embedded JSON', '{\\"client_secret\\":\\"abc\\"}', '{\\"client_secret\\":\\"[REDACTED:secret]\\"}'],
    ['cookie header', 'Cookie: sid=abc123; theme=dark', 'Cookie: [REDACTED:cookie]'],
    ['set-cookie header', 'Set-Cookie: sid=abc; HttpOnly\nVary: x', 'Set-Cookie: [REDACTED:cookie]\nVary: x'],
    ['x-api-key header', 'x-api-key: k_live_123', 'x-api-key: [REDACTED:api_key]'],
    ['authorization with unknown scheme', 'Authorization: Token ghp_abc', 'Authorization: Token [REDACTED:authorization]'],
    ['URL token param', 'GET /cb?code=1&access_token=abc.def&state=xyz', 'GET /cb?code=1&access_token=[REDACTED:token]&state=xyz'],
    ['URL userinfo', 'db at postgres://app:p4ss@db.internal:5432/main', 'db at postgres://app:[REDACTED:password]@db.internal:5432/main'],
    ['URL userinfo with @ in password', 'https://u:p@ss@host/x', 'https://u:[REDACTED:password]@host/x'],
  ])('%s', (_name, input, expected) => {
    const result = text(input);
    expect(result.value).toBe(expected);
    expect(result.count).toBe(1);
    expect(result.paths).toEqual(['']);
  });

  it.each([
    ['Luhn-invalid card', '4111 1111 1111 1112'],
    ['Luhn-invalid order number', 'order 1234 5678 9012 3456'],
    ['SSN area 000', '000-12-3456'],
    ['SSN area 666', '666-12-3456'],
    ['SSN area 9xx', '912-12-3456'],
    ['SSN group 00', '123-00-6789'],
    ['SSN serial 0000', '123-45-0000'],
    ['SSN inside a longer run', '1123-45-67890'],
    ['SSN shape continuing with a dash', '123-45-6789-1'],
    ['AKIA too long', 'AKIAIOSFODNN7EXAMPLEX'],
    ['AKIA glued to a word', 'xAKIAIOSFODNN7EXAMPLE'],
    ['AWS secret key name without a value', 'aws_secret_key is rotated'],
    ['certificate', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'],
  ])('keeps %s', (_name, input) => {
    expect(text(input)).toEqual({ value: input, count: 0, paths: [] });
  });

  it('counts every occurrence but lists the path once', () => {
    const result = redactSecrets({ message: `two cards ${CARD} and 5555 5555 5555 4444, ssn 123-45-6789` });
    expect(result.value).toEqual({ message: 'two cards [REDACTED:card] and [REDACTED:card], ssn [REDACTED:ssn]' });
    expect(result.count).toBe(3);
    expect(result.paths).toEqual(['message']);
  });

  it('redacts a 41-char value after an AWS secret key name as a key=value secret', () => {
    // Not an AWS secret by shape, but the key name still marks it.
    expect(text(`aws_secret_access_key=${AWS_SECRET}A`).value).toBe('aws_secret_access_key=[REDACTED:secret_key]');
  });
});

describe('redactSecrets: sensitive keys', () => {
  it.each([
    ['password', 'password'],
    ['Password', 'password'],
    ['passwd', 'password'],
    ['pwd', 'password'],
    ['passphrase', 'password'],
    ['pass', 'password'],
    ['new_password', 'password'],
    ['secret', 'secret'],
    ['clientSecret', 'secret'],
    ['client_secret', 'secret'],
    ['token', 'token'],
    ['accessToken', 'token'],
    ['refresh_token', 'token'],
    ['id_token', 'token'],
    ['sessionToken', 'token'],
    ['apikey', 'api_key'],
    ['apiKey', 'api_key'],
    ['api_key', 'api_key'],
    ['x-api-key', 'api_key'],
    ['X-Api-Key', 'api_key'],
    ['stripeApiKey', 'api_key'],
    ['accessKey', 'access_key'],
    ['secretKey', 'secret_key'],
    ['secret_access_key', 'secret_key'],
    ['privateKey', 'private_key'],
    ['private-key', 'private_key'],
    ['authorization', 'authorization'],
    ['Authorization', 'authorization'],
    ['auth', 'authorization'],
    ['cookie', 'cookie'],
    ['Set-Cookie', 'cookie'],
    ['session', 'session'],
    ['sessionId', 'session'],
    ['session_id', 'session'],
    ['credential', 'credential'],
    ['credentials', 'credential'],
    ['ssn', 'ssn'],
    ['social_security_number', 'ssn'],
    ['cardNumber', 'card'],
    ['card_number', 'card'],
    ['ccNumber', 'card'],
    ['pan', 'card'],
    ['cvv', 'cvv'],
    ['CVC', 'cvv'],
    ['pin', 'pin'],
  ])('%s → [REDACTED:%s]', (key, kind) => {
    const result = redactSecrets({ details: { [key]: 'plain' } });
    expect(result.value).toEqual({ details: { [key]: `[REDACTED:${kind}]` } });
    expect(result.count).toBe(1);
    expect(result.paths).toEqual([`details.${key}`]);
  });

  it.each(['max_tokens', 'tokenCount', 'tokens', 'token_type', 'passenger', 'bypass', 'spin', 'pinned', 'company', 'author', 'authority', 'sessions', 'cardBrand', 'last4', 'keyboard', 'secretary', 'publicKey', 'keyId'])(
    'leaves %s alone',
    (key) => {
      const input = { [key]: 'plain value 42' };
      expect(redactSecrets(input)).toEqual({ value: input, count: 0, paths: [] });
    },
  );

  it.each([
    ['a number', 1234],
    ['an object', { hash: 'abc', algo: 'bcrypt' }],
    ['an array', ['a', 'b']],
    ['a boolean', true],
    ['a Luhn-invalid long number', 4111111111111112],
  ])('replaces %s under a sensitive key with the marker string', (_name, value) => {
    const result = redactSecrets({ user: { password: value } });
    expect(result.value).toEqual({ user: { password: '[REDACTED:password]' } });
    expect(result.count).toBe(1);
    expect(result.paths).toEqual(['user.password']);
  });

  it('keeps null and empty string under a sensitive key, uncounted', () => {
    const input = { password: null, token: '', items: [{ secret: null }] };
    expect(redactSecrets(input)).toEqual({ value: input, count: 0, paths: [] });
  });

  it('redacts sensitive keys inside arrays of objects', () => {
    const result = redactSecrets({ users: [{ name: 'a' }, { name: 'b', apiKey: 'k1' }] });
    expect(result.value).toEqual({ users: [{ name: 'a' }, { name: 'b', apiKey: '[REDACTED:api_key]' }] });
    expect(result.paths).toEqual(['users[1].apiKey']);
  });

  it('honours extraKeys, normalised like the built-ins, in keys and in text', () => {
    const redact = createRedactor({ extraKeys: ['otp', 'Recovery-Code'] });
    const result = redact({ otp: 123456, recovery_code: 'x', note: 'RecoveryCode=abc', other: 'otp' });
    expect(result.value).toEqual({ otp: '[REDACTED:otp]', recovery_code: '[REDACTED:recoverycode]', note: 'RecoveryCode=[REDACTED:recoverycode]', other: 'otp' });
    expect(result.count).toBe(3);
  });
});

describe('redactSecrets: exemptPaths', () => {
  it('does not key-redact an exempt path, but still scans its text', () => {
    const redact = createRedactor({ exemptPaths: ['sessionId'] });
    expect(redact({ sessionId: 'sess_01HZX3' })).toEqual({ value: { sessionId: 'sess_01HZX3' }, count: 0, paths: [] });
    expect(redact({ sessionId: `s ${CARD}` })).toEqual({ value: { sessionId: 's [REDACTED:card]' }, count: 1, paths: ['sessionId'] });
  });

  it('exempts the exact path only', () => {
    const redact = createRedactor({ exemptPaths: ['sessionId'] });
    expect(redact({ actor: { sessionId: 'x' } }).value).toEqual({ actor: { sessionId: '[REDACTED:session]' } });
    expect(redactSecrets({ sessionId: 'x' }).value).toEqual({ sessionId: '[REDACTED:session]' });
  });
});

describe('redactSecrets: JSON numbers', () => {
  it.each([
    [4111111111111111, '[REDACTED:card]'],
    [378282246310005, '[REDACTED:card]'],
    [4111111111111112, 4111111111111112],
    [123456789012, 123456789012],
    [1999.99, 1999.99],
    [0, 0],
    // Luhn-valid, but no payment network issues numbers starting 1 or 9: an epoch-ms timestamp, an internal id.
    [1763900000003, 1763900000003],
    [9100000000000000, 9100000000000000],
  ])('%p → %p', (input, expected) => {
    const result = redactSecrets({ details: { n: input } });
    expect(result.value).toEqual({ details: { n: expected } });
    expect(result.count).toBe(expected === input ? 0 : 1);
  });
});

describe('redactSecrets: keys holding secrets', () => {
  it('redacts the secret part of a key and keeps colliding keys apart', () => {
    const result = redactSecrets({ [`visa ${CARD}`]: 1, 'visa 5555555555554444': 2, plain: 3 });
    expect(result.value).toEqual({ 'visa [REDACTED:card]': 1, 'visa [REDACTED:card]#2': 2, plain: 3 });
    expect(Object.keys(result.value)).toEqual(['visa [REDACTED:card]', 'visa [REDACTED:card]#2', 'plain']);
    expect(result.count).toBe(2);
    expect(result.paths).toEqual(['visa [REDACTED:card]', 'visa [REDACTED:card]#2']);
  });

  it('judges key sensitivity on the redacted key, markers ignored, so a second pass agrees', () => {
    // `pan 4111…` redacts to `pan [REDACTED:card]`, which is the key `pan`.
    expect(redactSecrets({ [`pan ${CARD}`]: 1 }).value).toEqual({ 'pan [REDACTED:card]': '[REDACTED:card]' });
    const result = redactSecrets({ 'password=hunter2': true });
    expect(result.value).toEqual({ 'password=[REDACTED:password]': '[REDACTED:password]' });
    expect(result.count).toBe(2);
    expect(result.paths).toEqual(['password=[REDACTED:password]']);
    expect(redactSecrets(result.value)).toEqual({ value: result.value, count: 0, paths: [] });
  });

  it('keeps a "__proto__" key as an own property and scans under it', () => {
    const input = JSON.parse(`{"__proto__": {"note": "${CARD}"}, "a": 1}`) as Record<string, unknown>;
    const result = redactSecrets(input);
    expect(Object.keys(result.value)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(result.value)).toBe(Object.prototype);
    expect(JSON.stringify(result.value)).toBe('{"__proto__":{"note":"[REDACTED:card]"},"a":1}');
    expect(result.paths).toEqual(['__proto__.note']);
  });

  it('redacts JWTs and AWS keys in keys too', () => {
    const result = redactSecrets({ nested: { [JWT]: 'a', AKIAIOSFODNN7EXAMPLE: 'b' } });
    expect(result.value).toEqual({ nested: { '[REDACTED:jwt]': 'a', '[REDACTED:aws_access_key_id]': 'b' } });
    expect(result.paths).toEqual(['nested.[REDACTED:jwt]', 'nested.[REDACTED:aws_access_key_id]']);
  });
});

describe('redactSecrets: extra patterns', () => {
  it('applies every match of each extra pattern to values and keys', () => {
    const redact = createRedactor({ extraPatterns: [{ name: 'employee_id', pattern: 'emp-\\d{6}', flags: 'i' }] });
    const result = redact({ note: 'badge EMP-123456 then emp-654321', 'EMP-000001': 'x' });
    expect(result.value).toEqual({ note: 'badge [REDACTED:employee_id] then [REDACTED:employee_id]', '[REDACTED:employee_id]': 'x' });
    expect(result.count).toBe(3);
    expect(result.paths).toEqual(['note', '[REDACTED:employee_id]']);
  });

  it('forces the global flag even when given sticky or no flags', () => {
    const redact = createRedactor({ extraPatterns: [{ name: 'ticket', pattern: 'T-\\d+', flags: 'y' }] });
    expect(redact('see T-1, T-2 and T-3')).toEqual({ value: 'see [REDACTED:ticket], [REDACTED:ticket] and [REDACTED:ticket]', count: 3, paths: [''] });
  });

  it('skips empty matches of a pattern that can match nothing', () => {
    const redact = createRedactor({ extraPatterns: [{ name: 'xs', pattern: 'x*' }] });
    expect(redact('abxxc x')).toEqual({ value: 'ab[REDACTED:xs]c [REDACTED:xs]', count: 2, paths: [''] });
  });

  it('never re-redacts a marker, even with a pattern that matches marker text', () => {
    const redact = createRedactor({ extraPatterns: [{ name: 'caps', pattern: '[A-Z]{4,}' }, { name: 'any', pattern: 'REDACTED|card' }] });
    const first = redact({ m: `HELLO ${CARD}` });
    expect(first.value).toEqual({ m: '[REDACTED:caps] [REDACTED:card]' });
    expect(first.count).toBe(2);
    expect(redact(first.value)).toEqual({ value: first.value, count: 0, paths: [] });
  });

  it('throws naming the pattern when a pattern is invalid, at creation time', () => {
    expect(() => createRedactor({ extraPatterns: [{ name: 'broken_one', pattern: '(unclosed' }] })).toThrow(/broken_one/);
    expect(() => createRedactor({ extraPatterns: [{ name: 'bad_flags', pattern: 'x', flags: 'q' }] })).toThrow(/bad_flags/);
    expect(() => createRedactor({ extraPatterns: [{ name: 'bad name]', pattern: 'x' }] })).toThrow(/bad name/);
  });
});

describe('redactSecrets: a composite event', () => {
  const event = {
    id: '01HZX3K6W8Q2T5V7Y9B1C3D5E7',
    occurredAt: '2024-06-01T10:20:30.123Z',
    type: 'payment.charge.failed',
    sessionId: 'sess_01HZX3K6W8',
    message: 'charge failed for 4111 1111 1111 1111 and 5555-5555-5555-4444',
    actor: { userId: 'u_42', ip: '203.0.113.7' },
    details: {
      amount: 1999.99,
      orderNumber: 1234567890123456,
      card: 4012888888881881,
      password: 'hunter2',
      headers: { Authorization: 'Bearer abc.def.ghi', 'x-request-id': '550e8400-e29b-41d4-a716-446655440000' },
      items: [
        { sku: 'A-1', note: 'ok' },
        { sku: 'B-2', note: 'gift' },
        { sku: 'C-3', note: 'call me, ssn 123-45-6789, pwd=letmein' },
      ],
      max_tokens: 256,
      nested: { apiKey: { id: 1, value: 'x' } },
      empty: { token: '', secret: null },
    },
  };

  it('redacts every secret with exact count and paths', () => {
    const redact = createRedactor({ exemptPaths: ['sessionId'] });
    const result = redact(event);
    expect(result.value).toEqual({
      ...event,
      message: 'charge failed for [REDACTED:card] and [REDACTED:card]',
      details: {
        ...event.details,
        card: '[REDACTED:card]',
        password: '[REDACTED:password]',
        headers: { Authorization: '[REDACTED:authorization]', 'x-request-id': '550e8400-e29b-41d4-a716-446655440000' },
        items: [event.details.items[0], event.details.items[1], { sku: 'C-3', note: 'call me, ssn [REDACTED:ssn], pwd=[REDACTED:password]' }],
        nested: { apiKey: '[REDACTED:api_key]' },
      },
    });
    expect(result.count).toBe(8);
    expect(result.paths).toEqual(['message', 'details.card', 'details.password', 'details.headers.Authorization', 'details.items[2].note', 'details.nested.apiKey']);
    expect(Object.keys(result.value)).toEqual(Object.keys(event));
  });

  it('does not mutate its input', () => {
    const input = deepFreeze(structuredClone(event));
    const before = structuredClone(input);
    const result = redactSecrets(input);
    expect(input).toEqual(before);
    expect(result.value).not.toBe(input);
    expect(result.value.actor).not.toBe(input.actor);
  });

  it('is idempotent', () => {
    const first = redactSecrets(event);
    expect(redactSecrets(first.value)).toEqual({ value: first.value, count: 0, paths: [] });
  });

  it('caps paths at 50 but keeps counting', () => {
    const result = redactSecrets({ items: Array.from({ length: 60 }, () => CARD) });
    expect(result.count).toBe(60);
    expect(result.paths).toHaveLength(50);
    expect(result.paths[0]).toBe('items[0]');
    expect(result.paths[49]).toBe('items[49]');
  });

  it('redacts a bare string or number at the root under the empty path', () => {
    expect(redactSecrets(CARD)).toEqual({ value: '[REDACTED:card]', count: 1, paths: [''] });
    expect(redactSecrets(Number(CARD))).toEqual({ value: '[REDACTED:card]', count: 1, paths: [''] });
    expect(redactSecrets(null)).toEqual({ value: null, count: 0, paths: [] });
  });

  it('uses markers that start with REDACTED_PREFIX', () => {
    expect(REDACTED_PREFIX).toBe('[REDACTED:');
    expect(redactSecrets({ pin: 1 }).value.pin).toBe(`${REDACTED_PREFIX}pin]`);
  });
});

describe('redactSecrets: false positives', () => {
  const ordinary = [
    'hello world',
    'The quick brown fox jumps over the lazy dog',
    'Bearer of bad news',
    'Basic plan includes support',
    'Bearer authentication failed',
    'login failed: wrong credentials for bob',
    '01ARZ3NDEKTSV4RRFFQ69G5FAV',
    '01HZX3K6W8Q2T5V7Y9B1C3D5E7',
    '550e8400-e29b-41d4-a716-446655440000',
    'trace 4bf92f35-77b3-4da6-a3ce-929d0e0e4736',
    '123e4567-e89b-12d3-a456-426614174000',
    '2024-06-01T10:20:30.123Z',
    '2024-06-01 10:20:30',
    '1718000000',
    '192.168.10.254',
    '2001:db8::8a2e:370:7334',
    'total 1999.99 USD',
    'price: 12.50',
    'order 1234567890123456',
    'order 1234 5678 9012 3456',
    '4111 1111 1111 1112',
    '+44 7911 123456',
    '441234567890',
    '555-123-4567',
    '000-12-3456',
    'version 1.2.3',
    'id: 42',
    'max_tokens=4096',
    'tokenCount: 12',
    'bypass: true',
    'see https://example.com/path?page=2&sort=desc',
    'mailto:user@example.com',
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    `deadbeef${CARD}cafebabedeadbeefcafebabe0123`, // a hex digest that happens to hold a Luhn-valid run
    'pi is 3.14159265358979323',
    'sum 0.7999999999999999', // 0.1 + 0.7; the fraction passes Luhn but is no card
    'eyJ alone is nothing',
    'pages 4 5 6 7 8 9 10 11 12 13 14 15', // "9101112131415" passes Luhn, but a list of small numbers is no card
    'AKIA is a prefix',
    '0000000000000000',
  ];

  it.each(ordinary)('keeps %j as a value and as a key', (s) => {
    const input = { message: s, [s]: 1 };
    expect(redactSecrets(input)).toEqual({ value: input, count: 0, paths: [] });
  });
});

// ---------------------------------------------------------------------------
// Properties

const digit = fc.integer({ min: 0, max: 9 });
/** Any Luhn-valid 13–19 digit number from a payment network (issuer digit 2–6). */
const cardDigits = fc
  .tuple(fc.integer({ min: 2, max: 6 }), fc.array(digit, { minLength: 11, maxLength: 17 }))
  .map(([issuer, rest]) => [issuer, ...rest])
  .map((payload) => [...payload, checkDigit(payload)].join(''));
const formattedCard = fc.tuple(cardDigits, fc.constantFrom('', ' ', '-')).map(([digits, sep]) => ({
  digits,
  formatted: sep ? (digits.match(/.{1,4}/g) as string[]).join(sep) : digits,
}));
const letters = fc.string({ unit: fc.constantFrom(...'zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA'), maxLength: 20 });
const base64url = (minLength: number) =>
  fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), minLength, maxLength: 40 });
const jwt = fc.tuple(base64url(1), base64url(1), base64url(0)).map(([a, b, c]) => `eyJ${a}.eyJ${b}.${c}`);
const awsKeyId = fc
  .tuple(fc.constantFrom('AKIA', 'ASIA', 'ABIA', 'ACCA'), fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'), minLength: 16, maxLength: 16 }))
  .map(([prefix, rest]) => prefix + rest);

describe('redactSecrets: properties', () => {
  it('(a) never lets a Luhn-valid 13–19 digit number through, whatever alphabetic text surrounds it', () => {
    // A run inside a 32+ char hex token is a digest by design; keep the generated text from forming one.
    const hexRun = (s: string) => s.match(/[a-fA-F]*$/)?.[0].length ?? 0;
    fc.assert(
      fc.property(
        formattedCard,
        letters,
        letters,
        ({ digits, formatted }, prefix, suffix) => {
          fc.pre(hexRun(prefix) + formatted.length + (suffix.match(/^[a-fA-F]*/)?.[0].length ?? 0) < 32);
          const result = redactSecrets({ message: `${prefix}${formatted}${suffix}`, list: [prefix, `${formatted} ${suffix}`] });
          const out = JSON.stringify(result.value);
          expect(out).not.toContain(digits);
          expect(out).not.toContain(formatted);
          expect(result.count).toBe(2);
        },
      ),
      { numRuns: 500 },
    );
  });

  const secretishString = fc
    .array(
      fc.oneof(
        fc.constantFrom(CARD, '4111 1111 1111 1111', '123-45-6789', JWT, 'AKIAIOSFODNN7EXAMPLE', 'password=', 'token: ', '"secret":"', 'Bearer ', 'Basic dXNlcjpwYXNz', 'https://u:', '@h', 'aws_secret_key=', AWS_SECRET, '-----BEGIN RSA PRIVATE KEY-----', '-----END RSA PRIVATE KEY-----', '[REDACTED:card]', '[REDACTED:', ']', '#2'),
        fc.string({ unit: fc.constantFrom(...' \n"\'\\=:;&?-._/@[]aZ09'), maxLength: 3 }),
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.join(''));

  it('(b) is idempotent over arbitrary JSON values', () => {
    const check = (value: unknown) => {
      const first = redactSecrets(value);
      const second = redactSecrets(first.value);
      expect(second.count).toBe(0);
      expect(second.paths).toEqual([]);
      expect(second.value).toEqual(first.value);
    };
    fc.assert(fc.property(fc.jsonValue(), check), { numRuns: 300 });
    fc.assert(fc.property(fc.jsonValue({ stringUnit: fc.oneof(secretishString, fc.string({ maxLength: 1 })), maxDepth: 4 }), check), { numRuns: 500 });
  });

  it('(c) returns secret-free JSON values deep-equal, as new objects, with count 0', () => {
    // Keys from consonants that spell no sensitive name; values lower-case letters and spaces
    // without "b" (so no "bearer"/"basic"), integers far below 13 digits.
    const key = fc.string({ unit: fc.constantFrom(...'fghjklmqrxyz'), minLength: 1, maxLength: 8 });
    const leaf = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'acdefghijklmnopqrstuvwxyz '), maxLength: 30 }),
      fc.integer({ min: -1_000_000, max: 1_000_000 }),
      fc.boolean(),
      fc.constant(null),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('value'), { maxLength: 5 }), fc.dictionary(key, tie('value'), { maxKeys: 6 })),
    }));
    fc.assert(
      fc.property(value, (input) => {
        const result = redactSecrets(input);
        expect(result.count).toBe(0);
        expect(result.paths).toEqual([]);
        expect(result.value).toEqual(input);
        if (input !== null && typeof input === 'object') expect(result.value).not.toBe(input);
      }),
      { numRuns: 500 },
    );
  });

  it('(d) a card, JWT or AWS key id put anywhere in a random object never survives', () => {
    type Step = { key: string } | { index: number };
    const step: fc.Arbitrary<Step> = fc.oneof(fc.record({ key: fc.string({ maxLength: 6 }) }), fc.record({ index: fc.nat(3) }));
    const secret = fc.oneof(
      formattedCard.map((c) => c.formatted),
      jwt,
      awsKeyId,
    );
    const insert = (root: unknown, path: Step[], leaf: unknown): unknown => {
      if (path.length === 0) return leaf;
      const [head, ...rest] = path as [Step, ...Step[]];
      if ('key' in head) {
        const obj: Record<string, unknown> = root !== null && typeof root === 'object' && !Array.isArray(root) ? { ...(root as Record<string, unknown>) } : {};
        Object.defineProperty(obj, head.key, { value: insert(obj[head.key], rest, leaf), enumerable: true, writable: true, configurable: true });
        return obj;
      }
      const arr: unknown[] = Array.isArray(root) ? [...root] : [];
      while (arr.length <= head.index) arr.push(null);
      arr[head.index] = insert(arr[head.index], rest, leaf);
      return arr;
    };
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 })),
        fc.array(step, { minLength: 1, maxLength: 5 }),
        secret,
        fc.constantFrom('value', 'text', 'key'),
        fc.string({ maxLength: 10 }),
        fc.string({ maxLength: 10 }),
        (base, path, s, placement, before, after) => {
          const leaf = placement === 'value' ? s : placement === 'text' ? `${before} ${s} ${after}` : { [`${before} ${s} ${after}`]: 1 };
          const input = insert(base, path, leaf);
          const result = redactSecrets(input);
          expect(JSON.stringify(result.value)).not.toContain(s);
          expect(result.count).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 500 },
    );
  });
});

/**
 * Secret redaction (DESIGN.md, "Never stored"). Every event passes through
 * here before its first write, so an acknowledged event holds no password,
 * token, key, card number, SSN or JWT in any value, key or free text.
 * Pure domain code: Node built-ins only.
 *
 * Why it is built the way it is:
 * - A secret is replaced by a marker `[REDACTED:<kind>]`. Markers are opaque:
 *   text is split at them and every rule sees only the pieces between, so a
 *   marker is never re-redacted and a second pass finds nothing (idempotent).
 * - The rules on a string run to a fixpoint (a replacement can change what a
 *   neighbouring match sees, e.g. a word boundary); each replacement eats at
 *   least one unredacted character, so this terminates, and in practice it is
 *   one pass plus one confirming pass, only for strings that had a secret.
 * - No regex here nests unbounded quantifiers, and the ones that could scan
 *   quadratically from every start position are pinned to token starts with
 *   a look-behind; JWTs are found by a linear hand-written scanner.
 */
import { Buffer } from 'node:buffer';

/** A configured extra pattern: regex source, and the name used in its marker. */
export interface RedactionPattern {
  name: string;
  pattern: string;
  flags?: string;
}

export interface RedactionOptions {
  /** Applied to every string (values and keys); every match becomes `[REDACTED:<name>]`. */
  extraPatterns?: RedactionPattern[];
  /** More sensitive key names, normalised like the built-ins (lower-case, alphanumerics only). */
  extraKeys?: string[];
  /** Exact paths whose key name must not trigger key-based redaction; their text is still scanned. */
  exemptPaths?: string[];
}

export interface Redaction<T> {
  /** A new value (the input is never mutated). A redacted number becomes a marker string. */
  value: T;
  /** Every replaced occurrence. */
  count: number;
  /** Where (`details.card`, `details.items[2].note`, `message`); each once, at most 50. */
  paths: string[];
}

export const REDACTED_PREFIX = '[REDACTED:';

const MAX_PATHS = 50;
const KIND_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

// ---------------------------------------------------------------------------
// Sensitive key names

/** `Client_Secret` → `clientsecret`. Markers in a (redacted) key are ignored. */
function normaliseKey(key: string): string {
  return key.replace(ANY_MARKER, '').toLowerCase().replace(/[^a-z0-9]/g, '');
}
const ANY_MARKER = /\[REDACTED:[A-Za-z0-9_.-]{1,64}\]/g;

const EXACT_KEYS: Record<string, string> = {
  password: 'password',
  passwd: 'password',
  pwd: 'password',
  passphrase: 'password',
  pass: 'password',
  secret: 'secret',
  token: 'token',
  sessiontoken: 'token',
  apikey: 'api_key',
  accesskey: 'access_key',
  secretkey: 'secret_key',
  privatekey: 'private_key',
  authorization: 'authorization',
  auth: 'authorization',
  cookie: 'cookie',
  cookies: 'cookie',
  setcookie: 'cookie',
  session: 'session',
  sessionid: 'session',
  credential: 'credential',
  credentials: 'credential',
  ssn: 'ssn',
  socialsecuritynumber: 'ssn',
  cardnumber: 'card',
  ccnumber: 'card',
  creditcardnumber: 'card',
  pan: 'card',
  cvv: 'cvv',
  cvv2: 'cvv',
  cvc: 'cvv',
  cvc2: 'cvv',
  pin: 'pin',
};

/**
 * Suffixes, most specific first. `token` matches `accessToken`, `id_token`
 * but not `max_tokens` / `tokenCount` (they do not end in `token`).
 */
const KEY_SUFFIXES: ReadonlyArray<readonly [string, string]> = [
  ['secretaccesskey', 'secret_key'],
  ['password', 'password'],
  ['passwd', 'password'],
  ['passphrase', 'password'],
  ['secret', 'secret'],
  ['token', 'token'],
  ['apikey', 'api_key'],
  ['accesskey', 'access_key'],
  ['secretkey', 'secret_key'],
  ['privatekey', 'private_key'],
  ['authorization', 'authorization'],
  ['cookie', 'cookie'],
  ['sessionid', 'session'],
  ['credentials', 'credential'],
  ['credential', 'credential'],
  ['cardnumber', 'card'],
  ['socialsecuritynumber', 'ssn'],
];

function builtinKeyKind(normalised: string): string | undefined {
  const exact = EXACT_KEYS[normalised];
  if (exact !== undefined && Object.prototype.hasOwnProperty.call(EXACT_KEYS, normalised)) return exact;
  for (const [suffix, kind] of KEY_SUFFIXES) if (normalised.endsWith(suffix)) return kind;
  return undefined;
}

/** Header-like keys whose unquoted value runs to the end of the line (`Cookie: a=1; b=2`). */
const LINE_VALUE_KEYS = new Set(['cookie', 'cookies', 'setcookie', 'authorization', 'proxyauthorization']);

const BUILTIN_KINDS = [
  'card', 'ssn', 'jwt', 'bearer', 'basic', 'aws_access_key_id', 'aws_secret_key', 'private_key',
  ...new Set([...Object.values(EXACT_KEYS), ...KEY_SUFFIXES.map(([, kind]) => kind)]),
];

// ---------------------------------------------------------------------------
// Free-text rules

interface Hit {
  start: number;
  end: number;
  kind: string;
}

interface TextRule {
  /** Cheap test on the whole string; false means `find` cannot hit. */
  trigger: (text: string) => boolean;
  /** Pushes hits on a marker-free piece, in order, non-overlapping. */
  find: (piece: string, hits: Hit[]) => void;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** Luhn (mod 10) check of a digit string; spaces and dashes are ignored. */
export function luhnValid(digits: string): boolean {
  const d = digits.replace(/[ -]/g, '');
  if (d.length < 2 || !/^\d+$/.test(d)) return false;
  let sum = 0;
  let double = false;
  for (let i = d.length - 1; i >= 0; i--) {
    let x = d.charCodeAt(i) - 48;
    if (double) {
      x *= 2;
      if (x > 9) x -= 9;
    }
    sum += x;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * 13–19 digits passing Luhn, from a payment network: issuer numbers start
 * with 2–6 (Mastercard, Amex, JCB, Diners, Visa, Discover, UnionPay,
 * Maestro). The prefix keeps Luhn-valid numbers that are no card, such as a
 * tenth of all epoch-millisecond timestamps (`17…`), out of the redaction.
 */
function isCardDigits(d: string): boolean {
  return d.length >= 13 && d.length <= 19 && d.charCodeAt(0) >= 50 /* '2' */ && d.charCodeAt(0) <= 54 /* '6' */ && luhnValid(d);
}

/**
 * A JSON integer beyond 2^53 (a 17–19 digit card) was rounded by JSON.parse:
 * its Luhn digit is lost but its leading digits are not, so one of card
 * length from a card network counts as a card unchecked.
 */
function isCardNumber(n: number): boolean {
  if (!Number.isInteger(n)) return false;
  const digits = String(Math.abs(n));
  return Math.abs(n) > Number.MAX_SAFE_INTEGER ? /^[2-6]\d{12,18}$/.test(digits) : isCardDigits(digits);
}

const PEM = /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g;

function findPem(s: string, hits: Hit[]): void {
  // A truncated block (no END line) is redacted to the end of the text.
  for (const m of s.matchAll(PEM)) hits.push({ start: m.index, end: m.index + m[0].length, kind: 'private_key' });
}

const AWS_SECRET =
  /(?:aws[_-]?secret[_-]?(?:access[_-]?)?key|secret[_-]?access[_-]?key)(?:\\{0,3}["'])?[ \t]{0,8}[:=][ \t]{0,8}(?:\\{0,3}["'])?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi;

function findAwsSecret(s: string, hits: Hit[]): void {
  for (const m of s.matchAll(AWS_SECRET)) {
    const end = m.index + m[0].length;
    hits.push({ start: end - 40, end, kind: 'aws_secret_key' });
  }
}

// scheme://user:password@host — the password may hold ':' or '@'; the last '@' ends it.
const URL_USERINFO = /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s:/?#@]*:([^\s/?#]+)@/g;

function findUrlUserinfo(s: string, hits: Hit[]): void {
  for (const m of s.matchAll(URL_USERINFO)) {
    const end = m.index + m[0].length - 1;
    hits.push({ start: end - (m[1] as string).length, end, kind: 'password' });
  }
}

const BEARER = /(?<![A-Za-z0-9_-])(bearer|basic)[ \t]+([A-Za-z0-9._~+/-]+=*)/gi;

/** Random tokens have digits, symbols or inner capitals; "Bearer authentication" does not. */
function looksLikeCredential(t: string): boolean {
  return t.length >= 8 && (/[0-9._~+/=-]/.test(t) || /[A-Z]/.test(t.slice(1)) || t.length >= 20);
}

/** Basic credentials are base64 of `user:password`. */
function isBasicCredential(t: string): boolean {
  if (t.length < 4 || !/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return false;
  const decoded = Buffer.from(t, 'base64').toString('utf8');
  return decoded.includes(':') && !/[\u0000-\u001f\ufffd]/.test(decoded);
}

function findBearer(s: string, hits: Hit[]): void {
  for (const m of s.matchAll(BEARER)) {
    const scheme = (m[1] as string).toLowerCase();
    const credential = m[2] as string;
    if (!looksLikeCredential(credential) && !(scheme === 'basic' && isBasicCredential(credential))) continue;
    const end = m.index + m[0].length;
    hits.push({ start: end - credential.length, end, kind: scheme });
  }
}

const isTokenChar = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45 || c === 46;

/**
 * `eyJ…\.eyJ…\.[A-Za-z0-9_-]*`, found without a backtracking regex: take the
 * run of [A-Za-z0-9_.-] around each `eyJ`, split it at dots, and look for a
 * segment holding `eyJ` followed by a segment starting with it and a third.
 */
function findJwts(s: string, hits: Hit[]): void {
  let from = 0;
  for (;;) {
    const at = s.indexOf('eyJ', from);
    if (at < 0) return;
    let a = at;
    while (a > from && isTokenChar(s.charCodeAt(a - 1))) a--;
    let b = at + 3;
    while (b < s.length && isTokenChar(s.charCodeAt(b))) b++;
    const segments: Array<[number, number]> = [];
    let segStart = a;
    for (let i = a; i <= b; i++) {
      if (i === b || s.charCodeAt(i) === 46) {
        segments.push([segStart, i]);
        segStart = i + 1;
      }
    }
    for (let i = 0; i + 2 < segments.length; ) {
      const [s0, e0] = segments[i] as [number, number];
      const [s1, e1] = segments[i + 1] as [number, number];
      const k = s.slice(s0, e0).indexOf('eyJ');
      if (k >= 0 && s0 + k + 3 < e0 && e1 - s1 > 3 && s.startsWith('eyJ', s1)) {
        hits.push({ start: s0 + k, end: (segments[i + 2] as [number, number])[1], kind: 'jwt' });
        i += 3;
      } else {
        i++;
      }
    }
    from = b;
  }
}

const AWS_KEY_ID = /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g;

function findAwsKeyIds(s: string, hits: Hit[]): void {
  for (const m of s.matchAll(AWS_KEY_ID)) hits.push({ start: m.index, end: m.index + m[0].length, kind: 'aws_access_key_id' });
}

const SSN = /(?<!\d)(?<!\d-)(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?!\d)(?!-\d)/g;

function findSsns(s: string, hits: Hit[]): void {
  for (const m of s.matchAll(SSN)) hits.push({ start: m.index, end: m.index + m[0].length, kind: 'ssn' });
}

/** Digits with at most one space or dash between them; each iteration eats exactly one digit. */
const DIGIT_RUN = /\d(?:[ -]?\d)*/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const HEX_TOKEN = /(?<![0-9A-Za-z])[0-9a-f]{32,}(?![0-9A-Za-z])/gi;

/** UUIDs and hex digests (32+ hex chars with a letter): their digit runs are not cards. */
function protectedSpans(s: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const m of s.matchAll(UUID)) spans.push([m.index, m.index + m[0].length]);
  for (const m of s.matchAll(HEX_TOKEN)) if (/[a-f]/i.test(m[0])) spans.push([m.index, m.index + m[0].length]);
  spans.sort((x, y) => x[0] - y[0]);
  // Merged, so one forward pointer over them suffices.
  const merged: Array<[number, number]> = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else merged.push([span[0], span[1]]);
  }
  return merged;
}

interface Group {
  start: number;
  end: number;
}

function findCards(s: string, hits: Hit[]): void {
  let spans: Array<[number, number]> | undefined;
  let nextSpan = 0;
  const digitsOf = (groups: Group[]) => groups.map((g) => s.slice(g.start, g.end)).join('');
  const flush = (segment: Group[]) => {
    if (segment.length === 0) return;
    const first = segment[0] as Group;
    const last = segment[segment.length - 1] as Group;
    if (isCardDigits(digitsOf(segment))) {
      hits.push({ start: first.start, end: last.end, kind: 'card' });
      return;
    }
    // The whole run is no card; look for one inside it ("qty 12 4111 1111 1111
    // 1111", "4111 1111 1111 1 0"), longest first from the left. A window
    // starts only at a group of 3+ digits, so lists of small numbers
    // ("1 2 3 4 …") are not read as cards.
    for (let i = 0; i < segment.length; ) {
      let found = -1;
      let length = 0;
      for (let j = i; j < segment.length; j++) {
        const g = segment[j] as Group;
        if (j === i && g.end - g.start < 3) break;
        length += g.end - g.start;
        if (length > 19) break;
        if (length >= 13 && isCardDigits(digitsOf(segment.slice(i, j + 1)))) found = j;
      }
      if (found >= 0) {
        hits.push({ start: (segment[i] as Group).start, end: (segment[found] as Group).end, kind: 'card' });
        i = found + 1;
      } else {
        i++;
      }
    }
  };
  for (const m of s.matchAll(DIGIT_RUN)) {
    const run = m[0];
    if (run.length < 13) continue;
    const groups: Group[] = [];
    let groupStart = -1;
    let digits = 0;
    for (let i = 0; i <= run.length; i++) {
      const digit = i < run.length && isDigit(run.charCodeAt(i));
      if (digit) digits++;
      if (digit && groupStart < 0) groupStart = i;
      if (!digit && groupStart >= 0) {
        groups.push({ start: m.index + groupStart, end: m.index + i });
        groupStart = -1;
      }
    }
    if (digits < 13) continue;
    spans ??= protectedSpans(s);
    let segment: Group[] = [];
    for (const g of groups) {
      // The fraction of a decimal (`0.4111…`) and digits inside a UUID or digest are no card.
      const fraction = g.start === m.index && g.start >= 2 && s[g.start - 1] === '.' && isDigit(s.charCodeAt(g.start - 2));
      while (nextSpan < spans.length && (spans[nextSpan] as [number, number])[1] <= g.start) nextSpan++;
      const span = spans[nextSpan];
      if (fraction || (span !== undefined && span[0] < g.end)) {
        flush(segment);
        segment = [];
      } else {
        segment.push(g);
      }
    }
    flush(segment);
  }
}

/**
 * A key name, an optional closing quote and `:` or `=`. The value is read by
 * hand (quoted, escaped-quoted, to end of line for headers, or up to a
 * delimiter) so that nothing is scanned twice.
 */
const KEY_VALUE = /(?<![A-Za-z0-9_-])([A-Za-z][A-Za-z0-9_-]{0,63})(?![A-Za-z0-9_-])(?:\\{0,3}["'])?[ \t]{0,8}[:=](?![:=])[ \t]{0,8}/g;
const AUTH_SCHEME = /(?:bearer|basic|token|digest|negotiate|ntlm)[ \t]+/iy;

const VALUE_STOPS = new Set(' \t\r\n\f\v"\'\\&;<>{}()[]');
const LINE_STOPS = new Set('\r\n"\'\\');

/** [start, end) of the value at `pos`, or undefined if there is none. */
function readValue(s: string, pos: number, toEndOfLine: boolean): [number, number] | undefined {
  let slashes = 0;
  while (slashes < 3 && s[pos + slashes] === '\\') slashes++;
  const quote = s[pos + slashes];
  if (quote === '"' || quote === "'") {
    const start = pos + slashes + 1;
    let end = start;
    if (slashes === 0) {
      while (end < s.length && s[end] !== quote && s[end] !== '\n' && s[end] !== '\r') end += s[end] === '\\' ? 2 : 1;
      end = Math.min(end, s.length);
    } else {
      const close = s.indexOf('\\'.repeat(slashes) + quote, start);
      const limit = close < 0 ? s.length : close;
      while (end < limit && s[end] !== '\n' && s[end] !== '\r') end++;
    }
    return end > start ? [start, end] : undefined;
  }
  if (slashes > 0) return undefined;
  let end = pos;
  const stops = toEndOfLine ? LINE_STOPS : VALUE_STOPS;
  while (end < s.length && !stops.has(s[end] as string)) end++;
  return end > pos ? [pos, end] : undefined;
}

// ---------------------------------------------------------------------------
// The redactor

/** Strings that cannot hold a built-in secret skip the scan (extra patterns still run). */
const QUICK = /[0-9:=]|eyJ|-----BEGIN|bearer|basic|A(?:KIA|SIA|BIA|CCA)/i;

interface Context {
  count: number;
  paths: string[];
  seen: Set<string>;
}

function record(ctx: Context, path: string, n: number): void {
  ctx.count += n;
  if (ctx.paths.length < MAX_PATHS && !ctx.seen.has(path)) {
    ctx.seen.add(path);
    ctx.paths.push(path);
  }
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Compiles the configured patterns once (throwing, with the pattern's name,
 * if one is invalid) and returns the function the ingest path calls per event.
 */
export function createRedactor(options: RedactionOptions = {}): <T>(value: T) => Redaction<T> {
  const extraKeyKinds = new Map<string, string>();
  for (const key of options.extraKeys ?? []) {
    const n = normaliseKey(key);
    if (n) extraKeyKinds.set(n, n);
  }
  const exempt = new Set(options.exemptPaths ?? []);

  const extraRules: TextRule[] = (options.extraPatterns ?? []).map(({ name, pattern, flags = '' }) => {
    if (!KIND_NAME.test(name)) throw new Error(`Redaction pattern name "${name}" must be 1-64 of [A-Za-z0-9_.-]`);
    let re: RegExp;
    try {
      re = new RegExp(pattern, `${flags.replace(/[gy]/g, '')}g`);
    } catch (error) {
      throw new Error(`Invalid redaction pattern "${name}": ${(error as Error).message}`);
    }
    return {
      trigger: () => true,
      find: (piece, hits) => {
        re.lastIndex = 0;
        for (let m = re.exec(piece); m; m = re.exec(piece)) {
          if (m[0].length === 0) {
            re.lastIndex++;
            continue;
          }
          hits.push({ start: m.index, end: m.index + m[0].length, kind: name });
        }
      },
    };
  });

  const knownKinds = new Set<string>([...BUILTIN_KINDS, ...extraKeyKinds.values(), ...(options.extraPatterns ?? []).map((p) => p.name)]);

  const keyKindCache = new Map<string, string | null>();
  const keyKind = (key: string): string | undefined => {
    let kind = keyKindCache.get(key);
    if (kind === undefined) {
      const n = normaliseKey(key);
      kind = extraKeyKinds.get(n) ?? builtinKeyKind(n) ?? null;
      if (keyKindCache.size > 10_000) keyKindCache.clear();
      keyKindCache.set(key, kind);
    }
    return kind ?? undefined;
  };

  const findKeyValues = (s: string, hits: Hit[]) => {
    const re = KEY_VALUE;
    re.lastIndex = 0;
    for (let m = re.exec(s); m; m = re.exec(s)) {
      const key = m[1] as string;
      const kind = keyKind(key);
      if (!kind) continue;
      let pos = m.index + m[0].length;
      if (kind === 'authorization') {
        AUTH_SCHEME.lastIndex = pos;
        if (AUTH_SCHEME.test(s)) pos = AUTH_SCHEME.lastIndex;
      }
      const value = readValue(s, pos, LINE_VALUE_KEYS.has(normaliseKey(key)));
      if (!value) continue;
      hits.push({ start: value[0], end: value[1], kind });
      re.lastIndex = Math.max(re.lastIndex, value[1]);
    }
  };

  // Order matters: specific shapes first, so `password=<jwt>` says jwt and a
  // spaced card is taken whole before key=value could take its first group.
  const builtinRules: TextRule[] = [
    { trigger: (s) => s.includes('-----BEGIN'), find: findPem },
    { trigger: (s) => /secret/i.test(s), find: findAwsSecret },
    { trigger: (s) => s.includes('://'), find: findUrlUserinfo },
    { trigger: (s) => /bearer|basic/i.test(s), find: findBearer },
    { trigger: (s) => s.includes('eyJ'), find: findJwts },
    { trigger: (s) => /A(?:KIA|SIA|BIA|CCA)/.test(s), find: findAwsKeyIds },
    { trigger: (s) => /\d{3}-\d{2}-\d{4}/.test(s), find: findSsns },
    { trigger: (s) => /\d/.test(s), find: findCards },
    { trigger: (s) => /[:=]/.test(s), find: findKeyValues },
  ];
  const allRules = [...builtinRules, ...extraRules];

  const isMarker = (s: string) =>
    s.startsWith(REDACTED_PREFIX) && s.endsWith(']') && knownKinds.has(s.slice(REDACTED_PREFIX.length, -1));

  /** Runs one rule over the marker-free pieces of `text`. */
  const applyRule = (text: string, rule: TextRule): { text: string; count: number } => {
    const pieces: Array<[string, boolean]> = [];
    if (!text.includes(REDACTED_PREFIX)) {
      pieces.push([text, false]);
    } else {
      let last = 0;
      for (const m of text.matchAll(ANY_MARKER)) {
        if (!knownKinds.has(m[0].slice(REDACTED_PREFIX.length, -1))) continue;
        if (m.index > last) pieces.push([text.slice(last, m.index), false]);
        pieces.push([m[0], true]);
        last = m.index + m[0].length;
      }
      if (last < text.length) pieces.push([text.slice(last), false]);
    }
    let count = 0;
    let out = '';
    for (const [piece, marker] of pieces) {
      const hits: Hit[] = [];
      if (!marker) rule.find(piece, hits);
      let last = 0;
      for (const hit of hits) {
        if (hit.start < last || hit.end <= hit.start) continue;
        out += `${piece.slice(last, hit.start)}${REDACTED_PREFIX}${hit.kind}]`;
        last = hit.end;
        count++;
      }
      out += last === 0 ? piece : piece.slice(last);
    }
    return { text: count ? out : text, count };
  };

  const redactText = (text: string): { text: string; count: number } => {
    const rules = QUICK.test(text) ? allRules : extraRules;
    if (rules.length === 0) return { text, count: 0 };
    let current = text;
    let total = 0;
    // To a fixpoint, so that redacting the result again finds nothing.
    for (;;) {
      let changed = 0;
      for (const rule of rules) {
        if (!rule.trigger(current)) continue;
        const result = applyRule(current, rule);
        current = result.text;
        changed += result.count;
      }
      total += changed;
      if (changed === 0) return { text: current, count: total };
    }
  };

  const walk = (value: unknown, path: string, ctx: Context): unknown => {
    if (typeof value === 'string') {
      const result = redactText(value);
      if (result.count) record(ctx, path, result.count);
      return result.text;
    }
    if (typeof value === 'number') {
      if (!isCardNumber(value)) return value;
      record(ctx, path, 1);
      return `${REDACTED_PREFIX}card]`;
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, `${path}[${i}]`, ctx));
    if (value === null || typeof value !== 'object') return value;

    const input = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(input)) {
      const redactedKey = redactText(key);
      let outKey = redactedKey.text;
      // Two keys that redact to the same text are both kept.
      for (let n = 2; Object.prototype.hasOwnProperty.call(out, outKey); n++) outKey = `${redactedKey.text}#${n}`;
      const childPath = path ? `${path}.${outKey}` : outKey;
      if (redactedKey.count) record(ctx, childPath, redactedKey.count);
      const child = input[key];
      const kind = exempt.has(childPath) ? undefined : keyKind(outKey);
      if (kind === undefined) {
        setOwn(out, outKey, walk(child, childPath, ctx));
      } else if (child === null || child === '' || (typeof child === 'string' && isMarker(child))) {
        setOwn(out, outKey, child);
      } else {
        record(ctx, childPath, 1);
        setOwn(out, outKey, `${REDACTED_PREFIX}${kind}]`);
      }
    }
    return out;
  };

  return <T>(value: T): Redaction<T> => {
    const ctx: Context = { count: 0, paths: [], seen: new Set() };
    const redacted = walk(value, '', ctx) as T;
    return { value: redacted, count: ctx.count, paths: ctx.paths };
  };
}

let defaultRedactor: (<T>(value: T) => Redaction<T>) | undefined;

/** One-off redaction; the hot path keeps a `createRedactor` result instead. */
export function redactSecrets<T>(value: T, options?: RedactionOptions): Redaction<T> {
  if (options) return createRedactor(options)(value);
  defaultRedactor ??= createRedactor();
  return defaultRedactor(value);
}

let builtinRedactor: ReturnType<typeof createRedactor> | undefined;

/**
 * Whether a text (an event id) holds what the built-in rules redact: about one ULID in ten million has a digit run
 * that reads as a card number. Ids are never redacted (that would break retries) but refused; the built-in rules
 * only, so that the answer is the same on every deployment whatever its extra patterns, and the client SDK and
 * the OTLP route can avoid such ids before sending or storing.
 */
export function readsAsSecret(text: string): boolean {
  builtinRedactor ??= createRedactor();
  return builtinRedactor(text).count > 0;
}

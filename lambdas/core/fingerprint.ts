/**
 * Error fingerprints: which stored events are errors, and which of them are
 * "the same failure". Pure domain code (no AWS SDK, no clock).
 *
 * An event is an error when its severity is `error` or `critical`, or when it
 * carries an `error` object. Its fingerprint is a short hash of
 *
 *     source (the app) · type · error name · normalised message · top application frame
 *
 * - the **normalised message** has what varies between occurrences of one
 *   failure replaced by placeholders: URLs keep scheme, host and path (with ids
 *   in the path replaced, query and fragment dropped), e-mail addresses, quoted
 *   values, UUIDs, ULIDs, timestamps and dates, IP addresses, hex and numbers,
 *   and id-like tokens (`ord_8fK2mQ9xZ1`, `INV1001`) — see normalizeMessage;
 * - the **top application frame** is the innermost stack frame that is the
 *   app's own code: file and function, never line or column (they move with
 *   every edit of the file), skipping node_modules, node:internal, native and
 *   `<anonymous>` frames, browser extensions, vendor bundles and CDNs,
 *   site-packages and the Python standard library, JDK and framework
 *   packages. Node/V8, Chrome, Firefox/Safari, Python and Java stacks are
 *   understood (parseStack). The file keeps its last three path segments,
 *   without origin, query or content hash (`main.8f3a2c1d.js` → `main.js`),
 *   so a redeploy or another checkout directory keeps the fingerprint.
 *
 * The app and the type are part of it: one app cannot merge its failures into
 * (or reopen) another app's group, and `payment.charge.failed` and
 * `user.signup.failed` with the same text are different problems.
 *
 * A client-sent `fingerprint` (the event field, ≤ 128 characters) replaces
 * everything but the app; containing `{{default}}` it extends the default
 * instead (e.g. `{{default}} tenant-42`).
 */
import { createHash } from 'node:crypto';
import type { AuditEvent } from './event';

/** Bumped when the rules below change in a way that regroups existing errors. */
export const FINGERPRINT_VERSION = 'v1';
/** Hex digits of the group id: 64 bits, so millions of groups never collide by chance. */
export const GROUP_ID_HEX = 16;
export const GROUP_ID_PATTERN = /^[0-9a-f]{16}$/;
/** The type prefix of the lifecycle events this system derives from groups (never themselves grouped). */
export const ERROR_GROUP_EVENT_PREFIX = 'error.group.';

const MAX_MESSAGE_INPUT = 2_000;
const MAX_NORMALISED_MESSAGE = 300;
const MAX_TITLE = 200;
const FILE_SEGMENTS_KEPT = 3;

// ---------------------------------------------------------------- which events

/** Whether the error tracker groups this event. */
export function isTrackedError(event: Pick<AuditEvent, 'severity' | 'error' | 'type' | 'source'>, systemSource?: string): boolean {
  if (systemSource !== undefined && event.source === systemSource && event.type.startsWith(ERROR_GROUP_EVENT_PREFIX)) return false;
  return event.severity === 'error' || event.severity === 'critical' || (event.error !== undefined && event.error !== null);
}

// ---------------------------------------------------------------- messages

const PLACEHOLDER = {
  url: '<url>',
  email: '<email>',
  string: '<str>',
  uuid: '<uuid>',
  ulid: '<ulid>',
  time: '<time>',
  ip: '<ip>',
  hex: '<hex>',
  number: '<n>',
  id: '<id>',
} as const;

/** Pairs of quotes whose contents are values: '…', "…", `…`, ‘…’, “…”, «…». */
const QUOTED = /(^|[\s(\[{=:,<])(?:'([^'\n]{0,200})'|"([^"\n]{0,200})"|`([^`\n]{0,200})`|‘([^’\n]{0,200})’|“([^”\n]{0,200})”|«([^»\n]{0,200})»)(?=$|[\s)\]}.,;:!?>'"])/g;
const URL_PATTERN = /\b([a-z][a-z0-9+.-]{1,15}):\/\/([^\s/?#'"<>]+)([^\s?#'"<>]*)(\?[^\s#'"<>]*)?(#[^\s'"<>]*)?/gi;
/** RFC 5322's unquoted local part (atext and dots), a dotted domain. */
const EMAIL = /(?<![\w!#$%&'*+/=?^`{|}~.-])[\w!#$%&'*+/=?^`{|}~.-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b/gi;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const ULID = /\b[0-7][0-9A-HJKMNP-TV-Z]{25}\b/gi;
/** ISO-8601 / RFC 3339 date-times and dates, `2026-11-23 10:15:00`, RFC 1123 (HTTP) dates, and clock times. */
const TIMESTAMPS = [
  /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?)?\b/gi,
  /\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),?\s+\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\s+\d{4}\s+\d{2}:\d{2}:\d{2}(?:\s+(?:GMT|UTC|[+-]\d{4}))?/gi,
  /\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g,
];
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g;
/** IPv6: hex groups and colons with `::` or all eight groups (times were replaced before, so `10:15:00` is gone). */
const IPV6 = /(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])/gi;
const HEX_PREFIXED = /\b0x[0-9a-f]+\b/gi;
/** 8+ hex digits with at least one digit and one letter a-f (commit SHAs, object ids, hashes). */
const HEX_RUN = /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi;
const DECIMAL = /(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?(?![\w])/gi;
const WORD = /[A-Za-z0-9_]+/g;

/**
 * Replaces what varies between occurrences of one failure with
 * placeholders: the first line of the message, at most 300 characters,
 * whitespace collapsed. See the top of this file for the list.
 */
export function normalizeMessage(message: string | undefined): string {
  if (!message) return '';
  let text = firstLine(message).slice(0, MAX_MESSAGE_INPUT);
  text = text.replace(URL_PATTERN, (_match, scheme: string, host: string, path: string) => `${scheme.toLowerCase()}://${normalizeHost(host)}${normalizePath(path)}`);
  text = text.replace(EMAIL, PLACEHOLDER.email);
  text = text.replace(QUOTED, (_match, before: string) => `${before}${PLACEHOLDER.string}`);
  text = text.replace(UUID, PLACEHOLDER.uuid);
  text = text.replace(ULID, (match) => (/\d/.test(match) ? PLACEHOLDER.ulid : match));
  for (const pattern of TIMESTAMPS) text = text.replace(pattern, PLACEHOLDER.time);
  text = text.replace(IPV4, PLACEHOLDER.ip);
  text = text.replace(IPV6, (match) => (/\d|[a-f]/i.test(match) && (match.includes('::') || match.split(':').length === 8) ? PLACEHOLDER.ip : match));
  text = text.replace(HEX_PREFIXED, PLACEHOLDER.hex);
  text = text.replace(HEX_RUN, PLACEHOLDER.hex);
  text = text.replace(DECIMAL, PLACEHOLDER.number);
  text = text.replace(WORD, normalizeWord);
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > MAX_NORMALISED_MESSAGE ? text.slice(0, MAX_NORMALISED_MESSAGE) : text;
}

function firstLine(text: string): string {
  for (const line of text.split(/\r?\n/)) if (line.trim() !== '') return line.trim();
  return '';
}

/**
 * One word-like token: a run of digits is a number; a token carrying digits
 * that looks generated (3+ digits, or 12+ characters mixing letters and
 * digits: `INV1001`, `ord_8fK2mQ9xZ1`, `cus_NffrFeUfNV2Hib`) is an id.
 * Words with a small digit group (`Int32Array`, `utf8`, `v2`) stay.
 */
function normalizeWord(word: string): string {
  if (/^\d+$/.test(word)) return PLACEHOLDER.number;
  // A quantity with its unit: 30000ms, 512kb, 3rd.
  const unit = /^\d+([a-z]{1,3})$/i.exec(word);
  if (unit) return `${PLACEHOLDER.number}${unit[1]}`;
  const digits = word.replace(/\D/g, '').length;
  if (digits === 0) return word;
  if (digits >= 3) return PLACEHOLDER.id;
  if (word.length >= 12 && /[A-Za-z]/.test(word)) return PLACEHOLDER.id;
  return word;
}

function normalizeHost(host: string): string {
  // Credentials in a URL were redacted at ingestion; drop whatever is left of them, and the port.
  const bare = host.replace(/^[^@]*@/, '').replace(/:\d+$/, '').toLowerCase();
  if (/^(?:\d{1,3}\.){3}\d{1,3}$/.test(bare) || bare.startsWith('[')) return PLACEHOLDER.ip;
  // Per-tenant or per-resource subdomains (`acme-42.example.com`, `i-0abc123.compute...`): only the label's ids vary.
  return bare
    .split('.')
    .map((label) => (/\d/.test(label) ? label.replace(WORD, normalizeWord) : label))
    .join('.');
}

/** A URL or file path's segments with ids replaced; never a query or fragment. */
export function normalizePath(path: string): string {
  return path
    .split('?')[0]!
    .split('#')[0]!
    .split('/')
    .map((segment) => normalizeSegment(segment))
    .join('/');
}

function normalizeSegment(segment: string): string {
  if (segment === '') return segment;
  if (UUID_WHOLE.test(segment)) return PLACEHOLDER.uuid;
  if (/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i.test(segment) && /\d/.test(segment)) return PLACEHOLDER.ulid;
  if (/^\d+$/.test(segment)) return PLACEHOLDER.number;
  if (/^(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}$/i.test(segment)) return PLACEHOLDER.hex;
  if (/@/.test(segment) && EMAIL_WHOLE.test(decodeSafe(segment))) return PLACEHOLDER.email;
  return segment.replace(WORD, normalizeWord);
}

const UUID_WHOLE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL_WHOLE = /^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$/i;

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------- stacks

export type StackFormat = 'v8' | 'gecko' | 'python' | 'java';

export interface StackFrame {
  /** Function or method, as the runtime names it, normalised (no `async `, `new `, ` [as x]`, `/<`). */
  function?: string;
  /** File (path or URL) normalised: see normalizeFile. For Java, the source file (`OrderService.java`). */
  file?: string;
  /** Java and Kotlin: the fully qualified class (`com.example.orders.OrderService`). */
  module?: string;
  line?: number;
  column?: number;
  /** The app's own code rather than a library, the runtime or the browser. */
  inApp: boolean;
}

export interface ParsedStack {
  format?: StackFormat;
  /** Innermost (where it was thrown) first, whatever order the format prints them in. */
  frames: StackFrame[];
  /** From the stack's own header or exception line, when it has one (`TypeError`, `java.lang.IllegalStateException`). */
  errorName?: string;
  errorMessage?: string;
}

const V8_FRAME = /^\s*at (?:(.+?) \((.*)\)|(.+))$/;
const V8_LOCATION = /^(.*?):(\d+)(?::(\d+))?$/;
const GECKO_FRAME = /^\s*(.*?)@(.*?)(?::(\d+))?(?::(\d+))?\s*$/;
const PYTHON_FRAME = /^\s*File "(.+)", line (\d+)(?:, in (.+))?\s*$/;
/** `at [module[@version]/]pkg.Class.method(File.java:57)`; hidden lambda classes carry a `/0x…` suffix. */
const JAVA_FRAME = /^\s*at\s+((?:[\w.-]+(?:@[\w.-]+)?\/+)*)([\w$.<>/-]+)\.([\w$<>-]+)\(([^()]*)\)\s*(?:~?\[.*\])?\s*$/;
/** `TypeError: message`, `java.lang.IllegalStateException: message`, `KeyError: 'x'`, `ValueError`. */
const EXCEPTION_LINE = /^(?:Exception in thread "[^"]*"\s+|Uncaught\s+)?([A-Za-z_$][\w$]*(?:[.$][A-Za-z_$][\w$]*)*)(?::\s?(.*))?$/;

/** Parses a stack trace of any supported format; frames come innermost first. */
export function parseStack(stack: string | undefined): ParsedStack {
  if (!stack) return { frames: [] };
  const lines = stack.split(/\r?\n/);
  if (lines.some((line) => PYTHON_FRAME.test(line))) return parsePython(lines);
  if (lines.some((line) => JAVA_FRAME.test(line) && isJavaLocation(JAVA_FRAME.exec(line)![4]!))) return parseJava(lines);
  if (lines.some((line) => /^\s*at /.test(line) && V8_FRAME.test(line))) return parseV8(lines);
  if (lines.some((line) => isGeckoFrame(line))) return parseGecko(lines);
  return { frames: [], ...header(lines[0] ?? '') };
}

function header(line: string): { errorName?: string; errorMessage?: string } {
  const match = EXCEPTION_LINE.exec(line.trim());
  if (!match) return {};
  return { errorName: match[1], ...(match[2] !== undefined ? { errorMessage: match[2] } : {}) };
}

function parseV8(lines: string[]): ParsedStack {
  const frames: StackFrame[] = [];
  const head: string[] = [];
  for (const line of lines) {
    const match = /^\s*at /.test(line) ? V8_FRAME.exec(line) : null;
    if (!match) {
      if (frames.length === 0) head.push(line);
      continue;
    }
    const [, fn, inParens, bare] = match;
    const location = (inParens ?? bare ?? '').trim();
    // `eval at <anonymous> (file:1:1), <anonymous>:1:1`: code made by eval, never the app's file.
    const evaluated = location.startsWith('eval at ');
    const where = evaluated ? undefined : V8_LOCATION.exec(location);
    const file = where ? where[1] : undefined;
    const frame: StackFrame = {
      ...(fn ? { function: normalizeFunction(fn) } : {}),
      ...(file && !isPseudoFile(file) ? { file: normalizeFile(file) } : {}),
      ...(where ? { line: Number(where[2]), ...(where[3] ? { column: Number(where[3]) } : {}) } : {}),
      inApp: !evaluated && file !== undefined && isAppScript(file),
    };
    frames.push(frame);
  }
  return { format: 'v8', frames, ...header(head.join(' ').trim()) };
}

function isGeckoFrame(line: string): boolean {
  const match = GECKO_FRAME.exec(line);
  if (!match) return false;
  const [, rawFn, location, row] = match;
  const fn = geckoFunction(rawFn!);
  // A frame names a script (URL or path) and usually a line; `a@b.com` in a message is not one.
  if (location === '[native code]') return true;
  if (fn.includes(' ') && !/^(?:global|eval|module) code$/.test(fn)) return false;
  return row !== undefined && /[/:]/.test(location!);
}

/** Firefox marks async boundaries in the name: `async*handler`, `promise callback*handler`, `setTimeout handler*tick`. */
function geckoFunction(name: string): string {
  return name.replace(/^[\w ]*\*(?=.)/, '').trim();
}

function parseGecko(lines: string[]): ParsedStack {
  const frames: StackFrame[] = [];
  const head: string[] = [];
  for (const line of lines) {
    if (!isGeckoFrame(line)) {
      if (frames.length === 0 && line.trim() !== '') head.push(line);
      continue;
    }
    const [, rawFn, location, row, column] = GECKO_FRAME.exec(line)!;
    const fn = geckoFunction(rawFn!);
    const file = location === '[native code]' ? undefined : location;
    const evaluated = fn === 'eval code' || (file !== undefined && / line \d+ > (?:eval|Function)/.test(file));
    frames.push({
      ...(fn ? { function: normalizeFunction(/^(?:global|module) code$/.test(fn) ? '<global>' : fn) } : {}),
      ...(file && !evaluated ? { file: normalizeFile(file) } : {}),
      ...(row ? { line: Number(row) } : {}),
      ...(column ? { column: Number(column) } : {}),
      inApp: file !== undefined && !evaluated && isAppScript(file),
    });
  }
  return { format: 'gecko', frames, ...header(head.join(' ').trim()) };
}

/**
 * Python prints the outermost call first ("most recent call last"), and
 * chained exceptions as several tracebacks; the last one is what was raised.
 */
function parsePython(lines: string[]): ParsedStack {
  let start = 0;
  lines.forEach((line, i) => {
    if (/^\s*Traceback \(most recent call last\):/.test(line)) start = i;
  });
  const frames: StackFrame[] = [];
  let exceptionLine: string | undefined;
  for (const line of lines.slice(start)) {
    const match = PYTHON_FRAME.exec(line);
    if (match) {
      const [, file, row, fn] = match;
      frames.push({
        ...(fn ? { function: normalizeFunction(fn.trim()) } : {}),
        file: normalizeFile(file!),
        line: Number(row),
        inApp: isAppPython(file!),
      });
      continue;
    }
    // The exception line is the first unindented line after the frames (source lines and carets are indented).
    if (frames.length > 0 && exceptionLine === undefined && /^\S/.test(line)) exceptionLine = line;
  }
  return { format: 'python', frames: frames.reverse(), ...header(exceptionLine ?? '') };
}

/** Java (and Kotlin, Scala): the first block is the exception thrown; `Caused by:` blocks follow. */
function parseJava(lines: string[]): ParsedStack {
  const frames: StackFrame[] = [];
  let first: string | undefined;
  for (const line of lines) {
    if (/^\s*Caused by:/.test(line) || /^\s*Suppressed:/.test(line)) {
      if (frames.length > 0) break;
      continue;
    }
    const match = JAVA_FRAME.exec(line);
    if (!match || !isJavaLocation(match[4]!)) {
      if (frames.length === 0 && first === undefined && line.trim() !== '') first = line;
      continue;
    }
    const [, , className, method, location] = match;
    const source = /^(.*?)(?::(\d+))?$/.exec(location!)!;
    const module = normalizeJavaClass(className!);
    const native = location === 'Native Method' || location === 'Unknown Source';
    frames.push({
      function: normalizeFunction(method!),
      module,
      ...(native ? {} : { file: source[1] }),
      ...(source[2] ? { line: Number(source[2]) } : {}),
      inApp: !native && isAppJavaClass(module),
    });
  }
  return { format: 'java', frames, ...header(first ?? '') };
}

function isJavaLocation(location: string): boolean {
  return /^[\w$-]+\.(?:java|kt|kts|scala|groovy|clj)(?::\d+)?$/.test(location) || location === 'Native Method' || location === 'Unknown Source';
}

/** The innermost frame that is the app's own code; else the innermost frame at all (a library failing on its own). */
export function topApplicationFrame(stack: string | undefined): StackFrame | undefined {
  const { frames } = parseStack(stack);
  return frames.find((frame) => frame.inApp) ?? frames.find((frame) => frame.file !== undefined || frame.module !== undefined);
}

// ---------------------------------------------------------------- what is app code

const JS_LIBRARY_PATTERNS = [
  /^node:/,
  /^internal[/:]/,
  /\/node_modules\//,
  /^node_modules\//,
  /\/\.pnpm\//,
  /\/\.yarn\//,
  /^(?:chrome|moz|safari|safari-web|ms-browser)-extension:/,
  /^webpack\/(?:bootstrap|runtime)/,
  /webpack:\/\/\/?(?:webpack|\(webpack\))\//,
  /\/@vite\//,
  /\/@fs\/.*\/node_modules\//,
  /^https?:\/\/(?:cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|ajax\.googleapis\.com|code\.jquery\.com|www\.googletagmanager\.com|www\.google-analytics\.com|connect\.facebook\.net|js\.stripe\.com|static\.cloudflareinsights\.com)\//,
  // Vendor and framework bundles by their usual names (webpack, Next.js, Vite, CRA).
  /(?:^|\/)(?:vendors?|polyfills?|framework|react-dom|chunk-vendors|vendors~[^/]*)(?:[.~-][^/]*)?\.m?js$/,
];

function isPseudoFile(file: string): boolean {
  return file === '<anonymous>' || file === 'native' || /^index \d+$/.test(file) || file === '';
}

function isAppScript(file: string): boolean {
  if (isPseudoFile(file)) return false;
  return !JS_LIBRARY_PATTERNS.some((pattern) => pattern.test(file));
}

function isAppPython(file: string): boolean {
  if (file.startsWith('<')) return false; // <frozen importlib._bootstrap>, <string>, <stdin>
  if (/[/\\](?:site|dist)-packages[/\\]/.test(file)) return false;
  // The standard library: /usr/lib/python3.11/…, C:\Python311\Lib\…, a venv's lib/python3.x outside site-packages.
  if (/[/\\]lib[/\\]python\d+(?:\.\d+)?[/\\]/i.test(file) || /^[a-z]:\\python\d+\\lib\\/i.test(file)) return false;
  return true;
}

const JAVA_LIBRARY_PACKAGES = [
  'java.', 'javax.', 'jdk.', 'sun.', 'com.sun.', 'jakarta.', 'kotlin.', 'kotlinx.', 'scala.', 'groovy.',
  'org.springframework.', 'org.apache.', 'org.hibernate.', 'org.eclipse.', 'io.netty.', 'com.fasterxml.',
  'reactor.', 'io.reactivex.', 'io.micronaut.', 'io.quarkus.', 'io.vertx.', 'com.google.', 'org.junit.',
  'org.codehaus.', 'net.bytebuddy.', 'com.zaxxer.', 'org.postgresql.', 'com.mysql.', 'org.mariadb.',
  'io.grpc.', 'okhttp3.', 'okio.', 'retrofit2.', 'feign.', 'org.slf4j.', 'ch.qos.', 'org.jboss.',
  'io.undertow.', 'org.glassfish.', 'com.amazonaws.', 'software.amazon.', 'io.opentelemetry.', 'org.aspectj.',
];

function isAppJavaClass(className: string): boolean {
  if (/\$\$(?:EnhancerBySpringCGLIB|SpringCGLIB|FastClassBySpringCGLIB|Lambda)|\$Proxy|^jdk\.proxy/.test(className)) return false;
  return !JAVA_LIBRARY_PACKAGES.some((prefix) => className.startsWith(prefix));
}

// ---------------------------------------------------------------- normalising frames

/**
 * A file as the fingerprint sees it: no scheme, origin, query or fragment,
 * no build hash in the name (`main.8f3a2c1d.js` → `main.js`, `chunk-5KJ2XQ7A.js`
 * → `chunk.js`), numbers in directories replaced (release folders), and only
 * the last three segments, so the same code deployed under another directory
 * or origin keeps its fingerprint.
 */
export function normalizeFile(file: string): string {
  let path = file.trim().replace(/\\/g, '/');
  path = path.replace(/^webpack-internal:\/\/\/(?:\([^)]*\)\/)?/, '').replace(/^webpack:\/\/[^/]*\//, '').replace(/^file:\/\//, '');
  path = path.replace(/^(?:app|capacitor|ionic):\/\/[^/]*/, '').replace(/^blob:/, '').replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  path = path.split('?')[0]!.split('#')[0]!.replace(/^[a-z]:\//i, '/');
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.length === 0) return file.slice(0, 200);
  const last = segments.length - 1;
  const normalized = segments.map((segment, i) => (i === last ? withoutBuildHash(segment) : normalizeDirectory(segment)));
  return normalized.slice(-FILE_SEGMENTS_KEPT).join('/').slice(0, 200);
}

function withoutBuildHash(name: string): string {
  const parts = name.split(/([.\-_~])/);
  const kept: string[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const part = parts[i]!;
    const looksLikeHash = (part.length >= 6 && /\d/.test(part) && /[a-z]/i.test(part)) || /^[0-9a-f]{8,}$/i.test(part) || /^\d{6,}$/.test(part);
    // Never the extension (the last part) nor the first (the base name).
    if (looksLikeHash && i !== 0 && i !== parts.length - 1) continue;
    if (kept.length > 0) kept.push(parts[i - 1]!);
    kept.push(part);
  }
  return kept.join('');
}

function normalizeDirectory(segment: string): string {
  if (/^(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}$/i.test(segment)) return PLACEHOLDER.hex;
  return segment.replace(/\d{6,}/g, PLACEHOLDER.number);
}

/** Function names without what differs between calls of the same code. */
export function normalizeFunction(name: string): string {
  let fn = name.trim();
  fn = fn.replace(/^async\*?\s+/, '').replace(/^new\s+/, '').replace(/\s+\[as [^\]]+\]$/, '');
  // Firefox names closures `outer/<`, `outer/inner<`, generators `*gen`.
  fn = fn.replace(/(?:\/<)+$/, '').replace(/<+$/, '').replace(/^\*/, '');
  if (fn === 'Object.<anonymous>') fn = '<anonymous>';
  // Java/Kotlin synthetic names: lambda$create$0, Foo$1, access$000.
  fn = fn.replace(/\$\d+/g, () => '$<n>');
  return fn.slice(0, 200) || '<anonymous>';
}

function normalizeJavaClass(className: string): string {
  return className.replace(/\$\$Lambda[\w/$.]*$/, () => '$$Lambda').replace(/\$\d+/g, () => '$<n>');
}

// ---------------------------------------------------------------- the fingerprint

export interface Fingerprint {
  /** The group id: 16 hex digits of SHA-256 over the components. */
  id: string;
  /** What went into the hash, in order (kept for explaining a grouping). */
  components: string[];
  /** `client` when the event's own `fingerprint` decided (or extended) it. */
  basis: 'default' | 'client';
  errorName?: string;
  /** The normalised message. */
  message: string;
  /** The top application frame (file and function), when the event had a stack. */
  frame?: { file?: string; function?: string; module?: string };
  /** For lists: `TypeError: Cannot read properties of undefined (reading <str>)`. */
  title: string;
  /** Where: the frame (`applyDiscount (src/checkout/discount.ts)`), else the endpoint or page. */
  culprit?: string;
}

/** The stable part of an endpoint or page: `POST /v1/orders/:id` from details.method and details.route, else `page`. */
export function endpointOf(event: Pick<AuditEvent, 'page' | 'details'>): string | undefined {
  const details = event.details ?? {};
  const method = typeof details.method === 'string' ? details.method.toUpperCase().slice(0, 10) : undefined;
  const route = typeof details.route === 'string' && details.route !== '' ? details.route : undefined;
  const path = route ?? event.page;
  if (!path) return undefined;
  const normalized = /^[a-z][a-z0-9+.-]*:\/\//i.test(path) ? normalizeMessage(path) : normalizePath(path.trim());
  return `${method && route ? `${method} ` : ''}${normalized}`.slice(0, 200);
}

/** Computes the fingerprint of an error event. */
export function fingerprintOf(event: Pick<AuditEvent, 'source' | 'type' | 'error' | 'message' | 'page' | 'details' | 'fingerprint'>): Fingerprint {
  const parsed = parseStack(event.error?.stack);
  const frames = parsed.frames;
  const top = frames.find((frame) => frame.inApp) ?? frames.find((frame) => frame.file !== undefined || frame.module !== undefined);
  const errorName = clean(event.error?.name) ?? parsed.errorName;
  const rawMessage = clean(event.error?.message) ?? clean(parsed.errorMessage) ?? clean(event.message) ?? (event.error?.code ? `code ${event.error.code}` : undefined);
  const message = normalizeMessage(rawMessage);
  const frame = top ? { ...(top.file ? { file: top.file } : {}), ...(top.function ? { function: top.function } : {}), ...(top.module ? { module: top.module } : {}) } : undefined;
  const endpoint = endpointOf(event);

  const defaults = [
    FINGERPRINT_VERSION,
    event.source,
    event.type,
    errorName ?? '',
    message,
    frame ? `${frame.module ?? frame.file ?? ''}|${frame.function ?? ''}` : '',
    // Nothing said what failed (a bare 5xx from the request middleware): where it failed is all there is.
    !errorName && !message && !frame ? `at ${endpoint ?? ''}` : '',
  ];
  const custom = clean(event.fingerprint);
  const components = !custom
    ? defaults
    : custom.includes('{{default}}')
      ? [...defaults, 'client', custom]
      : [FINGERPRINT_VERSION, event.source, 'client', custom];

  const titleMessage = message || (errorName ? '' : endpoint ? `${event.type} at ${endpoint}` : event.type);
  const title = (errorName ? (titleMessage ? `${errorName}: ${titleMessage}` : errorName) : titleMessage).slice(0, MAX_TITLE);
  const culprit = frame ? culpritOf(frame) : endpoint;
  return {
    id: createHash('sha256').update(JSON.stringify(components)).digest('hex').slice(0, GROUP_ID_HEX),
    components,
    basis: custom ? 'client' : 'default',
    ...(errorName ? { errorName } : {}),
    message,
    ...(frame ? { frame } : {}),
    title,
    ...(culprit ? { culprit } : {}),
  };
}

function culpritOf(frame: { file?: string; function?: string; module?: string }): string {
  if (frame.module) return `${frame.module}.${frame.function ?? '<unknown>'}`.slice(0, 300);
  return `${frame.function ?? '<anonymous>'}${frame.file ? ` (${frame.file})` : ''}`.slice(0, 300);
}

function clean(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  return trimmed ? trimmed : undefined;
}

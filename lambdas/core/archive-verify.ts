import type { KeyObject } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { ARCHIVE_DIGESTS_PREFIX, ARCHIVE_EVENTS_PREFIX, ndjsonLines, partitionOfKey, sha256Hex } from './archive';
import {
  DigestFormatError,
  digestKey,
  parseDigest,
  sequenceOfDigestKey,
  verifyDigestSignature,
  type ArchiveDigest,
  type DigestObjectEntry,
} from './archive-digest';

/**
 * Verifies the archive like `aws cloudtrail validate-logs`: every digest's
 * signature, the hash chain from digest to digest (and to the chain head,
 * when it can be read), every listed object's SHA-256 and event count, and
 * that no object sits in the archive without a digest vouching for it.
 * Problems name the exact object or digest and what happened to it.
 */

/** Read access to the archive (S3, or the local S3's files). */
export interface ArchiveSource {
  readonly name: string;
  list(prefix: string): AsyncIterable<string>;
  get(key: string): Promise<Buffer | undefined>;
}

export interface KnownChainHead {
  sequence: number;
  digestKey: string;
  digestSha256: string;
  materialized: boolean;
  /** The head digest's text, as committed: verifies a digest whose upload is still under way. */
  digestText?: string;
}

export interface VerifyOptions {
  source: ArchiveSource;
  /** Public keys by the `signingKeyId` digests name; a digest signed by any other key is a forgery. */
  trustedKeys: ReadonlyMap<string, KeyObject>;
  /** The chain head from DynamoDB; null when it cannot be read (files only), undefined when the chain is empty. */
  head: KnownChainHead | null | undefined;
  /** Archive partitions (receivedAt hours) to verify; the whole archive when absent. */
  from?: Date;
  to?: Date;
  /** Called with each event line of each object whose SHA-256 verified (restore uses it). */
  onEvent?: (doc: string, objectKey: string) => void | Promise<void>;
  concurrency?: number;
}

export type ProblemKind =
  | 'object-changed'
  | 'object-missing'
  | 'object-inserted'
  | 'object-listed-twice'
  | 'digest-changed'
  | 'digest-missing'
  | 'digest-inserted'
  | 'digest-invalid'
  | 'event-duplicated';

export interface VerifyProblem {
  kind: ProblemKind;
  /** The object or digest concerned. */
  key: string;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  digests: number;
  firstSequence?: number;
  lastSequence?: number;
  objects: number;
  events: number;
  problems: VerifyProblem[];
  notes: string[];
}

interface LoadedDigest {
  key: string;
  digest: ArchiveDigest;
  sha256: string;
}

const HOUR_MS = 3_600_000;
/**
 * A digest is written after the events it covers arrive, and the stream
 * keeps them 24 hours, so the digests of partitions [from, to] were made
 * within [from − 1 h (clock skew), to + 25 h].
 */
const DIGEST_LAG_MS = 25 * HOUR_MS;

export async function verifyArchive(options: VerifyOptions): Promise<VerifyReport> {
  const { source } = options;
  const problems: VerifyProblem[] = [];
  const notes: string[] = [];
  const problem = (kind: ProblemKind, key: string, message: string) => problems.push({ kind, key, message });
  const ranged = options.from !== undefined || options.to !== undefined;
  const fromHour = options.from ? floorHour(options.from) : undefined;
  const toHour = options.to ? floorHour(options.to) : undefined;
  const pool = limiter(options.concurrency ?? 8);

  // 1. Digests: format, key, signature.
  const digestKeys = await listKeys(source, ARCHIVE_DIGESTS_PREFIX, fromHour !== undefined ? fromHour - HOUR_MS : undefined, toHour !== undefined ? toHour + DIGEST_LAG_MS : undefined);
  const loaded: LoadedDigest[] = [];
  await Promise.all(
    digestKeys.map((key) =>
      pool(async () => {
        const result = await loadDigest(source, key, options.trustedKeys);
        if ('problem' in result) problem(result.problem.kind, key, result.problem.message);
        else loaded.push(result);
      }),
    ),
  );

  // A digest committed but not uploaded yet (the writer is between the two steps, or crashed and will be retried):
  // the head item holds its text, signed like any digest.
  const head = options.head;
  if (head && !head.materialized && head.digestText && !loaded.some((d) => d.key === head.digestKey)) {
    const pending = await loadDigest({ name: 'chain head', list: async function* () {}, get: async () => Buffer.from(head.digestText!, 'utf8') }, head.digestKey, options.trustedKeys);
    if ('problem' in pending) problem(pending.problem.kind, head.digestKey, `${pending.problem.message} (the chain head's copy)`);
    else {
      loaded.push(pending);
      notes.push(`digest ${head.digestKey} (sequence ${head.sequence}) is committed and being uploaded: verified from the chain head's copy`);
    }
  }

  // 2. The chain: one digest per sequence number, no gaps, each naming its predecessor's hash.
  const bySequence = new Map<number, LoadedDigest[]>();
  for (const d of loaded) bySequence.set(d.digest.sequence, [...(bySequence.get(d.digest.sequence) ?? []), d]);
  const chain = new Map<number, LoadedDigest>();
  for (const [sequence, candidates] of bySequence) {
    if (candidates.length === 1) {
      chain.set(sequence, candidates[0]!);
      continue;
    }
    // Only one can be the chain's: the one the next digest (or the head) names.
    const expected = bySequence.get(sequence + 1)?.[0]?.digest.previousDigestSha256 ?? (options.head?.sequence === sequence ? options.head.digestSha256 : undefined);
    const genuine = candidates.find((c) => c.sha256 === expected) ?? candidates[0]!;
    chain.set(sequence, genuine);
    for (const c of candidates) if (c !== genuine) problem('digest-inserted', c.key, `digest ${c.key} claims sequence ${sequence}, which ${genuine.key} holds: inserted`);
  }
  const sequences = [...chain.keys()].sort((a, b) => a - b);
  const lowest = sequences[0];
  const highest = sequences.at(-1);

  for (let i = 0; i < sequences.length; i++) {
    const current = chain.get(sequences[i]!)!;
    const previousSequence = current.digest.sequence - 1;
    if (previousSequence < 1) continue;
    const previous = chain.get(previousSequence);
    if (previous) {
      if (current.digest.previousDigestSha256 !== previous.sha256 || current.digest.previousDigestKey !== previous.key) {
        problem('digest-changed', previous.key, `digest ${previous.key} is not the one digest ${current.key} chains to (SHA-256 ${short(previous.sha256)}, expected ${short(current.digest.previousDigestSha256)}): replaced`);
      }
      continue;
    }
    if (i > 0) {
      // A gap inside the range: the digests between were removed.
      const below = sequences[i - 1]!;
      reportGap(below + 1, previousSequence, current);
      continue;
    }
    // The first digest in view: its predecessor lies before the range (or is gone).
    const predecessorKey = current.digest.previousDigestKey!;
    if (!ranged) {
      reportGap(1, previousSequence, current);
      continue;
    }
    const bytes = await source.get(predecessorKey);
    if (!bytes) problem('digest-missing', predecessorKey, `digest ${predecessorKey} (sequence ${previousSequence}) is missing: removed (digest ${current.key} chains to it)`);
    else if (sha256Hex(bytes) !== current.digest.previousDigestSha256) {
      problem('digest-changed', predecessorKey, `digest ${predecessorKey} (sequence ${previousSequence}) changed: digest ${current.key} chains to SHA-256 ${short(current.digest.previousDigestSha256)}, the file has ${short(sha256Hex(bytes))}`);
    }
  }

  function reportGap(firstMissing: number, lastMissing: number, after: LoadedDigest): void {
    const named = after.digest.previousDigestKey!;
    if (firstMissing === lastMissing) {
      problem('digest-missing', named, `digest ${named} (sequence ${lastMissing}) is missing: removed (digest ${after.key} chains to it)`);
    } else {
      problem('digest-missing', named, `digests of sequence ${firstMissing}–${lastMissing} are missing: removed (the last of them is ${named}, which digest ${after.key} chains to)`);
    }
  }

  // 3. The newest end of the chain, against the head kept in DynamoDB.
  if (head === null) {
    notes.push('the chain head (DynamoDB) was not read: removing the newest digests would go unnoticed; run against the stack to check it');
  } else if (head === undefined) {
    if (highest !== undefined) for (const d of chain.values()) problem('digest-inserted', d.key, `digest ${d.key} exists but the chain is empty: inserted`);
  } else {
    const headTime = digestTime(head.digestKey);
    const headInView = (fromHour === undefined || headTime >= fromHour - HOUR_MS) && (toHour === undefined || headTime <= toHour + DIGEST_LAG_MS);
    for (const d of chain.values()) {
      if (d.digest.sequence > head.sequence) problem('digest-inserted', d.key, `digest ${d.key} (sequence ${d.digest.sequence}) is beyond the chain head (sequence ${head.sequence}): inserted`);
    }
    if (headInView) {
      const newest = chain.get(head.sequence);
      if (!newest) {
        if (head.materialized) {
          problem('digest-missing', head.digestKey, `digest ${head.digestKey} (sequence ${head.sequence}, the chain head) is missing: removed`);
        } else {
          notes.push(`digest ${head.digestKey} (sequence ${head.sequence}) is committed and being uploaded`);
        }
        // Digests between the newest one in view and the head are gone too (unknowable before the range's start).
        const below = highest ?? (ranged ? head.sequence - 1 : 0);
        if (below < head.sequence - 1) {
          problems.push({
            kind: 'digest-missing',
            key: `sequence ${below + 1}–${head.sequence - 1}`,
            message: `digests of sequence ${below + 1}–${head.sequence - 1} are missing: removed (the chain head is ${head.sequence})`,
          });
        }
      } else if (newest.sha256 !== head.digestSha256) {
        problem('digest-changed', newest.key, `digest ${newest.key} (the chain head) changed: its SHA-256 is ${short(newest.sha256)}, the head records ${short(head.digestSha256)}`);
      }
    }
  }

  // 4. Objects: each listed once, present, unchanged; no object without a digest.
  const listed = new Map<string, { digest: LoadedDigest; entry: DigestObjectEntry }>();
  for (const d of [...chain.values()].sort((a, b) => a.digest.sequence - b.digest.sequence)) {
    for (const entry of d.digest.objects) {
      const earlier = listed.get(entry.key);
      if (earlier) problem('object-listed-twice', entry.key, `object ${entry.key} is listed by two digests, ${earlier.digest.key} and ${d.key}`);
      else listed.set(entry.key, { digest: d, entry });
    }
  }
  const inRange = (key: string) => {
    if (!ranged) return true;
    const partition = partitionOfKey(key);
    if (!partition) return false;
    const time = Date.parse(`${partition}:00:00Z`);
    return (fromHour === undefined || time >= fromHour) && (toHour === undefined || time <= toHour);
  };
  const toVerify = [...listed.entries()].filter(([key]) => inRange(key)).sort(([a], [b]) => a.localeCompare(b));
  const seenEvents = new Map<string, string>();
  let objects = 0;
  let events = 0;
  await Promise.all(
    toVerify.map(([key, { digest, entry }]) =>
      pool(async () => {
        const bytes = await source.get(key);
        if (!bytes) return problem('object-missing', key, `object ${key} is missing: removed (listed in digest ${digest.key})`);
        const sha256 = sha256Hex(bytes);
        if (sha256 !== entry.sha256) {
          return problem('object-changed', key, `object ${key} changed: its SHA-256 is ${short(sha256)}, digest ${digest.key} recorded ${short(entry.sha256)}`);
        }
        const lines = ndjsonLines(gunzipSync(bytes).toString('utf8'));
        if (lines.length !== entry.events) {
          return problem('object-changed', key, `object ${key} holds ${lines.length} events, digest ${digest.key} recorded ${entry.events}`);
        }
        objects += 1;
        events += lines.length;
        for (const line of lines) {
          const id = eventIdOf(line);
          const other = id ? seenEvents.get(id) : undefined;
          if (id && other) problem('event-duplicated', key, `event ${id} is archived twice: in ${other} and ${key}`);
          else if (id) seenEvents.set(id, key);
          await options.onEvent?.(line, key);
        }
      }),
    ),
  );
  const eventKeys = await listKeys(source, ARCHIVE_EVENTS_PREFIX, fromHour, toHour);
  for (const key of eventKeys) {
    if (!listed.has(key)) problem('object-inserted', key, `object ${key} is not listed in any digest: inserted (or its digest was removed)`);
  }

  problems.sort((a, b) => a.key.localeCompare(b.key) || a.kind.localeCompare(b.kind));
  return {
    ok: problems.length === 0,
    digests: chain.size,
    ...(lowest !== undefined ? { firstSequence: lowest, lastSequence: highest } : {}),
    objects,
    events,
    problems,
    notes,
  };
}

async function loadDigest(
  source: ArchiveSource,
  key: string,
  trustedKeys: ReadonlyMap<string, KeyObject>,
): Promise<LoadedDigest | { problem: { kind: ProblemKind; message: string } }> {
  const claimed = sequenceOfDigestKey(key);
  if (claimed === undefined) return { problem: { kind: 'digest-inserted', message: `${key} is not a digest file name: inserted` } };
  const bytes = await source.get(key);
  if (!bytes) return { problem: { kind: 'digest-missing', message: `digest ${key} disappeared while being verified` } };
  let digest: ArchiveDigest;
  try {
    digest = parseDigest(bytes.toString('utf8'));
  } catch (error) {
    if (!(error instanceof DigestFormatError)) throw error;
    return { problem: { kind: 'digest-invalid', message: `digest ${key} is not a valid digest (${error.message}): changed or inserted` } };
  }
  const publicKey = trustedKeys.get(digest.signingKeyId);
  if (!publicKey) return { problem: { kind: 'digest-invalid', message: `digest ${key} is signed by ${digest.signingKeyId}, not a trusted key: forged` } };
  if (!verifyDigestSignature(digest, publicKey)) return { problem: { kind: 'digest-changed', message: `digest ${key}: its signature does not verify: changed` } };
  if (digest.sequence !== claimed || digestKey(digest.sequence, digest.createdAt) !== key) {
    return { problem: { kind: 'digest-inserted', message: `digest ${key} holds sequence ${digest.sequence} of ${digest.createdAt}, which belongs elsewhere: copied or moved` } };
  }
  return { key, digest, sha256: sha256Hex(bytes) };
}

/** Keys under a prefix, restricted to the hours [from, to] of their `dt=`/`hour=` partition when bounds are given. */
async function listKeys(source: ArchiveSource, prefix: string, from?: number, to?: number): Promise<string[]> {
  const prefixes: string[] = [];
  if (from === undefined || to === undefined) prefixes.push(prefix);
  else for (let day = floorDay(from); day <= to; day += 24 * HOUR_MS) prefixes.push(`${prefix}dt=${new Date(day).toISOString().slice(0, 10)}/`);
  const keys: string[] = [];
  for (const p of prefixes) {
    for await (const key of source.list(p)) {
      const time = keyTime(key, prefix);
      if (time !== undefined && ((from !== undefined && time < from) || (to !== undefined && time > to))) continue;
      keys.push(key);
    }
  }
  return keys;
}

function keyTime(key: string, prefix: string): number | undefined {
  const match = new RegExp(`^${prefix}dt=(\\d{4}-\\d{2}-\\d{2})/hour=(\\d{2})/`).exec(key);
  return match ? Date.parse(`${match[1]}T${match[2]}:00:00Z`) : undefined;
}

function digestTime(key: string): number {
  return keyTime(key, ARCHIVE_DIGESTS_PREFIX) ?? 0;
}

function eventIdOf(line: string): string | undefined {
  try {
    const id = (JSON.parse(line) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function floorHour(date: Date): number {
  return Math.floor(date.getTime() / HOUR_MS) * HOUR_MS;
}

function floorDay(time: number): number {
  return Math.floor(time / (24 * HOUR_MS)) * 24 * HOUR_MS;
}

function short(hash: string | null): string {
  return hash ? `${hash.slice(0, 12)}…` : 'none';
}

/** Runs at most `n` tasks at once. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async (task) => {
    if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      queue.shift()?.();
    }
  };
}

import { compareSequenceNumbers, planArchiveObjects, type ArchiveObject, type ArchiveRecord } from './archive';
import { DIGEST_VERSION, signDigest, type DigestSigner, type SignedDigest } from './archive-digest';

/**
 * Archives one stream batch and appends its digest to the ONE hash chain,
 * however many shards and concurrent invocations there are.
 *
 * The chain head (sequence, key and SHA-256 of the newest digest, and the
 * digest text itself) is one item in DynamoDB. Appending is optimistic:
 * read the head, build and sign digest n+1 naming digest n's hash, then
 * commit in one transaction that
 *   - moves the head from n to n+1, on condition that it is still n (a
 *     writer that lost the race reads the new head and signs again);
 *   - records the batch as archived (a marker keyed by its first record,
 *     holding its last sequence number), on condition that the marker is
 *     unchanged since it was read;
 *   - counts the events towards the next table export.
 * So digests form one line, each batch is committed once, and an object is
 * uploaded before any digest names it.
 *
 * Crash safety, step by step:
 *   1. objects are uploaded under keys derived from the records: a failure
 *      before the commit leaves nothing committed, and the retry (the same
 *      batch: the mapping does not bisect) overwrites the same keys;
 *   2. the commit is atomic: all of the batch or none;
 *   3. the digest file is uploaded after the commit from the text kept in
 *      the head item. Until then the head is "not materialized": every
 *      writer uploads the head's digest before appending after it, and a
 *      retried batch does too, so a crash here loses no digest;
 *   4. a re-delivered batch finds its marker: records up to the marked
 *      sequence number are skipped (none twice), later ones are archived.
 */

export interface ChainHead {
  sequence: number;
  digestKey: string;
  digestSha256: string;
  /** The digest file's text, so that a digest committed but not yet uploaded can be uploaded by anyone. */
  digestText: string;
  /** The digest file is in the bucket. */
  materialized: boolean;
}

export interface BatchMarker {
  firstEventId: string;
  lastSequenceNumber: string;
}

export interface ChainCommit {
  /** The head the new digest was built on (absent for the first digest ever). */
  previous: ChainHead | undefined;
  next: ChainHead;
  firstEventId: string;
  /** The batch's marker as read (absent when the batch was never committed). */
  previousMarker: BatchMarker | undefined;
  lastSequenceNumber: string;
  events: number;
}

/** Where the chain head and batch markers live (DynamoDB; an in-memory fake in unit tests). */
export interface ArchiveChainStore {
  read(firstEventId: string): Promise<{ head?: ChainHead; marker?: BatchMarker }>;
  /** Applies the commit atomically; false when a condition failed (another writer got there first). */
  commit(commit: ChainCommit): Promise<boolean>;
  /** Notes that the head's digest file is uploaded (no-op if the head has moved on). */
  markMaterialized(sequence: number): Promise<void>;
}

export interface ArchiveObjectWriter {
  /** Uploads (or overwrites) an object; `sha256` is the body's hex SHA-256, for the store's integrity check. */
  put(key: string, body: Buffer, sha256: string, contentType: string): Promise<void>;
}

/** Fault injection for tests: each hook may throw to simulate a crash at that point. */
export interface ArchiveWriterHooks {
  /** Objects uploaded, nothing committed yet. */
  beforeCommit?: (objects: readonly ArchiveObject[]) => void | Promise<void>;
  /** Committed in DynamoDB, digest file not uploaded yet. */
  afterCommit?: (digest: SignedDigest) => void | Promise<void>;
}

export interface ArchiveWriterOptions {
  objects: ArchiveObjectWriter;
  chain: ArchiveChainStore;
  signer: DigestSigner;
  now?: () => Date;
  /** Commit attempts before giving up (the batch is then retried by the mapping). */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  hooks?: ArchiveWriterHooks;
}

export interface ArchiveOutcome {
  /** Records archived by this call. */
  archived: number;
  /** Records already archived by an earlier delivery of the same batch. */
  alreadyArchived: number;
  objects: string[];
  digest?: { sequence: number; key: string };
  /** Commit attempts (more than one: lost races for the chain head). */
  attempts: number;
}

export class ArchiveContentionError extends Error {}

const DEFAULT_MAX_ATTEMPTS = 40;
const BACKOFF_BASE_MS = 10;
const BACKOFF_MAX_MS = 500;

export class ArchiveWriter {
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly maxAttempts: number;

  constructor(private readonly options: ArchiveWriterOptions) {
    this.now = options.now ?? (() => new Date());
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  }

  async archive(records: readonly ArchiveRecord[]): Promise<ArchiveOutcome> {
    if (records.length === 0) return { archived: 0, alreadyArchived: 0, objects: [], attempts: 0 };
    const batchId = records[0]!.eventId;
    /** Objects uploaded by this call, by key → SHA-256: a lost race does not upload them again. */
    const uploaded = new Map<string, string>();

    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const { head, marker } = await this.options.chain.read(batchId);
      if (head && !head.materialized) await this.materialize(head);

      const pending = marker ? records.filter((r) => compareSequenceNumbers(r.sequenceNumber, marker.lastSequenceNumber) > 0) : [...records];
      if (pending.length === 0) {
        return { archived: 0, alreadyArchived: records.length, objects: [], attempts: attempt };
      }

      const objects = planArchiveObjects(pending);
      await Promise.all(
        objects
          .filter((o) => uploaded.get(o.key) !== o.sha256)
          .map(async (o) => {
            await this.options.objects.put(o.key, o.body, o.sha256, 'application/gzip');
            uploaded.set(o.key, o.sha256);
          }),
      );
      await this.options.hooks?.beforeCommit?.(objects);

      const signed = await signDigest(
        {
          version: DIGEST_VERSION,
          sequence: (head?.sequence ?? 0) + 1,
          createdAt: this.now().toISOString(),
          previousDigestKey: head?.digestKey ?? null,
          previousDigestSha256: head?.digestSha256 ?? null,
          batch: {
            firstEventId: batchId,
            firstSequenceNumber: pending[0]!.sequenceNumber,
            lastSequenceNumber: pending.at(-1)!.sequenceNumber,
            events: pending.length,
          },
          objects: objects.map((o) => ({
            key: o.key,
            sha256: o.sha256,
            events: o.events,
            bytes: o.body.length,
            firstSequenceNumber: o.firstSequenceNumber,
            lastSequenceNumber: o.lastSequenceNumber,
          })),
        },
        this.options.signer,
      );
      const next: ChainHead = { sequence: signed.digest.sequence, digestKey: signed.key, digestSha256: signed.sha256, digestText: signed.text, materialized: false };
      const committed = await this.options.chain.commit({
        previous: head,
        next,
        firstEventId: batchId,
        previousMarker: marker,
        lastSequenceNumber: pending.at(-1)!.sequenceNumber,
        events: pending.length,
      });
      if (!committed) {
        // Another writer moved the head (or archived part of this batch): read again, sign again.
        await this.sleep(Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 10)) * (0.5 + this.random()));
        continue;
      }
      await this.options.hooks?.afterCommit?.(signed);
      await this.materialize(next);
      return {
        archived: pending.length,
        alreadyArchived: records.length - pending.length,
        objects: objects.map((o) => o.key),
        digest: { sequence: next.sequence, key: next.digestKey },
        attempts: attempt,
      };
    }
    throw new ArchiveContentionError(`could not append to the digest chain after ${this.maxAttempts} attempts`);
  }

  /** Uploads a committed digest's file (the same bytes whoever does it) and notes it. */
  private async materialize(head: ChainHead): Promise<void> {
    await this.options.objects.put(head.digestKey, Buffer.from(head.digestText, 'utf8'), head.digestSha256, 'application/json');
    await this.options.chain.markMaterialized(head.sequence);
  }
}

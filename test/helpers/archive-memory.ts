/**
 * In-memory stand-ins for the archive's S3 bucket and DynamoDB chain state,
 * with the same conditional semantics as the real adapters, and optional
 * random delays so concurrent writers interleave.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { ArchiveRecord } from '../../lambdas/core/archive';
import { localSigningKeyId } from '../../lambdas/core/archive-digest';
import type { ArchiveChainStore, ArchiveObjectWriter, BatchMarker, ChainCommit, ChainHead } from '../../lambdas/core/archive-writer';
import type { ArchiveSource } from '../../lambdas/core/archive-verify';
import { LocalKeyDigestSigner } from '../../lambdas/adapters/digest-signer';

const pause = (maxMs: number) => (maxMs > 0 ? new Promise((resolve) => setTimeout(resolve, Math.random() * maxMs)) : Promise.resolve());

export class MemoryBucket implements ArchiveObjectWriter, ArchiveSource {
  readonly name = 'memory';
  readonly objects = new Map<string, Buffer>();
  puts: string[] = [];
  constructor(private readonly jitterMs = 0) {}

  async put(key: string, body: Buffer): Promise<void> {
    await pause(this.jitterMs);
    this.objects.set(key, Buffer.from(body));
    this.puts.push(key);
  }

  async *list(prefix: string): AsyncIterable<string> {
    yield* [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  async get(key: string): Promise<Buffer | undefined> {
    const body = this.objects.get(key);
    return body ? Buffer.from(body) : undefined;
  }
}

export class MemoryChainStore implements ArchiveChainStore {
  head: ChainHead | undefined;
  readonly markers = new Map<string, BatchMarker>();
  eventsSinceExport = 0;
  commits = 0;
  conflicts = 0;
  constructor(private readonly jitterMs = 0) {}

  async read(firstEventId: string): Promise<{ head?: ChainHead; marker?: BatchMarker }> {
    await pause(this.jitterMs);
    const marker = this.markers.get(firstEventId);
    return { ...(this.head ? { head: { ...this.head } } : {}), ...(marker ? { marker: { ...marker } } : {}) };
  }

  async commit(commit: ChainCommit): Promise<boolean> {
    await pause(this.jitterMs);
    // Checked and applied in one synchronous step: the transaction's atomicity.
    const marker = this.markers.get(commit.firstEventId);
    const headOk = commit.previous ? this.head?.sequence === commit.previous.sequence : this.head === undefined;
    const markerOk = commit.previousMarker ? marker?.lastSequenceNumber === commit.previousMarker.lastSequenceNumber : marker === undefined;
    if (!headOk || !markerOk) {
      this.conflicts += 1;
      return false;
    }
    this.head = { ...commit.next };
    this.markers.set(commit.firstEventId, { firstEventId: commit.firstEventId, lastSequenceNumber: commit.lastSequenceNumber });
    this.eventsSinceExport += commit.events;
    this.commits += 1;
    return true;
  }

  async markMaterialized(sequence: number): Promise<void> {
    await pause(this.jitterMs);
    if (this.head?.sequence === sequence) this.head.materialized = true;
  }
}

export function testSigningKey(): { signer: LocalKeyDigestSigner; publicKey: KeyObject; trustedKeys: Map<string, KeyObject> } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = new LocalKeyDigestSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  return { signer, publicKey, trustedKeys: new Map([[localSigningKeyId(publicKey), publicKey]]) };
}

let sequence = 100_000;
/** Stream records of events received at the given times, with increasing sequence numbers. */
export function streamRecords(receivedAt: readonly string[], prefix = 'evt'): ArchiveRecord[] {
  return receivedAt.map((time) => {
    sequence += 1;
    const id = `${prefix}-${sequence}`;
    return {
      eventId: `rec${sequence}`,
      sequenceNumber: String(sequence).padStart(21, '0'),
      receivedAt: time,
      doc: JSON.stringify({ id, type: 'user.login.succeeded', receivedAt: time, occurredAt: time, message: `event ${id} "quoted" ünïcode` }),
    };
  });
}

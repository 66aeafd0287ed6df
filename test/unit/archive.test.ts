/**
 * The archive's domain code: object layout, digests (signing, chaining,
 * strict parsing), the writer's idempotency and single chain under
 * concurrency, and verification naming what was changed, removed or
 * inserted. In memory; test/integration/archive.test.ts runs the same code
 * against DynamoDB Local and the local S3.
 */
import { generateKeyPairSync, verify } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { archiveObjectKey, ndjsonLines, partitionPrefix, planArchiveObjects, sha256Hex } from '../../lambdas/core/archive';
import { DigestFormatError, parseDigest, signDigest, signedBytes, verifyDigestSignature, type UnsignedDigest } from '../../lambdas/core/archive-digest';
import { matchesRestoreFilter, restoredItem } from '../../lambdas/core/archive-restore';
import { ArchiveWriter } from '../../lambdas/core/archive-writer';
import { DEFAULT_RETENTION_DAYS, toEventItem } from '../../lambdas/core/event-keys';
import type { AuditEvent } from '../../lambdas/core/event';
import { verifyArchive } from '../../lambdas/core/archive-verify';
import { KmsDigestSigner } from '../../lambdas/adapters/digest-signer';
import { archiveRecordOf } from '../../lambdas/archive/handler';
import { MemoryBucket, MemoryChainStore, streamRecords, testSigningKey } from '../helpers/archive-memory';

const key = testSigningKey();

function writer(bucket: MemoryBucket, chain: MemoryChainStore, extra: Partial<ConstructorParameters<typeof ArchiveWriter>[0]> = {}) {
  return new ArchiveWriter({ objects: bucket, chain, signer: key.signer, sleep: async () => undefined, ...extra });
}

const verifyAll = (bucket: MemoryBucket, chain: MemoryChainStore | null) =>
  verifyArchive({ source: bucket, trustedKeys: key.trustedKeys, head: chain === null ? null : chain.head });

function archivedDocs(bucket: MemoryBucket): string[] {
  return [...bucket.objects.entries()].filter(([k]) => k.startsWith('events/')).flatMap(([, body]) => ndjsonLines(gunzipSync(body).toString('utf8')));
}

describe('archive objects', () => {
  it('files events by receivedAt hour, under keys taken from the first record', () => {
    expect(partitionPrefix('2026-11-23T09:59:59.999Z')).toBe('events/dt=2026-11-23/hour=09/');
    const [record] = streamRecords(['2026-11-23T10:00:00.000Z']);
    expect(archiveObjectKey(record!)).toBe(`events/dt=2026-11-23/hour=10/${record!.sequenceNumber}-${record!.eventId}.ndjson.gz`);
    expect(() => partitionPrefix('yesterday')).toThrow(/ISO-8601/);
  });

  it('splits a batch spanning two hours into two objects whose lines are exactly the stored docs', () => {
    const records = streamRecords(['2026-11-23T09:59:58Z', '2026-11-23T09:59:59Z', '2026-11-23T10:00:00Z']);
    const objects = planArchiveObjects(records);
    expect(objects.map((o) => [o.key, o.events])).toEqual([
      [archiveObjectKey(records[0]!), 2],
      [archiveObjectKey(records[2]!), 1],
    ]);
    expect(objects.flatMap((o) => ndjsonLines(gunzipSync(o.body).toString('utf8')))).toEqual(records.map((r) => r.doc));
    expect(objects[0]!.sha256).toBe(sha256Hex(objects[0]!.body));
  });

  it('makes the same bytes from the same records (a retry overwrites with identical content)', () => {
    const records = streamRecords(['2026-11-23T10:00:00Z', '2026-11-23T10:00:01Z']);
    expect(planArchiveObjects(records)[0]!.body.equals(planArchiveObjects(structuredClone(records))[0]!.body)).toBe(true);
  });
});

describe('digests', () => {
  const unsigned: UnsignedDigest = {
    version: 1,
    sequence: 2,
    createdAt: '2026-11-23T10:00:05.000Z',
    previousDigestKey: 'digests/dt=2026-11-23/hour=10/000000000001.json',
    previousDigestSha256: 'a'.repeat(64),
    batch: { firstEventId: 'rec1', firstSequenceNumber: '1', lastSequenceNumber: '2', events: 2 },
    objects: [{ key: 'events/dt=2026-11-23/hour=10/1-rec1.ndjson.gz', sha256: 'b'.repeat(64), events: 2, bytes: 99, firstSequenceNumber: '1', lastSequenceNumber: '2' }],
  };

  it('are signed with ECDSA P-256 over a canonical form, and any change breaks the signature', async () => {
    const signed = await signDigest(unsigned, key.signer);
    expect(signed.key).toBe('digests/dt=2026-11-23/hour=10/000000000002.json');
    expect(signed.sha256).toBe(sha256Hex(signed.text));
    const parsed = parseDigest(signed.text);
    expect(verifyDigestSignature(parsed, key.publicKey)).toBe(true);
    // Reformatting the file does not matter; changing any value does.
    expect(verifyDigestSignature(parseDigest(JSON.stringify(parsed)), key.publicKey)).toBe(true);
    expect(verifyDigestSignature({ ...parsed, objects: [{ ...parsed.objects[0]!, events: 3 }] }, key.publicKey)).toBe(false);
    expect(verifyDigestSignature({ ...parsed, previousDigestSha256: 'c'.repeat(64) }, key.publicKey)).toBe(false);
    // Another key's signature is not ours.
    expect(verifyDigestSignature(parsed, testSigningKey().publicKey)).toBe(false);
  });

  it('are parsed strictly: a missing, extra or mistyped field is a format error', async () => {
    const { digest } = await signDigest(unsigned, key.signer);
    expect(() => parseDigest(JSON.stringify({ ...digest, extra: 1 }))).toThrow(DigestFormatError);
    expect(() => parseDigest(JSON.stringify({ ...digest, sequence: '2' }))).toThrow(/sequence/);
    const { signature: _dropped, ...unsignedAgain } = digest;
    expect(() => parseDigest(JSON.stringify(unsignedAgain))).toThrow(/signature/);
    expect(() => parseDigest(JSON.stringify({ ...digest, sequence: 1 }))).toThrow(/previousDigestKey/);
    expect(() => parseDigest('{')).toThrow(/not JSON/);
  });

  it('sign through KMS (ECDSA_SHA_256 over the SHA-256 digest) and verify with the same code', async () => {
    const kms = mockClient(KMSClient);
    const keyPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const message = signedBytes({ ...unsigned, signingKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k', signatureAlgorithm: 'ECDSA_SHA_256' });
    // KMS signs the hash it is given; the mock signs the message that hash is of, which is the same signature.
    kms.on(SignCommand).callsFake(async () => ({ Signature: new Uint8Array(require('node:crypto').sign('sha256', message, keyPair.privateKey)) }));
    const signer = new KmsDigestSigner('arn:aws:kms:eu-west-1:111122223333:key/k', new KMSClient({ region: 'eu-west-1' }));
    const signature = await signer.sign(message);
    expect(kms.commandCalls(SignCommand)[0]!.args[0].input).toEqual({
      KeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k',
      Message: new Uint8Array(require('node:crypto').createHash('sha256').update(message).digest()),
      MessageType: 'DIGEST',
      SigningAlgorithm: 'ECDSA_SHA_256',
    });
    expect(verify('sha256', message, keyPair.publicKey, signature)).toBe(true);
    kms.restore();
  });
});

describe('the archive writer', () => {
  it('archives a batch and chains its digest; the same batch again adds nothing', async () => {
    const bucket = new MemoryBucket();
    const chain = new MemoryChainStore();
    const records = streamRecords(['2026-11-23T10:59:59Z', '2026-11-23T11:00:00Z', '2026-11-23T11:00:01Z']);
    const first = await writer(bucket, chain).archive(records);
    expect(first).toMatchObject({ archived: 3, alreadyArchived: 0, digest: { sequence: 1 } });
    expect(first.objects).toHaveLength(2);
    const again = await writer(bucket, chain).archive(records);
    expect(again).toMatchObject({ archived: 0, alreadyArchived: 3 });
    expect(chain.head).toMatchObject({ sequence: 1, materialized: true });
    expect(archivedDocs(bucket).sort()).toEqual(records.map((r) => r.doc).sort());
    expect(chain.eventsSinceExport).toBe(3);
    expect(await verifyAll(bucket, chain)).toMatchObject({ ok: true, digests: 1, objects: 2, events: 3 });
  });

  it('a failure before the commit leaves nothing committed; the retry overwrites the same keys with the same bytes', async () => {
    const bucket = new MemoryBucket();
    const chain = new MemoryChainStore();
    const records = streamRecords(['2026-11-23T10:00:00Z', '2026-11-23T10:00:01Z']);
    let failures = 1;
    const crashing = writer(bucket, chain, {
      hooks: { beforeCommit: () => { if (failures-- > 0) throw new Error('crash before commit'); } },
    });
    await expect(crashing.archive(records)).rejects.toThrow('crash before commit');
    const uncommitted = new Map(bucket.objects);
    expect(chain.head).toBeUndefined();
    await crashing.archive(records);
    expect([...bucket.objects.keys()].filter((k) => k.startsWith('events/'))).toEqual([...uncommitted.keys()]);
    for (const [k, body] of uncommitted) expect(bucket.objects.get(k)!.equals(body)).toBe(true);
    expect(archivedDocs(bucket)).toEqual(records.map((r) => r.doc));
    expect(await verifyAll(bucket, chain)).toMatchObject({ ok: true, digests: 1, events: 2 });
  });

  it('a crash after the commit loses no digest: the retry (or the next writer) uploads it from the chain head', async () => {
    const bucket = new MemoryBucket();
    const chain = new MemoryChainStore();
    const records = streamRecords(['2026-11-23T10:00:00Z']);
    let failures = 1;
    const crashing = writer(bucket, chain, {
      hooks: { afterCommit: () => { if (failures-- > 0) throw new Error('crash after commit'); } },
    });
    await expect(crashing.archive(records)).rejects.toThrow('crash after commit');
    expect(chain.head).toMatchObject({ sequence: 1, materialized: false });
    expect([...bucket.objects.keys()].some((k) => k.startsWith('digests/'))).toBe(false);
    // Until then verification says the newest digest is on its way, not that it was removed.
    expect(await verifyAll(bucket, chain)).toMatchObject({ ok: true, digests: 1, events: 1, notes: [expect.stringMatching(/being uploaded/)] });

    // Another batch comes first: it uploads digest 1 before chaining digest 2 to it.
    await writer(bucket, chain).archive(streamRecords(['2026-11-23T10:00:02Z']));
    expect(await crashing.archive(records)).toMatchObject({ archived: 0, alreadyArchived: 1 });
    expect(await verifyAll(bucket, chain)).toMatchObject({ ok: true, digests: 2, events: 2 });
  });

  it('a re-delivery with more records archives only the new ones', async () => {
    const bucket = new MemoryBucket();
    const chain = new MemoryChainStore();
    const records = streamRecords(['2026-11-23T10:00:00Z', '2026-11-23T10:00:01Z', '2026-11-23T10:00:02Z', '2026-11-23T10:00:03Z']);
    await writer(bucket, chain).archive(records.slice(0, 2));
    expect(await writer(bucket, chain).archive(records)).toMatchObject({ archived: 2, alreadyArchived: 2, digest: { sequence: 2 } });
    expect(archivedDocs(bucket).sort()).toEqual(records.map((r) => r.doc).sort());
    expect(await verifyAll(bucket, chain)).toMatchObject({ ok: true, events: 4 });
  });

  it('concurrent writers (many shards) make ONE linear chain with every batch exactly once', async () => {
    const bucket = new MemoryBucket(3);
    const chain = new MemoryChainStore(3);
    const batches = Array.from({ length: 24 }, (_, i) =>
      streamRecords(Array.from({ length: 1 + (i % 4) }, (_, j) => `2026-11-23T1${i % 3}:${String(j).padStart(2, '0')}:00Z`), `shard${i}`),
    );
    const writers = batches.map(() => writer(bucket, chain, { sleep: (ms) => new Promise((r) => setTimeout(r, ms / 10)) }));
    const outcomes = await Promise.all(batches.map((batch, i) => writers[i]!.archive(batch)));
    expect(chain.conflicts).toBeGreaterThan(0);
    expect(outcomes.map((o) => o.digest!.sequence).sort((a, b) => a - b)).toEqual(batches.map((_, i) => i + 1));
    expect(chain.commits).toBe(batches.length);
    expect(archivedDocs(bucket).sort()).toEqual(batches.flat().map((r) => r.doc).sort());
    const report = await verifyAll(bucket, chain);
    expect(report).toMatchObject({ ok: true, digests: 24, firstSequence: 1, lastSequence: 24, events: batches.flat().length });
  });
});

describe('verification', () => {
  async function archiveOf(batches: number) {
    const bucket = new MemoryBucket();
    const chain = new MemoryChainStore();
    for (let i = 0; i < batches; i++) {
      const now = () => new Date(`2026-11-23T10:0${i}:45Z`);
      await writer(bucket, chain, { now }).archive(streamRecords([`2026-11-23T10:0${i}:00Z`, `2026-11-23T10:0${i}:30Z`]));
    }
    const digests = [...bucket.objects.keys()].filter((k) => k.startsWith('digests/')).sort();
    const objects = [...bucket.objects.keys()].filter((k) => k.startsWith('events/')).sort();
    return { bucket, chain, digests, objects };
  }

  it('passes with the counts of digests, objects and events', async () => {
    const { bucket, chain } = await archiveOf(4);
    expect(await verifyAll(bucket, chain)).toEqual({ ok: true, digests: 4, firstSequence: 1, lastSequence: 4, objects: 4, events: 8, problems: [], notes: [] });
  });

  it('names an object with one byte changed', async () => {
    const { bucket, chain, objects } = await archiveOf(3);
    bucket.objects.get(objects[1]!)![20] ^= 0x01;
    const report = await verifyAll(bucket, chain);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ kind: 'object-changed', key: objects[1], message: expect.stringContaining(`object ${objects[1]} changed`) }]);
  });

  it('names a removed object and an inserted one', async () => {
    const { bucket, chain, objects } = await archiveOf(3);
    const body = bucket.objects.get(objects[0]!)!;
    bucket.objects.delete(objects[0]!);
    bucket.objects.set('events/dt=2026-11-23/hour=10/999-forged.ndjson.gz', body);
    expect((await verifyAll(bucket, chain)).problems).toEqual([
      { kind: 'object-missing', key: objects[0], message: expect.stringMatching(/is missing: removed/) },
      { kind: 'object-inserted', key: 'events/dt=2026-11-23/hour=10/999-forged.ndjson.gz', message: expect.stringMatching(/not listed in any digest/) },
    ]);
  });

  it('names a removed digest in the middle of the chain, and the newest one (through the chain head)', async () => {
    const { bucket, chain, digests } = await archiveOf(4);
    bucket.objects.delete(digests[1]!);
    const middle = await verifyAll(bucket, chain);
    expect(middle.problems).toContainEqual({ kind: 'digest-missing', key: digests[1], message: expect.stringMatching(/sequence 2\) is missing: removed/) });
    // Its objects are now vouched for by nothing.
    expect(middle.problems.map((p) => p.kind)).toContain('object-inserted');

    const { bucket: b2, chain: c2, digests: d2 } = await archiveOf(3);
    b2.objects.delete(d2[2]!);
    expect((await verifyAll(b2, c2)).problems).toContainEqual({ kind: 'digest-missing', key: d2[2], message: expect.stringMatching(/the chain head\) is missing/) });
    // Without the head (files only) only a note says the newest end could not be checked.
    expect((await verifyAll(b2, null)).notes).toEqual([expect.stringMatching(/chain head/)]);
  });

  it('names a changed digest, a forged one and a duplicated event', async () => {
    const { bucket, chain, digests, objects } = await archiveOf(3);
    const text = bucket.objects.get(digests[0]!)!.toString('utf8').replace('"events": 2', '"events": 3');
    bucket.objects.set(digests[0]!, Buffer.from(text));
    const forger = testSigningKey();
    const forged = await signDigest({ ...parseDigest(bucket.objects.get(digests[2]!)!.toString()), sequence: 4, previousDigestKey: digests[2]!, previousDigestSha256: sha256Hex(bucket.objects.get(digests[2]!)!) }, forger.signer);
    bucket.objects.set(forged.key, Buffer.from(forged.text));
    bucket.objects.set(objects[2]!.replace('.ndjson.gz', '-copy.ndjson.gz'), bucket.objects.get(objects[2]!)!);
    const problems = (await verifyAll(bucket, chain)).problems;
    expect(problems).toContainEqual({ kind: 'digest-changed', key: digests[0], message: expect.stringMatching(/signature does not verify/) });
    expect(problems).toContainEqual({ kind: 'digest-invalid', key: forged.key, message: expect.stringMatching(/not a trusted key: forged/) });
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'object-inserted', key: objects[2]!.replace('.ndjson.gz', '-copy.ndjson.gz') }));
  });

  it('verifies a time range, checking the link to the digest before it', async () => {
    const { bucket, chain } = await archiveOf(3);
    const report = await verifyArchive({ source: bucket, trustedKeys: key.trustedKeys, head: chain.head, from: new Date('2026-11-23T10:00:00Z'), to: new Date('2026-11-23T10:59:59Z') });
    expect(report).toMatchObject({ ok: true, objects: 3, events: 6 });
    const outside = await verifyArchive({ source: bucket, trustedKeys: key.trustedKeys, head: chain.head, from: new Date('2026-11-24T00:00:00Z'), to: new Date('2026-11-24T01:00:00Z') });
    expect(outside).toMatchObject({ ok: true, objects: 0, events: 0 });
  });
});

describe('restore', () => {
  const event: AuditEvent = {
    id: '01JD0000000000000000000000',
    occurredAt: '2025-01-10T09:59:00.000Z',
    receivedAt: '2025-01-10T10:00:00.000Z',
    type: 'payment.charge.failed',
    category: 'payment',
    severity: 'error',
    status: 'failure',
    source: 'shop',
    actor: { userId: 'u-1' },
    record: { type: 'invoice', id: 'INV-1001' },
  };
  const line = JSON.stringify(event);
  const range = { from: new Date('2025-01-10T00:00:00Z'), to: new Date('2025-01-10T23:59:59Z') };

  it('matches on the range (receivedAt) and every given field', () => {
    expect(matchesRestoreFilter(event, range)).toBe(true);
    expect(matchesRestoreFilter(event, { ...range, recordType: 'invoice', recordId: 'INV-1001', userId: 'u-1', type: 'payment.charge.failed' })).toBe(true);
    expect(matchesRestoreFilter(event, { ...range, recordId: 'INV-1002' })).toBe(false);
    expect(matchesRestoreFilter(event, { ...range, from: new Date('2025-01-10T10:00:01Z') })).toBe(false);
    expect(matchesRestoreFilter(event, { ...range, severity: 'critical' })).toBe(false);
  });

  it('builds the item ingestion would, with the archived line as doc, marked restored and kept for the investigation', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const item = restoredItem(line, { retention: DEFAULT_RETENTION_DAYS, now, keepDays: 30 });
    const { expiresAt, restoredAt, ...rest } = item;
    const { expiresAt: originalExpiry, ...original } = toEventItem(event);
    expect(rest).toEqual(original);
    expect(item.doc).toBe(line);
    expect(restoredAt).toBe(now.toISOString());
    // Its own retention (a year, from January 2025) has run out: kept 30 days from now instead.
    expect(originalExpiry).toBeLessThan(now.getTime() / 1000);
    expect(expiresAt).toBe(now.getTime() / 1000 + 30 * 86_400);
  });
});

describe('stream records', () => {
  const record = (image: Record<string, { S: string }>, eventName: 'INSERT' | 'MODIFY' = 'INSERT') => ({
    eventID: 'rec-1',
    eventName,
    dynamodb: { SequenceNumber: '000000000000000000042', ApproximateCreationDateTime: Date.parse('2026-11-23T10:00:07Z') / 1000, NewImage: image },
  });
  const doc = '{"id":"e1","receivedAt":"2026-11-23T10:00:05.000Z"}';

  it('take the stored doc as is, and the item\'s receivedAt', () => {
    expect(archiveRecordOf(record({ doc: { S: doc }, receivedAt: { S: '2026-11-23T10:00:05.000Z' } }))).toEqual({
      eventId: 'rec-1',
      sequenceNumber: '000000000000000000042',
      receivedAt: '2026-11-23T10:00:05.000Z',
      doc,
    });
  });

  it('skip what is not a new event, and events restored from the archive', () => {
    expect(archiveRecordOf(record({ doc: { S: doc } }, 'MODIFY'))).toEqual({ skip: 'not an insert' });
    expect(archiveRecordOf(record({ doc: { S: doc }, restoredAt: { S: '2026-11-23T11:00:00Z' } }))).toEqual({ skip: 'restored from the archive' });
  });

  it('file an item without a usable receivedAt by the stream\'s clock rather than failing the batch forever', () => {
    expect(archiveRecordOf(record({ doc: { S: doc }, receivedAt: { S: 'garbage' } }))).toMatchObject({ receivedAt: '2026-11-23T10:00:07.000Z' });
  });
});

import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { ARCHIVE_DIGESTS_PREFIX, sha256Hex } from './archive';

/**
 * Digest files, after CloudTrail's log file validation: each lists archive
 * objects with their SHA-256 and event count, carries the SHA-256 of the
 * previous digest file (a hash chain over every digest ever written, in one
 * line), and is signed with ECDSA P-256 / SHA-256 (a KMS asymmetric key on
 * AWS, a local key pair locally; both verify with the same code here).
 *
 * One digest per archived stream batch (the one or two objects it wrote):
 * an object is covered by a signature the moment it is committed, with no
 * "open hour" whose objects an attacker could still swap, and committing
 * needs no coordination beyond the chain head (see archive-writer.ts).
 *
 * Key: `digests/dt=YYYY-MM-DD/hour=HH/<sequence, 12 digits>.json`, by the
 * time the digest was made, so a time range lists a few prefixes.
 */
export const DIGEST_VERSION = 1;
/** The KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs digests on AWS: its ARN, in the archive function's environment. */
export const SIGNING_KEY_ID_ENV = 'ARCHIVE_SIGNING_KEY_ID';
/** Locally: the PEM file of the key pair's private half (generated under `<dataDir>/keys/`). */
export const SIGNING_KEY_FILE_ENV = 'ARCHIVE_SIGNING_KEY_FILE';
export const SIGNATURE_ALGORITHM = 'ECDSA_SHA_256';

export interface DigestObjectEntry {
  key: string;
  sha256: string;
  events: number;
  bytes: number;
  firstSequenceNumber: string;
  lastSequenceNumber: string;
}

export interface ArchiveDigest {
  version: typeof DIGEST_VERSION;
  /** 1 for the first digest ever written, then +1 each: a gap is a removed digest. */
  sequence: number;
  createdAt: string;
  /** The previous digest's key and the SHA-256 of its file (null for sequence 1). */
  previousDigestKey: string | null;
  previousDigestSha256: string | null;
  /** The stream batch: its first record (which identifies it) and last sequence number. */
  batch: { firstEventId: string; firstSequenceNumber: string; lastSequenceNumber: string; events: number };
  objects: DigestObjectEntry[];
  /** The KMS key ARN, or `local:<fingerprint>` of the local key pair. */
  signingKeyId: string;
  signatureAlgorithm: typeof SIGNATURE_ALGORITHM;
  /** Base64 DER ECDSA signature over `signedBytes` (every field above, in this order). */
  signature: string;
}

export type UnsignedDigest = Omit<ArchiveDigest, 'signature' | 'signingKeyId' | 'signatureAlgorithm'>;

/** Signs bytes with ECDSA P-256 over their SHA-256 (KMS `ECDSA_SHA_256`, or node:crypto locally). */
export interface DigestSigner {
  readonly keyId: string;
  sign(message: Buffer): Promise<Buffer>;
}

/** A digest as written: its parsed content, the exact file bytes and their SHA-256 (what the next digest chains to). */
export interface SignedDigest {
  key: string;
  digest: ArchiveDigest;
  text: string;
  sha256: string;
}

export function digestKey(sequence: number, createdAt: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2})/.exec(createdAt);
  if (!match) throw new Error(`not an ISO-8601 time: ${createdAt}`);
  return `${ARCHIVE_DIGESTS_PREFIX}dt=${match[1]}/hour=${match[2]}/${String(sequence).padStart(12, '0')}.json`;
}

/** The sequence number a digest key claims, or undefined if the key is not a digest's. */
export function sequenceOfDigestKey(key: string): number | undefined {
  const match = /^digests\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/(\d{12})\.json$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

/**
 * The bytes the signature covers: every field but the signature, in one
 * fixed order, so verification does not depend on how the file was parsed
 * or reformatted (and a field added or dropped breaks the signature).
 */
export function signedBytes(digest: Omit<ArchiveDigest, 'signature'>): Buffer {
  const canonical = {
    version: digest.version,
    sequence: digest.sequence,
    createdAt: digest.createdAt,
    previousDigestKey: digest.previousDigestKey,
    previousDigestSha256: digest.previousDigestSha256,
    batch: {
      firstEventId: digest.batch.firstEventId,
      firstSequenceNumber: digest.batch.firstSequenceNumber,
      lastSequenceNumber: digest.batch.lastSequenceNumber,
      events: digest.batch.events,
    },
    objects: digest.objects.map((o) => ({
      key: o.key,
      sha256: o.sha256,
      events: o.events,
      bytes: o.bytes,
      firstSequenceNumber: o.firstSequenceNumber,
      lastSequenceNumber: o.lastSequenceNumber,
    })),
    signingKeyId: digest.signingKeyId,
    signatureAlgorithm: digest.signatureAlgorithm,
  };
  return Buffer.from(JSON.stringify(canonical), 'utf8');
}

export async function signDigest(unsigned: UnsignedDigest, signer: DigestSigner): Promise<SignedDigest> {
  const withKey = { ...unsigned, signingKeyId: signer.keyId, signatureAlgorithm: SIGNATURE_ALGORITHM } as const;
  const signature = (await signer.sign(signedBytes(withKey))).toString('base64');
  const digest: ArchiveDigest = { ...withKey, signature };
  const text = `${JSON.stringify(digest, null, 2)}\n`;
  return { key: digestKey(digest.sequence, digest.createdAt), digest, text, sha256: sha256Hex(text) };
}

export function verifyDigestSignature(digest: ArchiveDigest, publicKey: KeyObject): boolean {
  try {
    return verify('sha256', signedBytes(digest), publicKey, Buffer.from(digest.signature, 'base64'));
  } catch {
    return false;
  }
}

/** `local:<first 32 hex of the SHA-256 of the public key (SPKI DER)>`: names a local key pair in digests. */
export function localSigningKeyId(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return `local:${sha256Hex(key.export({ type: 'spki', format: 'der' })).slice(0, 32)}`;
}

export class DigestFormatError extends Error {}

const HEX64 = /^[0-9a-f]{64}$/;
const DECIMAL = /^\d+$/;

/** Parses a digest file strictly: any field missing, mistyped or extra is a format error (a forgery or damage). */
export function parseDigest(text: string): ArchiveDigest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DigestFormatError('not JSON');
  }
  const d = value as Record<string, unknown>;
  const fail = (what: string): never => {
    throw new DigestFormatError(what);
  };
  if (!d || typeof d !== 'object' || Array.isArray(d)) fail('not an object');
  exactKeys(d, ['version', 'sequence', 'createdAt', 'previousDigestKey', 'previousDigestSha256', 'batch', 'objects', 'signingKeyId', 'signatureAlgorithm', 'signature'], fail);
  if (d.version !== DIGEST_VERSION) fail(`unknown version ${String(d.version)}`);
  if (!Number.isSafeInteger(d.sequence) || (d.sequence as number) < 1) fail('bad sequence');
  if (typeof d.createdAt !== 'string' || Number.isNaN(Date.parse(d.createdAt))) fail('bad createdAt');
  const first = d.sequence === 1;
  if (first ? d.previousDigestKey !== null : typeof d.previousDigestKey !== 'string') fail('bad previousDigestKey');
  if (first ? d.previousDigestSha256 !== null : typeof d.previousDigestSha256 !== 'string' || !HEX64.test(d.previousDigestSha256)) {
    fail('bad previousDigestSha256');
  }
  const batch = d.batch as Record<string, unknown>;
  if (!batch || typeof batch !== 'object') fail('bad batch');
  exactKeys(batch, ['firstEventId', 'firstSequenceNumber', 'lastSequenceNumber', 'events'], fail);
  if (typeof batch.firstEventId !== 'string' || !isDecimal(batch.firstSequenceNumber) || !isDecimal(batch.lastSequenceNumber) || !isCount(batch.events)) {
    fail('bad batch');
  }
  if (!Array.isArray(d.objects) || d.objects.length === 0) fail('no objects');
  for (const o of d.objects as Record<string, unknown>[]) {
    if (!o || typeof o !== 'object') fail('bad object entry');
    exactKeys(o, ['key', 'sha256', 'events', 'bytes', 'firstSequenceNumber', 'lastSequenceNumber'], fail);
    if (typeof o.key !== 'string' || typeof o.sha256 !== 'string' || !HEX64.test(o.sha256) || !isCount(o.events) || !isCount(o.bytes)) fail('bad object entry');
    if (!isDecimal(o.firstSequenceNumber) || !isDecimal(o.lastSequenceNumber)) fail('bad object entry');
  }
  if (typeof d.signingKeyId !== 'string' || !d.signingKeyId) fail('bad signingKeyId');
  if (d.signatureAlgorithm !== SIGNATURE_ALGORITHM) fail(`unsupported signature algorithm ${String(d.signatureAlgorithm)}`);
  if (typeof d.signature !== 'string' || !/^[A-Za-z0-9+/]+=*$/.test(d.signature)) fail('bad signature');
  return d as unknown as ArchiveDigest;
}

function exactKeys(o: Record<string, unknown>, keys: readonly string[], fail: (what: string) => never): void {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  const missing = keys.filter((k) => !(k in o));
  if (extra.length > 0) fail(`unexpected field ${extra[0]}`);
  if (missing.length > 0) fail(`missing field ${missing[0]}`);
}

function isDecimal(v: unknown): v is string {
  return typeof v === 'string' && DECIMAL.test(v);
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SIGNING_KEY_FILE_ENV } from '../lambdas/adapters/digest-signer';
import { ARCHIVE_BUCKET } from '../lib/declarations/buckets';
import { localS3ClientConfig } from './s3-local';

/**
 * The archive locally: its bucket in the local S3 (so objects live under
 * `<dataDir>/s3/audit-trail-archive/`), and the digest signing key pair,
 * generated once under `<dataDir>/keys/` (KMS's stand-in: ECDSA P-256, the
 * algorithm of the KMS key on AWS, so the same code verifies both).
 */
export async function prepareLocalArchive(options: { dataDir: string; s3Endpoint: string }): Promise<Record<string, string>> {
  const s3 = new S3Client(localS3ClientConfig(options.s3Endpoint));
  try {
    await s3.send(new HeadBucketCommand({ Bucket: ARCHIVE_BUCKET.localName })).catch(async (error: unknown) => {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
      await s3.send(new CreateBucketCommand({ Bucket: ARCHIVE_BUCKET.localName }));
    });
  } finally {
    s3.destroy();
  }
  const { privateKeyFile } = ensureLocalSigningKey(options.dataDir);
  return { [ARCHIVE_BUCKET.envVar]: ARCHIVE_BUCKET.localName, [SIGNING_KEY_FILE_ENV]: privateKeyFile };
}

export function localSigningKeyFiles(dataDir: string): { privateKeyFile: string; publicKeyFile: string } {
  return { privateKeyFile: join(dataDir, 'keys', 'archive-signing.pem'), publicKeyFile: join(dataDir, 'keys', 'archive-signing.pub.pem') };
}

/** The local digest signing key pair, made on first use; the private half readable by this user only. */
export function ensureLocalSigningKey(dataDir: string): { privateKeyFile: string; publicKeyFile: string } {
  const files = localSigningKeyFiles(dataDir);
  if (!existsSync(files.privateKeyFile)) {
    mkdirSync(join(dataDir, 'keys'), { recursive: true });
    const { privateKey, publicKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    try {
      writeFileSync(files.privateKeyFile, privateKey, { mode: 0o600, flag: 'wx' });
      writeFileSync(files.publicKeyFile, publicKey, { mode: 0o644 });
    } catch (error) {
      // Another process (a second `npm start` on the same folder) made it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  if (!existsSync(files.publicKeyFile)) throw new Error(`${files.publicKeyFile} is missing: digests cannot be verified without it`);
  return files;
}

export function readLocalPublicKey(dataDir: string): string {
  return readFileSync(localSigningKeyFiles(dataDir).publicKeyFile, 'utf8');
}

/** The file under which the local S3 keeps an object (s3rver's layout). */
export function localS3ObjectFile(dataDir: string, bucket: string, key: string): string {
  const parts = key.split('/');
  return join(dataDir, 's3', bucket, ...parts.slice(0, -1), `${parts.at(-1)}._S3rver_object`);
}

import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ARCHIVE_BUCKET } from '../../lib/declarations/buckets';
import type { ArchiveObjectWriter } from '../core/archive-writer';
import type { ArchiveSource } from '../core/archive-verify';

/**
 * The archive bucket in S3. Writes follow real S3's rules (the local S3
 * is laxer): a body of known length, and its SHA-256 sent as the checksum,
 * which S3 checks on arrival, stores with the object, and which Object Lock
 * requires of every upload.
 */
export class S3ArchiveBucket implements ArchiveObjectWriter, ArchiveSource {
  readonly name: string;

  constructor(
    private readonly client: S3Client = new S3Client({}),
    private readonly bucket: string = bucketFromEnv(),
  ) {
    this.name = `s3://${bucket}`;
  }

  async put(key: string, body: Buffer, sha256: string, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentType: contentType,
        ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
      }),
    );
  }

  async *list(prefix: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const { Body } = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Body ? Buffer.from(await Body.transformToByteArray()) : Buffer.alloc(0);
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}

export function bucketFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const name = env[ARCHIVE_BUCKET.envVar];
  if (!name) throw new Error(`${ARCHIVE_BUCKET.envVar} is not set`);
  return name;
}

const S3RVER_OBJECT = '._S3rver_object';

/**
 * The local S3's files read directly (s3rver keeps each object as
 * `<dataDir>/s3/<bucket>/<key>._S3rver_object`): verification works even
 * when the local stack is not running, and sees exactly what is on disk.
 */
export class LocalS3FilesSource implements ArchiveSource {
  readonly name: string;

  constructor(private readonly bucketDir: string) {
    this.name = bucketDir;
  }

  async *list(prefix: string): AsyncIterable<string> {
    const keys: string[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        if (entry.isDirectory()) await walk(join(dir, entry.name), `${keyPrefix}${entry.name}/`);
        else if (entry.name.endsWith(S3RVER_OBJECT)) keys.push(`${keyPrefix}${entry.name.slice(0, -S3RVER_OBJECT.length)}`);
      }
    };
    // Walk from the deepest folder the prefix names; filter on the full prefix.
    const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    await walk(join(this.bucketDir, ...folder.split('/').filter(Boolean)), folder);
    yield* keys.filter((key) => key.startsWith(prefix)).sort();
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(join(this.bucketDir, ...key.split('/').slice(0, -1), `${key.split('/').at(-1)}${S3RVER_OBJECT}`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}


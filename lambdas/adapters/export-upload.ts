import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { EXPORTS_BUCKET } from '../../lib/declarations/buckets';
import type { ExportSink } from '../core/exports';

/** S3's smallest part (except the last); 5 MiB parts, two in flight, bound the memory an upload holds. */
export const EXPORT_PART_BYTES = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;

let client: S3Client | undefined;

/**
 * An export written to S3 as it is produced: a multipart upload
 * (@aws-sdk/lib-storage) fed from a stream. Real S3 refuses a streamed
 * PutObject without a length, so the rows are cut into parts of known
 * size: memory holds at most QUEUE_SIZE + 1 parts (about 15 MiB) whatever
 * the export's size. An export smaller than one part becomes one PutObject.
 * `write` waits while the parts in flight are full: reading stops until S3
 * has caught up (backpressure), instead of piling rows up in memory.
 */
export async function openExportUpload(objectKey: string, contentType: string, options: { bucket?: string; s3?: S3Client; partBytes?: number } = {}): Promise<ExportSink> {
  const bucket = options.bucket ?? process.env[EXPORTS_BUCKET.envVar];
  if (!bucket) throw new Error(`${EXPORTS_BUCKET.envVar} is not set`);
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  const upload = new Upload({
    client: options.s3 ?? (client ??= new S3Client({})),
    params: { Bucket: bucket, Key: objectKey, Body: body, ContentType: contentType },
    partSize: options.partBytes ?? EXPORT_PART_BYTES,
    queueSize: QUEUE_SIZE,
    // A failed upload removes its parts (and the bucket's lifecycle rule aborts any that a crash leaves).
    leavePartsOnError: false,
  });
  let bytes = 0;
  let failure: unknown;
  const done = upload.done().catch((error: unknown) => {
    failure = error;
    body.destroy();
    throw error;
  });
  // Observed here so that a failure before close() is not an unhandled rejection; close() rethrows it.
  done.catch(() => undefined);

  return {
    async write(chunk: string) {
      if (failure) throw failure;
      if (chunk === '') return;
      const buffer = Buffer.from(chunk, 'utf8');
      bytes += buffer.length;
      if (!body.write(buffer)) {
        await Promise.race([once(body, 'drain'), done]);
        if (failure) throw failure;
      }
    },
    async close() {
      body.end();
      await done;
      return { bytes };
    },
    async abort() {
      await upload.abort().catch(() => undefined);
      body.destroy();
      await done.catch(() => undefined);
    },
  };
}

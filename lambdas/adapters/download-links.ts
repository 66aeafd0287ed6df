import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { EXPORTS_BUCKET } from '../../lib/declarations/buckets';
import type { DownloadLinks } from '../core/exports';

/**
 * Where download links point when it is not S3's own endpoint: the local
 * stack sets it to its API's `/local-s3` path, which checks the signature
 * and expiry exactly as S3 would and serves the object (local/exports.ts).
 * Unset on AWS.
 */
export const EXPORT_LINK_ENDPOINT_ENV = 'EXPORT_LINK_ENDPOINT';

/**
 * Presigned S3 GET URLs (SigV4, query-string signed): anyone holding one
 * may download that one object until it expires, and nothing else. They are
 * signed with the function's own credentials, so the function needs
 * s3:GetObject on the exports prefix, and a link lives no longer than the
 * function's session credentials (a few hours at most), whatever it asks for.
 */
export class PresignedDownloadLinks implements DownloadLinks {
  private client?: S3Client;

  constructor(private readonly bucket: string | undefined = process.env[EXPORTS_BUCKET.envVar]) {}

  async link(objectKey: string, options: { filename: string; contentType: string; expiresInSeconds: number }): Promise<string> {
    if (!this.bucket) throw new Error(`${EXPORTS_BUCKET.envVar} is not set`);
    // Built on first use: the local stack sets the link endpoint only once its API listens.
    const endpoint = process.env[EXPORT_LINK_ENDPOINT_ENV];
    this.client ??= new S3Client(endpoint ? { endpoint, forcePathStyle: true } : {});
    return presignedGet(this.client, this.bucket, objectKey, options);
  }
}

/** The presigned GET of one object, with the download's file name and type fixed in the (signed) URL. */
export function presignedGet(
  client: S3Client,
  bucket: string,
  objectKey: string,
  options: { filename: string; contentType: string; expiresInSeconds: number; signingDate?: Date },
): Promise<string> {
  return getSignedUrl(
    client,
    new GetObjectCommand({
      Bucket: bucket,
      Key: objectKey,
      ResponseContentDisposition: `attachment; filename="${options.filename}"`,
      ResponseContentType: options.contentType,
    }),
    { expiresIn: options.expiresInSeconds, ...(options.signingDate ? { signingDate: options.signingDate } : {}) },
  );
}

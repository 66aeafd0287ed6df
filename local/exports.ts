import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { EXPORT_LINK_ENDPOINT_ENV } from '../lambdas/adapters/download-links';
import { EXPORT_FUNCTION_NAME_ENV } from '../lambdas/adapters/export-launcher';
import { EXPORT_LINK_SECONDS_ENV, EXPORT_RETENTION_DAYS_ENV } from '../lambdas/core/exports';
import type { ExportsConfig } from '../lib/exports-config';
import { EXPORTS_BUCKET } from '../lib/declarations/buckets';
import { EXPORT_FUNCTION, FUNCTIONS } from '../lib/declarations/functions';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamodb-local';
import { localFunctionName, startLocalLambda, type LocalLambda } from './lambda-invoke';
import { localS3ClientConfig } from './s3-local';

/**
 * Exports locally (issue 3):
 * - the exports bucket in the local S3;
 * - Lambda's Invoke API (local/lambda-invoke.ts), through which the Admin
 *   function starts the export function asynchronously, as on AWS;
 * - download links. The Admin function presigns S3 GETs exactly as on AWS,
 *   only against the local API's `/local-s3` path (EXPORT_LINK_ENDPOINT).
 *   The local API's fallback hook serves that path: it checks the link as
 *   S3 checks a presigned URL (the SigV4 signature recomputed with the same
 *   credentials, date and parameters, and X-Amz-Date + X-Amz-Expires not
 *   past) and streams the object from the local S3. An altered or expired
 *   link gets S3's 403.
 */

/** Where download links point on the local API. */
export const LOCAL_S3_PATH = '/local-s3';

export interface LocalExports {
  /** Environment for the handlers (bucket, function name, Lambda endpoint, settings). */
  env: Record<string, string>;
  /** The local API's fallback hook: serves `/local-s3/…` download links, declines anything else. */
  fallback: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** Once the API listens: links point at it. */
  setApiUrl(url: string): void;
  lambda: LocalLambda;
  stop(): Promise<void>;
}

export async function startLocalExports(options: { s3Endpoint: string; config: ExportsConfig; log?: (line: string) => void }): Promise<LocalExports> {
  const s3 = new S3Client(localS3ClientConfig(options.s3Endpoint));
  const bucket = EXPORTS_BUCKET.localName;
  await s3.send(new HeadBucketCommand({ Bucket: bucket })).catch(async (error: unknown) => {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  const lambda = await startLocalLambda({ functions: FUNCTIONS, log: options.log });
  let linkEndpoint: string | undefined;
  let signer: S3Client | undefined;

  const env = {
    [EXPORTS_BUCKET.envVar]: bucket,
    [EXPORT_FUNCTION_NAME_ENV]: localFunctionName(EXPORT_FUNCTION),
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
    [EXPORT_RETENTION_DAYS_ENV]: String(options.config.retentionDays),
    [EXPORT_LINK_SECONDS_ENV]: String(options.config.linkExpirySeconds),
  };

  async function fallback(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(`${LOCAL_S3_PATH}/`)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return s3Error(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    if (!linkEndpoint || !signer) return s3Error(res, 503, 'ServiceUnavailable', 'The local stack is starting.');
    const [, objectBucket, ...keyParts] = url.pathname.slice(LOCAL_S3_PATH.length).split('/');
    const key = keyParts.map(decodeURIComponent).join('/');
    if (objectBucket !== bucket || key === '') return s3Error(res, 403, 'AccessDenied', 'Access Denied');

    const q = url.searchParams;
    const date = q.get('X-Amz-Date') ?? '';
    const expires = Number(q.get('X-Amz-Expires'));
    const signature = q.get('X-Amz-Signature') ?? '';
    const signedAt = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
    if (!signedAt || !Number.isInteger(expires) || expires < 1 || expires > 604_800 || !/^[0-9a-f]{64}$/.test(signature)) {
      return s3Error(res, 403, 'AccessDenied', 'Query-string authentication requires the X-Amz-Date, X-Amz-Expires and X-Amz-Signature parameters.');
    }
    const signingDate = new Date(Date.UTC(+signedAt[1], +signedAt[2] - 1, +signedAt[3], +signedAt[4], +signedAt[5], +signedAt[6]));
    if (Date.now() > signingDate.getTime() + expires * 1000) return s3Error(res, 403, 'AccessDenied', 'Request has expired');
    if (signingDate.getTime() > Date.now() + 15 * 60_000) return s3Error(res, 403, 'AccessDenied', 'Request is not valid yet');

    // Recompute the presigned URL from what it claims and compare signatures, as S3 does.
    const disposition = q.get('response-content-disposition') ?? undefined;
    const contentType = q.get('response-content-type') ?? undefined;
    const expected = new URL(
      await getSignedUrl(
        signer,
        new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: disposition, ResponseContentType: contentType }),
        { expiresIn: expires, signingDate },
      ),
    );
    const want = Buffer.from(expected.searchParams.get('X-Amz-Signature') ?? '');
    const got = Buffer.from(signature);
    if (want.length !== got.length || !timingSafeEqual(want, got) || expected.pathname !== url.pathname) {
      return s3Error(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }

    let object;
    try {
      object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      throw error;
    }
    res.writeHead(200, {
      'content-type': contentType ?? object.ContentType ?? 'application/octet-stream',
      ...(disposition ? { 'content-disposition': disposition } : {}),
      ...(object.ContentLength !== undefined ? { 'content-length': String(object.ContentLength) } : {}),
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') {
      (object.Body as Readable | undefined)?.destroy();
      res.end();
      return true;
    }
    await new Promise<void>((resolve, reject) => {
      const body = object.Body as Readable;
      body.on('error', reject);
      res.on('close', resolve);
      body.pipe(res);
    });
    return true;
  }

  return {
    env,
    fallback,
    lambda,
    setApiUrl(url: string) {
      linkEndpoint = `${url}${LOCAL_S3_PATH}`;
      process.env[EXPORT_LINK_ENDPOINT_ENV] = linkEndpoint;
      signer?.destroy();
      signer = new S3Client({ endpoint: linkEndpoint, forcePathStyle: true, region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS } });
    },
    async stop() {
      await lambda.stop();
      signer?.destroy();
      s3.destroy();
    },
  };
}

/** S3's error answer (XML), so a client sees locally what S3 would send. */
function s3Error(res: ServerResponse, status: number, code: string, message: string): true {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
  return true;
}

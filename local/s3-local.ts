/**
 * A local S3 (s3rver) on 127.0.0.1, storing objects as files under
 * `<dataDir>/s3`.
 *
 * Two things an AWS SDK v3 client needs to talk to it, both in
 * `localS3ClientConfig` / `localS3Env`:
 * - checksums only when an operation requires them. Since SDK 3.729 clients
 *   add CRC32 checksums by default, and a streamed body (a Readable: gzip
 *   pipes, multipart parts) is sent with `aws-chunked` content encoding and a
 *   checksum trailer. s3rver does not decode that framing and stores the
 *   chunk headers inside the object: the write "succeeds" and the object is
 *   corrupt. `requestChecksumCalculation: 'WHEN_REQUIRED'` sends plain bodies.
 * - path-style addressing (`forcePathStyle`), as buckets are not DNS names here.
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamodb-local';

/** The parts of s3rver (no type declarations ship with it) that we use. */
interface S3rverApp {
  callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
  configureBuckets(): Promise<unknown>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverApp;
interface S3rverAccountModule {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
}

export interface LocalS3ClientConfig {
  endpoint: string;
  region: string;
  forcePathStyle: true;
  credentials: { accessKeyId: string; secretAccessKey: string };
  requestChecksumCalculation: 'WHEN_REQUIRED';
  responseChecksumValidation: 'WHEN_REQUIRED';
}

/** Settings for an `S3Client` that talks to the local S3. */
export function localS3ClientConfig(endpoint: string): LocalS3ClientConfig {
  return {
    endpoint,
    region: LOCAL_REGION,
    forcePathStyle: true,
    credentials: { ...LOCAL_CREDENTIALS },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/**
 * The same settings as environment variables, for code that builds its own
 * `new S3Client({})` (the Lambda adapters). The endpoint is an IP address, for
 * which the SDK already uses path-style URLs.
 */
export function localS3Env(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export interface LocalS3 {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export async function startLocalS3(opts: { dataDir: string; port?: number; buckets?: string[] }): Promise<LocalS3> {
  const buckets = [...new Set(opts.buckets ?? [])];
  for (const name of buckets) {
    if (!BUCKET_NAME.test(name) || name.includes('..')) {
      throw new Error(`Invalid S3 bucket name "${name}": 3-63 characters, lowercase letters, digits, dots and hyphens.`);
    }
  }
  const directory = path.resolve(opts.dataDir, 's3');
  mkdirSync(directory, { recursive: true });

  const S3rver = require('s3rver') as S3rverConstructor;
  // s3rver only accepts its hard-coded S3RVER/S3RVER key pair; register the
  // pair every local client uses, so one set of fake credentials fits all.
  const accounts = require('s3rver/lib/models/account') as S3rverAccountModule;
  accounts.DUMMY_ACCOUNT.createKeyPair(LOCAL_CREDENTIALS.accessKeyId, LOCAL_CREDENTIALS.secretAccessKey);

  const app = new S3rver({
    directory,
    silent: true,
    // Signature checks prove nothing locally, and s3rver's V4 support is
    // partial (presigned URLs behind another Host header would fail).
    allowMismatchedSignatures: true,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  // Creates the bucket directories that are missing; existing ones are kept as they are.
  await app.configureBuckets();

  // We run the HTTP server ourselves rather than s3rver.run(): its listen()
  // never rejects (a port in use would crash the process with an unhandled
  // 'error'), and we need to drop keep-alive sockets on stop.
  const server = createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`Local S3: port ${opts.port} on 127.0.0.1 is already in use; choose another port.`)
          : err,
      );
    server.once('error', onError);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('Local S3: could not read the listening port');
  const port = address.port;

  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () => (stopped ??= closeServer(server)),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // SDK clients keep sockets alive; without this close() waits for them to time out.
    server.closeAllConnections();
  });
}

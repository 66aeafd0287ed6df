import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { LocalS3FilesSource, S3ArchiveBucket } from '../lambdas/adapters/archive-bucket';
import { DynamoArchiveChainStore } from '../lambdas/adapters/archive-chain-store';
import { kmsPublicKey, SIGNING_KEY_ID_ENV } from '../lambdas/adapters/digest-signer';
import { localSigningKeyId } from '../lambdas/core/archive-digest';
import type { ArchiveSource, KnownChainHead } from '../lambdas/core/archive-verify';
import { ARCHIVE_BUCKET } from '../lib/declarations/buckets';
import { ARCHIVE_STATE_TABLE, EVENTS_TABLE } from '../lib/declarations/tables';
import { localAwsClientConfig } from '../local/dynamodb-local';
import { localSigningKeyFiles } from '../local/archive';
import { localS3ClientConfig } from '../local/s3-local';
import { localStackStateFile } from '../local/stack';

/**
 * Where `npm run verify-archive` and `npm run restore` find the archive:
 *
 * - AWS, when ARCHIVE_BUCKET is set (credentials and region from the usual
 *   AWS environment): the bucket; ARCHIVE_SIGNING_KEY_ID, the KMS key whose
 *   public half verifies digests (kms:GetPublicKey); ARCHIVE_STATE_TABLE,
 *   the chain head (optional, but without it removing the newest digests
 *   goes unnoticed); EVENTS_TABLE for restore. The stack outputs all four.
 * - otherwise the local stack of LOCAL_DATA_DIR (default .local), through
 *   the endpoints its stack.json names while it runs;
 * - or, when it is not running (or with --files), the local S3's files
 *   under `<dataDir>/s3` directly (no chain head then).
 *
 * `--public-key FILE` trusts that PEM key instead: an auditor's own copy.
 */
export interface ArchiveTarget {
  description: string;
  source: ArchiveSource;
  trustedKeys: Map<string, KeyObject>;
  /** The chain head; null when it cannot be read here. */
  readHead(): Promise<KnownChainHead | null | undefined>;
  /** The events table, for restore (absent when DynamoDB is not reachable). */
  events?: { client: DynamoDBDocumentClient; table: string };
  close(): void;
}

export async function resolveArchiveTarget(options: { files?: boolean; publicKeyFile?: string; env?: NodeJS.ProcessEnv }): Promise<ArchiveTarget> {
  const env = options.env ?? process.env;
  const explicitKey = options.publicKeyFile ? trustedPem(readFileSync(options.publicKeyFile, 'utf8')) : undefined;

  if (env[ARCHIVE_BUCKET.envVar]) {
    const s3 = new S3Client({});
    const ddb = new DynamoDBClient({});
    const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
    const stateTable = env[ARCHIVE_STATE_TABLE.envVar];
    let trustedKeys = explicitKey;
    if (!trustedKeys) {
      const keyId = env[SIGNING_KEY_ID_ENV];
      if (!keyId) throw new Error(`set ${SIGNING_KEY_ID_ENV} (the KMS signing key's ARN, a stack output) or pass --public-key`);
      const { keyId: arn, publicKey } = await kmsPublicKey(keyId);
      trustedKeys = new Map([
        [keyId, publicKey],
        [arn, publicKey],
      ]);
    }
    return {
      description: `s3://${env[ARCHIVE_BUCKET.envVar]} (AWS)`,
      source: new S3ArchiveBucket(s3, env[ARCHIVE_BUCKET.envVar]),
      trustedKeys,
      readHead: async () => (stateTable ? ((await new DynamoArchiveChainStore(doc, stateTable).readHead()) ?? undefined) : null),
      ...(env[EVENTS_TABLE.envVar] ? { events: { client: doc, table: env[EVENTS_TABLE.envVar]! } } : {}),
      close: () => {
        s3.destroy();
        ddb.destroy();
      },
    };
  }

  const dataDir = resolve(env.LOCAL_DATA_DIR ?? '.local');
  const trustedKeys = explicitKey ?? localTrustedKey(dataDir);
  const stateFile = localStackStateFile(dataDir);
  if (!options.files && existsSync(stateFile)) {
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { url: string; s3Endpoint: string; dynamoDbEndpoint: string; tableNames: Record<string, string> };
    const s3 = new S3Client(localS3ClientConfig(state.s3Endpoint));
    const ddb = new DynamoDBClient(localAwsClientConfig(state.dynamoDbEndpoint));
    const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
    return {
      description: `s3://${ARCHIVE_BUCKET.localName} (local stack at ${state.url})`,
      source: new S3ArchiveBucket(s3, ARCHIVE_BUCKET.localName),
      trustedKeys,
      readHead: async () => (await new DynamoArchiveChainStore(doc, state.tableNames[ARCHIVE_STATE_TABLE.envVar]!).readHead()) ?? undefined,
      events: { client: doc, table: state.tableNames[EVENTS_TABLE.envVar]! },
      close: () => {
        s3.destroy();
        ddb.destroy();
      },
    };
  }
  const bucketDir = join(dataDir, 's3', ARCHIVE_BUCKET.localName);
  if (!existsSync(bucketDir)) throw new Error(`no local archive under ${bucketDir} (start the local stack with \`npm start\`, or set ${ARCHIVE_BUCKET.envVar} for AWS)`);
  return {
    description: `${bucketDir} (local S3 files)`,
    source: new LocalS3FilesSource(bucketDir),
    trustedKeys,
    readHead: async () => null,
    close: () => undefined,
  };
}

function localTrustedKey(dataDir: string): Map<string, KeyObject> {
  const { publicKeyFile } = localSigningKeyFiles(dataDir);
  if (!existsSync(publicKeyFile)) throw new Error(`no local signing key at ${publicKeyFile}: has the local stack ever run with this data folder?`);
  return trustedPem(readFileSync(publicKeyFile, 'utf8'));
}

function trustedPem(pem: string): Map<string, KeyObject> {
  const key = createPublicKey(pem);
  return new Map([[localSigningKeyId(key), key]]);
}

/** `2026-11-23` (the whole day when it is the end of a range) or any ISO-8601 time. */
export function parseRangeBound(value: string | undefined, end: boolean, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const time = Date.parse(dateOnly ? `${value}T${end ? '23:59:59.999' : '00:00:00.000'}Z` : value);
  if (Number.isNaN(time)) throw new UsageError(`${name} must be a date (2026-11-23) or an ISO-8601 time, not ${JSON.stringify(value)}`);
  return new Date(time);
}

export class UsageError extends Error {}

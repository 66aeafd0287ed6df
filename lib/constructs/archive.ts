import { Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { SIGNING_KEY_ID_ENV } from '../../lambdas/core/archive-digest';
import type { ArchiveConfig, ArchiveStorageClass } from '../archive-config';
import { ARCHIVE_BUCKET, ARCHIVE_PREFIXES } from '../declarations/buckets';
import type { FunctionDeclaration } from '../declarations/functions';
import { ARCHIVE_STREAM, type StreamConsumerDeclaration } from '../declarations/streams';
import type { AuditApi } from './api';
import type { EventStore } from './event-store';
import { addStreamConsumer } from './stream-consumer';
import { PRIVATE_BUCKET } from './private-bucket';

export interface ArchiveProps {
  readonly config: ArchiveConfig;
  /** `retain` keeps the bucket, its key and its access logs when the stack is deleted. */
  readonly removalPolicy: 'retain' | 'destroy';
  readonly eventStore: EventStore;
  /** Builds the archive function like every other (own role, log group, declared table access). */
  readonly api: AuditApi;
  /** The stream consumer to build; ARCHIVE_STREAM unless a test says otherwise. */
  readonly stream?: StreamConsumerDeclaration;
}

const STORAGE_CLASSES: Record<ArchiveStorageClass, s3.StorageClass> = {
  STANDARD_IA: s3.StorageClass.INFREQUENT_ACCESS,
  INTELLIGENT_TIERING: s3.StorageClass.INTELLIGENT_TIERING,
  GLACIER_IR: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
  GLACIER: s3.StorageClass.GLACIER,
  DEEP_ARCHIVE: s3.StorageClass.DEEP_ARCHIVE,
};

/**
 * The event archive (docs/archive.md): the archive function on the events
 * stream, the bucket it writes gzipped NDJSON and digests to, and the KMS
 * key that signs the digests.
 *
 * The bucket: versioned with Object Lock (every version locked for
 * `objectLockDays` in governance or compliance mode, so neither a bug nor an
 * attacker with write access can change or remove what was archived),
 * KMS-encrypted with its own key (bucket keys on), TLS only, all public
 * access blocked, lifecycle to colder classes per configuration, and server
 * access logs in a second bucket (who read or wrote what, for the record).
 * The function may only put objects under `events/` and `digests/`.
 */
export class Archive extends Construct {
  readonly bucket: s3.Bucket;
  readonly bucketKey: kms.Key;
  readonly accessLogs: s3.Bucket;
  /** ECC_NIST_P256 / SIGN_VERIFY: signs digests (kms:Sign by the archive function only). */
  readonly signingKey: kms.Key;
  readonly function: lambda.IFunction;
  readonly mapping: lambda.EventSourceMapping;
  readonly failures: sqs.Queue;
  readonly failuresAlarm: cloudwatch.Alarm;
  /** The archive is falling behind the stream (failing and retrying, or throttled). */
  readonly lagAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ArchiveProps) {
    super(scope, id);
    const declaration = props.stream ?? ARCHIVE_STREAM;
    const retain = props.removalPolicy === 'retain';
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.bucketKey = new kms.Key(this, 'BucketKey', {
      description: 'Encrypts the audit trail archive (events and digests)',
      enableKeyRotation: true,
      // Without it the archive cannot be read: it lives as long as the bucket.
      removalPolicy,
    });

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // S3 delivers server access logs to SSE-S3 buckets only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      ...PRIVATE_BUCKET,
      versioned: true,
      lifecycleRules: [{ id: 'colder-then-expire', transitions: [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) }], expiration: Duration.days(730) }],
      removalPolicy,
    });
    Validations.of(cfn(this.accessLogs)).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket receives the server access logs of the project\'s other buckets; logging its own access would need another bucket, and so on. ' +
        'It is private, TLS-only and versioned, and CloudTrail records management actions on it.',
    });

    const { config } = props;
    const lockPeriod = Duration.days(config.objectLockDays);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.bucketKey,
      bucketKeyEnabled: true,
      ...PRIVATE_BUCKET,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention:
        config.objectLockMode === 'COMPLIANCE' ? s3.ObjectLockRetention.compliance(lockPeriod) : s3.ObjectLockRetention.governance(lockPeriod),
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        {
          id: 'colder-storage',
          // Event objects only: digests are tiny and read by every verification.
          prefix: ARCHIVE_PREFIXES.events,
          transitions: config.transitions.map((t) => ({ storageClass: STORAGE_CLASSES[t.storageClass], transitionAfter: Duration.days(t.afterDays) })),
          ...(config.expireAfterDays !== null ? { expiration: Duration.days(config.expireAfterDays) } : {}),
          // Older versions exist only where a batch was retried before its commit (or someone overwrote an object:
          // then the old version is the evidence). They are locked like the rest and kept as long.
          noncurrentVersionExpiration: Duration.days(Math.max(config.objectLockDays, config.expireAfterDays ?? 0) + 1),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });

    this.signingKey = new kms.Key(this, 'DigestSigningKey', {
      description: 'Signs the audit trail archive digests (ECDSA P-256); verify with kms:GetPublicKey',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      // Digests signed with it must stay verifiable whatever happens to the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const fn = props.api.functionFor(declaration.function);
    this.function = fn;
    this.grantBuckets(fn, declaration.function);
    // Exactly what a signed, encrypted PutObject needs: Sign on the digest key, a data key from the bucket key.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:Sign'], resources: [this.signingKey.keyArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: [this.bucketKey.keyArn] }));
    fn.addEnvironment(ARCHIVE_BUCKET.envVar, this.bucket.bucketName);
    fn.addEnvironment(SIGNING_KEY_ID_ENV, this.signingKey.keyArn);

    const consumer = addStreamConsumer(this, {
      declaration,
      fn,
      table: props.eventStore.table(declaration.table),
      failureDescription:
        'The archive gave up on stream records (they left the stream before a batch went through): those events are not archived. ' +
        'They are still in the events table; see the StreamFailures queue for the range.',
      lagDescription:
        `The archive is more than ${declaration.iteratorAgeAlarmSeconds / 60} minutes behind the events stream (it keeps failing, or is throttled). ` +
        'The stream keeps records 24 hours: fix it before then, or those events must be re-archived from the table.',
    });
    this.mapping = consumer.mapping;
    this.failures = consumer.failures;
    this.failuresAlarm = consumer.failuresAlarm;
    this.lagAlarm = consumer.lagAlarm;

  }

  /** The declared bucket access, as exact actions on `<bucket>/<prefix>*`. */
  private grantBuckets(fn: lambda.IFunction, declaration: FunctionDeclaration): void {
    for (const access of declaration.buckets ?? []) {
      if (access.bucket.id !== ARCHIVE_BUCKET.id) throw new Error(`the archive construct builds only the ${ARCHIVE_BUCKET.id} bucket, not ${access.bucket.id}`);
      const resources = access.prefixes.map((prefix) => this.bucket.arnForObjects(`${prefix}*`));
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...access.actions], resources }));
      const policy = fn.role?.node.tryFindChild('DefaultPolicy');
      if (policy) {
        const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
        for (const prefix of access.prefixes) {
          Validations.of(cfn(policy)).acknowledge({
            id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
            reason: `Archive object keys are made per stream batch (${prefix}dt=…/hour=…/…); the function may only put objects under this prefix of this bucket.`,
          });
        }
      }
    }
  }
}

function cfn(construct: IConstruct): IConstruct {
  return construct.node.defaultChild ?? construct;
}

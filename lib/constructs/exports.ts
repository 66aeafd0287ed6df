import { Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { EXPORT_LINK_SECONDS_ENV, EXPORT_RETENTION_DAYS_ENV } from '../../lambdas/core/exports';
import { EXPORT_FUNCTION_NAME_ENV } from '../../lambdas/adapters/export-launcher';
import { EXPORTS_BUCKET, EXPORTS_OBJECT_PREFIX } from '../declarations/buckets';
import { ADMIN_FUNCTION, EXPORT_FUNCTION, type FunctionDeclaration } from '../declarations/functions';
import type { ExportsConfig } from '../exports-config';
import type { AuditApi } from './api';
import { PRIVATE_BUCKET } from './private-bucket';

export interface ExportsProps {
  readonly config: ExportsConfig;
  /** `retain` keeps the bucket when the stack is deleted (its objects expire anyway). */
  readonly removalPolicy: 'retain' | 'destroy';
  /** Builds the functions like every other (own role, log group, declared table access). */
  readonly api: AuditApi;
  /** Where the bucket's server access logs go (who downloaded which export, with which link). */
  readonly accessLogs: s3.IBucket;
}

/**
 * Exports (issue 3): the bucket exports are streamed to, the export
 * function, and what the Admin function needs to start one and to hand out
 * download links.
 *
 * The bucket is private (all public access blocked, ACLs disabled),
 * encrypted with S3-managed keys, TLS only, logs every access to the access
 * log bucket, and a lifecycle rule deletes each export after
 * `exports.retentionDays` (and any upload a crash left unfinished after a
 * day). S3-managed rather than a KMS key: an export is a short-lived copy of
 * what DynamoDB already holds under AWS-managed encryption, and presigned
 * links then need no key grants.
 *
 * Grants, each exactly as declared (lib/declarations/functions.ts): the
 * export function may put (and abort) objects under `exports/`; the Admin
 * function may get them (presigned links carry its authority) and invoke
 * the export function, nothing else of either.
 */
export class Exports extends Construct {
  readonly bucket: s3.Bucket;
  readonly exportFunction: lambda.IFunction;
  readonly adminFunction: lambda.IFunction;

  constructor(scope: Construct, id: string, props: ExportsProps) {
    super(scope, id);
    const { config } = props;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      ...PRIVATE_BUCKET,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'exports/',
      lifecycleRules: [
        { id: 'expire-exports', prefix: EXPORTS_OBJECT_PREFIX, expiration: Duration.days(config.retentionDays) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: props.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    const exportFn = props.api.functionFor(EXPORT_FUNCTION);
    const adminFn = props.api.functionFor(ADMIN_FUNCTION);
    this.exportFunction = exportFn;
    this.adminFunction = adminFn;
    this.grantBuckets(exportFn, EXPORT_FUNCTION);
    this.grantBuckets(adminFn, ADMIN_FUNCTION);
    for (const fn of [exportFn, adminFn]) fn.addEnvironment(EXPORTS_BUCKET.envVar, this.bucket.bucketName);

    // Started with InvocationType Event. No retries: the function records any failure on the job (and a retry
    // would find the job no longer queued); a crash shows as the function's error alarm.
    exportFn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.hours(1) });
    adminFn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [exportFn.functionArn] }));
    adminFn.addEnvironment(EXPORT_FUNCTION_NAME_ENV, exportFn.functionName);
    adminFn.addEnvironment(EXPORT_RETENTION_DAYS_ENV, String(config.retentionDays));
    adminFn.addEnvironment(EXPORT_LINK_SECONDS_ENV, String(config.linkExpirySeconds));
  }

  /** The declared bucket access, as exact actions on `<bucket>/<prefix>*`. */
  private grantBuckets(fn: lambda.Function, declaration: FunctionDeclaration): void {
    for (const access of declaration.buckets ?? []) {
      if (access.bucket.id !== EXPORTS_BUCKET.id) throw new Error(`the exports construct builds only the ${EXPORTS_BUCKET.id} bucket, not ${access.bucket.id}`);
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...access.actions], resources: access.prefixes.map((prefix) => this.bucket.arnForObjects(`${prefix}*`)) }));
      const policy = fn.role?.node.tryFindChild('DefaultPolicy');
      if (policy) {
        const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
        for (const prefix of access.prefixes) {
          Validations.of(cfn(policy)).acknowledge({
            id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
            reason: `Export object keys are made per job (${prefix}<id>.<format>); ${declaration.id} may only ${access.actions.join(', ')} objects under this prefix of this bucket.`,
          });
        }
      }
    }
  }
}

function cfn(construct: IConstruct): IConstruct {
  return construct.node.defaultChild ?? construct;
}

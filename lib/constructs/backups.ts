import { Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { BACKUP_ENV } from '../../lambdas/core/table-export';
import type { BackupConfig } from '../archive-config';
import { BACKUP_BUCKET } from '../declarations/buckets';
import { TABLE_EXPORT_SCHEDULE, type ScheduleDeclaration } from '../declarations/schedules';
import { EVENTS_TABLE } from '../declarations/tables';
import type { AuditApi } from './api';
import type { EventStore } from './event-store';
import { PRIVATE_BUCKET } from './private-bucket';

export interface TableBackupsProps {
  readonly config: BackupConfig;
  readonly removalPolicy: 'retain' | 'destroy';
  readonly eventStore: EventStore;
  readonly api: AuditApi;
  /** Where the backup bucket's server access logs go (the archive's access-log bucket). */
  readonly accessLogs: s3.IBucket;
  readonly schedule?: ScheduleDeclaration;
}

/**
 * Backups independent of the app (docs/archive.md, "Backups"): PITR is on
 * for every table (EventStore); on top, DynamoDB exports the events table to
 * a bucket of its own, a full export first and then incremental ones, each
 * started by the table-export function when enough new events arrived
 * (checked every 15 minutes) or on demand (`npm run backup`). Exports are
 * made by DynamoDB from PITR data, without reading the table.
 */
export class TableBackups extends Construct {
  readonly bucket: s3.Bucket;
  readonly key: kms.Key;
  readonly function: lambda.IFunction;
  readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: TableBackupsProps) {
    super(scope, id);
    const schedule = props.schedule ?? TABLE_EXPORT_SCHEDULE;
    const removalPolicy = props.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.key = new kms.Key(this, 'Key', { description: 'Encrypts the audit trail table exports', enableKeyRotation: true, removalPolicy });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      ...PRIVATE_BUCKET,
      versioned: true,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'backups/',
      lifecycleRules: [
        { id: 'expire-exports', expiration: Duration.days(props.config.keepExportsDays), noncurrentVersionExpiration: Duration.days(1) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });

    const declaration = schedule.function;
    const fn = props.api.functionFor(declaration);
    this.function = fn;
    const table = props.eventStore.table(EVENTS_TABLE);
    // DynamoDB's export runs with the caller's rights: start it on the events table, write the objects, use the key.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:ExportTableToPointInTime'], resources: [table.tableArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [this.key.keyArn] }));
    for (const access of declaration.buckets ?? []) {
      if (access.bucket.id !== BACKUP_BUCKET.id) throw new Error(`the backups construct builds only the ${BACKUP_BUCKET.id} bucket, not ${access.bucket.id}`);
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...access.actions], resources: access.prefixes.map((prefix) => this.bucket.arnForObjects(`${prefix}*`)) }));
      const policy = fn.role?.node.tryFindChild('DefaultPolicy');
      if (policy) {
        const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
        for (const prefix of access.prefixes) {
          Validations.of(cfn(policy)).acknowledge({
            id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
            reason: `DynamoDB names each export's objects (${prefix}…/AWSDynamoDB/<export id>/…); the function may write only under this prefix of the backup bucket.`,
          });
        }
      }
    }
    fn.addEnvironment(BACKUP_ENV.tableArn, table.tableArn);
    fn.addEnvironment(BACKUP_ENV.bucket, this.bucket.bucketName);
    fn.addEnvironment(BACKUP_ENV.kmsKeyArn, this.key.keyArn);
    fn.addEnvironment(BACKUP_ENV.exportAfterEvents, String(props.config.exportAfterEvents));
    fn.addEnvironment(BACKUP_ENV.fullExportEveryDays, String(props.config.fullExportEveryDays));

    this.schedule = new events.Rule(this, schedule.id, {
      description: 'Starts a DynamoDB export of the events table when enough new events arrived',
      schedule: events.Schedule.rate(Duration.minutes(schedule.rateMinutes)),
      // A missed check is made up by the next one.
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.minutes(schedule.rateMinutes) })],
    });
  }
}

function cfn(construct: IConstruct): IConstruct {
  return construct.node.defaultChild ?? construct;
}

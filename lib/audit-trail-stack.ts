import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AuditTrailConfig } from './config';
import { AdminAuth } from './constructs/admin-auth';
import { AdminSite } from './constructs/admin-site';
import { ERROR_TRACKER_FUNCTION, RULES_FUNCTION, SILENCE_FUNCTION } from './declarations/functions';
import { Archive } from './constructs/archive';
import { TableBackups } from './constructs/backups';
import { AuditApi } from './constructs/api';
import { EventStats } from './constructs/event-stats';
import { ErrorTracking } from './constructs/error-tracking';
import { Exports } from './constructs/exports';
import { EventStore } from './constructs/event-store';
import { Monitoring } from './constructs/monitoring';
import { RulesEngine } from './constructs/rules-engine';
import { ARCHIVE_STREAM, ERRORS_STREAM, RULES_STREAM, STATS_STREAM } from './declarations/streams';

/** The functions that send notifications (the rule engine runs in each), and so put links to the admin site in them. */
const NOTIFYING_FUNCTIONS = [RULES_FUNCTION, SILENCE_FUNCTION, ERROR_TRACKER_FUNCTION];

export interface AuditTrailStackProps extends StackProps {
  readonly config: AuditTrailConfig;
  /** A finished build of the admin SPA to deploy as is; absent, synthesis builds frontend/ (AdminSiteProps.prebuilt). */
  readonly adminSiteBuild?: string;
}

/** The audit trail on AWS. Composition only: each concern is one construct under lib/constructs/. */
export class AuditTrailStack extends Stack {
  readonly eventStore: EventStore;
  readonly adminAuth: AdminAuth;
  readonly api: AuditApi;
  readonly monitoring: Monitoring;
  readonly rulesEngine: RulesEngine;
  readonly eventStats: EventStats;
  readonly errorTracking: ErrorTracking;
  readonly exports: Exports;
  readonly archive: Archive;
  readonly backups: TableBackups;
  readonly adminSite: AdminSite;

  constructor(scope: Construct, id: string, props: AuditTrailStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.eventStore = new EventStore(this, 'EventStore', { removalPolicy: config.removalPolicy });
    // The pool, groups and hosted sign-in domain; the SPA's client comes with the admin site (its URL is the callback).
    this.adminAuth = new AdminAuth(this, 'AdminAuth', { domainPrefix: config.adminSite.domainPrefix });
    this.api = new AuditApi(this, 'Api', { config, eventStore: this.eventStore, adminAuth: this.adminAuth });
    // Before monitoring, which watches every function the API construct built (the rule function included).
    this.rulesEngine = new RulesEngine(this, 'RulesEngine', { notifications: config.notifications, eventStore: this.eventStore, api: this.api });
    // The S3 archive on the events stream (issue 6); before monitoring too.
    this.archive = new Archive(this, 'Archive', { config: config.archive, removalPolicy: config.removalPolicy, eventStore: this.eventStore, api: this.api });
    // Table exports after N new events (issue 6), their bucket logged with the archive's; before monitoring too.
    this.backups = new TableBackups(this, 'Backups', {
      config: config.backup,
      removalPolicy: config.removalPolicy,
      eventStore: this.eventStore,
      api: this.api,
      accessLogs: this.archive.accessLogs,
    });
    // GET /v1/stats: the stats counter on the events stream (issue 3). Before monitoring, like the rule function.
    this.eventStats = new EventStats(this, 'EventStats', { eventStore: this.eventStore, api: this.api });
    // Exports (issue 3): their bucket (access logged with the archive's) and the export function. Before monitoring too.
    this.exports = new Exports(this, 'Exports', { config: config.exports, removalPolicy: config.removalPolicy, api: this.api, accessLogs: this.archive.accessLogs });
    // Error groups (issue 5): the error tracker on the events stream, notifying through the rule engine's channels. Before monitoring too.
    this.errorTracking = new ErrorTracking(this, 'ErrorTracking', {
      eventStore: this.eventStore,
      api: this.api,
      rulesEngine: this.rulesEngine,
      notifications: config.notifications,
    });
    // The admin SPA (issue 7): S3 behind CloudFront, with the API under /v1/* of the same distribution, and the SPA's
    // Cognito client (callback: the distribution's URL). Its buckets log access to the archive's access-log bucket.
    this.adminSite = new AdminSite(this, 'AdminSite', {
      settings: config.adminSite,
      removalPolicy: config.removalPolicy,
      api: this.api,
      adminAuth: this.adminAuth,
      accessLogs: this.archive.accessLogs,
      ...(props.adminSiteBuild ? { prebuilt: props.adminSiteBuild } : {}),
    });
    // Links in notification messages point at this admin site unless the config names another. Only the functions
    // that compose messages get it: they are not API integrations, so this adds no dependency cycle.
    if (!config.notifications.adminUrl) {
      for (const declaration of NOTIFYING_FUNCTIONS) this.api.functions.get(declaration.id)?.addEnvironment('ADMIN_URL', this.adminSite.url);
    }
    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: this.api.functions,
      api: this.api.api,
      eventStore: this.eventStore,
      metricsNamespace: this.api.metricsNamespace,
      // Every consumer of the events stream: its failure and lag alarms to the ops topic, its lag on the dashboard.
      streamConsumers: new Map([
        [RULES_STREAM.id, this.rulesEngine],
        [ERRORS_STREAM.id, this.errorTracking],
        [STATS_STREAM.id, this.eventStats],
        [ARCHIVE_STREAM.id, this.archive],
      ]),
    });

    new CfnOutput(this, 'ExportsBucketName', { value: this.exports.bucket.bucketName, description: 'Exports (GET /v1/exports/{id} hands out links to them)' });
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API (paths start with v1/)' });
    new CfnOutput(this, 'UserPoolId', { value: this.adminAuth.userPool.userPoolId });
    new CfnOutput(this, 'AdminSpaClientId', { value: this.adminAuth.spaClient.userPoolClientId });
    new CfnOutput(this, 'EmailTopicArn', { value: this.rulesEngine.emailTopic.topicArn, description: 'Alert emails (subscriptions from auditTrail.notifications.emails)' });
    new CfnOutput(this, 'SmsTopicArn', { value: this.rulesEngine.smsTopic.topicArn, description: 'Alert SMS (subscriptions from auditTrail.notifications.phones)' });
    new CfnOutput(this, 'ArchiveBucketName', { value: this.archive.bucket.bucketName, description: 'The event archive (ARCHIVE_BUCKET for verify-archive and restore)' });
    new CfnOutput(this, 'ArchiveSigningKeyArn', { value: this.archive.signingKey.keyArn, description: 'Verifies archive digests (ARCHIVE_SIGNING_KEY_ID)' });
    new CfnOutput(this, 'BackupBucketName', { value: this.backups.bucket.bucketName, description: 'DynamoDB exports of the events table' });
    new CfnOutput(this, 'ArchiveStateTableName', { value: this.eventStore.table('ArchiveState').tableName, description: 'The digest chain head (ARCHIVE_STATE_TABLE)' });
    new CfnOutput(this, 'EventsTableName', { value: this.eventStore.events.tableName, description: 'The events table (EVENTS_TABLE, for restore)' });
    new CfnOutput(this, 'AdminUrl', { value: this.adminSite.url, description: 'The admin SPA (CloudFront); the API is also under its /v1/' });
    new CfnOutput(this, 'AdminSiteBucketName', { value: this.adminSite.bucket.bucketName, description: 'The built admin SPA and its config.json' });
    new CfnOutput(this, 'OpsAlarmsTopicArn', { value: this.monitoring.alarmTopic.topicArn, description: 'Subscribe the people on call here' });
  }
}

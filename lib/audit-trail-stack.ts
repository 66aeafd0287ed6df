import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AuditTrailConfig } from './config';
import { AdminAuth } from './constructs/admin-auth';
import { AuditApi } from './constructs/api';
import { EventStore } from './constructs/event-store';
import { Monitoring } from './constructs/monitoring';

export interface AuditTrailStackProps extends StackProps {
  readonly config: AuditTrailConfig;
}

/** The audit trail on AWS. Composition only: each concern is one construct under lib/constructs/. */
export class AuditTrailStack extends Stack {
  readonly eventStore: EventStore;
  readonly adminAuth: AdminAuth;
  readonly api: AuditApi;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: AuditTrailStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.eventStore = new EventStore(this, 'EventStore', { removalPolicy: config.removalPolicy });
    this.adminAuth = new AdminAuth(this, 'AdminAuth');
    this.api = new AuditApi(this, 'Api', { config, eventStore: this.eventStore, adminAuth: this.adminAuth });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: this.api.functions,
      api: this.api.api,
      eventStore: this.eventStore,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API (paths start with v1/)' });
    new CfnOutput(this, 'UserPoolId', { value: this.adminAuth.userPool.userPoolId });
    new CfnOutput(this, 'AdminSpaClientId', { value: this.adminAuth.spaClient.userPoolClientId });
    new CfnOutput(this, 'OpsAlarmsTopicArn', { value: this.monitoring.alarmTopic.topicArn, description: 'Subscribe the people on call here' });
  }
}

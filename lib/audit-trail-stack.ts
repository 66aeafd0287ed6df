import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AuditTrailConfig } from './config';
import { AdminAuth } from './constructs/admin-auth';
import { AuditApi } from './constructs/api';
import { EventStore } from './constructs/event-store';
import { Monitoring } from './constructs/monitoring';
import { RulesEngine } from './constructs/rules-engine';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';

export interface AuditTrailStackProps extends StackProps {
  readonly config: AuditTrailConfig;
}

/** The audit trail on AWS. Composition only: each concern is one construct under lib/constructs/. */
export class AuditTrailStack extends Stack {
  readonly eventStore: EventStore;
  readonly adminAuth: AdminAuth;
  readonly api: AuditApi;
  readonly monitoring: Monitoring;
  readonly rulesEngine: RulesEngine;

  constructor(scope: Construct, id: string, props: AuditTrailStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.eventStore = new EventStore(this, 'EventStore', { removalPolicy: config.removalPolicy });
    this.adminAuth = new AdminAuth(this, 'AdminAuth');
    this.api = new AuditApi(this, 'Api', { config, eventStore: this.eventStore, adminAuth: this.adminAuth });
    // Before monitoring, which watches every function the API construct built (the rule function included).
    this.rulesEngine = new RulesEngine(this, 'RulesEngine', { notifications: config.notifications, eventStore: this.eventStore, api: this.api });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: this.api.functions,
      api: this.api.api,
      eventStore: this.eventStore,
    });

    this.rulesEngine.failuresAlarm.addAlarmAction(new SnsAction(this.monitoring.alarmTopic));
    this.rulesEngine.failuresAlarm.addOkAction(new SnsAction(this.monitoring.alarmTopic));

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API (paths start with v1/)' });
    new CfnOutput(this, 'UserPoolId', { value: this.adminAuth.userPool.userPoolId });
    new CfnOutput(this, 'AdminSpaClientId', { value: this.adminAuth.spaClient.userPoolClientId });
    new CfnOutput(this, 'EmailTopicArn', { value: this.rulesEngine.emailTopic.topicArn, description: 'Alert emails (subscriptions from auditTrail.notifications.emails)' });
    new CfnOutput(this, 'SmsTopicArn', { value: this.rulesEngine.smsTopic.topicArn, description: 'Alert SMS (subscriptions from auditTrail.notifications.phones)' });
    new CfnOutput(this, 'OpsAlarmsTopicArn', { value: this.monitoring.alarmTopic.topicArn, description: 'Subscribe the people on call here' });
  }
}

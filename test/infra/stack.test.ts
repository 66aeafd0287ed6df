import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { AuditTrailApp } from '../../lib/app';
import { buildTestApp } from '../helpers/test-app';
import { DEFAULT_CONFIG } from '../../lib/config';
import {
  APP_KEY_AUTHORIZER_FUNCTION,
  CURSOR_SIGNING_SECRET,
  FUNCTIONS,
  INGEST_FUNCTION,
  QUERY_FUNCTION,
  type FunctionDeclaration,
} from '../../lib/declarations/functions';
import { ROUTES, USER_GROUPS } from '../../lib/declarations/routes';
import { STREAM_CONSUMERS } from '../../lib/declarations/streams';
import { ERROR_GROUPS_TABLE, APP_KEYS_TABLE, EVENT_LIST_ATTRIBUTES, EVENTS_TABLE, NOTIFICATIONS_TABLE, STATS_TABLE, TABLES, type TableDeclaration } from '../../lib/declarations/tables';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

type Json = Record<string, any>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

// One synthesis for the whole file: bundling the functions takes a few seconds.
let built: AuditTrailApp;
let template: Template;

beforeAll(() => {
  // The same app `cdk synth` builds, with cdk.json's context (feature flags and the example config).
  built = buildTestApp({ context: cdkJson.context });
  template = Template.fromStack(built.stack);
});

const logicalId = (construct: IConstruct): string =>
  Stack.of(construct).getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
const tableLogicalId = (declaration: TableDeclaration) => logicalId(built.stack.eventStore.table(declaration));
const tableArn = (declaration: TableDeclaration) => ({ 'Fn::GetAtt': [tableLogicalId(declaration), 'Arn'] });
const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);
const resources = (statement: Statement): unknown[] => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]);
const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function functionResource(declaration: FunctionDeclaration): Json {
  const fn = built.stack.api.functions.get(declaration.id);
  if (!fn) throw new Error(`no function ${declaration.id}`);
  return template.toJSON().Resources[logicalId(fn)];
}

/** Every statement of every policy attached to the function's role. */
function roleStatements(declaration: FunctionDeclaration): Statement[] {
  const roleId = functionResource(declaration).Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Json[];
  const attached = policies.filter((policy) => policy.Properties.Roles.some((role: Json) => role.Ref === roleId));
  expect(attached.length).toBeGreaterThan(0);
  expect(template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
  return attached.flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/** The DynamoDB actions the role is allowed on a resource (the table ARN or something built from it). */
function dynamoActionsOn(statements: Statement[], declaration: TableDeclaration): { onTable: string[]; onAnything: string[] } {
  const arn = tableArn(declaration);
  const dynamo = statements.filter((s) => s.Effect === 'Allow' && list(s.Action).some((a) => a.startsWith('dynamodb:')));
  return {
    onTable: dynamo.filter((s) => resources(s).some((r) => sameJson(r, arn))).flatMap((s) => list(s.Action)),
    onAnything: dynamo.flatMap((s) => list(s.Action)),
  };
}

function methodResource(httpMethod: string, routePath: string): Json {
  const method = built.stack.api.api.methods.find((m) => m.httpMethod === httpMethod && m.resource.path === routePath);
  if (!method) throw new Error(`no method ${httpMethod} ${routePath}`);
  return template.toJSON().Resources[logicalId(method)];
}

describe('event store', () => {
  const eventsTable = () => template.toJSON().Resources[tableLogicalId(EVENTS_TABLE)] as Json;

  test('the events table has the six list indexes, keyed by partition and time, projecting the list attributes', () => {
    const indexes = eventsTable().Properties.GlobalSecondaryIndexes as Json[];
    expect(indexes.map((index) => index.IndexName)).toEqual(['byDate', 'byUser', 'byType', 'bySeverity', 'byRecord', 'byTrace']);
    for (const declared of EVENTS_TABLE.indexes) {
      expect(indexes).toContainEqual({
        IndexName: declared.name,
        KeySchema: [
          { AttributeName: declared.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...EVENT_LIST_ATTRIBUTES] },
      });
    }
    expect(eventsTable().Properties.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
  });

  test('the events table streams new images, expires items on expiresAt, bills on demand and is protected', () => {
    expect(eventsTable()).toMatchObject({
      Type: 'AWS::DynamoDB::GlobalTable',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        Replicas: [
          expect.objectContaining({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      },
    });
  });

  test('every declared table exists with point-in-time recovery and deletion protection', () => {
    const tables = template.findResources('AWS::DynamoDB::GlobalTable');
    expect(Object.keys(tables)).toHaveLength(TABLES.length);
    for (const table of Object.values(tables) as Json[]) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.Replicas[0]).toMatchObject({
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    }
  });
});

describe('functions', () => {
  test('every function runs Node.js 24 on arm64 with active tracing and its own log group', () => {
    const all = template.findResources('AWS::Lambda::Function') as Record<string, Json>;
    // Besides the declared functions, only aws-cdk-lib's BucketDeployment handler (the admin site's, test/infra/admin-site.test.ts).
    const deploymentHandlers = Object.keys(all).filter((id) => id.startsWith('CustomCDKBucketDeployment'));
    expect(deploymentHandlers).toHaveLength(1);
    const functions = Object.entries(all).filter(([id]) => !deploymentHandlers.includes(id)).map(([, fn]) => fn);
    expect(functions).toHaveLength(FUNCTIONS.length);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
      });
    }
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('each function gets the deployment config and the physical names of exactly the tables it accesses', () => {
    for (const declaration of FUNCTIONS) {
      const variables = functionResource(declaration).Properties.Environment.Variables as Json;
      expect(variables).toMatchObject({
        UNKNOWN_EVENT_TYPES: DEFAULT_CONFIG.unknownEventTypes,
        RETENTION_DAYS: JSON.stringify(DEFAULT_CONFIG.retentionDays),
        POWERTOOLS_LOG_LEVEL: DEFAULT_CONFIG.logLevel,
        NODE_OPTIONS: '--enable-source-maps',
      });
      const tableVariables = Object.keys(variables).filter((name) => name.endsWith('_TABLE'));
      // A table may be declared twice (e.g. indexes read, the table written): one variable each.
      expect(tableVariables.sort()).toEqual([...new Set(declaration.access.map(({ table }) => table.envVar))].sort());
      for (const { table } of declaration.access) expect(variables[table.envVar]).toEqual({ Ref: tableLogicalId(table) });
    }
  });

  test('ingest can create events but never update, delete or batch-overwrite one', () => {
    const { onTable, onAnything } = dynamoActionsOn(roleStatements(INGEST_FUNCTION), EVENTS_TABLE);
    expect(onTable).toEqual(['dynamodb:PutItem']);
    for (const forbidden of ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:*']) {
      expect(onTable).not.toContain(forbidden);
    }
    expect(onAnything.sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
  });

  test('query can only read: events on the table and its indexes, the stats counters by Query', () => {
    const statements = roleStatements(QUERY_FUNCTION);
    const { onTable, onAnything } = dynamoActionsOn(statements, EVENTS_TABLE);
    expect(onTable.sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);
    // GET /v1/stats (issue 3): Query on the Stats table alone.
    expect(dynamoActionsOn(statements, STATS_TABLE).onTable).toEqual(['dynamodb:Query']);
    expect(onAnything.sort()).toEqual([...onTable, 'dynamodb:Query'].sort());
    const dynamo = statements.filter((s) => list(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap(resources)).toEqual([tableArn(EVENTS_TABLE), { 'Fn::Join': ['', [tableArn(EVENTS_TABLE), '/index/*']] }, tableArn(STATS_TABLE)]);
  });

  test('the cursor signing key is a generated secret that only the query function reads, by ARN, with GetSecretValue alone', () => {
    const secrets = template.findResources('AWS::SecretsManager::Secret');
    expect(Object.keys(secrets)).toHaveLength(1);
    const [secretId] = Object.keys(secrets);
    expect((secrets[secretId] as Json).Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
    const variables = functionResource(QUERY_FUNCTION).Properties.Environment.Variables as Json;
    expect(variables[CURSOR_SIGNING_SECRET.arnEnvVar]).toEqual({ Ref: secretId });
    expect(variables[CURSOR_SIGNING_SECRET.valueEnvVar]).toBeUndefined();
    for (const declaration of FUNCTIONS) {
      const onSecrets = roleStatements(declaration).filter((s) => list(s.Action).some((a) => a.startsWith('secretsmanager:')));
      const expected = declaration.id === QUERY_FUNCTION.id ? [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secretId } }] : [];
      expect(onSecrets).toEqual(expected);
    }
  });

  test('the authorizer can only get items from the app keys table', () => {
    const statements = roleStatements(APP_KEY_AUTHORIZER_FUNCTION);
    const dynamo = statements.filter((s) => list(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual([{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: tableArn(APP_KEYS_TABLE) }]);
  });

  test('roles write logs only to their own log group, and nothing but X-Ray is granted on "*"', () => {
    for (const declaration of FUNCTIONS) {
      const logGroupId = functionResource(declaration).Properties.LoggingConfig.LogGroup.Ref;
      const statements = roleStatements(declaration);
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      });
      const onStar = statements.filter((s) => resources(s).includes('*'));
      expect(onStar.flatMap((s) => list(s.Action)).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });
});

describe('API', () => {
  test('POST /v1/events uses the app-key REQUEST authorizer on x-api-key, cached 5 minutes', () => {
    const method = methodResource('POST', '/v1/events');
    expect(method.Properties.AuthorizationType).toBe('CUSTOM');
    expect(method.Properties.Integration).toMatchObject({ Type: 'AWS_PROXY' });
    const authorizer = template.toJSON().Resources[method.Properties.AuthorizerId.Ref];
    expect(authorizer.Properties).toMatchObject({
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.x-api-key',
      AuthorizerResultTtlInSeconds: 300,
    });
    const authorizerFunctionId = logicalId(built.stack.api.functions.get(APP_KEY_AUTHORIZER_FUNCTION.id)!);
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(authorizerFunctionId);
  });

  test('GET /v1/events/{id} uses the Cognito user-pool authorizer of the admin pool', () => {
    const method = methodResource('GET', '/v1/events/{id}');
    expect(method.Properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
    const authorizer = template.toJSON().Resources[method.Properties.AuthorizerId.Ref];
    expect(authorizer.Properties).toMatchObject({
      Type: 'COGNITO_USER_POOLS',
      ProviderARNs: [{ 'Fn::GetAtt': [logicalId(built.stack.adminAuth.userPool), 'Arn'] }],
    });
  });

  test.each(['/v1/events', '/v1/records/{type}/{id}/history', '/v1/traces/{traceId}'])(
    'GET %s is served by the query function behind the Cognito user-pool authorizer',
    (routePath) => {
      const method = methodResource('GET', routePath);
      expect(method.Properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
      expect(method.Properties.Integration).toMatchObject({ Type: 'AWS_PROXY' });
      expect(JSON.stringify(method.Properties.Integration.Uri)).toContain(logicalId(built.stack.api.functions.get(QUERY_FUNCTION.id)!));
    },
  );

  test.each(ROUTES.filter((route) => route.auth === 'appKey').map((route) => route.path))(
    'OPTIONS %s answers the CORS preflight for browser apps, without auth or a function',
    (routePath) => {
      const method = methodResource('OPTIONS', routePath);
      expect(method.Properties.AuthorizationType).toBe('NONE');
      expect(method.Properties.Integration.Type).toBe('MOCK');
      const headers = method.Properties.Integration.IntegrationResponses[0].ResponseParameters as Record<string, string>;
      expect(headers['method.response.header.Access-Control-Allow-Origin']).toBe("'*'");
      expect(headers['method.response.header.Access-Control-Allow-Headers']).toContain('x-api-key');
    },
  );

  test('GET /v1/health is a mock answering {"status":"ok"} without auth', () => {
    const method = methodResource('GET', '/v1/health');
    expect(method.Properties.AuthorizationType).toBe('NONE');
    expect(method.Properties.AuthorizerId).toBeUndefined();
    expect(method.Properties.Integration).toMatchObject({
      Type: 'MOCK',
      IntegrationResponses: [expect.objectContaining({ StatusCode: '200', ResponseTemplates: { 'application/json': '{"status":"ok"}' } })],
    });
  });

  test('the prod stage throttles from config, logs access as JSON, traces, and never logs bodies', () => {
    const stages = Object.values(template.findResources('AWS::ApiGateway::Stage')) as Json[];
    expect(stages).toHaveLength(1);
    const [stage] = stages;
    expect(stage.Properties).toMatchObject({
      StageName: 'prod',
      TracingEnabled: true,
      MethodSettings: [
        expect.objectContaining({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: DEFAULT_CONFIG.apiThrottle.rateLimit,
          ThrottlingBurstLimit: DEFAULT_CONFIG.apiThrottle.burstLimit,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: true,
        }),
      ],
    });
    const format = JSON.parse(stage.Properties.AccessLogSetting.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', app: '$context.authorizer.app' });
  });

  test("API Gateway's own errors use the project's JSON error shape", () => {
    const responses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse')) as Json[];
    const types = responses.map((response) => response.Properties.ResponseType);
    expect(types).toEqual(
      expect.arrayContaining(['UNAUTHORIZED', 'ACCESS_DENIED', 'THROTTLED', 'REQUEST_TOO_LARGE', 'DEFAULT_4XX', 'DEFAULT_5XX']),
    );
    for (const response of responses) {
      const body = response.Properties.ResponseTemplates['application/json'] as string;
      // `$context.error.messageString` is API Gateway's already-quoted message: substitute one to check the JSON.
      const parsed = JSON.parse(body.replace('$context.error.messageString', '"a message"'));
      expect(parsed).toEqual({ error: { code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) } });
    }
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseTemplates: { 'application/json': '{"error":{"code":"unauthorized","message":$context.error.messageString}}' },
    });
    // The authorizer failing (its key lookup could not reach DynamoDB) asks the client to retry, as the functions' 503s do.
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'AUTHORIZER_FAILURE',
      StatusCode: '503',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Retry-After': "'1'" }),
    });
  });

  test('the stack outputs the API URL', () => {
    template.hasOutput('ApiUrl', { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
  });
});

describe('admin auth', () => {
  test('the admin pool has no self sign-up, signs in by email, offers TOTP and enforces threat protection', () => {
    template.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        UsernameAttributes: ['email'],
        MfaConfiguration: 'OPTIONAL',
        EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
        AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
        UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      }),
    });
  });

  test('the groups are admin and viewer', () => {
    const groups = Object.values(template.findResources('AWS::Cognito::UserPoolGroup')) as Json[];
    expect(groups.map((group) => group.Properties.GroupName).sort()).toEqual([...USER_GROUPS].sort());
  });

  test('the SPA client is public and uses the authorization code grant only', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
    });
  });
});

describe('monitoring', () => {
  test('every alarm notifies the KMS-encrypted ops topic', () => {
    const topics = template.findResources('AWS::SNS::Topic');
    const topicId = logicalId(built.stack.monitoring.alarmTopic);
    // The ops topic, and the rules engine's email and SMS topics (test/infra/rules-engine.test.ts).
    expect(Object.keys(topics)).toHaveLength(3);
    expect((topics[topicId] as Json).Properties.KmsMasterKeyId).toBeDefined();
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Json[];
    // Errors and throttles per function, the API's 5xx rate and p99 latency (all routes, and POST /v1/events),
    // throttles and system errors per accessed table, failed notifications, and per stream consumer (rules, archive,
    // stats, error tracker): its on-failure queue's depth and oldest record, and its lag behind the stream
    // (test/infra/monitoring.test.ts).
    const accessedTables = new Set(FUNCTIONS.flatMap((fn) => fn.access.map((access) => access.table.id)));
    expect(alarms).toHaveLength(FUNCTIONS.length * 2 + 1 + 2 + accessedTables.size * 2 + 1 + STREAM_CONSUMERS.length * 3);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  // cdk-nag 3 reports through CDK's policy validation (an error fails synthesis, so the beforeAll would
  // already have thrown); run the pack directly as well to name any finding, warnings included.
  const findings = () => new AwsSolutionsChecks().validateScope(built.app).violations;

  test('no unacknowledged errors', () => {
    const errors = findings().filter((finding) => finding.severity === 'error');
    expect(errors.map((e) => `${e.ruleName} at ${e.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  test('no unacknowledged warnings', () => {
    const warnings = findings().filter((finding) => finding.severity !== 'error');
    expect(warnings.map((w) => `${w.ruleName} at ${w.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  test('acknowledgements are exactly these, each on one resource, each with a reason', () => {
    const acknowledged: string[] = [];
    for (const resource of Object.values(template.toJSON().Resources as Record<string, Json>)) {
      for (const rule of resource.Metadata?.cdk_nag?.rules_to_suppress ?? []) {
        expect(rule.reason.length).toBeGreaterThan(60);
        acknowledged.push(`${resource.Type} ${rule.id}`);
      }
    }
    const eventsIndexes = `AwsSolutions-IAM5[Resource::<${tableLogicalId(EVENTS_TABLE)}.Arn>/index/*]`;
    expect(acknowledged.sort()).toEqual(
      [
        'AWS::Cognito::UserPool AwsSolutions-COG2',
        'AWS::ApiGateway::RestApi AwsSolutions-APIG2',
        'AWS::ApiGateway::Stage AwsSolutions-APIG3',
        'AWS::IAM::Role AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'AWS::SecretsManager::Secret AwsSolutions-SMG4',
        'AWS::ApiGateway::Method AwsSolutions-APIG4',
        // No Cognito on the routes apps call with a key (and on health): one acknowledgement each.
        ...ROUTES.filter((route) => route.auth === 'appKey' || route.auth === 'none').map(() => 'AWS::ApiGateway::Method AwsSolutions-COG4'),
        // The app routes' CORS preflights (OPTIONS mocks): no authorization, like every preflight.
        ...ROUTES.filter((route) => route.auth === 'appKey').flatMap(() => ['AWS::ApiGateway::Method AwsSolutions-APIG4', 'AWS::ApiGateway::Method AwsSolutions-COG4']),
        ...FUNCTIONS.map(() => 'AWS::IAM::Policy AwsSolutions-IAM5[Resource::*]'),
        `AWS::IAM::Policy ${eventsIndexes}`,
        // Rules and notifications: the notifications API's queries and dry runs, the rule function's stream read.
        `AWS::IAM::Policy ${eventsIndexes}`,
        `AWS::IAM::Policy AwsSolutions-IAM5[Resource::<${tableLogicalId(NOTIFICATIONS_TABLE)}.Arn>/index/*]`,
        `AWS::IAM::Policy AwsSolutions-IAM5[Resource::<${tableLogicalId(EVENTS_TABLE)}.Arn>/stream/*]`,
        'AWS::SQS::Queue AwsSolutions-SQS3',
        // The archive (test/infra/archive.test.ts): its stream read and on-failure queue like the rule engine's, puts
        // under its two key prefixes, and the access-log bucket that does not log itself.
        `AWS::IAM::Policy AwsSolutions-IAM5[Resource::<${tableLogicalId(EVENTS_TABLE)}.Arn>/stream/*]`,
        'AWS::SQS::Queue AwsSolutions-SQS3',
        `AWS::IAM::Policy AwsSolutions-IAM5[Resource::<${logicalId(built.stack.archive.bucket)}.Arn>/events/*]`,
        `AWS::IAM::Policy AwsSolutions-IAM5[Resource::<${logicalId(built.stack.archive.bucket)}.Arn>/digests/*]`,
        'AWS::S3::Bucket AwsSolutions-S1',
        // Table exports (issue 6): writes under the backup bucket's prefix.
        `AWS::IAM::Policy AwsSolutions-IAM5[Resource::<${logicalId(built.stack.backups.bucket)}.Arn>/table-exports/*]`,
        // The stats counter (issue 3): its stream read and on-failure queue, like the rule engine's.
        `AWS::IAM::Policy AwsSolutions-IAM5[Resource::<${tableLogicalId(EVENTS_TABLE)}.Arn>/stream/*]`,
        'AWS::SQS::Queue AwsSolutions-SQS3',
        // Error tracking (issue 5): the tracker's stream read and on-failure queue, and the errors API's queries on the status indexes.
        `AWS::IAM::Policy AwsSolutions-IAM5[Resource::<${tableLogicalId(EVENTS_TABLE)}.Arn>/stream/*]`,
        'AWS::SQS::Queue AwsSolutions-SQS3',
        `AWS::IAM::Policy AwsSolutions-IAM5[Resource::<${tableLogicalId(ERROR_GROUPS_TABLE)}.Arn>/index/*]`,
        // Exports (issue 3): the export function's Query on the events indexes; export objects under exports/ only,
        // put by the export function and read (presigned links) by the Admin function.
        `AWS::IAM::Policy ${eventsIndexes}`,
        `AWS::IAM::Policy AwsSolutions-IAM5[Resource::<${logicalId(built.stack.exports.bucket)}.Arn>/exports/*]`,
        `AWS::IAM::Policy AwsSolutions-IAM5[Resource::<${logicalId(built.stack.exports.bucket)}.Arn>/exports/*]`,
        // The admin site (issue 7, test/infra/admin-site.test.ts): the default *.cloudfront.net certificate's TLSv1 floor,
        // no geo restriction, no WAF (like the API stage); aws-cdk-lib's BucketDeployment handler: its Python runtime,
        // and the grants the library writes on the handler's role (asset bucket read, site bucket read/write, invalidations).
        'AWS::CloudFront::Distribution AwsSolutions-CFR1',
        'AWS::CloudFront::Distribution AwsSolutions-CFR2',
        'AWS::CloudFront::Distribution AwsSolutions-CFR4',
        'AWS::Lambda::Function AwsSolutions-L1',
        ...[
          'Action::s3:GetObject*',
          'Action::s3:GetBucket*',
          'Action::s3:List*',
          'Action::s3:DeleteObject*',
          'Action::s3:Abort*',
          'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
          `Resource::<${logicalId(built.stack.adminSite.bucket)}.Arn>/*`,
          'Resource::*',
        ].map((finding) => `AWS::IAM::Policy AwsSolutions-IAM5[${finding}]`),
      ].sort(),
    );
  });
});

describe('cdk.json', () => {
  test('the example auditTrail context is exactly the defaults of lib/config.ts', () => {
    expect(cdkJson.context.auditTrail).toEqual(DEFAULT_CONFIG);
  });
});

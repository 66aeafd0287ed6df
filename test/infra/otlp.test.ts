import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { AuditTrailApp } from '../../lib/app';
import { buildTestApp } from '../helpers/test-app';
import { OTLP_LOGS_FUNCTION } from '../../lib/declarations/functions';
import { BINARY_MEDIA_TYPES } from '../../lib/declarations/routes';
import { COUNTERS_TABLE, EVENTS_TABLE } from '../../lib/declarations/tables';

/** POST /v1/logs on AWS: binary media types for protobuf, the app-key authorizer, create-only grants. */
type Json = Record<string, any>;
let built: AuditTrailApp;
let template: Template;

beforeAll(() => {
  const cdkJson = JSON.parse(readFileSync(path.resolve(__dirname, '../../cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  built = buildTestApp({ context: cdkJson.context });
  template = Template.fromStack(built.stack);
});

const logicalId = (construct: IConstruct) => Stack.of(construct).getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);

test('the REST API hands protobuf bodies to functions base64-encoded', () => {
  template.hasResourceProperties('AWS::ApiGateway::RestApi', { BinaryMediaTypes: [...BINARY_MEDIA_TYPES] });
});

test('POST /v1/logs runs the OTLP function behind the app-key authorizer', () => {
  const method = built.stack.api.api.methods.find((m) => m.httpMethod === 'POST' && m.resource.path === '/v1/logs');
  expect(method).toBeDefined();
  const resource = template.toJSON().Resources[logicalId(method!)] as Json;
  expect(resource.Properties.AuthorizationType).toBe('CUSTOM');
  expect(JSON.stringify(resource.Properties.Integration.Uri)).toContain(logicalId(built.stack.api.functions.get(OTLP_LOGS_FUNCTION.id)!));
});

test('the OTLP function may only create events and count rate windows', () => {
  const fn = template.toJSON().Resources[logicalId(built.stack.api.functions.get(OTLP_LOGS_FUNCTION.id)!)] as Json;
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  const statements = (Object.values(template.findResources('AWS::IAM::Policy')) as Json[])
    .filter((policy) => policy.Properties.Roles.some((role: Json) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Json[])
    .filter((statement) => [statement.Action].flat().some((action: string) => action.startsWith('dynamodb:')));
  const tableArn = (id: string) => ({ 'Fn::GetAtt': [logicalId(built.stack.eventStore.table(id === EVENTS_TABLE.id ? EVENTS_TABLE : COUNTERS_TABLE)), 'Arn'] });
  expect(statements).toEqual([
    { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: tableArn(EVENTS_TABLE.id) },
    { Effect: 'Allow', Action: 'dynamodb:UpdateItem', Resource: tableArn(COUNTERS_TABLE.id) },
  ]);
});

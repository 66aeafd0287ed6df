import * as path from 'node:path';
import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IConstruct } from 'constructs';
import { functionEnvironment, type AuditTrailConfig } from '../config';
import { APP_KEY_AUTHORIZER_FUNCTION, type FunctionDeclaration } from '../declarations/functions';
import type { SecretDeclaration } from '../declarations/functions';
import { METRICS_NAMESPACE_ENV, metricsNamespace } from '../declarations/metrics';
import { APP_ROUTE_CORS, BINARY_MEDIA_TYPES, ROUTES, type RouteDeclaration } from '../declarations/routes';
import type { AdminAuth } from './admin-auth';
import type { EventStore } from './event-store';

/** Declarations' `entry` paths are relative to the repository root. */
const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Function and API Gateway logs are kept a year: the authorizer's refusals,
 * the query function's reads and the access log are the record of who used
 * (or tried to use) the audit trail, and security reviews look back that far.
 */
const LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

export interface AuditApiProps {
  readonly config: AuditTrailConfig;
  readonly eventStore: EventStore;
  readonly adminAuth: AdminAuth;
  /** The routes to serve; the project's ROUTES unless a test says otherwise. */
  readonly routes?: readonly RouteDeclaration[];
}

/**
 * The HTTPS API of lib/declarations/routes.ts: apps post events with an app
 * key, signed-in admins and viewers read them.
 *
 * A REST API rather than an HTTP API because this one needs what only REST
 * offers: a cached REQUEST authorizer keyed on `x-api-key` (one key lookup per
 * 5 minutes, not per request), the Cognito user-pool authorizer, stage-level
 * throttling, WAF association and access logs with authorizer context.
 */
export class AuditApi extends Construct {
  readonly api: apigateway.RestApi;
  /** One function per declaration the routes use (and the app-key authorizer), by declaration id. */
  readonly functions: ReadonlyMap<string, nodejs.NodejsFunction>;
  /** The stage's base URL, ending in `/` (paths start with `v1/`). */
  readonly url: string;
  /** The CloudWatch namespace of the functions' business metrics (lib/declarations/metrics.ts). */
  readonly metricsNamespace: string;

  private readonly props: AuditApiProps;
  private readonly functionsById = new Map<string, nodejs.NodejsFunction>();
  /** Declared secrets by id: one Secrets Manager secret each, however many functions read it. */
  private readonly secretsById = new Map<string, secretsmanager.Secret>();
  private readonly logRemovalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: AuditApiProps) {
    super(scope, id);
    this.props = props;
    this.functions = this.functionsById;
    this.metricsNamespace = metricsNamespace(Stack.of(this).stackName);
    this.logRemovalPolicy = props.config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const routes = props.routes ?? ROUTES;

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: LOG_RETENTION, removalPolicy: this.logRemovalPolicy });
    this.api = new apigateway.RestApi(this, 'RestApi', {
      // Named after the stack: API Gateway metrics are keyed by API name, so two stacks must not share one.
      restApiName: `${Stack.of(this).stackName}-api`,
      description: 'Audit trail: event ingestion for apps, queries for admins',
      // Apps post from servers in (mostly) one region, and the admin SPA will sit behind its own CloudFront.
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      minCompressionSize: Size.kibibytes(1),
      // OTLP protobuf bodies reach the function base64-encoded instead of mangled as UTF-8 text.
      binaryMediaTypes: [...BINARY_MEDIA_TYPES],
      // Access and execution logs need API Gateway's account-level CloudWatch role; kept on stack deletion
      // because other APIs in the account/region rely on the same setting.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: 'prod',
        throttlingRateLimit: props.config.apiThrottle.rateLimit,
        throttlingBurstLimit: props.config.apiThrottle.burstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: accessLogFormat(),
        // Execution logs for errors only, and never request/response bodies: bodies hold events before redaction.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        tracingEnabled: true,
        metricsEnabled: true,
      },
    });
    this.url = this.api.url;
    // The stack outputs the URL under a stable name instead.
    this.api.node.tryRemoveChild('Endpoint');
    addErrorResponses(this.api);

    const appKeyAuthorizer = new apigateway.RequestAuthorizer(this, 'AppKeyRequestAuthorizer', {
      handler: this.functionFor(APP_KEY_AUTHORIZER_FUNCTION),
      // Requests without the header get 401 from API Gateway without invoking the function.
      identitySources: [apigateway.IdentitySource.header('x-api-key')],
      // A revoked key keeps working for at most this long (see the README).
      resultsCacheTtl: Duration.seconds(300),
    });
    const userAuthorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'UserPoolAuthorizer', {
      cognitoUserPools: [props.adminAuth.userPool],
      resultsCacheTtl: Duration.seconds(300),
    });

    for (const route of routes) {
      const resource = this.api.root.resourceForPath(route.path);
      const method = resource.addMethod(route.method, this.integrationFor(route), {
        ...methodAuth(route, appKeyAuthorizer, userAuthorizer),
        ...(route.function ? {} : { methodResponses: HEALTH_METHOD_RESPONSES }),
      });
      acknowledgeRouteAuth(method, route);
      if (route.auth === 'appKey') addAppRouteCorsPreflight(resource, route);
    }

    Validations.of(cfn(this.api)).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'Every route validates its whole request in the function (lambdas/core/validate.ts) and answers per-event results; ' +
        'API Gateway models would duplicate the event schema and reject a batch wholesale.',
    });
    Validations.of(cfn(this.api.deploymentStage)).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'No WAF web ACL yet: app routes need a key checked by the cached authorizer, stage throttling and per-app rate limits bound abuse, ' +
        'and user routes need Cognito tokens. A web ACL (IP reputation, geo rules) is an opt-in with its own monthly cost.',
    });
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cfn(cloudWatchRole)).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's account-wide logging role, used by every REST API in the account and region, so it cannot be scoped to this API's " +
          'log groups; AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for it.',
      });
    }
  }

  private integrationFor(route: RouteDeclaration): apigateway.Integration {
    if (!route.function) return healthIntegration();
    return new apigateway.LambdaIntegration(this.functionFor(route.function), {
      proxy: true,
      // No extra permission for the console's test-invoke.
      allowTestInvoke: false,
    });
  }

  /**
   * The function of a declaration, created on first use so that one declaration behind many routes is one function.
   * Public so that functions no route serves (the rule engine on the events stream) are built the same way and are
   * listed in `functions` (which monitoring watches).
   */
  functionFor(declaration: FunctionDeclaration): nodejs.NodejsFunction {
    const existing = this.functionsById.get(declaration.id);
    if (existing) return existing;

    const { config, eventStore } = this.props;
    const logGroup = new logs.LogGroup(this, `${declaration.id}Logs`, { retention: LOG_RETENTION, removalPolicy: this.logRemovalPolicy });
    // An own role instead of AWSLambdaBasicExecutionRole: logs go to this function's group only, tables as declared.
    const role = new iam.Role(this, `${declaration.id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${declaration.id} function: writes its own logs and accesses only its declared tables`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
    );
    eventStore.grantAccess(role, declaration.access);
    const secretEnvironment = this.grantSecrets(role, declaration.secrets ?? []);

    const fn = new nodejs.NodejsFunction(this, declaration.id, {
      entry: path.join(REPO_ROOT, declaration.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      description: declaration.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: declaration.memoryMb,
      timeout: Duration.seconds(declaration.timeoutSeconds),
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        ...functionEnvironment(config),
        [METRICS_NAMESPACE_ENV]: this.metricsNamespace,
        NODE_OPTIONS: '--enable-source-maps',
        ...eventStore.environmentFor(declaration.access),
        ...secretEnvironment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node24',
        // The Node.js 24 runtime ships AWS SDK v3.
        externalModules: ['@aws-sdk/*'],
        forceDockerBundling: false,
      },
    });

    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(cfn(policy)).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'xray:PutTraceSegments and xray:PutTelemetryRecords (added for active tracing) support no resource-level permissions.',
      });
    }
    this.functionsById.set(declaration.id, fn);
    return fn;
  }

  /**
   * The declared secrets, generated in Secrets Manager: the role may read
   * exactly these (GetSecretValue, nothing else) and the function learns
   * their ARNs, never their values, from its environment.
   */
  private grantSecrets(role: iam.IRole, declared: readonly SecretDeclaration[]): Record<string, string> {
    const environment: Record<string, string> = {};
    for (const declaration of declared) {
      let secret = this.secretsById.get(declaration.id);
      if (!secret) {
        secret = new secretsmanager.Secret(this, declaration.id, {
          description: declaration.description,
          generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
        });
        Validations.of(cfn(secret)).acknowledge({
          id: 'AwsSolutions-SMG4',
          reason:
            `${declaration.id} only signs pagination cursors (an HMAC key, never sent anywhere) and guards no data: every request is ` +
            'authorized on its own. Rotating it would only invalidate open cursors and needs a rotation function; replace it by hand if exposed.',
        });
        this.secretsById.set(declaration.id, secret);
      }
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
      environment[declaration.arnEnvVar] = secret.secretArn;
    }
    return environment;
  }
}

/**
 * The CloudFormation resource under an L2 construct: cdk-nag acknowledgements go there, so they cover that
 * one resource and not the constructs CDK nests under the L2 (a method's Lambda permission, a pool's clients).
 */
function cfn(construct: IConstruct): IConstruct {
  const resource = construct.node.defaultChild;
  if (!resource) throw new Error(`${construct.node.path} has no CloudFormation resource to acknowledge a finding on`);
  return resource;
}

function methodAuth(
  route: RouteDeclaration,
  appKeyAuthorizer: apigateway.IAuthorizer,
  userAuthorizer: apigateway.IAuthorizer,
): apigateway.MethodOptions {
  switch (route.auth) {
    case 'appKey':
      return { authorizer: appKeyAuthorizer, authorizationType: apigateway.AuthorizationType.CUSTOM };
    // Cognito proves who is calling; the function checks the group (viewer or admin) from the token's claims.
    case 'viewer':
    case 'admin':
      return { authorizer: userAuthorizer, authorizationType: apigateway.AuthorizationType.COGNITO };
    case 'none':
      return { authorizationType: apigateway.AuthorizationType.NONE };
  }
}

/** The OPTIONS preflight of an app route: a mock (no function runs), open like every preflight must be. */
function addAppRouteCorsPreflight(resource: apigateway.IResource, route: RouteDeclaration): void {
  const preflight = resource.addCorsPreflight({
    allowOrigins: [APP_ROUTE_CORS.allowOrigin],
    allowMethods: [route.method],
    allowHeaders: [...APP_ROUTE_CORS.allowHeaders],
    maxAge: Duration.seconds(APP_ROUTE_CORS.maxAgeSeconds),
  });
  const reason = `OPTIONS ${route.path} is the CORS preflight of an app route: browsers send it without credentials, and it is a mock that returns only CORS headers.`;
  Validations.of(cfn(preflight)).acknowledge({ id: 'AwsSolutions-APIG4', reason }, { id: 'AwsSolutions-COG4', reason });
}

function acknowledgeRouteAuth(method: apigateway.Method, route: RouteDeclaration): void {
  const where = `${route.method} ${route.path}`;
  if (route.auth === 'none') {
    Validations.of(cfn(method)).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: `${where} is the unauthenticated readiness probe; it is a mock that reads and returns no data.` },
      { id: 'AwsSolutions-COG4', reason: `${where} is the unauthenticated readiness probe; it is a mock that reads and returns no data.` },
    );
  } else if (route.auth === 'appKey') {
    Validations.of(cfn(method)).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: `${where} is called by apps, not people: they authenticate with an app key checked by the REQUEST authorizer.`,
    });
  }
}

const HEALTH_METHOD_RESPONSES: apigateway.MethodResponse[] = [
  { statusCode: '200', responseParameters: { 'method.response.header.Cache-Control': true } },
];

/** `GET /v1/health`: answered by API Gateway itself, so it says the API is up without invoking anything. */
function healthIntegration(): apigateway.Integration {
  return new apigateway.MockIntegration({
    passthroughBehavior: apigateway.PassthroughBehavior.NEVER,
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    integrationResponses: [
      {
        statusCode: '200',
        responseTemplates: { 'application/json': '{"status":"ok"}' },
        responseParameters: { 'method.response.header.Cache-Control': "'no-store'" },
      },
    ],
  });
}

/**
 * Errors API Gateway answers by itself (no or bad credentials, throttling,
 * oversized bodies, unknown routes, timeouts) in the project's shape
 * `{ "error": { "code", "message" } }`, like the functions' own errors.
 */
function addErrorResponses(api: apigateway.RestApi): void {
  const message = '$context.error.messageString';
  const responses: [string, apigateway.ResponseType, string, string, string?][] = [
    ['Unauthorized', apigateway.ResponseType.UNAUTHORIZED, '401', 'unauthorized', message],
    ['ExpiredToken', apigateway.ResponseType.EXPIRED_TOKEN, '401', 'unauthorized', message],
    ['AccessDenied', apigateway.ResponseType.ACCESS_DENIED, '403', 'forbidden', message],
    // With no IAM-authorized routes, this is API Gateway's answer to a path or method that does not exist.
    ['NoRoute', apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, '404', 'not_found', '"no route matches this method and path"'],
    ['NotFound', apigateway.ResponseType.RESOURCE_NOT_FOUND, '404', 'not_found', message],
    ['Throttled', apigateway.ResponseType.THROTTLED, '429', 'rate_limited', message],
    ['QuotaExceeded', apigateway.ResponseType.QUOTA_EXCEEDED, '429', 'rate_limited', message],
    ['RequestTooLarge', apigateway.ResponseType.REQUEST_TOO_LARGE, '413', 'payload_too_large', message],
    ['UnsupportedMediaType', apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE, '415', 'unsupported_media_type', message],
    ['IntegrationTimeout', apigateway.ResponseType.INTEGRATION_TIMEOUT, '504', 'timeout', message],
    // The authorizer threw something else than "Unauthorized": its key lookup failed (DynamoDB throttled or
    // unreachable), so the client is told to retry rather than that something is broken.
    ['AuthorizerFailure', apigateway.ResponseType.AUTHORIZER_FAILURE, '503', 'service_unavailable', '"the service is briefly unavailable; retry shortly"'],
    ['AuthorizerConfigurationError', apigateway.ResponseType.AUTHORIZER_CONFIGURATION_ERROR, '500', 'internal_error', message],
    ['Default4xx', apigateway.ResponseType.DEFAULT_4XX, '', 'client_error', message],
    ['Default5xx', apigateway.ResponseType.DEFAULT_5XX, '', 'internal_error', message],
  ];
  for (const [id, type, statusCode, code, text] of responses) {
    api.addGatewayResponse(id, {
      type,
      // Empty: keep API Gateway's own status (the DEFAULT_* families cover several).
      ...(statusCode ? { statusCode } : {}),
      responseHeaders: {
        'Content-Type': "'application/json; charset=utf-8'",
        'Cache-Control': "'no-store'",
        ...(code === 'rate_limited' || code === 'service_unavailable' ? { 'Retry-After': "'1'" } : {}),
        // So a browser app can read why it was refused (the body holds no data).
        'Access-Control-Allow-Origin': `'${APP_ROUTE_CORS.allowOrigin}'`,
      },
      templates: { 'application/json': `{"error":{"code":"${code}","message":${text}}}` },
    });
  }
}

/** One JSON line per request; the authorizer fields name the app (app routes) or the user (`sub`, user routes). */
function accessLogFormat(): apigateway.AccessLogFormat {
  const f = apigateway.AccessLogField;
  return apigateway.AccessLogFormat.custom(
    JSON.stringify({
      requestId: f.contextRequestId(),
      extendedRequestId: f.contextExtendedRequestId(),
      requestTime: f.contextRequestTime(),
      ip: f.contextIdentitySourceIp(),
      userAgent: f.contextIdentityUserAgent(),
      method: f.contextHttpMethod(),
      resourcePath: f.contextResourcePath(),
      path: f.contextPath(),
      protocol: f.contextProtocol(),
      status: f.contextStatus(),
      responseLength: f.contextResponseLength(),
      responseLatency: f.contextResponseLatency(),
      integrationLatency: f.contextIntegrationLatency(),
      app: f.contextAuthorizer('app'),
      keyId: f.contextAuthorizer('keyId'),
      userSub: f.contextAuthorizerClaims('sub'),
      authorizerError: f.contextAuthorizerError(),
      errorMessage: f.contextErrorMessage(),
      errorType: f.contextErrorResponseType(),
      xrayTraceId: f.contextXrayTraceId(),
    }),
  );
}

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import type { AuditTrailApp } from '../../lib/app';
import { DEFAULT_CONFIG } from '../../lib/config';
import { AdminAuth } from '../../lib/constructs/admin-auth';
import { ADMIN_SITE_BUILD_INPUTS, AdminSite } from '../../lib/constructs/admin-site';
import { AuditApi } from '../../lib/constructs/api';
import { EventStore } from '../../lib/constructs/event-store';
import {
  ADMIN_SITE_CONFIG_PATH,
  ADMIN_SITE_DIST,
  ADMIN_SITE_IMMUTABLE_PREFIX,
  ADMIN_SITE_SECURITY_HEADERS,
  adminSiteContentSecurityPolicy,
} from '../../lib/declarations/admin-site';
import { ERROR_TRACKER_FUNCTION, RULES_FUNCTION, SILENCE_FUNCTION } from '../../lib/declarations/functions';
import { ROUTES } from '../../lib/declarations/routes';
import { buildTestApp } from '../helpers/test-app';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, any> };

type Json = Record<string, any>;

// One synthesis of the whole stack, with a configured sign-in domain and an extra callback (a dev server).
const DOMAIN_PREFIX = 'example-audit-admin';
const DEV_CALLBACK = 'http://localhost:5173/';
let built: AuditTrailApp;
let template: Template;
let resources: Record<string, Json>;

beforeAll(() => {
  const auditTrail = { ...cdkJson.context.auditTrail, adminSite: { domainPrefix: DOMAIN_PREFIX, extraCallbackUrls: [DEV_CALLBACK] } };
  built = buildTestApp({ context: { ...cdkJson.context, auditTrail } });
  template = Template.fromStack(built.stack);
  resources = template.toJSON().Resources;
});

const logicalId = (construct: IConstruct): string =>
  Stack.of(construct).getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
const resolve = (value: unknown) => built.stack.resolve(value);
const site = () => built.stack.adminSite;
const distributionConfig = (): Json => resources[logicalId(site().distribution)].Properties.DistributionConfig;
/** `https://<the distribution's domain>/` as CloudFormation writes it. */
const siteUrl = () => ({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(site().distribution), 'DomainName'] }, '/']] });
/** A BucketDeployment's custom resource (aws-cdk-lib names it CustomResource). */
const deployment = (construct: IConstruct): Json => resources[logicalId(construct.node.findChild('CustomResource'))]!;

describe('the site bucket', () => {
  test('is private, TLS only, encrypted with S3-managed keys, and logs access to the archive access-log bucket', () => {
    expect(resources[logicalId(site().bucket)].Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(built.stack.archive.accessLogs) }, LogFilePrefix: 'admin-site/' },
    });
    expect(resources[logicalId(site().bucket)].Properties.WebsiteConfiguration).toBeUndefined();
  });

  test('is readable only by this distribution, through origin access control', () => {
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')) as Json[];
    const policy = policies.find((p) => p.Properties.Bucket.Ref === logicalId(site().bucket));
    const statements = policy!.Properties.PolicyDocument.Statement as Json[];
    // Everything that is not CloudFront's read is a Deny (non-TLS requests).
    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(site().bucket), 'Arn'] }, '/*']] },
        Condition: {
          StringEquals: {
            'AWS:SourceArn': {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::', { Ref: 'AWS::AccountId' }, ':distribution/', { Ref: logicalId(site().distribution) }]],
            },
          },
        },
      },
    ]);
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));

    const [oacId] = Object.keys(template.findResources('AWS::CloudFront::OriginAccessControl'));
    const s3Origin = (distributionConfig().Origins as Json[]).find((o) => o.S3OriginConfig);
    expect(s3Origin).toMatchObject({
      DomainName: { 'Fn::GetAtt': [logicalId(site().bucket), 'RegionalDomainName'] },
      OriginAccessControlId: { 'Fn::GetAtt': [oacId, 'Id'] },
      S3OriginConfig: { OriginAccessIdentity: '' },
    });
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
  });
});

describe('the distribution', () => {
  test('serves index.html at /, over HTTPS, compressed, honouring the files\' Cache-Control, in price class 100', () => {
    const config = distributionConfig();
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.PriceClass).toBe('PriceClass_100');
    const s3OriginId = (config.Origins as Json[]).find((o) => o.S3OriginConfig)!.Id;
    expect(config.DefaultCacheBehavior).toMatchObject({
      TargetOriginId: s3OriginId,
      ViewerProtocolPolicy: 'redirect-to-https',
      Compress: true,
      AllowedMethods: ['GET', 'HEAD'],
      CachePolicyId: cloudfront.CachePolicy.CACHING_OPTIMIZED.cachePolicyId,
      ResponseHeadersPolicyId: { Ref: logicalId(site().responseHeadersPolicy) },
    });
    // Hash routing: no error response turns a missing file into index.html.
    expect(config.CustomErrorResponses).toBeUndefined();
  });

  test('forwards /v1/* to the REST API, uncached, with every method and header but Host', () => {
    const config = distributionConfig();
    expect(config.CacheBehaviors).toHaveLength(1);
    const [api] = config.CacheBehaviors as Json[];
    expect(api).toMatchObject({
      PathPattern: '/v1/*',
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      CachePolicyId: cloudfront.CachePolicy.CACHING_DISABLED.cachePolicyId,
      OriginRequestPolicyId: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId,
      ResponseHeadersPolicyId: { Ref: logicalId(site().responseHeadersPolicy) },
    });
    const origin = (config.Origins as Json[]).find((o) => o.Id === api!.TargetOriginId)!;
    expect(origin.CustomOriginConfig).toEqual({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
    // The API's execute-api host, and the stage as the origin path (/prod/v1/... at the origin).
    const apiId = logicalId(built.stack.api.api);
    const stageId = logicalId(built.stack.api.api.deploymentStage);
    expect(JSON.stringify(origin.DomainName)).toContain(`{"Ref":"${apiId}"},".execute-api."`);
    expect(JSON.stringify(origin.OriginPath)).toContain(`{"Ref":"${stageId}"}`);
  });

  test('sends the CSP of lib/declarations/admin-site.ts (with Cognito as connect sources), HSTS, DENY, nosniff and the referrer policy', () => {
    const { adminAuth } = built.stack;
    const expectedCsp = resolve(adminSiteContentSecurityPolicy([adminAuth.domainUrl, adminAuth.idpOrigin]));
    const policy = resources[logicalId(site().responseHeadersPolicy)].Properties.ResponseHeadersPolicyConfig;
    expect(policy.SecurityHeadersConfig).toEqual({
      ContentSecurityPolicy: { ContentSecurityPolicy: expectedCsp, Override: true },
      StrictTransportSecurity: {
        AccessControlMaxAgeSec: ADMIN_SITE_SECURITY_HEADERS.strictTransportSecurity.maxAgeSeconds,
        IncludeSubdomains: true,
        Override: true,
      },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      // CloudFront's only content type option: X-Content-Type-Options: nosniff.
      ContentTypeOptions: { Override: true },
      ReferrerPolicy: { ReferrerPolicy: ADMIN_SITE_SECURITY_HEADERS.referrerPolicy, Override: true },
    });
    expect(ADMIN_SITE_SECURITY_HEADERS.contentTypeOptions).toBe('nosniff');
    // The connect sources, spelled out: the hosted sign-in domain and the pool's issuer host.
    const csp = JSON.stringify(expectedCsp);
    expect(csp).toContain(
      `connect-src 'self' https://",{"Ref":"${logicalId(adminAuth.domain)}"},".auth.",{"Ref":"AWS::Region"},".amazoncognito.com ` +
        `https://cognito-idp.",{"Ref":"AWS::Region"},".",{"Ref":"AWS::URLSuffix"},"; object-src 'none'`,
    );
    expect(csp).toContain(`frame-ancestors 'none'`);
  });

  test('logs requests to its own bucket, which has ACLs enabled for CloudFront and logs its own access', () => {
    expect(distributionConfig().Logging).toEqual({
      Bucket: { 'Fn::GetAtt': [logicalId(site().logBucket), 'RegionalDomainName'] },
      Prefix: 'cloudfront/',
    });
    expect(resources[logicalId(site().logBucket)].Properties).toMatchObject({
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(built.stack.archive.accessLogs) } },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 365, Status: 'Enabled' })] },
    });
  });
});

describe('deployment of the SPA', () => {
  /** config.json as staged in the cloud assembly, with each deploy-time marker replaced by `{{Ref}}` or `{{Id.Attribute}}`. */
  function deployedConfig(): Json {
    const entry = deployment(site().entryDeployment);
    const keys = entry.Properties.SourceObjectKeys as string[];
    const index = (entry.Properties.SourceMarkers as Json[]).findIndex((markers) => Object.keys(markers).length > 0);
    const assetDir = path.join(built.app.outdir, `asset.${keys[index]!.replace(/\.zip$/, '')}`);
    let text = readFileSync(path.join(assetDir, ADMIN_SITE_CONFIG_PATH), 'utf8');
    for (const [marker, value] of Object.entries(entry.Properties.SourceMarkers[index] as Record<string, Json>)) {
      const name = value.Ref ?? (value['Fn::GetAtt'] as string[]).join('.');
      text = text.split(marker).join(`{{${name}}}`);
    }
    return JSON.parse(text);
  }

  test('config.json signs in with Cognito: the pool as authority, the SPA client, the site as redirect, the hosted domain', () => {
    const pool = logicalId(built.stack.adminAuth.userPool);
    const client = logicalId(built.stack.adminAuth.spaClient);
    expect(deployedConfig()).toEqual({
      apiUrl: '',
      auth: {
        mode: 'cognito',
        authority: `https://cognito-idp.{{AWS::Region}}.{{AWS::URLSuffix}}/{{${pool}}}`,
        clientId: `{{${client}}}`,
        redirectUri: `https://{{${logicalId(site().distribution)}.DomainName}}/`,
        domain: `https://{{${logicalId(built.stack.adminAuth.domain)}}}.auth.{{AWS::Region}}.amazoncognito.com`,
      },
    });
  });

  test('hashed files go first, cached for a year; index.html and config.json follow, revalidated and invalidated', () => {
    const immutable = `${ADMIN_SITE_IMMUTABLE_PREFIX.slice(1)}*`;
    const assets = deployment(site().assetsDeployment);
    const entry = deployment(site().entryDeployment);
    expect(assets.Properties).toMatchObject({
      DestinationBucketName: { Ref: logicalId(site().bucket) },
      Exclude: ['*'],
      Include: [immutable],
      Prune: false,
      SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' },
    });
    expect(entry.Properties).toMatchObject({
      DestinationBucketName: { Ref: logicalId(site().bucket) },
      Exclude: [immutable],
      Prune: true,
      SystemMetadata: { 'cache-control': 'no-cache' },
      DistributionId: { Ref: logicalId(site().distribution) },
      DistributionPaths: ['/', '/index.html', ADMIN_SITE_CONFIG_PATH],
    });
    expect(entry.Properties.Include).toBeUndefined();
    const assetsId = Object.keys(resources).find((id) => resources[id] === assets)!;
    expect(entry.DependsOn).toContain(assetsId);
    // Both deploy the same build (the stub: test/fixtures/admin-site).
    expect(entry.Properties.SourceObjectKeys[0]).toBe(assets.Properties.SourceObjectKeys[0]);
    const staged = path.join(built.app.outdir, `asset.${(assets.Properties.SourceObjectKeys[0] as string).replace(/\.zip$/, '')}`);
    expect(existsSync(path.join(staged, 'index.html'))).toBe(true);
  });

  test("the deployment handler's role writes only its own log group and carries no AWS managed policy", () => {
    const handler = Object.entries(resources).find(([id]) => id.startsWith('CustomCDKBucketDeployment'))![1];
    const roleId = handler.Properties.Role['Fn::GetAtt'][0];
    expect(resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    expect(handler.Properties.LoggingConfig.LogGroup.Ref).toBeDefined();
    expect(resources[handler.Properties.LoggingConfig.LogGroup.Ref].Properties.RetentionInDays).toBe(365);
    const statements = (Object.values(template.findResources('AWS::IAM::Policy')) as Json[])
      .filter((p) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: { 'Fn::GetAtt': [handler.Properties.LoggingConfig.LogGroup.Ref, 'Arn'] },
    });
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('logs:'))).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  });
});

describe('Cognito', () => {
  test("the SPA client returns to the distribution's URL (and configured extras) after sign-in and sign-out, never localhost:3000", () => {
    const client = resources[logicalId(built.stack.adminAuth.spaClient)].Properties;
    expect(client.CallbackURLs).toEqual([siteUrl(), DEV_CALLBACK]);
    expect(client.LogoutURLs).toEqual([siteUrl(), DEV_CALLBACK]);
    expect(JSON.stringify(template.toJSON())).not.toContain('localhost:3000');
  });

  test('the hosted sign-in domain takes the configured prefix', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: DOMAIN_PREFIX, UserPoolId: { Ref: logicalId(built.stack.adminAuth.userPool) } });
  });

});

test("notification links point at the admin site: ADMIN_URL on the functions that compose messages, and only on them", () => {
  const withAdminUrl = Object.entries(resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Environment?.Variables?.ADMIN_URL)
    .map(([id, resource]) => [id, resource.Properties.Environment.Variables.ADMIN_URL]);
  const notifying = [RULES_FUNCTION, SILENCE_FUNCTION, ERROR_TRACKER_FUNCTION].map((declaration) => logicalId(built.stack.api.functions.get(declaration.id)!));
  expect(withAdminUrl).toEqual(expect.arrayContaining(notifying.map((id) => [id, siteUrl()])));
  expect(withAdminUrl).toHaveLength(notifying.length);
});

test('the stack outputs the admin URL and the site bucket', () => {
  template.hasOutput('AdminUrl', { Value: siteUrl() });
  template.hasOutput('AdminSiteBucketName', { Value: { Ref: logicalId(site().bucket) } });
  for (const kept of ['ApiUrl', 'UserPoolId', 'AdminSpaClientId']) template.hasOutput(kept, {});
});

describe('building the SPA during synthesis', () => {
  test("the site asset's hash covers every repository file the SPA imports", () => {
    const frontend = path.join(REPO_ROOT, path.dirname(ADMIN_SITE_DIST));
    const sources = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const full = path.join(dir, name);
        if (name === 'node_modules' || name === 'dist') return [];
        return statSync(full).isDirectory() ? sources(full) : /\.(ts|tsx|mts|js|jsx|css)$/.test(name) ? [full] : [];
      });
    const outside = new Set<string>();
    for (const file of sources(frontend)) {
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = path.resolve(path.dirname(file), specifier!);
        if (!target.startsWith(frontend + path.sep)) outside.add(path.relative(REPO_ROOT, target));
      }
    }
    for (const target of outside) {
      expect({ target, covered: ADMIN_SITE_BUILD_INPUTS.some((input) => target === input || target.startsWith(`${input}/`)) }).toEqual({ target, covered: true });
    }
  });

  // The one synthesis that really builds the SPA (every other test deploys test/fixtures/admin-site): a small stack
  // with the site and what it needs (the API with three routes, so a Vite build and three small function bundles),
  // built with the defaults: no sign-in domain prefix, no extra callback URLs, and `destroy`.
  test('without a prebuilt directory, Vite builds frontend/ into the asset; defaults derive the domain prefix from the stack', () => {
    const app = new App();
    const stack = new Stack(app, 'SiteOnly');
    const config = { ...DEFAULT_CONFIG, removalPolicy: 'destroy' as const };
    const eventStore = new EventStore(stack, 'EventStore', { removalPolicy: 'destroy' });
    const adminAuth = new AdminAuth(stack, 'AdminAuth', { domainPrefix: config.adminSite.domainPrefix });
    // Health, and one route per authorizer (each must be attached to a method).
    const routes = [ROUTES.find((r) => r.auth === 'none')!, ROUTES.find((r) => r.auth === 'appKey')!, ROUTES.find((r) => r.auth !== 'none' && r.auth !== 'appKey')!];
    const api = new AuditApi(stack, 'Api', { config, eventStore, adminAuth, routes });
    const accessLogs = new s3.Bucket(stack, 'AccessLogs');
    const adminSite = new AdminSite(stack, 'AdminSite', { settings: config.adminSite, removalPolicy: 'destroy', api, adminAuth, accessLogs });
    const siteResources = Template.fromStack(stack).toJSON().Resources as Record<string, Json>;
    const logicalIdIn = (construct: IConstruct) => stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);

    const entry = siteResources[logicalIdIn(adminSite.entryDeployment.node.findChild('CustomResource'))]!;
    const staged = path.join(app.outdir, `asset.${(entry.Properties.SourceObjectKeys[0] as string).replace(/\.zip$/, '')}`);
    expect(readFileSync(path.join(staged, 'index.html'), 'utf8')).toMatch(/<script type="module"[^>]* src="\/assets\/[^"]+\.js"/);
    expect(readdirSync(path.join(staged, 'assets')).some((name) => /\.js$/.test(name))).toBe(true);
    // `destroy`: stack deletion empties the bucket instead of leaving the files behind.
    expect(entry.Properties.RetainOnDelete).toBe(false);

    // `<stack name>-<first group of the stack id's UUID>`: fixed for the stack, different in every account.
    expect(siteResources[logicalIdIn(adminAuth.domain)]!.Properties.Domain).toEqual({
      'Fn::Join': ['-', ['siteonly', { 'Fn::Select': [0, { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] }] }]],
    });
    // Only the site's own URL as callback.
    const url = { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalIdIn(adminSite.distribution), 'DomainName'] }, '/']] };
    expect(siteResources[logicalIdIn(adminAuth.spaClient)]!.Properties).toMatchObject({ CallbackURLs: [url], LogoutURLs: [url] });
  }, 120_000);
});
